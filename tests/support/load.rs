//! A steady stream of requests from other tasks, recording every outcome, until stopped.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use http_body_util::BodyExt;

/// What one request ended as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Status and body.
    Answer(u16, String),
    /// The connection could not be made (refused): the only acceptable failure while stopping.
    Refused,
    /// Anything else: a reset, a truncated body, a hung-up connection mid-request.
    Broken(String),
}

pub struct Load {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Load {
    /// `workers` tasks each sending GET `url` in a loop over a keep-alive pool.
    pub fn start(url: String, workers: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..workers)
            .map(|_| {
                let (url, stop, seen) = (url.clone(), stop.clone(), seen.clone());
                tokio::spawn(async move {
                    let client = super::client();
                    // Bounded: at most 100k requests per worker, however long the test runs.
                    for _ in 0..100_000 {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let outcome = one(&client, &url).await;
                        let refused = outcome == Seen::Refused;
                        seen.lock().unwrap().push(outcome);
                        if refused {
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        }
                    }
                })
            })
            .collect();
        Load { stop, tasks, seen }
    }

    pub async fn stop(self) -> Vec<Seen> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

async fn one(
    client: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        super::BoxBody,
    >,
    url: &str,
) -> Seen {
    let resp = match client.request(super::get(url)).await {
        Ok(resp) => resp,
        Err(e) if e.is_connect() => return Seen::Refused,
        Err(e) => return Seen::Broken(format!("{e:?}")),
    };
    let status = resp.status().as_u16();
    match resp.into_body().collect().await {
        Ok(body) => Seen::Answer(status, String::from_utf8_lossy(&body.to_bytes()).into()),
        Err(e) => Seen::Broken(format!("body: {e:?}")),
    }
}
