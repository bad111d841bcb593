//! The pipeline end to end on moto: deploy, run (the local runner driving the real
//! handlers), results; at scale, with failing companies, and through S3 faults.

use std::collections::HashSet;

use crate::support::fault_proxy::{FaultKind, FaultPlan, FaultProxy, Only};
use crate::support::moto::moto;
use crate::support::{
    Project, deploy, fangops, local_env_yaml, repo_root, run, run_async, s3, unique,
};

fn deployed(dir: &std::path::Path, env: &str) {
    let out = deploy(dir, env);
    assert_eq!(out.code, 0, "deploy: {out:?}");
}

fn results_json(dir: &std::path::Path, env: &str) -> serde_json::Value {
    let out = run(fangops(dir)
        .args(["results", "--env", env, "--json"])
        .env("AWS_ENDPOINT_URL", &moto().endpoint));
    assert_eq!(out.code, 0, "results: {out:?}");
    out.json()
}

async fn summary_csv(bucket: &str, run_id: &str) -> String {
    let date = format!("{}-{}-{}", &run_id[..4], &run_id[4..6], &run_id[6..8]);
    let key = format!("results/{date}/{run_id}/summary.csv");
    let out = s3()
        .get_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    String::from_utf8(out.body.collect().await.unwrap().to_vec()).unwrap()
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("Company {i:04}")).collect()
}

#[tokio::test]
async fn shipped_companies_end_to_end() {
    // The repository's own local environment, as `make demo` runs it.
    deployed(repo_root(), "local");
    let out = run(fangops(repo_root())
        .args(["run", "--env", "local", "--json"])
        .env("AWS_ENDPOINT_URL", &moto().endpoint));
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    assert_eq!(report["companies"], 7);
    assert_eq!(report["succeeded"], 7);
    assert_eq!(report["failed"].as_array().unwrap().len(), 0);

    let results = results_json(repo_root(), "local");
    let companies: Vec<&str> = results["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["company"].as_str().unwrap())
        .collect();
    assert_eq!(
        companies,
        [
            "Alphabet",
            "Amazon",
            "Apple",
            "Meta Platforms",
            "Microsoft",
            "Netflix",
            "Nvidia"
        ]
    );
    for r in results["records"].as_array().unwrap() {
        assert_eq!(r["analyzer"], "vader");
        assert!(
            r["source_url"].as_str().unwrap().starts_with("fixtures://"),
            "{r}"
        );
        let s = &r["scores"];
        let sum: f64 = ["positive", "negative", "neutral", "mixed"]
            .iter()
            .map(|k| s[k].as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-6, "{r}");
    }
    assert_eq!(results["run_id"], report["run_id"]);

    let csv = summary_csv(
        report["bucket"].as_str().unwrap(),
        report["run_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(csv.lines().count(), 8, "{csv}");

    let page = tempfile::NamedTempFile::new().unwrap();
    let out = run(fangops(repo_root())
        .args(["results", "--env", "local", "--format", "html", "--out"])
        .arg(page.path())
        .env("AWS_ENDPOINT_URL", &moto().endpoint));
    assert_eq!(out.code, 0, "{out:?}");
    let html = std::fs::read_to_string(page.path()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for c in companies {
        assert!(html.contains(&format!("<td>{c}</td>")), "{c}");
    }
}

#[tokio::test]
async fn five_hundred_generated_companies() {
    let p = Project::new();
    let stack = unique("fang-t");
    p.env_file("big", local_env_yaml(&stack, &names(500)));
    deployed(p.path(), "big");
    let out = run(fangops(p.path()).args(["run", "--env", "big", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    assert_eq!(report["companies"], 500);
    assert_eq!(report["succeeded"], 500);
    let results = results_json(p.path(), "big");
    let got: HashSet<&str> = results["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["company"].as_str().unwrap())
        .collect();
    assert_eq!(got.len(), 500);
    let csv = summary_csv(
        report["bucket"].as_str().unwrap(),
        report["run_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(csv.lines().count(), 501);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_put_faults_lose_and_duplicate_nothing() {
    let p = Project::new();
    let stack = unique("fang-t");
    let companies = names(40);
    p.env_file("flaky", local_env_yaml(&stack, &companies));
    deployed(p.path(), "flaky");
    let plan = FaultPlan::new(11, 0.3).only(Only::S3Put).kinds(&[
        FaultKind::InternalError,
        FaultKind::Unavailable,
        FaultKind::Throttle,
        FaultKind::Drop,
    ]);
    let proxy = FaultProxy::start(&moto().endpoint, plan).await;
    let mut cmd = fangops(p.path());
    cmd.args(["run", "--env", "flaky", "--json"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint)
        .env("AWS_MAX_ATTEMPTS", "3");
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(proxy.stats.faults() > 0, "no S3 put was faulted");
    let report = out.json();
    assert_eq!(report["succeeded"], 40);
    let csv = summary_csv(
        report["bucket"].as_str().unwrap(),
        report["run_id"].as_str().unwrap(),
    )
    .await;
    let rows: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(rows, companies, "every company exactly once, in order");
}

#[tokio::test]
async fn a_company_without_a_page_is_a_result_and_a_failing_one_ends_in_the_dlq() {
    let wiki = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/page/summary/Nonexistent_Corp"))
        .respond_with(wiremock::ResponseTemplate::new(404))
        .mount(&wiki)
        .await;
    // An answer fangops cannot read: transient, so retried until the queue gives up.
    wiremock::Mock::given(wiremock::matchers::path("/page/summary/Broken_Corp"))
        .respond_with(wiremock::ResponseTemplate::new(400))
        .mount(&wiki)
        .await;
    wiremock::Mock::given(wiremock::matchers::path_regex("^/page/summary/Good_.*"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "type": "standard", "extract": "A wonderful, successful company.",
                "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/Good"}}
            })),
        )
        .mount(&wiki)
        .await;
    let p = Project::new();
    let stack = unique("fang-t");
    let yaml = local_env_yaml(
        &stack,
        &[
            "Good One".into(),
            "Nonexistent Corp".into(),
            "Broken Corp".into(),
            "Good Two".into(),
        ],
    )
    .replace("text_source: fixtures", "text_source: wikipedia");
    p.env_file("wiki", yaml);
    deployed(p.path(), "wiki");
    let out = run(fangops(p.path())
        .args(["run", "--env", "wiki", "--json"])
        .env("WIKIPEDIA_BASE_URL", wiki.uri()));
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.json();
    assert_eq!(report["succeeded"], 2);
    // No page: a result that says so, not a failure, and never retried.
    assert_eq!(report["no_text"][0]["company"], "Nonexistent Corp");
    assert_eq!(
        report["no_text"][0]["reason"],
        "no Wikipedia page for \"Nonexistent Corp\""
    );
    assert_eq!(report["failed"].as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(report["failed"][0]["company"], "Broken Corp");
    assert_eq!(
        report["failed"][0]["reason"],
        "fetching the Wikipedia summary of \"Broken Corp\": HTTP 400"
    );
    assert_eq!(report["timed_out"], false);

    // The message went round the queue and is in the dead-letter queue now.
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url(&moto().endpoint)
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "t", "t", None, None, "tests",
            ))
            .build(),
    );
    let dlq = sqs
        .get_queue_url()
        .queue_name(format!("{stack}-companies-dlq"))
        .send()
        .await
        .unwrap();
    let mut bodies = Vec::new();
    for _ in 0..5 {
        let got = sqs
            .receive_message()
            .queue_url(dlq.queue_url().unwrap())
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        bodies.extend(
            got.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_owned)),
        );
        if !bodies.is_empty() {
            break;
        }
    }
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    assert!(bodies[0].contains("Broken Corp"), "{bodies:?}");
    // The summary has every company that has a result, the one without text too.
    let csv = summary_csv(
        report["bucket"].as_str().unwrap(),
        report["run_id"].as_str().unwrap(),
    )
    .await;
    assert!(csv.contains("Nonexistent Corp,no_text,"), "{csv}");
    assert!(!csv.contains("Broken Corp"), "{csv}");
}

#[test]
fn run_before_deploy_says_what_to_do() {
    let p = Project::new();
    p.env_file("fresh", local_env_yaml(&unique("fang-t"), &names(1)));
    let out = run(fangops(p.path()).args(["run", "--env", "fresh"]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("fangops deploy --env fresh"),
        "{}",
        out.stderr
    );
}

#[test]
fn results_before_any_run() {
    let p = Project::new();
    p.env_file("empty", local_env_yaml(&unique("fang-t"), &names(1)));
    deployed(p.path(), "empty");
    let out = run(fangops(p.path()).args(["results", "--env", "empty"]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("no runs yet"), "{}", out.stderr);
}

/// The no-results alarm fires on missing data, and a new stack has none: it is
/// written disarmed, the first run arms it, and a later deploy keeps it armed.
#[tokio::test]
async fn the_first_run_arms_the_no_results_alarm() {
    let p = Project::new();
    let stack = unique("fang-arm");
    p.env_file("arm", local_env_yaml(&stack, &names(2)));
    let armed = || async {
        let out = crate::support::moto_client!(aws_sdk_cloudwatch)
            .describe_alarms()
            .alarm_names(format!("{stack}-no-results"))
            .send()
            .await
            .unwrap();
        out.metric_alarms()[0].actions_enabled().unwrap()
    };
    let out = deploy(p.path(), "arm");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!armed().await, "a stack that never ran has no data to miss");
    let report = run(fangops(p.path()).args(["alarms", "--env", "arm", "--dry-run", "--json"]));
    assert_eq!(report.json()["no_results_armed"], false);

    let out = run(fangops(p.path()).args(["run", "--env", "arm", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(armed().await, "the run armed it");
    deployed(p.path(), "arm");
    assert!(armed().await, "a deploy keeps it armed");
}

/// Two runs read as a trend: each company has a point a run; table, JSON and page.
#[tokio::test]
async fn results_since_reads_the_runs_of_the_window_as_a_trend() {
    let p = Project::new();
    p.env_file("trend", local_env_yaml(&unique("fang-tr"), &names(3)));
    deployed(p.path(), "trend");
    for _ in 0..2 {
        let out = run(fangops(p.path()).args(["run", "--env", "trend"]));
        assert_eq!(out.code, 0, "{out:?}");
    }
    let out =
        run(fangops(p.path()).args(["results", "--env", "trend", "--since", "30d", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(j["runs"].as_array().unwrap().len(), 2, "{j}");
    let companies = j["companies"].as_object().unwrap();
    assert_eq!(companies.len(), 3);
    assert!(
        companies
            .values()
            .all(|points| points.as_array().unwrap().len() == 2)
    );
    let table = run(fangops(p.path()).args(["results", "--env", "trend", "--since", "2w"]));
    assert!(
        table.stdout.contains("2 runs, 3 companies"),
        "{}",
        table.stdout
    );
    let page = run(fangops(p.path()).args([
        "results", "--env", "trend", "--since", "30d", "--format", "html",
    ]));
    assert_eq!(page.stdout.matches("<polyline").count(), 3);
    // A window that is no number of days is a usage error.
    let bad = run(fangops(p.path()).args(["results", "--env", "trend", "--since", "soon"]));
    assert_eq!(bad.code, 2, "{bad:?}");
}
