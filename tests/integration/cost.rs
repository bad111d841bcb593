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
            .replace("sentiment: vader", "sentiment: comprehend"),
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
