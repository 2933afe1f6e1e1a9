//! `errgate explain`: the envelope errgate would send for a given upstream response on a route,
//! which format it recognised, why it chose that code and message, and whether the request
//! would be retried. It runs the same [`crate::decide`] as the request path.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::EXIT_CONFIG;
use crate::config::{Config, RetryOn, Route};
use crate::decide::{self, CodeFrom, Decision, Inspected, MessageFrom};
use crate::envelope;
use crate::gateway::Gateway;
use crate::locale;

/// What the user described of the upstream response.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Route name from the config.
    #[arg(long)]
    pub route: String,
    /// The upstream's status code.
    #[arg(long)]
    pub status: u16,
    /// An upstream response header, `'Name: value'` (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// File holding the upstream's body bytes.
    #[arg(long)]
    pub body_file: Option<PathBuf>,
    /// The client's Accept-Language.
    #[arg(long)]
    pub accept_language: Option<String>,
    /// The client's request method (for the retry answer).
    #[arg(long, default_value = "GET")]
    pub method: String,
}

pub fn run(config: Config, args: &ExplainArgs) -> ExitCode {
    let Some(route) = config.routes.iter().find(|r| r.name == args.route).cloned() else {
        let names: Vec<&str> = config.routes.iter().map(|r| r.name.as_str()).collect();
        eprintln!(
            "errgate explain: no route {:?}; routes: {}",
            args.route,
            names.join(", ")
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    if !(100..=599).contains(&args.status) {
        eprintln!("errgate explain: --status must be 100..=599");
        return ExitCode::from(EXIT_CONFIG);
    }
    let body = match &args.body_file {
        Some(path) => match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("errgate explain: cannot read {}: {err}", path.display());
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        None => Vec::new(),
    };
    let gateway = match Gateway::new(config) {
        Ok(gw) => gw,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    print!("{}", report(&gateway, &route, args, &body));
    ExitCode::SUCCESS
}

fn header<'a>(args: &'a ExplainArgs, name: &str) -> Option<&'a str> {
    args.headers.iter().find_map(|h| {
        let (k, v) = h.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The whole explanation as text.
pub fn report(gw: &Gateway, route: &Route, args: &ExplainArgs, body: &[u8]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "route:    {} (upstream {})",
        route.name, route.upstream.name
    );
    let _ = writeln!(
        out,
        "upstream: {} with {} body bytes",
        args.status,
        body.len()
    );
    if args.status < 400 || !route.normalize {
        let why = if route.normalize {
            "it is not a 4xx/5xx"
        } else {
            "the route sets normalize = false"
        };
        let _ = writeln!(out, "result:   passed through unchanged ({why})");
        let _ = writeln!(
            out,
            "retry:    {}",
            retry_answer(route, &args.method, args.status)
        );
        return out;
    }
    let cap = gw.config.errors.max_inspect_bytes;
    let insp = Inspected {
        status: args.status,
        content_type: header(args, "content-type"),
        content_encoding: header(args, "content-encoding"),
        body: &body[..body.len().min(cap)],
        complete: body.len() <= cap,
    };
    let default_lang = gw.config.errors.default_locale.as_str();
    let accept = args.accept_language.as_deref().map(str::as_bytes);
    let lang = locale::negotiate(accept, &gw.catalog, default_lang);
    let d = decide::decide(&insp, route, &gw.config.errors, &gw.catalog, lang);
    write_decision(&mut out, &d, args.status);
    let _ = writeln!(
        out,
        "retry:    {}",
        retry_answer(route, &args.method, args.status)
    );
    out
}

fn write_decision(out: &mut String, d: &Decision, status: u16) {
    let code_why = match d.code_from {
        CodeFrom::Upstream => "the upstream's own code".to_string(),
        CodeFrom::Validation => "a 400 carrying per-field validation errors".to_string(),
        CodeFrom::Status => format!("derived from status {status}; the body gave no usable code"),
        CodeFrom::Mapping => "the route's [[routes.errors]] mapping".to_string(),
    };
    let message_why = match &d.message_from {
        MessageFrom::Upstream => "the upstream's own message, cleaned".to_string(),
        MessageFrom::Mapping => "the route's [[routes.errors]] mapping".to_string(),
        MessageFrom::Catalog(why) => format!("errgate's catalog, because: {why}"),
    };
    let _ = writeln!(out, "format:   {}", d.format.as_str());
    let _ = writeln!(out, "code:     {} ({code_why})", d.code);
    let _ = writeln!(out, "message:  {:?} ({message_why})", d.message);
    if let Some(lang) = &d.content_language {
        let _ = writeln!(out, "language: {lang} (sent as Content-Language)");
    }
    let body = envelope::body(&d.code, &d.message);
    let _ = writeln!(out, "envelope: {}", String::from_utf8_lossy(&body));
}

/// Whether a request with `method` that got `status` would be retried (DESIGN §4).
fn retry_answer(route: &Route, method: &str, status: u16) -> String {
    let retry = &route.retry;
    if !retry.on.contains(&RetryOn::Status(status)) {
        return format!("no: status {status} is not in retry.on");
    }
    if retry.attempts <= 1 {
        return "no: retry.attempts is 1".to_string();
    }
    let method = method.to_ascii_uppercase();
    let idempotent = matches!(
        method.as_str(),
        "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "TRACE"
    );
    let n = retry.attempts;
    if idempotent {
        format!("yes: {method} is idempotent; up to {n} attempts in all, within the route timeout")
    } else {
        let header = &retry.idempotency_header;
        format!(
            "only if the request carries {header}: {method} is not idempotent (up to {n} attempts)"
        )
    }
}
