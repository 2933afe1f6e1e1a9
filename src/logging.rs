//! Log set-up: JSON lines on stdout (or text for humans), level from `ERRGATE_LOG`, else
//! `RUST_LOG`, else `info`.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(format: LogFormat) {
    crate::log_sink::init(format);
    let filter = level_filter();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::log_event::writer);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .try_init(),
    };
    drop(result);
}

fn level_filter() -> EnvFilter {
    for var in ["ERRGATE_LOG", "RUST_LOG"] {
        if let Ok(spec) = std::env::var(var) {
            match EnvFilter::try_new(&spec) {
                Ok(filter) => return filter,
                Err(err) => eprintln!("errgate: ignoring {var}={spec:?}: {err}"),
            }
        }
    }
    EnvFilter::new("info")
}
