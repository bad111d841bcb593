//! `fangops doctor` against moto: endpoint, credentials, identity, account guard, S3.

use crate::support::moto::moto;
use crate::support::{Project, fangops, repo_root, run};

#[test]
fn local_env_is_healthy_against_moto() {
    let out = run(fangops(repo_root())
        .args(["doctor", "--env", "local", "--json"])
        .env("AWS_ENDPOINT_URL", &moto().endpoint));
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["ok"], true);
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "env file",
            "endpoint",
            "credentials",
            "identity",
            "account guard",
            "s3"
        ]
    );
    assert!(
        v["checks"][3]["detail"]
            .as_str()
            .unwrap()
            .contains("account 123456789012"),
        "{v}"
    );
    // Regression: S3 was checked with ListBuckets, which no fangops role grants; the
    // env's own buckets are looked for instead (created or not yet).
    let s3 = v["checks"][5]["detail"].as_str().unwrap();
    assert!(
        s3.contains("results fang-local-123456789012-results")
            && s3.contains("artifacts fangops-artifacts-123456789012-us-east-1"),
        "{s3}"
    );
    // CI mode: plain log lines on stderr, one per event.
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("INFO") && l.contains("asking STS")),
        "{}",
        out.stderr
    );
}

#[test]
fn account_guard_refuses_another_account() {
    let p = Project::new();
    p.env_file(
        "guarded",
        format!(
            "stack: fang-guarded\nregion: us-east-1\naccount: \"999999999999\"\nendpoint_url: {}\ncompanies: [Apple]\n",
            moto().endpoint
        ),
    );
    let out = run(fangops(p.path()).args(["doctor", "--env", "guarded"]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(
            "✗ account guard  refusing to act: credentials are for account 123456789012, environments/guarded.yaml expects 999999999999"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn emulator_not_running() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(fangops(repo_root())
        .args(["doctor", "--env", "local"])
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("✗ endpoint"), "{}", out.stdout);
    assert!(
        out.stdout.contains("is the emulator running?"),
        "{}",
        out.stdout
    );
}

#[test]
fn invalid_env_file_exits_2_before_any_call() {
    let p = Project::new();
    p.env_file(
        "broken",
        "stack: fang-broken\nregion: us-east-1\ncompanies: [A, a]\n",
    );
    let out = run(fangops(p.path()).args(["doctor", "--env", "broken"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("error: environments/broken.yaml:3:16:"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_endpoint_override_is_a_clear_error() {
    let out = run(fangops(repo_root())
        .args(["doctor", "--env", "local"])
        .env("AWS_ENDPOINT_URL", "not a url"));
    // Bad input, not a failure: exit 2, before any request.
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("AWS_ENDPOINT_URL=\"not a url\" is not a URL"),
        "{}",
        out.stderr
    );
}
