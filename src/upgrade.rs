//! Protocol upgrades (WebSocket): relayed only after the upstream really answered `101`, then
//! bytes are copied both ways until either side closes.

use http::Response;
use http::header::{self, HeaderMap, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use crate::body::ResponseBody;
use crate::headers;
use crate::upstream_body::UpstreamBody;

/// Puts back the two headers an upgrade needs after hop-by-hop stripping removed them.
pub fn restore_request_headers(h: &mut HeaderMap, upgrade: HeaderValue) {
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::UPGRADE, upgrade);
}

/// Answers the client's upgrade with the upstream's `101` and splices the two connections.
pub fn relay(mut resp: Response<UpstreamBody>, client: OnUpgrade) -> Response<ResponseBody> {
    let upstream = hyper::upgrade::on(&mut resp);
    let (mut parts, _) = resp.into_parts();
    let upgrade = parts.headers.get(header::UPGRADE).cloned();
    headers::strip_hop_by_hop(&mut parts.headers);
    if let Some(value) = upgrade {
        restore_request_headers(&mut parts.headers, value);
    }
    tokio::spawn(async move {
        let (client, upstream) = tokio::join!(client, upstream);
        let (Ok(client), Ok(upstream)) = (client, upstream) else {
            tracing::debug!("upgrade failed on one side; closing both");
            return;
        };
        let mut client = TokioIo::new(client);
        let mut upstream = TokioIo::new(upstream);
        if let Err(err) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
            tracing::debug!(error = %err, "upgraded connection ended with an error");
        }
    });
    Response::from_parts(parts, ResponseBody::empty())
}
