//! `fangops alarms` on moto: install, reinstall without a write, change a threshold,
//! remove one, leave foreign alarms alone, the dashboard; bad input changes nothing.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};

use crate::support::{Project, fangops, local_env_yaml, run, unique};

fn cloudwatch() -> aws_sdk_cloudwatch::Client {
    crate::support::moto_client!(aws_sdk_cloudwatch)
}

/// Every alarm named with `prefix`: name → (threshold, last update, description).
async fn alarms(prefix: &str) -> std::collections::BTreeMap<String, (f64, String, String)> {
    let out = cloudwatch()
        .describe_alarms()
        .alarm_name_prefix(prefix)
        .send()
        .await
        .unwrap();
    out.metric_alarms()
        .iter()
        .map(|a| {
            (
                a.alarm_name().unwrap().to_owned(),
                (
                    a.threshold().unwrap(),
                    format!("{:?}", a.alarm_configuration_updated_timestamp()),
                    a.alarm_description().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect()
}

async fn foreign_alarm(name: &str) {
    cloudwatch()
        .put_metric_alarm()
        .alarm_name(name)
        .alarm_description("made by hand")
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(42.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_reinstall_change_remove_and_leave_foreign_alarms_alone() {
    let stack = unique("alarms");
    let project = Project::new();
    let base = local_env_yaml(&stack, &["Apple".to_owned()]);
    project.env_file("e", &base);
    foreign_alarm(&format!("{stack}-hand-made")).await;
    foreign_alarm(&format!("other-{stack}-errors")).await;
    let alarms_cmd = |extra: &[&str]| {
        run(fangops(project.path())
            .args(["alarms", "--env", "e", "--json"])
            .args(extra))
    };

    // Dry run: nine to add, nothing written.
    let dry = alarms_cmd(&["--dry-run"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert_eq!(dry.json()["changes"].as_array().unwrap().len(), 9);
    assert_eq!(alarms(&stack).await.len(), 1, "only the hand-made one");

    let out = alarms_cmd(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    let installed = alarms(&stack).await;
    assert_eq!(installed.len(), 10, "{installed:#?}");
    let errors = &installed[&format!("{stack}-sentiment-errors")];
    assert_eq!(errors.0, 1.0);
    assert!(errors.2.contains("What to do:"), "{}", errors.2);
    let topic = format!("arn:aws:sns:us-east-1:123456789012:{stack}-alarms");
    assert_eq!(out.json()["topic"], topic);
    let desc = cloudwatch()
        .describe_alarms()
        .alarm_names(format!("{stack}-no-results"))
        .send()
        .await
        .unwrap();
    let no_results = &desc.metric_alarms()[0];
    assert_eq!(no_results.alarm_actions(), std::slice::from_ref(&topic));
    assert_eq!(no_results.ok_actions(), std::slice::from_ref(&topic));
    assert_eq!(no_results.treat_missing_data(), Some("breaching"));
    assert_eq!(no_results.namespace(), Some("fangops"));

    // Again: nothing to do, and nothing written (the update times did not move).
    let again = alarms_cmd(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.json()["changes"], serde_json::json!([]));
    assert_eq!(again.json()["unchanged"], 9);
    assert_eq!(again.json()["dashboard_changed"], false);
    assert_eq!(alarms(&stack).await, installed);

    // A threshold changed in the file: one change, old → new, and CloudWatch has it.
    project.env_file(
        "e",
        base.replace("companies:", "alarms:\n  dlq_messages: { threshold: 5 }\n  throttles: { enabled: false }\ncompanies:"),
    );
    let dry = run(fangops(project.path()).args(["alarms", "--env", "e", "--dry-run"]));
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout
            .contains(&format!("~ {stack}-dlq-messages (threshold 1 → 5)")),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains(&format!("- {stack}-producer-throttles")),
        "{}",
        dry.stdout
    );
    let out = alarms_cmd(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    let after = alarms(&stack).await;
    assert_eq!(after[&format!("{stack}-dlq-messages")].0, 5.0);
    assert!(!after.contains_key(&format!("{stack}-producer-throttles")));
    assert!(!after.contains_key(&format!("{stack}-sentiment-throttles")));
    assert_eq!(after.len(), 8);
    // The hand-made alarms, with and without the prefix, are untouched.
    assert_eq!(
        after[&format!("{stack}-hand-made")],
        installed[&format!("{stack}-hand-made")]
    );
    assert_eq!(alarms(&format!("other-{stack}")).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_someone_else_made_under_our_name_is_not_taken_over() {
    let stack = unique("alarmc");
    let project = Project::new();
    project.env_file("e", local_env_yaml(&stack, &["Apple".to_owned()]));
    foreign_alarm(&format!("{stack}-dlq-messages")).await;
    let out = run(fangops(project.path()).args(["alarms", "--env", "e"]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "alarm {stack}-dlq-messages already exists and is not managed by fangops"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        alarms(&stack).await[&format!("{stack}-dlq-messages")].0,
        42.0
    );
    assert_eq!(alarms(&stack).await.len(), 1, "nothing else was written");
}

/// A step after the stack that fails (here the alarms, refusing a foreign alarm) fails
/// the deploy, but the changed stack is still synced, verified and reported: the
/// report says what went through and what did not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_that_fail_after_the_stack_fail_the_deploy_but_the_stack_is_still_verified() {
    let stack = unique("alarmd");
    let project = Project::new();
    project.env_file("e", local_env_yaml(&stack, &["Apple".to_owned()]));
    foreign_alarm(&format!("{stack}-dlq-messages")).await;
    let out = run(fangops(project.path()).args([
        "deploy",
        "--env",
        "e",
        "--artifacts",
        crate::support::fake_artifacts().to_str().unwrap(),
        "--verify",
        "--json",
    ]));
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.json();
    assert_eq!(report["outcome"], "created", "{report:#}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert!(
        errors[0].as_str().unwrap().starts_with(&format!(
            "installing the alarms after the deploy: alarm {stack}-dlq-messages already exists"
        )),
        "{errors:?}"
    );
    assert_eq!(
        report["sync"]["added"],
        serde_json::json!(["Apple"]),
        "{report:#}"
    );
    assert_eq!(report["verification"]["passed"], true, "{report:#}");
    assert!(report.get("rollback").is_none(), "{report:#}");
    let text = run(fangops(project.path()).args(["history", "--env", "e"]));
    assert!(
        text.stdout.contains("| created |")
            && text.stdout.contains("| passed | then failed, see below |")
            && text
                .stdout
                .contains("#1: installing the alarms after the deploy: alarm"),
        "the record of the changed stack carries its verification and what failed: {}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_follows_the_file() {
    let stack = unique("dash");
    let project = Project::new();
    let base = local_env_yaml(&stack, &["Apple".to_owned()]);
    project.env_file("e", &base);
    let out = run(fangops(project.path()).args(["alarms", "--env", "e", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["dashboard_changed"], true);
    let name = format!("{stack}-pipeline");
    let body = cloudwatch()
        .get_dashboard()
        .dashboard_name(&name)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(body.dashboard_body().unwrap()).unwrap();
    assert_eq!(body["widgets"].as_array().unwrap().len(), 6);

    project.env_file(
        "e",
        base.replace("companies:", "alarms:\n  dashboard: false\ncompanies:"),
    );
    let out = run(fangops(project.path()).args(["alarms", "--env", "e", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["dashboard_changed"], true);
    assert!(
        cloudwatch()
            .get_dashboard()
            .dashboard_name(&name)
            .send()
            .await
            .is_err(),
        "the dashboard was deleted"
    );
}

#[test]
fn bad_alarm_settings_change_nothing() {
    let stack = unique("alarmbad");
    let project = Project::new();
    project.env_file(
        "e",
        local_env_yaml(&stack, &["Apple".to_owned()]).replace(
            "companies:",
            "alarms:\n  email: nobody\n  errors: { threshold: -1 }\n  dlq_mesages: { threshold: 1 }\ncompanies:",
        ),
    );
    let out = run(fangops(project.path()).args(["alarms", "--env", "e"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("environments/e.yaml:")
            && out.stderr.contains("unknown field `dlq_mesages`")
            && out.stderr.contains("did you mean `dlq_messages`"),
        "{}",
        out.stderr
    );
    // With the typo fixed, the value errors come out, each at its line.
    project.env_file(
        "e",
        local_env_yaml(&stack, &["Apple".to_owned()]).replace(
            "companies:",
            "alarms:\n  email: nobody\n  errors: { threshold: -1 }\ncompanies:",
        ),
    );
    let out = run(fangops(project.path()).args(["alarms", "--env", "e"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("environments/e.yaml:7:10: `alarms.email`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("environments/e.yaml:8:24: `alarms.errors.threshold`: -1 is not a threshold"),
        "{}",
        out.stderr
    );
}
