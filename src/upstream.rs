//! The connection pool for one upstream: hyper-util's pooled client over plain TCP or rustls,
//! and the choice of endpoint for each attempt.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::balance::Endpoints;
use crate::budget::RetryBudget;
use crate::config::{Endpoint, Upstream};
use crate::h1_pool::{self, EndpointPool};
use crate::metrics::Metrics;
use crate::metrics_handles::UpstreamMetrics;
use crate::request_body::RequestBody;
use crate::upstream_conn::TrackingConnector;

/// Why an upstream's client could not be built (bad `ca_file`, TLS set-up).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("upstreams.{upstream}.ca_file: cannot read {path}")]
    CaFile {
        upstream: String,
        path: String,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("upstreams.{upstream}.ca_file: {path} holds no usable certificate")]
    CaEmpty { upstream: String, path: String },
    #[error("upstreams.{upstream}: TLS set-up failed")]
    Tls {
        upstream: String,
        #[source]
        source: rustls::Error,
    },
}

/// How often idle connections of errgate's own pool are checked for expiry.
const SWEEP_MIN: Duration = Duration::from_millis(50);
const SWEEP_MAX: Duration = Duration::from_secs(1);

type Connector = TrackingConnector<HttpsConnector<HttpConnector>>;

/// One upstream's pool and endpoint rotation, shared by every route that uses it.
pub struct UpstreamClient {
    pub config: Arc<Upstream>,
    pub name: Arc<str>,
    /// Endpoint labels (`scheme://authority`) for logs and metrics, built once.
    pub endpoint_labels: Vec<Arc<str>>,
    /// Endpoint choice, health and the concurrency limit.
    pub endpoints: Arc<Endpoints>,
    pub budget: RetryBudget,
    pub metrics: UpstreamMetrics,
    client: Client<Connector, RequestBody>,
    /// errgate's own HTTP/1.1 pool per endpoint (`None` for `https` endpoints).
    own: Vec<Option<Arc<EndpointPool>>>,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient")
            .field("name", &self.name)
            .finish()
    }
}

impl UpstreamClient {
    pub fn new(config: Arc<Upstream>, metrics: &Metrics) -> Result<Self, ClientError> {
        let connector = connector(&config)?;
        // Without `pool_timer` hyper-util never expires idle connections, and a backend that
        // closes them first makes us reuse dead sockets.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .build(connector);
        let endpoint_labels: Vec<Arc<str>> = config
            .endpoints
            .iter()
            .map(|e| Arc::from(format!("{}://{}", e.scheme, e.authority)))
            .collect();
        let name: Arc<str> = Arc::from(config.name.as_str());
        let own: Vec<Option<Arc<EndpointPool>>> = config
            .endpoints
            .iter()
            .map(|e| EndpointPool::for_endpoint(e, &config))
            .collect();
        let swept: Vec<Arc<EndpointPool>> = own.iter().flatten().cloned().collect();
        let period = (config.pool_idle_timeout / 2).clamp(SWEEP_MIN, SWEEP_MAX);
        h1_pool::spawn_sweeper(&swept, period);
        Ok(UpstreamClient {
            own,
            metrics: UpstreamMetrics::new(metrics, &name, &endpoint_labels),
            name,
            endpoint_labels,
            endpoints: Arc::new(Endpoints::new(&config)),
            budget: RetryBudget::new(),
            config,
            client,
        })
    }

    pub fn endpoint(&self, index: usize) -> &Endpoint {
        &self.config.endpoints[index % self.config.endpoints.len()]
    }

    /// errgate's own HTTP/1.1 pool for the endpoint, if it serves it.
    pub fn own_pool(&self, index: usize) -> Option<&Arc<EndpointPool>> {
        self.own.get(index % self.own.len().max(1))?.as_ref()
    }

    pub async fn send(
        &self,
        req: Request<RequestBody>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        self.client.request(req).await
    }
}

fn connector(config: &Upstream) -> Result<Connector, ClientError> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(config.connect_timeout));
    let tls = tls_config(config)?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Ok(TrackingConnector(https))
}

fn tls_config(config: &Upstream) -> Result<rustls::ClientConfig, ClientError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &config.ca_file {
        add_ca_file(&mut roots, &config.name, path)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls_err = |source| ClientError::Tls {
        upstream: config.name.clone(),
        source,
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn add_ca_file(roots: &mut RootCertStore, upstream: &str, path: &Path) -> Result<(), ClientError> {
    let shown = path.display().to_string();
    let certs = CertificateDer::pem_file_iter(path).map_err(|source| ClientError::CaFile {
        upstream: upstream.to_string(),
        path: shown.clone(),
        source,
    })?;
    let mut added = 0;
    for cert in certs.flatten() {
        if roots.add(cert).is_ok() {
            added += 1;
        }
    }
    if added == 0 {
        return Err(ClientError::CaEmpty {
            upstream: upstream.to_string(),
            path: shown,
        });
    }
    Ok(())
}
