//! The one place that turns errgate's own failures into envelope responses.

use http::{HeaderValue, Response};

use crate::body::ResponseBody;
use crate::envelope::{self, EnvelopeOpts};
use crate::error::ProxyError;
use crate::gateway::Gateway;
use crate::locale;

/// The envelope for `err`, in the client's language, with `Proxy-Status`.
pub fn own_failure(
    gw: &Gateway,
    err: &ProxyError,
    accept_language: Option<&HeaderValue>,
    head: bool,
) -> Response<ResponseBody> {
    let status = err.status();
    let code = err.code();
    let default_lang = gw.config.errors.default_locale.as_str();
    let lang = locale::negotiate(
        accept_language.map(|v| v.as_bytes()),
        &gw.catalog,
        default_lang,
    );
    let msg = gw
        .catalog
        .message(code, status.as_u16(), lang, default_lang);
    let opts = EnvelopeOpts {
        content_language: Some(msg.lang),
        proxy_status: Some(err.proxy_status()),
        proxy_details: err.details(),
        head,
    };
    envelope::response(status, code, msg.text, &opts).map(ResponseBody::full)
}
