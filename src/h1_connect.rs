//! Getting a connection for an exchange of [`super`]: a pooled one fresh enough, or a new one
//! within the connect timeout.

use std::io;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{Conn, EndpointPool, SendError, Target};
use crate::error::{ConnectKind, ProxyError};

/// A pooled connection fresh enough, or a new one (`true`: pooled).
pub(super) async fn checkout(
    pool: &EndpointPool,
    started: Instant,
    deadline: Instant,
) -> Result<(Box<Conn>, bool), SendError> {
    if let Some(conn) = pool.take_idle(started) {
        return Ok((conn, true));
    }
    let connected = tokio::time::timeout_at(deadline, pool.connect()).await;
    let conn = connected
        .unwrap_or(Err(ProxyError::TryTimeout))
        .map_err(|error| SendError {
            error,
            reused: false,
        })?;
    Ok((conn, false))
}

impl EndpointPool {
    /// Boxed for its whole life: the body that owns it during an exchange rides on the
    /// response, which is moved several times, and a box moves in 8 bytes.
    async fn connect(&self) -> Result<Box<Conn>, ProxyError> {
        let connecting = async {
            match &self.target {
                Target::Addr(addr) => TcpStream::connect(*addr).await,
                Target::Name(name) => TcpStream::connect(name.as_str()).await,
            }
        };
        let stream = match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                let kind = match err.kind() {
                    io::ErrorKind::ConnectionRefused => ConnectKind::Refused,
                    io::ErrorKind::TimedOut => ConnectKind::Timeout,
                    _ => ConnectKind::Other,
                };
                return Err(ProxyError::Connect {
                    kind,
                    source: Box::new(err),
                });
            }
            Err(elapsed) => {
                return Err(ProxyError::Connect {
                    kind: ConnectKind::Timeout,
                    source: Box::new(elapsed),
                });
            }
        };
        // Small request heads must not wait for Nagle.
        let _ = stream.set_nodelay(true);
        Ok(Box::new(Conn {
            stream,
            buf: BytesMut::new(),
            out: Vec::new(),
            fields: Vec::new(),
            timer: None,
            answer_due: false,
        }))
    }
}
