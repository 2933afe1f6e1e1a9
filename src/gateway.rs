//! The running gateway's state, built once from a [`Config`]: the route table, one pooled
//! client per upstream, and the message catalog. Requests only read it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::catalog_file::{self, CatalogFileError};
use crate::config::{Config, Route};
use crate::metrics::Metrics;
use crate::metrics_handles::RouteMetrics;
use crate::routing::RouteTable;
use crate::upstream::{ClientError, UpstreamClient};

/// Why a config that validated still cannot run (a CA or catalog file's content).
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Catalog(#[from] CatalogFileError),
}

/// A route with what the request path needs at hand.
#[derive(Debug)]
pub struct RouteEntry {
    pub route: Route,
    pub name: Arc<str>,
    pub client: Arc<UpstreamClient>,
    pub metrics: Arc<RouteMetrics>,
}

#[derive(Debug)]
pub struct Gateway {
    pub config: Arc<Config>,
    pub catalog: Catalog,
    pub metrics: Arc<Metrics>,
    /// Requests that matched no route (`route=""`).
    pub unrouted: Arc<RouteMetrics>,
    pub clients: Vec<Arc<UpstreamClient>>,
    routes: RouteTable<RouteEntry>,
}

impl Gateway {
    /// A gateway with metrics of its own (tests, `explain`).
    pub fn new(config: Config) -> Result<Gateway, GatewayError> {
        Self::with_metrics(config, Metrics::new())
    }

    /// A gateway recording into `metrics`, which outlives it across reloads.
    pub fn with_metrics(config: Config, metrics: Arc<Metrics>) -> Result<Gateway, GatewayError> {
        Self::replacing(config, metrics, None)
    }

    /// A gateway for a reloaded config: upstreams whose settings did not change keep their
    /// client from `previous` (warm pooled connections, endpoint health, retry budget).
    pub fn replacing(
        config: Config,
        metrics: Arc<Metrics>,
        previous: Option<&Gateway>,
    ) -> Result<Gateway, GatewayError> {
        let mut clients = HashMap::new();
        for (name, upstream) in &config.upstreams {
            let kept = previous.and_then(|p| {
                p.clients
                    .iter()
                    .find(|c| c.config.as_ref() == upstream.as_ref())
            });
            let client = match kept {
                Some(client) => client.clone(),
                None => Arc::new(UpstreamClient::new(upstream.clone(), &metrics)?),
            };
            clients.insert(name.clone(), client);
        }
        let mut entries = Vec::with_capacity(config.routes.len());
        for route in &config.routes {
            // Validation guarantees the upstream exists; a missing one would be a bug.
            let Some(client) = clients.get(&route.upstream.name) else {
                continue;
            };
            let name: Arc<str> = Arc::from(route.name.as_str());
            let entry = RouteEntry {
                metrics: Arc::new(RouteMetrics::new(&metrics, name.clone())),
                name,
                client: client.clone(),
                route: route.clone(),
            };
            entries.push((route.host.clone(), route.path_prefix.clone(), entry));
        }
        let mut catalog = Catalog::builtin();
        for path in &config.errors.catalogs {
            catalog_file::load_into(&mut catalog, path)?;
        }
        Ok(Gateway {
            config: Arc::new(config),
            catalog,
            unrouted: Arc::new(RouteMetrics::new(&metrics, Arc::from(""))),
            metrics,
            clients: clients.into_values().collect(),
            routes: RouteTable::new(entries),
        })
    }

    /// Sets `errgate_endpoint_up` from the endpoints' current health (before a scrape).
    pub fn refresh_endpoint_gauges(&self) {
        for client in &self.clients {
            for i in 0..client.endpoints.len() {
                client.metrics.set_endpoint_up(i, client.endpoints.is_up(i));
            }
        }
    }

    /// The route for a normalized path, if any.
    pub fn route(&self, host: Option<&str>, path: &str) -> Option<&RouteEntry> {
        self.routes.find(host, path)
    }
}
