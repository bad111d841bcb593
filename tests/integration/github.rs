//! GitHub comments against a local wiremock server standing in for the API: create
//! when no comment carries the marker, update the one found on a later page, clear
//! errors for 403 and 404, rate limits retried, and the token in no output.

use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{Project, fangops, run_async};

const TOKEN: &str = "ghs_S3CRETt0kenThatMustNeverBePrinted";

fn comment_file(p: &Project) -> std::path::PathBuf {
    let f = p.path().join("plan.md");
    std::fs::write(
        &f,
        "### Plan for `fang-dev` (dev)\n\nNo changes to the stack.\n",
    )
    .unwrap();
    f
}

async fn post_comment(server: &MockServer, p: &Project, extra: &[&str]) -> crate::support::Run {
    let mut cmd = fangops(p.path());
    cmd.args([
        "-vv",
        "comment",
        "--env",
        "dev",
        "--repo",
        "acme/pipeline",
        "--pr",
        "7",
        "--file",
    ])
    .arg(comment_file(p))
    .args(extra)
    .env("GITHUB_TOKEN", TOKEN)
    .env("GITHUB_API_URL", server.uri())
    .env_remove("GITHUB_EVENT_PATH")
    .env_remove("GITHUB_STEP_SUMMARY");
    let out = run_async(cmd).await;
    assert!(
        !out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN),
        "the token leaked: {out:?}"
    );
    out
}

fn comment(id: u64, body: &str) -> serde_json::Value {
    serde_json::json!({ "id": id, "body": body, "html_url": format!("https://github.com/acme/pipeline/pull/7#issuecomment-{id}") })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_the_comment_when_none_carries_the_marker() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/issues/7/comments"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![comment(1, "LGTM")]))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/pipeline/issues/7/comments"))
        .and(body_string_contains("<!-- fangops env=dev -->"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(99, "x")))
        .expect(1)
        .mount(&server)
        .await;
    let p = Project::new();
    let out = post_comment(&server, &p, &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("comment created on pull request #7: https://github.com/acme/pipeline/pull/7#issuecomment-99"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_the_marked_comment_found_on_page_two() {
    let server = MockServer::start().await;
    let page1: Vec<_> = (0..100).map(|i| comment(i, "chatter")).collect();
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/issues/7/comments"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page1))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/issues/7/comments"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(vec![
            comment(4242, "<!-- fangops env=prod -->\nthe prod one"),
            comment(4243, "<!-- fangops env=dev -->\nthe old plan"),
        ]))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/pipeline/issues/comments/4243"))
        .and(body_string_contains("No changes to the stack."))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment(4243, "x")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let p = Project::new();
    let out = post_comment(&server, &p, &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("comment updated on pull request #7"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_and_missing_pull_requests_say_what_to_do() {
    for (status, message, expect) in [
        (
            403,
            "Resource not accessible by integration",
            "give the workflow job `permissions: pull-requests: write`",
        ),
        (
            404,
            "Not Found",
            "pull request #7 was not found in acme/pipeline (404)",
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status).set_body_json(serde_json::json!({
                    "message": message, "documentation_url": "https://docs.github.com/rest"
                })),
            )
            .mount(&server)
            .await;
        let p = Project::new();
        let out = post_comment(&server, &p, &[]).await;
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stderr.contains(expect), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_call_is_retried() {
    let server = MockServer::start().await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/issues/7/comments"))
        .respond_with(move |_: &Request| {
            if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(serde_json::json!({ "message": "API rate limit exceeded" }))
            } else {
                ResponseTemplate::new(200).set_body_json(Vec::<serde_json::Value>::new())
            }
        })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(comment(5, "x")))
        .expect(1)
        .mount(&server)
        .await;
    let p = Project::new();
    let out = post_comment(&server, &p, &[]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_comment_is_printed_or_written() {
    let p = Project::new();
    let mut cmd = fangops(p.path());
    cmd.args([
        "comment",
        "--env",
        "dev",
        "--repo",
        "acme/pipeline",
        "--pr",
        "7",
        "--file",
    ])
    .arg(comment_file(&p))
    .env_remove("GITHUB_TOKEN");
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("<!-- fangops env=dev -->\n### Plan for `fang-dev` (dev)"),
        "{}",
        out.stdout
    );
    let mut cmd = fangops(p.path());
    let file = p.path().join("comment.md");
    cmd.args([
        "comment",
        "--env",
        "dev",
        "--file",
        "plan.md",
        "--comment-out",
    ])
    .arg(&file)
    .env_remove("GITHUB_TOKEN");
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("<!-- fangops env=dev -->")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_merge_the_report_goes_to_the_pull_request_of_the_commit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/commits/0123abc/pulls"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(vec![serde_json::json!({ "number": 31 })]),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/issues/31/comments"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(vec![comment(8, "<!-- fangops env=prod -->\nplan")]),
        )
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/pipeline/issues/comments/8"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment(8, "x")))
        .expect(1)
        .mount(&server)
        .await;
    let p = Project::new();
    let summary = p.path().join("summary.md");
    let mut cmd = fangops(p.path());
    cmd.args([
        "comment",
        "--env",
        "prod",
        "--repo",
        "acme/pipeline",
        "--file",
    ])
    .arg(comment_file(&p))
    .env("GITHUB_TOKEN", TOKEN)
    .env("GITHUB_API_URL", server.uri())
    .env("GITHUB_SHA", "0123abc")
    .env("GITHUB_STEP_SUMMARY", &summary);
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("comment updated on pull request #31"),
        "{}",
        out.stderr
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("<!-- fangops env=prod -->"),
        "{written}"
    );
    assert!(!written.contains(TOKEN));
}

/// A push straight to main: its commit has no pull request. The deploy went through,
/// so it exits 0; the report is in the job summary, and a warning says why no comment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_belongs_to_no_pull_request_warns_and_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/commits/0123abc/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Vec::<serde_json::Value>::new()))
        .expect(1)
        .mount(&server)
        .await;
    let stack = crate::support::unique("ghpush");
    let p = Project::new();
    p.env_file(
        "e",
        crate::support::local_env_yaml(&stack, &["Apple".to_owned()]),
    );
    let summary = p.path().join("summary.md");
    let mut cmd = fangops(p.path());
    cmd.args([
        "deploy",
        "--env",
        "e",
        "--comment",
        "--repo",
        "acme/pipeline",
        "--artifacts",
    ])
    .arg(crate::support::fake_artifacts())
    .env("AWS_ENDPOINT_URL", &crate::support::moto::moto().endpoint)
    .env("GITHUB_TOKEN", TOKEN)
    .env("GITHUB_API_URL", server.uri())
    .env("GITHUB_SHA", "0123abc")
    .env("GITHUB_STEP_SUMMARY", &summary);
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "::warning title=fangops::commit 0123abc belongs to no pull request in acme/pipeline"
        ),
        "{}",
        out.stderr
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.contains(&format!("(stack `{stack}`) — created")),
        "{written}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_comment_does_not_hide_what_the_deploy_did() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "message": "Resource not accessible by integration"
        })))
        .mount(&server)
        .await;
    let stack = crate::support::unique("ghdeploy");
    let p = Project::new();
    p.env_file(
        "e",
        crate::support::local_env_yaml(&stack, &["Apple".to_owned()]),
    );
    let mut cmd = fangops(p.path());
    cmd.args([
        "deploy",
        "--env",
        "e",
        "--comment",
        "--repo",
        "acme/pipeline",
        "--pr",
        "7",
        "--artifacts",
    ])
    .arg(crate::support::fake_artifacts())
    .env("AWS_ENDPOINT_URL", &crate::support::moto::moto().endpoint)
    .env("GITHUB_TOKEN", TOKEN)
    .env("GITHUB_API_URL", server.uri());
    let out = run_async(cmd).await;
    assert_eq!(out.code, 1, "{out:?}");
    // The report is printed, and the error says the deploy itself went through.
    assert!(
        out.stdout
            .contains(&format!("Deploy of {stack} (e): created")),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(&format!(
            "the deploy of {stack} ended Created, but its report could not be posted"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("pull-requests: write"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN));
}
