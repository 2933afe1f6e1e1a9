//! Rewritten error heads: the same fields whichever server answers, errgate's own (the
//! upstream head stays bytes) or hyper's (a map).

mod support;

use http::{Request, Response};
use support::*;

/// The same fields whichever server answers: errgate's own for a plain GET (the upstream head
/// stays bytes and is rewritten without a map) and hyper's for a request with a body (a map).
#[tokio::test]
async fn an_error_head_keeps_the_same_fields_through_either_server() {
    for upstream_cache in [None, Some("max-age=5")] {
        let backend = hyper_backend(move |_req| async move {
            let mut resp = Response::builder()
                .status(500)
                .header("content-type", "text/html")
                .header("www-authenticate", "Bearer")
                .header("set-cookie", "a=1")
                .header("set-cookie", "b=2")
                .header("x-trace", "t1")
                .header("x-request-id", "the-upstream-s")
                .header("content-language", "fr")
                .header("etag", "\"v1\"")
                .header("content-md5", "abc")
                .header("content-location", "/elsewhere")
                .header("content-disposition", "inline")
                .header("server", "secret/1.2")
                .header("x-powered-by", "Express")
                .header("x-debug-token-link", "http://10.0.0.7/_profiler/abc");
            if let Some(value) = upstream_cache {
                resp = resp.header("cache-control", value);
            }
            resp.body(full(
                "<html><body><h1>Whitelabel Error Page</h1></body></html>",
            ))
            .unwrap()
        })
        .await;
        let gw = Gateway::start(&config_for(&backend.to_string(), "")).await;
        for with_body in [false, true] {
            let req = Request::builder()
                .method(if with_body { "POST" } else { "GET" })
                .uri(gw.url("/x"))
                .header("x-request-id", "client-1")
                .header("accept-language", "es")
                .body(full(if with_body { "payload" } else { "" }))
                .unwrap();
            let (parts, body) = send(req).await;
            let all = |name: &str| -> Vec<String> {
                let values = parts.headers.get_all(name).iter();
                values.map(|v| v.to_str().unwrap().to_owned()).collect()
            };
            let case = format!("body: {with_body}, cache: {upstream_cache:?}");
            assert_eq!(parts.status, 500, "{case}");
            assert_eq!(
                all("content-type"),
                ["application/json; charset=utf-8"],
                "{case}"
            );
            assert_eq!(all("content-length"), [body.len().to_string()], "{case}");
            assert_eq!(all("content-language"), ["es"], "{case}");
            assert_eq!(all("x-request-id"), ["client-1"], "{case}");
            assert_eq!(all("set-cookie"), ["a=1", "b=2"], "{case}");
            assert_eq!(all("www-authenticate"), ["Bearer"], "{case}");
            assert_eq!(all("x-trace"), ["t1"], "{case}");
            let cache = upstream_cache.unwrap_or("no-store");
            assert_eq!(all("cache-control"), [cache], "{case}");
            let internals = ["server", "x-powered-by", "x-debug-token-link"];
            let body_fields = [
                "etag",
                "content-md5",
                "content-location",
                "content-disposition",
            ];
            for gone in body_fields.into_iter().chain(internals) {
                assert!(all(gone).is_empty(), "{gone} kept ({case})");
            }
            assert_eq!(envelope(&body).0, "INTERNAL_ERROR", "{case}");
        }
        gw.stop().await;
    }
}
