//! Every exit code `--help` and `docs/reference/exit-codes.md` document, driven through
//! the real binary: 0 success, 1 failure, 2 usage or invalid input (nothing changed), 3
//! changes found.

use crate::support::{Project, create_companies_table, fangops, local_env_yaml, run, unique};

/// A loopback address where nothing listens: a connection there fails at once.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_documented_exit_code() {
    let stack = unique("exit");
    let project = Project::new();
    project.env_file("e", local_env_yaml(&stack, &["Acme".to_owned()]));
    let dir = project.path();

    // 0: success.
    let out = run(fangops(dir).args(["validate", "--env", "e"]));
    assert_eq!(out.code, 0, "{out:?}");

    // 1: a failed check (no endpoint answers).
    let out = run(fangops(dir)
        .args(["doctor", "--env", "e"])
        .env("AWS_ENDPOINT_URL", closed_port()));
    assert_eq!(out.code, 1, "{out:?}");

    // 2: usage errors, clap's and fangops's own, each before any request is made
    // (the endpoint is closed, so a request would fail with 1 instead).
    let usage: &[&[&str]] = &[
        &["deploy", "--env", "e", "--no-such-flag"],
        &["teardown", "--env", "e"],
        &["plan", "--env", "e", "--repo", "owner/name"],
        &[
            "comment",
            "--env",
            "e",
            "--file",
            "-",
            "--repo",
            "not-a-repo",
            "--pr",
            "1",
        ],
    ];
    for args in usage {
        let out = run(fangops(dir)
            .args(*args)
            .env("AWS_ENDPOINT_URL", closed_port())
            .env("GITHUB_TOKEN", "t0ken"));
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(!out.stderr.contains("t0ken"), "{args:?}: {}", out.stderr);
    }
    // 2: a malformed flag is a usage error whatever the command then does: here no
    // token is set, so nothing would be posted and `--repo` would never be read.
    std::fs::write(dir.join("empty.md"), "").unwrap();
    let malformed: &[&[&str]] = &[
        &[
            "comment",
            "--env",
            "e",
            "--file",
            "empty.md",
            "--repo",
            "not-a-repo",
        ],
        &["iam", "--env", "e", "--repo", "owner/name/extra"],
        &[
            "previews",
            "--env",
            "e",
            "prune",
            "--dry-run",
            "--repo",
            "/name",
        ],
    ];
    for args in malformed {
        let out = run(fangops(dir)
            .args(*args)
            .env("AWS_ENDPOINT_URL", closed_port())
            .env_remove("GITHUB_TOKEN"));
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr.contains("is not a repository: use owner/name"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // An empty comment file is printed (no token) as the marker alone: no empty
    // <details> block.
    let out = run(fangops(dir)
        .args(["comment", "--env", "e", "--file", "empty.md"])
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY"));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("<!-- fangops env=e -->"), "{out:?}");
    assert!(!out.stdout.contains("<details>"), "{out:?}");

    let out = run(fangops(dir).args(["teardown", "--env", "e"]));
    assert!(
        out.stderr.contains("it never prompts, so pass --yes"),
        "{}",
        out.stderr
    );
    // 2: invalid input, located.
    project.env_file(
        "bad",
        "stack: fang-x\nregion: us-east-1\ncompanies: [A]\ntimeout: 3\n",
    );
    let out = run(fangops(dir).args(["validate", "--env", "bad"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout.contains("bad.yaml:4:1: unknown field `timeout`"),
        "{out:?}"
    );

    // 3: drift found (the table lacks the file's company).
    create_companies_table(&format!("{stack}-companies")).await;
    let out = run(fangops(dir).args(["drift", "--env", "e"]));
    assert_eq!(out.code, 3, "{out:?}");
}
