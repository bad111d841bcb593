//! The harness itself: moto starts on a free port, answers, and stops when its owner
//! goes away; names are unique per test and per run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::moto::{moto, venv_python};
use crate::support::{repo_root, unique};

#[test]
fn shared_moto_answers_its_api() {
    assert!(moto().port > 0);
    assert_eq!(moto().api("GET", "/moto-api/", ""), 200);
}

#[test]
fn unique_names_never_repeat() {
    let a = unique("fang-t");
    let b = unique("fang-t");
    assert_ne!(a, b);
    assert!(
        a.starts_with(&format!("fang-t-{}-", std::process::id())),
        "{a}"
    );
}

#[test]
fn moto_stops_when_its_lifeline_closes() {
    let mut child = Command::new(venv_python())
        .arg(repo_root().join("scripts/moto_server.py"))
        .args(["--port", "0", "--lifeline"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("moto listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(child.try_wait().unwrap().is_none(), "moto exited early");
    // What happens when a test process exits: its end of the pipe closes.
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "moto still running after its lifeline closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
