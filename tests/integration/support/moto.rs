//! One moto server per test binary, started on first use on a free loopback port.
//!
//! The server is a child process whose stdin is a pipe held by this process
//! (`--lifeline`): when the test binary exits, for whatever reason (all passed, a
//! failure, a panic, SIGKILL), the pipe closes and moto stops. Nothing is left behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::repo_root;

#[derive(Debug)]
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub port: u16,
    // Held, never used: dropping the pipe (at process exit) stops the server.
    _lifeline: Mutex<(Child, ChildStdin)>,
}

/// The shared server, started on first call.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start().unwrap_or_else(|e| panic!("starting moto: {e}")))
}

/// The test harness is its own edge: it may read the environment.
#[allow(clippy::disallowed_methods)]
pub fn venv_python() -> PathBuf {
    let venv =
        std::env::var_os("FANGOPS_VENV").map_or_else(|| repo_root().join(".venv"), PathBuf::from);
    let python = venv.join("bin").join("python");
    assert!(
        python.exists(),
        "{} not found: the integration tests need moto; run `make setup` (scripts/setup.sh)",
        python.display()
    );
    python
}

impl Moto {
    fn start() -> Result<Self, String> {
        let log_path =
            std::env::temp_dir().join(format!("fangops-moto-{}.log", std::process::id()));
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let mut child = Command::new(venv_python())
            .arg(repo_root().join("scripts/moto_server.py"))
            .args(["--host", "127.0.0.1", "--port", "0", "--lifeline"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawning moto: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin pipe")?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .map_err(|e| e.to_string())?;
        let endpoint = first
            .trim()
            .strip_prefix("moto listening on ")
            .ok_or_else(|| {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                format!(
                    "unexpected first line {first:?}; log {}:\n{log}",
                    log_path.display()
                )
            })?
            .to_owned();
        let port: u16 = endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("no port in {endpoint:?}"))?;
        wait_until_answers(port)?;
        Ok(Self {
            endpoint,
            port,
            _lifeline: Mutex::new((child, stdin)),
        })
    }

    /// Sends a raw HTTP request to moto's own API (`/moto-api/...`), returning the status.
    pub fn api(&self, method: &str, path: &str, body: &str) -> u16 {
        http_status(self.port, method, path, body)
            .unwrap_or_else(|e| panic!("moto API {path}: {e}"))
    }
}

fn wait_until_answers(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match http_status(port, "GET", "/moto-api/", "") {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(format!("moto did not answer: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// A minimal HTTP/1.1 client: enough for moto's API, with no dependency to build.
fn http_status(port: u16, method: &str, path: &str, body: &str) -> Result<u16, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    s.read_to_string(&mut response).map_err(|e| e.to_string())?;
    response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {response:.80}"))
}
