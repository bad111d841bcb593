//! `fangops cost` end to end: the estimate from a real env file and the shipped
//! pricing table, the delta against a git revision, and actual spend from Cost
//! Explorer on moto, seeded through its API (the forecast, which moto lacks, is
//! covered on recorded responses in `src/cost/mod.rs`).

use crate::support::moto::moto;
use crate::support::{Project, fangops, local_env_yaml, run, unique};

fn project_with_pricing() -> Project {
    let p = Project::new();
    std::fs::create_dir_all(p.path().join("infra/pricing")).unwrap();
    std::fs::copy(
        crate::support::repo_root().join("infra/pricing/us-east-1.yaml"),
        p.path().join("infra/pricing/us-east-1.yaml"),
    )
    .unwrap();
    p
}

#[test]
fn actual_spend_comes_from_cost_explorer_by_service() {
    let stack = unique("cost");
    let p = project_with_pricing();
    p.env_file(
        "e",
        local_env_yaml(&stack, &["Apple".to_owned(), "Meta".to_owned()]),
    );
    let seeded = serde_json::json!({ "results": [{
        "GroupDefinitions": [{"Key": "SERVICE", "Type": "DIMENSION"}],
        "ResultsByTime": [{
            "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-30"},
            "Total": {},
            "Groups": [
                {"Keys": ["Amazon CloudWatch"], "Metrics": {"UnblendedCost": {"Amount": "3.91", "Unit": "USD"}}},
                {"Keys": ["AWS Lambda"], "Metrics": {"UnblendedCost": {"Amount": "0.02", "Unit": "USD"}}}
            ],
            "Estimated": true
        }],
        "DimensionValueAttributes": []
    }]});
    assert_eq!(
        moto().api(
            "POST",
            "/moto-api/static/ce/cost-and-usage-results",
            &seeded.to_string()
        ),
        201
    );
    let out = run(fangops(p.path()).args(["cost", "--env", "e", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    let today = time::OffsetDateTime::now_utc().date();
    if today.day() > 1 {
        assert_eq!(j["actual"]["spend"]["state"], "available", "{j:#}");
        assert_eq!(
            j["actual"]["spend"]["by_service"][0]["service"],
            "Amazon CloudWatch"
        );
        assert!((j["actual"]["spend"]["month_to_date"].as_f64().unwrap() - 3.93).abs() < 1e-9);
    }
    // moto has no GetCostForecast: said, not failed.
    assert_eq!(j["actual"]["forecast"]["state"], "not_available", "{j:#}");
    assert_eq!(j["actual"]["tag"], format!("fangops:stack={stack}"));
    assert!(j["estimate"]["monthly"].as_f64().unwrap() > 0.0);
}

#[test]
fn estimate_and_delta_against_a_git_revision() {
    let stack = unique("costd");
    let p = project_with_pricing();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(p.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    p.env_file("e", local_env_yaml(&stack, &["Apple".to_owned()]));
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    p.env_file(
        "e",
        local_env_yaml(&stack, &["Apple".to_owned(), "Meta".to_owned()])
            .replace("sentiment: vader", "sentiment: comprehend")
            // Every text every run, as the figure below reckons.
            + "cache: {enabled: false}\n",
    );
    let out = run(fangops(p.path()).args([
        "cost",
        "--env",
        "e",
        "--base",
        "main",
        "--no-actual",
        "--markdown",
    ]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("| service | `main` | this change | delta |"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("| Amazon Comprehend | $0.00 | $0.03 | +$0.03 |"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Actual spend"), "{}", out.stdout);

    // A region without a pricing table is a clear error that names the file to add.
    p.env_file(
        "e",
        local_env_yaml(&stack, &["Apple".to_owned()]).replace("us-east-1", "eu-west-1"),
    );
    let out = run(fangops(p.path()).args(["cost", "--env", "e", "--no-actual"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("no pricing table for region eu-west-1: add infra/pricing/eu-west-1.yaml"),
        "{}",
        out.stderr
    );
}

/// `fangops ARGS` in `dir`, without blocking the runtime the seeding client uses.
async fn run_in(dir: &std::path::Path, args: &[&str]) -> crate::support::Run {
    let mut c = fangops(dir);
    c.args(args);
    crate::support::run_async(c).await
}

/// Seeds what a few runs of `stack` leave in CloudWatch: the functions' and the
/// queue's AWS metrics and the sentiment function's embedded-metric ones.
async fn seed_metrics(stack: &str, runs: f64, companies: f64, age_s: i64) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let cw = crate::support::moto_client!(aws_sdk_cloudwatch);
    let at = aws_sdk_cloudwatch::primitives::DateTime::from_secs(
        time::OffsetDateTime::now_utc().unix_timestamp() - age_s,
    );
    let results = runs * companies;
    let seeded: [(&str, &str, &str, String, f64); 13] = [
        (
            "AWS/Lambda",
            "Invocations",
            "FunctionName",
            format!("{stack}-producer"),
            runs,
        ),
        (
            "AWS/Lambda",
            "Duration",
            "FunctionName",
            format!("{stack}-producer"),
            runs * 310.0,
        ),
        (
            "AWS/Lambda",
            "Invocations",
            "FunctionName",
            format!("{stack}-sentiment"),
            runs,
        ),
        (
            "AWS/Lambda",
            "Duration",
            "FunctionName",
            format!("{stack}-sentiment"),
            results * 2_000.0,
        ),
        (
            "AWS/SQS",
            "NumberOfMessagesSent",
            "QueueName",
            format!("{stack}-companies"),
            results,
        ),
        (
            "AWS/SQS",
            "NumberOfMessagesReceived",
            "QueueName",
            format!("{stack}-companies"),
            results,
        ),
        (
            "AWS/SQS",
            "NumberOfMessagesDeleted",
            "QueueName",
            format!("{stack}-companies"),
            results,
        ),
        (
            "AWS/SQS",
            "NumberOfEmptyReceives",
            "QueueName",
            format!("{stack}-companies"),
            runs * 40.0,
        ),
        (
            "fangops",
            "ResultsWritten",
            "Stack",
            stack.to_owned(),
            results,
        ),
        (
            "fangops",
            "TextsAnalyzed",
            "Stack",
            stack.to_owned(),
            results,
        ),
        (
            "fangops",
            "ComprehendUnits",
            "Stack",
            stack.to_owned(),
            results * 5.0,
        ),
        (
            "fangops",
            "CharactersAnalyzed",
            "Stack",
            stack.to_owned(),
            results * 450.0,
        ),
        (
            "fangops",
            "ResultBytes",
            "Stack",
            stack.to_owned(),
            results * 1_536.0,
        ),
    ];
    for (namespace, metric, dim, value, v) in seeded {
        cw.put_metric_data()
            .namespace(namespace)
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name(dim).value(value).build())
                    .timestamp(at)
                    .value(v)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn measured_usage_from_cloudwatch_prices_the_estimate_and_is_written_back() {
    let stack = unique("costm");
    let p = project_with_pricing();
    let yaml = local_env_yaml(&stack, &["Apple".to_owned(), "Meta".to_owned()])
        .replace("sentiment: vader", "sentiment: comprehend")
        + "cost:\n  # from the first week\n  sentiment_ms_per_company: 900 # tuned\n";
    let path = p.env_file("e", &yaml);

    // Nothing has run yet: said, and the assumptions priced.
    let out = run_in(
        p.path(),
        &["cost", "--env", "e", "--measured", "--no-actual", "--json"],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert!(
        j["measured"]["not_enough"]
            .as_str()
            .unwrap()
            .contains("too little"),
        "{j:#}"
    );
    let assumed_monthly = j["estimate"]["monthly"].as_f64().unwrap();

    // --write with nothing measured changes nothing.
    let out = run_in(
        p.path(),
        &["cost", "--env", "e", "--measured", "--write", "--no-actual"],
    )
    .await;
    assert_ne!(out.code, 0, "{out:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), yaml);

    // A first run an hour ago is under a day of history: not yet a measure.
    let young = unique("costy");
    p.env_file("young", local_env_yaml(&young, &["Apple".to_owned()]));
    seed_metrics(&young, 1.0, 1.0, 3_600).await;
    let out = run_in(
        p.path(),
        &[
            "cost",
            "--env",
            "young",
            "--measured",
            "--no-actual",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert!(
        j["measured"]["not_enough"]
            .as_str()
            .unwrap()
            .contains("under a day of history"),
        "{j:#}"
    );

    // Two days ago: more than the day of history a measure needs.
    seed_metrics(&stack, 3.0, 2.0, 2 * 86_400).await;
    let out = run_in(
        p.path(),
        &["cost", "--env", "e", "--measured", "--no-actual", "--json"],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    let m = &j["measured"];
    assert_eq!(m["runs"], 3.0, "{j:#}");
    assert_eq!(m["results"], 6.0, "{j:#}");
    assert_eq!(m["requests"], 1, "{j:#}");
    assert_eq!(m["per_run"]["empty_receives"], 40.0, "{j:#}");
    let get = |k: &str| {
        m["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == k)
            .unwrap_or_else(|| panic!("{k} in {j:#}"))
            .clone()
    };
    assert_eq!(get("sentiment_ms_per_company")["measured"], 2_000.0);
    assert_eq!(
        get("producer_ms_per_run")["measured"],
        306.0,
        "310 less 2 a company"
    );
    assert_eq!(get("text_chars_per_company")["measured"], 450.0);
    assert_eq!(get("result_kb")["measured"], 1.5);
    // The file sets the sentiment time: it prices as written; the rest is measured.
    assert_eq!(get("sentiment_ms_per_company")["used"], false);
    assert_eq!(get("result_kb")["used"], true);
    let sentiment = j["estimate"]["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "sentiment time a company")
        .unwrap()
        .clone();
    assert_eq!(sentiment["value"], "900 ms", "{sentiment}");
    assert_eq!(sentiment["source"], "env file", "{sentiment}");
    let measured_monthly = j["estimate"]["monthly"].as_f64().unwrap();
    assert_ne!(measured_monthly, assumed_monthly);
    let sources: Vec<&str> = j["estimate"]["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["source"].as_str())
        .collect();
    assert!(
        sources
            .iter()
            .any(|s| s.starts_with("measured over 14 days")),
        "{sources:?}"
    );

    // The markdown a pull request gets flags what is far off.
    let out = run_in(
        p.path(),
        &[
            "cost",
            "--env",
            "e",
            "--measured",
            "--no-actual",
            "--markdown",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(
            "| `sentiment_ms_per_company` | 900 | 2000 | env file | :warning: more than twice the assumption |"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("> [!WARNING]"), "{}", out.stdout);

    // --write: the measured values in place, the comments kept, the rest untouched.
    let out = run_in(
        p.path(),
        &[
            "cost",
            "--env",
            "e",
            "--measured",
            "--write",
            "--no-actual",
            "--json",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let written = std::fs::read_to_string(&path).unwrap();
    // The estimate printed is the one the written file gives.
    let after = run_in(p.path(), &["cost", "--env", "e", "--no-actual", "--json"]).await;
    assert_eq!(after.code, 0, "{after:?}");
    assert_eq!(
        out.json()["estimate"]["monthly"],
        after.json()["estimate"]["monthly"],
        "{}\n{}",
        out.stdout,
        after.stdout
    );
    assert_eq!(out.json()["written"], "environments/e.yaml");
    assert!(
        after.json()["estimate"]["monthly"].as_f64().unwrap() > measured_monthly,
        "the written 2,000 ms a company costs more than the 900 the file said"
    );
    assert!(
        written.starts_with(&yaml[..yaml.find("cost:").unwrap()]),
        "{written}"
    );
    assert!(
        written.ends_with(
            "cost:\n  producer_ms_per_run: 306\n  text_chars_per_company: 450\n  result_kb: 1.5\n  # from the first week\n  sentiment_ms_per_company: 2000 # tuned\n"
        ),
        "{written}"
    );
}

/// The plan prices with the measured usage once the env has history, and says so;
/// before, it says the assumptions were used.
#[tokio::test]
async fn the_plan_prices_with_measured_usage_when_there_is_history() {
    let stack = unique("costp");
    let p = project_with_pricing();
    p.env_file(
        "e",
        local_env_yaml(&stack, &["Apple".to_owned(), "Meta".to_owned()])
            .replace("sentiment: vader", "sentiment: comprehend"),
    );
    let plan = || {
        let mut c = fangops(p.path());
        c.args(["plan", "--env", "e", "--json", "--artifacts"])
            .arg(crate::support::fake_artifacts());
        crate::support::run_async(c)
    };
    let out = plan().await;
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert!(
        j["cost"]["measured"]["not_enough"]
            .as_str()
            .unwrap()
            .contains("the estimate uses the assumptions"),
        "{j:#}"
    );
    seed_metrics(&stack, 4.0, 2.0, 2 * 86_400).await;
    let out = plan().await;
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(j["cost"]["measured"]["runs"], 4.0, "{j:#}");
    assert!(j["cost"]["measured"].get("not_enough").is_none(), "{j:#}");
    let sentiment = j["cost"]["estimate"]["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "sentiment time a company")
        .unwrap()
        .clone();
    assert_eq!(sentiment["value"], "2000 ms", "{sentiment}");
    assert!(
        sentiment["source"]
            .as_str()
            .unwrap()
            .starts_with("measured over 14 days"),
        "{sentiment}"
    );
}
