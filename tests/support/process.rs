//! The built errgate binary as a child process: free loopback ports, captured stdout, signals
//! by PID, and a guard that kills it on every path out of a test.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_errgate");

pub struct Errgate {
    child: Child,
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Errgate {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// A fresh temp directory for one test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("errgate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Errgate {
    /// Starts `errgate --config path [args]` on free ports and waits until it listens.
    pub async fn start(config: &Path, args: &[&str]) -> Errgate {
        Self::start_with(config, args, None).await
    }

    /// As [`Errgate::start`]; `admin_in_file` is the admin address the file itself sets (it
    /// is then not overridden from the environment).
    pub async fn start_with(
        config: &Path,
        args: &[&str],
        admin_in_file: Option<SocketAddr>,
    ) -> Errgate {
        Self::spawn(config, args, admin_in_file, true).await
    }

    /// As [`Errgate::start`], with a stdout pipe that nobody reads (a stalled log collector).
    pub async fn start_stdout_unread(config: &Path) -> Errgate {
        Self::spawn(config, &[], None, false).await
    }

    async fn spawn(
        config: &Path,
        args: &[&str],
        admin_in_file: Option<SocketAddr>,
        read_stdout: bool,
    ) -> Errgate {
        let addr = free_addr();
        let mut cmd = Command::new(BIN);
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("ERRGATE_")) {
            cmd.env_remove(name);
        }
        let admin = match admin_in_file {
            Some(admin) => admin,
            None => {
                let admin = free_addr();
                cmd.env("ERRGATE_ADMIN__ADDRESS", admin.to_string());
                admin
            }
        };
        let child = cmd
            .arg("--config")
            .arg(config)
            .args(args)
            .env("ERRGATE_LISTENER__ADDRESS", addr.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn errgate");
        let mut e = Errgate {
            child,
            addr,
            admin,
            lines: Arc::default(),
        };
        if read_stdout {
            e.capture();
        }
        e.wait_listening().await;
        e
    }

    fn capture(&mut self) {
        let out = self.child.stdout.take().expect("stdout piped");
        let sink = self.lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
    }

    async fn wait_listening(&mut self) {
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("errgate exited early: {status}");
            }
            let public = tokio::net::TcpStream::connect(self.addr).await.is_ok();
            if public && tokio::net::TcpStream::connect(self.admin).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("errgate never listened on {}", self.addr);
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin)
    }

    /// Sends `signal` (e.g. "HUP", "TERM") to this process by PID.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{signal} failed");
    }

    /// Waits up to `limit` for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let steps = (limit.as_millis() / 20).max(1);
        for _ in 0..steps {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Open file descriptors (sockets included) of the process.
    pub fn fd_count(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()));
        status
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0)
    }

    /// Waits up to 2 s for at least `n` log lines that contain `needle` (errgate writes its
    /// log from a thread of its own), and returns how many there are.
    pub async fn wait_logged(&self, needle: &str, n: usize) -> usize {
        for _ in 0..100 {
            if self.logged(needle) >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.logged(needle)
    }

    /// Log lines so far that contain `needle`.
    pub fn logged(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }
}
