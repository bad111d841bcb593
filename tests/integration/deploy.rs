//! deploy, plan and teardown on moto: create, no-op, update, plan that changes
//! nothing, teardown; and the bad inputs that must change nothing. What moto cannot
//! show (rollbacks, AWS's empty change set, throttling) is tested on recorded
//! responses in `src/deploy/tests/replay.rs`.

use std::time::Duration;

use crate::support::moto::{moto, venv_python};
use crate::support::{
    Project, build_lock, deploy, fake_artifacts, fangops, local_env_yaml, repo_root, run,
    source_copy, unique,
};

use crate::support::{cloudformation as cfn, dynamodb as ddb};

async fn s3_json(bucket: &str, key: &str) -> serde_json::Value {
    let out = crate::support::s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
    serde_json::from_slice(&out.body.collect().await.unwrap().into_bytes()).unwrap()
}

async fn stack_status(stack: &str) -> Option<String> {
    match cfn().describe_stacks().stack_name(stack).send().await {
        Ok(out) => out.stacks()[0]
            .stack_status()
            .map(|s| s.as_str().to_owned()),
        Err(_) => None,
    }
}

async fn stack_parameter(stack: &str, key: &str) -> Option<String> {
    let out = cfn()
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .ok()?;
    out.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some(key))
        .and_then(|p| p.parameter_value().map(str::to_owned))
}

async fn change_set_count(stack: &str) -> usize {
    cfn()
        .list_change_sets()
        .stack_name(stack)
        .send()
        .await
        // moto lists every stack's change sets, whatever the filter.
        .map(|o| {
            o.summaries()
                .iter()
                .filter(|s| s.stack_name() == Some(stack))
                .count()
        })
        .unwrap_or(0)
}

async fn table_companies(table: &str) -> Vec<String> {
    let mut names = fang_producer::scan_companies(&ddb(), table).await.unwrap();
    names.sort();
    names
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn with_moto(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("AWS_ENDPOINT_URL", &moto().endpoint)
}

#[tokio::test]
async fn create_then_no_op_then_update_then_teardown() {
    let p = Project::new();
    let stack = unique("fang-d");
    p.env_file("t", local_env_yaml(&stack, &names(&["Apple", "Netflix"])));

    // Create: every resource is an Add, the companies are synced.
    let out = deploy(p.path(), "t");
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(with_moto(
        fangops(p.path())
            .args(["deploy", "--env", "t", "--json", "--artifacts"])
            .arg(fake_artifacts()),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    // The second deploy found nothing to do, from the fingerprint alone.
    assert_eq!(report["outcome"], "unchanged", "{report:#}");
    assert_eq!(report["unchanged_because"], "fingerprint");
    assert_eq!(
        change_set_count(&stack).await,
        1,
        "no change set for a no-op"
    );
    assert_eq!(report["sync"]["unchanged"], 2);
    // The table was read once: the mass-delete pre-check's read went on to the sync.
    assert_eq!(report["sync"]["stats"]["scan_pages"], 1, "{report:#}");
    // The first deploy installed the alarms; this one found them as wanted.
    assert_eq!(report["alarms"]["unchanged"], 9, "{report:#}");
    assert_eq!(report["alarms"]["changes"], serde_json::json!([]));
    assert_eq!(
        stack_status(&stack).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(
        table_companies(&format!("{stack}-companies")).await,
        ["Apple", "Netflix"]
    );
    for a in report["artifacts"].as_array().unwrap() {
        assert_eq!(a["uploaded"], false);
        assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
    }
    // It wrote only what is new: its record and `latest.json`. The template it sent is
    // kept under its hash already, and the zips' marks still name the first deploy.
    let bucket = "fangops-artifacts-123456789012-us-east-1";
    let records = crate::support::s3()
        .list_objects_v2()
        .bucket(bucket)
        .prefix(format!("deployments/{stack}/"))
        .send()
        .await
        .unwrap();
    let mut history: Vec<String> = records
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .filter(|k| !k.ends_with("/latest.json"))
        .collect();
    history.sort();
    assert_eq!(history.len(), 2, "{history:?}");
    let first: serde_json::Value = s3_json(bucket, &history[0]).await;
    for a in report["artifacts"].as_array().unwrap() {
        let sha = a["sha256"].as_str().unwrap();
        let mark = s3_json(bucket, &format!("promotions/{sha}/{stack}.json")).await;
        assert_eq!(mark["deployed_at"], first["deployed_at"], "{mark:#}");
    }
    let template = crate::support::s3()
        .head_object()
        .bucket(bucket)
        .key(format!(
            "templates/{}.yaml",
            first["template_sha256"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let first_at = time::OffsetDateTime::parse(
        first["deployed_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        template.last_modified().unwrap().as_nanos() <= first_at.unix_timestamp_nanos(),
        "the template was written again"
    );

    // Update: a new memory size and a company list change.
    let mut yaml = local_env_yaml(&stack, &names(&["Apple", "Spotify"]));
    yaml += "lambda:\n  memory_mb: 512\n";
    p.env_file("t", yaml);
    let out = run(with_moto(
        fangops(p.path())
            .args(["deploy", "--env", "t", "--json", "--artifacts"])
            .arg(fake_artifacts()),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    assert_eq!(report["outcome"], "updated", "{report:#}");
    let params = report["parameter_changes"].as_array().unwrap();
    assert_eq!(params.len(), 1, "{params:?}");
    assert_eq!(params[0]["name"], "MemoryMb");
    assert_eq!(params[0]["old"], "256");
    assert_eq!(params[0]["new"], "512");
    assert_eq!(
        stack_parameter(&stack, "MemoryMb").await.as_deref(),
        Some("512")
    );
    assert_eq!(report["sync"]["added"], serde_json::json!(["Spotify"]));
    assert_eq!(report["sync"]["removed"], serde_json::json!(["Netflix"]));
    // A changed stack may have replaced the table, so it was read again after it.
    assert_eq!(report["sync"]["stats"]["scan_pages"], 2, "{report:#}");
    // A deploy that changed the stack with the same zips names itself in their marks.
    let latest = s3_json(bucket, &format!("deployments/{stack}/latest.json")).await;
    assert_eq!(latest["outcome"], "updated", "{latest:#}");
    for a in report["artifacts"].as_array().unwrap() {
        let sha = a["sha256"].as_str().unwrap();
        let mark = s3_json(bucket, &format!("promotions/{sha}/{stack}.json")).await;
        assert_eq!(mark["deployed_at"], latest["deployed_at"], "{mark:#}");
    }
    assert_eq!(
        table_companies(&format!("{stack}-companies")).await,
        ["Apple", "Spotify"]
    );
    // Events were streamed as they happened, one line each.
    assert!(out.stderr.contains("UPDATE_COMPLETE"), "{}", out.stderr);

    // Teardown refuses without --yes, and changes nothing.
    let out = run(with_moto(
        fangops(p.path()).args(["teardown", "--env", "t"]),
    ));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("pass --yes"), "{}", out.stderr);
    assert!(stack_status(&stack).await.is_some());

    let out = run(with_moto(
        fangops(p.path()).args(["teardown", "--env", "t", "--yes", "--json"]),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["stack_deleted"], true);
    assert_eq!(
        out.json()["alarms_deleted"],
        9,
        "the alarms live outside the stack"
    );
    assert_eq!(stack_status(&stack).await, None);
    let bucket = format!("{stack}-123456789012-results");
    assert!(
        crate::support::s3()
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .is_err(),
        "the results bucket is gone"
    );
    // The artifact bucket is shared and stays.
    assert!(
        crate::support::s3()
            .head_bucket()
            .bucket("fangops-artifacts-123456789012-us-east-1")
            .send()
            .await
            .is_ok()
    );

    // A missing stack is a clean no-op.
    let out = run(with_moto(
        fangops(p.path()).args(["teardown", "--env", "t", "--yes"]),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("nothing to tear down"), "{out:?}");
}

#[tokio::test]
async fn plan_shows_changes_and_leaves_nothing_behind() {
    let p = Project::new();
    let stack = unique("fang-p");
    p.env_file("t", local_env_yaml(&stack, &names(&["Apple"])));
    let plan = |extra: &[&str]| {
        run(with_moto(
            fangops(p.path())
                .args(["plan", "--env", "t", "--artifacts"])
                .arg(fake_artifacts())
                .args(extra),
        ))
    };

    // A new stack: all Adds, and afterwards no stack exists.
    let out = plan(&["--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    assert_eq!(report["new_stack"], true);
    let changes = report["changes"].as_array().unwrap();
    assert!(changes.len() >= 12, "{changes:?}");
    assert!(changes.iter().all(|c| c["action"] == "Add"));
    assert!(
        changes
            .iter()
            .any(|c| c["logical_id"] == "SentimentFunction")
    );
    assert_eq!(stack_status(&stack).await, None, "plan created no stack");
    assert_eq!(
        stack_status(&format!("{stack}-plan")).await,
        None,
        "the scratch stack that held the plan's change set is gone"
    );

    assert_eq!(deploy(p.path(), "t").code, 0);
    let out = plan(&["--detailed-exitcode"]);
    assert_eq!(out.code, 0, "no changes: {out:?}");
    assert!(out.stdout.contains("No changes"), "{}", out.stdout);

    let mut yaml = local_env_yaml(&stack, &names(&["Apple"]));
    yaml += "lambda:\n  timeout_s: 90\n";
    p.env_file("t", yaml);
    let before = change_set_count(&stack).await;
    let out = plan(&["--detailed-exitcode"]);
    assert_eq!(out.code, 3, "changes: {out:?}");
    // A terminal reads the plan as plain text: an aligned table, no markdown.
    assert!(
        out.stdout
            .lines()
            .any(|l| l.split_whitespace().eq(["TimeoutS", "60", "90"])),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("| TimeoutS |"), "{}", out.stdout);
    // Never executed, and its change set deleted.
    assert_eq!(
        stack_parameter(&stack, "TimeoutS").await.as_deref(),
        Some("60")
    );
    assert_eq!(change_set_count(&stack).await, before);

    // A company edit alone is a change too, shown against the live table.
    let out = run(fangops(p.path()).args(["companies", "add", "--env", "t", "Spotify"]));
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(fangops(p.path()).args(["companies", "remove", "--env", "t", "Apple"]));
    assert_eq!(out.code, 0, "{out:?}");
    let out = plan(&["--detailed-exitcode"]);
    assert_eq!(out.code, 3, "changes: {out:?}");
    assert!(
        out.stdout
            .contains("1 to add, 1 to remove, 0 unchanged (against the live table)."),
        "{}",
        out.stdout
    );
    let row = |cells: [&str; 2]| out.stdout.lines().any(|l| l.split_whitespace().eq(cells));
    assert!(
        row(["+", "Spotify"]) && row(["−", "Apple"]),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\nBlocked: the sync would delete"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn a_deploy_killed_midway_converges_when_run_again() {
    let p = Project::new();
    let stack = unique("fang-k");
    p.env_file("t", local_env_yaml(&stack, &names(&["Apple", "Netflix"])));
    // Kill it at increasing moments: before, during and after the change set.
    for delay_ms in [150, 300, 600] {
        let mut child = with_moto(
            fangops(p.path())
                .args(["deploy", "--env", "t", "--artifacts"])
                .arg(fake_artifacts()),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    // moto executes a change set inside the ExecuteChangeSet request, leaving the stack
    // in REVIEW_IN_PROGRESS until it is done: a killed client's execution goes on in the
    // server, and the next deploy would find a stack "holding only change sets" whose
    // resources are being made. AWS sets CREATE_IN_PROGRESS at once, which a deploy
    // waits out (replay-tested). Let moto finish what the killed deploys started
    // (CI saw "Table already exists" on a loaded machine).
    std::thread::sleep(Duration::from_secs(2));
    let out = deploy(p.path(), "t");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        stack_status(&stack).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(
        table_companies(&format!("{stack}-companies")).await,
        ["Apple", "Netflix"]
    );
    let out = deploy(p.path(), "t");
    assert!(out.stdout.contains("unchanged"), "{out:?}");
}

/// Bad input: exit 2, a message that names the file, and no stack.
async fn refused(p: &Project, stack: &str, args: &[&str], expected: &[&str]) {
    let out = run(with_moto(
        fangops(p.path())
            .args(["deploy", "--env", "t", "--artifacts"])
            .arg(fake_artifacts())
            .args(args),
    ));
    assert_eq!(out.code, 2, "{out:?}");
    for e in expected {
        assert!(out.stderr.contains(e), "expected {e:?} in:\n{}", out.stderr);
    }
    assert_eq!(stack_status(stack).await, None, "nothing was created");
}

#[tokio::test]
async fn a_template_with_a_syntax_error_changes_nothing() {
    let p = Project::new();
    let stack = unique("fang-b");
    p.env_file("t", local_env_yaml(&stack, &names(&["Apple"])));
    let template = std::fs::read_to_string(p.template_path()).unwrap();
    std::fs::write(
        p.template_path(),
        template.replacen("Resources:\n", "Resources:\n  Broken: [unclosed\n", 1),
    )
    .unwrap();
    refused(&p, &stack, &[], &["infra/template.yaml:"]).await;
}

#[tokio::test]
async fn a_template_parameter_fangops_cannot_fill_changes_nothing() {
    let p = Project::new();
    let stack = unique("fang-b");
    p.env_file("t", local_env_yaml(&stack, &names(&["Apple"])));
    let template = std::fs::read_to_string(p.template_path()).unwrap();
    std::fs::write(
        p.template_path(),
        template.replacen(
            "Parameters:\n",
            "Parameters:\n  KmsKeyArn:\n    Type: String\n",
            1,
        ),
    )
    .unwrap();
    refused(
        &p,
        &stack,
        &[],
        &[
            "infra/template.yaml:",
            "`Parameters.KmsKeyArn`",
            "no default",
        ],
    )
    .await;
}

/// Zips built for x86_64, deployed to an env that runs on arm64 (the default): refused
/// with exit 2 before anything is written; neither the stack nor the artifact bucket.
#[tokio::test]
async fn zips_for_another_architecture_change_nothing() {
    let p = Project::new();
    let stack = unique("fang-arch");
    let bucket = unique("fangops-artifacts-arch");
    p.env_file("t", local_env_yaml(&stack, &names(&["Apple"])));
    let out = run(with_moto(
        fangops(p.path())
            .args([
                "deploy",
                "--env",
                "t",
                "--artifact-bucket",
                &bucket,
                "--artifacts",
            ])
            .arg(crate::support::fake_artifacts_x86_64()),
    ));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("producer.zip")
            && out
                .stderr
                .contains("built for x86_64, but the environment runs on arm64"),
        "{}",
        out.stderr
    );
    assert_eq!(stack_status(&stack).await, None, "no stack");
    let head = crate::support::s3()
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await;
    assert!(head.is_err(), "no artifact bucket either");
}

#[tokio::test]
async fn an_invalid_stack_name_changes_nothing() {
    let p = Project::new();
    p.env_file("t", local_env_yaml("Fang_Bad", &names(&["Apple"])));
    refused(&p, "Fang_Bad", &[], &["environments/t.yaml:1:", "`stack`"]).await;
}

#[tokio::test]
async fn a_protected_env_outside_main_changes_nothing() {
    let p = Project::new();
    let stack = unique("fang-prot");
    let mut yaml = local_env_yaml(&stack, &names(&["Apple"]));
    yaml += "protected: true\n";
    p.env_file("t", yaml);
    refused(
        &p,
        &stack,
        &[],
        &["is protected", "--allow-protected", &stack],
    )
    .await;
    // The override must name the right stack.
    refused(
        &p,
        &stack,
        &["--allow-protected", "fang-other"],
        &["names stack fang-other"],
    )
    .await;
    // On main in CI, it takes only artifacts that ran elsewhere first. An artifact
    // bucket of its own, so that no other test has promoted the stand-in zips.
    let bucket = unique("fangops-artifacts-prom");
    let deploy_main = |env: &str, extra: &[&str]| {
        run(with_moto(
            fangops(p.path())
                .args([
                    "deploy",
                    "--json",
                    "--env",
                    env,
                    "--artifact-bucket",
                    &bucket,
                ])
                .arg("--artifacts")
                .arg(fake_artifacts())
                .args(extra)
                .env("GITHUB_REF", "refs/heads/main")
                .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ))
    };
    let out = deploy_main("t", &[]);
    assert_eq!(out.code, 2, "{out:?}");
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains("ran nowhere yet") && text.contains("--allow-unpromoted"),
        "{text}"
    );
    assert_eq!(stack_status(&stack).await, None, "nothing was created");

    // A non-protected env deploys them: promoted. The protected env's plan says so.
    let dev_stack = unique("fang-prom-dev");
    p.env_file("d", local_env_yaml(&dev_stack, &names(&["Apple"])));
    let out = deploy_main("d", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(with_moto(
        fangops(p.path())
            .args([
                "plan",
                "--json",
                "--env",
                "t",
                "--artifact-bucket",
                &bucket,
                "--artifacts",
            ])
            .arg(fake_artifacts()),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let plan = out.json();
    for a in plan["promotion"]["artifacts"].as_array().unwrap() {
        assert_eq!(a["ran_in"][0]["stack"], dev_stack.as_str(), "{a}");
        assert_eq!(a["ran_in"][0]["running"], true, "{a}");
        assert_eq!(
            a["ran_in"][0]["commit"],
            "0123456789abcdef0123456789abcdef01234567"
        );
    }
    let out = deploy_main("t", &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["promotion"]["overridden"], false);
    let out = run(with_moto(
        fangops(p.path()).args(["teardown", "--env", "d", "--yes"]),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    // Teardown of a protected env needs its stack's name.
    let out = run(with_moto(
        fangops(p.path()).args(["teardown", "--env", "t", "--yes"]),
    ));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(&format!("--confirm {stack}")),
        "{}",
        out.stderr
    );
    let out = run(with_moto(fangops(p.path()).args([
        "teardown",
        "--env",
        "t",
        "--yes",
        "--confirm",
        &stack,
    ])));
    assert_eq!(out.code, 0, "{out:?}");
}

/// `--allow-unpromoted`: a protected env deploys artifacts that ran nowhere, and its
/// report (and the record it leaves) says so.
#[tokio::test]
async fn an_unpromoted_deploy_proceeds_only_when_allowed_and_says_so() {
    let p = Project::new();
    let stack = unique("fang-unprom");
    p.env_file(
        "t",
        local_env_yaml(&stack, &names(&["Apple"])) + "protected: true\n",
    );
    let bucket = unique("fangops-artifacts-unprom");
    let out = run(with_moto(
        fangops(p.path())
            .args(["deploy", "--env", "t", "--allow-protected", &stack])
            .args([
                "--allow-unpromoted",
                "--artifact-bucket",
                &bucket,
                "--artifacts",
            ])
            .arg(fake_artifacts()),
    ));
    assert_eq!(out.code, 0, "{out:?}");
    // The terminal's report: plain text, the promotion table's row and the warning.
    assert!(
        out.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("producer") && l.ends_with("nowhere yet")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "Warning: deployed with --allow-unpromoted: an artifact above ran in no other environment first."
        ),
        "{}",
        out.stdout
    );
    let s3 = crate::support::s3();
    let latest = s3
        .get_object()
        .bucket(&bucket)
        .key(format!("deployments/{stack}/latest.json"))
        .send()
        .await
        .unwrap();
    let record: serde_json::Value =
        serde_json::from_slice(&latest.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(record["unpromoted"], true, "{record:#}");
    assert_eq!(record["protected"], true);
    // A protected env's deploy promotes nothing.
    let marks = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("promotions/")
        .send()
        .await
        .unwrap();
    assert_eq!(marks.key_count(), Some(0));
    let out = run(with_moto(fangops(p.path()).args([
        "teardown",
        "--env",
        "t",
        "--yes",
        "--confirm",
        &stack,
    ])));
    assert_eq!(out.code, 0, "{out:?}");
}

#[tokio::test]
async fn credentials_for_another_account_change_nothing() {
    let p = Project::new();
    let stack = unique("fang-acct");
    let mut yaml = local_env_yaml(&stack, &names(&["Apple"]));
    yaml += "account: \"111111111111\"\n";
    p.env_file("t", yaml);
    let out = run(with_moto(
        fangops(p.path())
            .args(["deploy", "--env", "t", "--artifacts"])
            .arg(fake_artifacts()),
    ));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "credentials are for account 123456789012, environments/t.yaml expects 111111111111"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(stack_status(&stack).await, None);
}

#[test]
fn the_template_passes_cfn_lint() {
    let cfn_lint = venv_python().with_file_name("cfn-lint");
    let out = std::process::Command::new(&cfn_lint)
        .arg(repo_root().join("infra/template.yaml"))
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", cfn_lint.display()));
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The template's names are the ones fangops derives (src/resources.rs).
#[test]
fn template_names_match_the_derived_names() {
    let template = std::fs::read_to_string(repo_root().join("infra/template.yaml")).unwrap();
    for suffix in [
        "-companies\"",
        "-companies-dlq\"",
        "-${AWS::AccountId}-results\"",
        "-producer\"",
        "-sentiment\"",
    ] {
        assert!(
            template.contains(&format!("!Sub \"${{AWS::StackName}}{suffix}")),
            "{suffix}"
        );
    }
}

/// The settings that bound the pipeline's load and retries, read from the template:
/// what moto ignores (it never runs an event source mapping or retries an event).
#[test]
fn template_bounds_load_and_retries() {
    let text = std::fs::read_to_string(repo_root().join("infra/template.yaml")).unwrap();
    let t: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let props = |resource: &str| t["Resources"][resource]["Properties"].clone();
    let mapping = props("SentimentQueueMapping");
    assert_eq!(mapping["BatchSize"], fang_shared::SENTIMENT_BATCH_SIZE);
    assert_eq!(
        mapping["MaximumBatchingWindowInSeconds"],
        fang_shared::BATCHING_WINDOW_S
    );
    // A !Ref reads as the referenced name.
    assert_eq!(
        mapping["ScalingConfig"]["MaximumConcurrency"],
        "MaxConcurrency"
    );
    assert_eq!(
        mapping["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    assert_eq!(t["Parameters"]["MaxConcurrency"]["MinValue"], 2);
    assert_eq!(
        props("CompaniesQueue")["RedrivePolicy"]["maxReceiveCount"],
        fang_shared::MAX_RECEIVES
    );
    let invoke = props("ProducerEventInvokeConfig");
    assert_eq!(invoke["FunctionName"], "ProducerFunction");
    assert_eq!(invoke["MaximumRetryAttempts"], 2);
    assert!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"]
            .to_string()
            .contains("ProducerFailureQueue"),
        "{invoke}"
    );
}

/// The plan checks the pages of the companies a change adds, as `companies check`
/// does; a plan whose Wikipedia cannot be reached says "not checked" instead of
/// waiting or failing.
#[tokio::test]
async fn plan_checks_the_pages_of_added_companies() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let wiki = MockServer::start().await;
    Mock::given(path("/page/summary/Amazon"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "disambiguation", "title": "Amazon", "extract": "Amazon may refer to:",
            "description": "Topics referred to by the same term"
        })))
        .mount(&wiki)
        .await;
    Mock::given(path("/page/summary/Netflix"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "standard", "title": "Netflix", "extract": "Netflix is a streaming service.",
            "description": "American streaming service"
        })))
        .mount(&wiki)
        .await;
    let p = Project::new();
    let stack = unique("fang-pw");
    p.env_file(
        "w",
        local_env_yaml(&stack, &names(&["Amazon", "Netflix"]))
            .replace("text_source: fixtures", "text_source: wikipedia"),
    );
    let plan = |base: &str| {
        run(with_moto(
            fangops(p.path())
                .args(["plan", "--env", "w", "--json", "--artifacts"])
                .arg(fake_artifacts())
                .env("WIKIPEDIA_BASE_URL", base),
        ))
    };
    let out = plan(&wiki.uri());
    assert_eq!(out.code, 0, "{out:?}");
    let pages = out.json()["pages"].clone();
    assert_eq!(pages[0]["company"], "Amazon");
    assert_eq!(pages[0]["verdict"], "disambiguation");
    assert_eq!(pages[1]["verdict"], "ok");
    assert_eq!(pages[1]["description"], "American streaming service");

    // Nothing listens there: not checked, and the plan goes on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let out = plan(&closed);
    assert_eq!(out.code, 0, "{out:?}");
    let pages = out.json()["pages"].clone();
    assert_eq!(pages[0]["verdict"], "not_checked", "{pages}");
}

/// A company-only change, as a pull request makes it: the second deploy finds both
/// Lambdas' source fingerprints in the bucket's index and runs no compiler, with an
/// empty target dir and no cargo anywhere.
#[tokio::test]
// The build lock serializes cargo runs across test threads; this test's own runtime
// has one thread, and nothing on it takes the lock.
#[allow(clippy::await_holding_lock)]
async fn a_deploy_of_unchanged_lambda_sources_runs_no_compiler() {
    let _lock = build_lock();
    let copy = source_copy();
    let stack = unique("fang-reuse");
    let bucket = unique("fangops-artifacts-reuse");
    let host = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    };
    let env_file = |companies: &[&str]| {
        let yaml = local_env_yaml(&stack, &names(companies));
        std::fs::write(
            copy.path().join("environments/t.yaml"),
            format!("{yaml}lambda:\n  arch: {host}\n"),
        )
        .unwrap();
    };
    let deploy = |cmd: &mut std::process::Command| {
        run(with_moto(cmd.args([
            "deploy",
            "--env",
            "t",
            "--json",
            "--profile",
            "dev",
            "--artifact-bucket",
            &bucket,
        ])))
    };

    env_file(&["Apple"]);
    let first = deploy(&mut fangops(copy.path()));
    assert_eq!(first.code, 0, "{first:?}");
    let first = first.json();
    for a in first["artifacts"].as_array().unwrap() {
        assert_eq!(a["origin"], "built", "{a}");
        assert_eq!(a["uploaded"], true, "{a}");
        assert_eq!(a["fingerprint"].as_str().unwrap().len(), 64, "{a}");
    }

    env_file(&["Apple", "Spotify"]);
    let empty_target = tempfile::tempdir().unwrap();
    let second = deploy(
        fangops(copy.path())
            .env("CARGO_TARGET_DIR", empty_target.path())
            .env("CARGO", "/nonexistent/cargo")
            .env("PATH", "/nonexistent"),
    );
    assert_eq!(second.code, 0, "{second:?}");
    let second = second.json();
    for (a, b) in first["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(second["artifacts"].as_array().unwrap())
    {
        assert_eq!(b["origin"], "reused", "{b}");
        assert_eq!(b["uploaded"], false, "{b}");
        assert_eq!(
            (&a["sha256"], &a["fingerprint"]),
            (&b["sha256"], &b["fingerprint"])
        );
    }
    assert_eq!(second["sync"]["added"], serde_json::json!(["Spotify"]));
    assert!(
        std::fs::read_dir(empty_target.path())
            .unwrap()
            .next()
            .is_none(),
        "nothing was compiled"
    );

    // Other bytes planted under the producer's name: S3 cannot vouch for them (no
    // SHA-256 checksum of that digest), so the producer is built and uploaded again,
    // replacing them; the sentiment zip is still reused.
    let producer_key = second["artifacts"][0]["key"].as_str().unwrap().to_owned();
    let s3 = crate::support::s3();
    s3.put_object()
        .bucket(&bucket)
        .key(&producer_key)
        .body(b"PK not the producer".to_vec().into())
        .send()
        .await
        .unwrap();
    let third = deploy(&mut fangops(copy.path()));
    assert_eq!(third.code, 0, "{third:?}");
    let third = third.json();
    assert_eq!(third["artifacts"][0]["origin"], "built", "{third:#}");
    assert_eq!(third["artifacts"][0]["uploaded"], true, "{third:#}");
    assert_eq!(
        third["artifacts"][0]["sha256"],
        first["artifacts"][0]["sha256"]
    );
    assert_eq!(third["artifacts"][1]["origin"], "reused", "{third:#}");
    let stored = s3
        .get_object()
        .bucket(&bucket)
        .key(&producer_key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(
        fangops::support::sha256_hex(&stored),
        first["artifacts"][0]["sha256"].as_str().unwrap()
    );
}

/// Every deploy leaves a record, and `fangops history` lists them newest first, with
/// what rollback needs to redeploy one: the template (kept by its sha256), every
/// parameter, and the artifacts.
#[tokio::test]
async fn history_lists_every_deploy_newest_first() {
    let p = Project::new();
    let stack = unique("fang-hist");
    let bucket = unique("fangops-artifacts-hist");
    let deploy_with = |companies: &[&str], extra: &str| {
        p.env_file("t", local_env_yaml(&stack, &names(companies)) + extra);
        let out = run(with_moto(
            fangops(p.path())
                .args([
                    "deploy",
                    "--env",
                    "t",
                    "--artifact-bucket",
                    &bucket,
                    "--artifacts",
                ])
                .arg(fake_artifacts())
                .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ));
        assert_eq!(out.code, 0, "{out:?}");
    };
    deploy_with(&["Apple"], "");
    deploy_with(&["Apple"], "");
    deploy_with(&["Apple", "Netflix"], "lambda:\n  memory_mb: 512\n");

    let out = run(with_moto(fangops(p.path()).args([
        "history",
        "--env",
        "t",
        "--json",
        "--artifact-bucket",
        &bucket,
    ])));
    assert_eq!(out.code, 0, "{out:?}");
    let history = out.json();
    let deploys = history["deploys"].as_array().unwrap();
    let outcomes: Vec<&str> = deploys
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["updated", "unchanged", "created"], "{history:#}");
    assert_eq!(deploys[0]["companies"], 2);
    assert_eq!(deploys[0]["parameters"]["MemoryMb"], "512");
    assert_eq!(deploys[2]["parameters"]["MemoryMb"], "256");
    assert_eq!(
        deploys[0]["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert!(
        deploys[0]["started_at"].as_str().unwrap() <= deploys[0]["deployed_at"].as_str().unwrap()
    );
    let template = crate::support::s3()
        .get_object()
        .bucket(&bucket)
        .key(format!(
            "templates/{}.yaml",
            deploys[0]["template_sha256"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(
        template,
        std::fs::read(p.template_path()).unwrap(),
        "the record's template is kept"
    );
    // --limit keeps the newest and says how many are left out.
    let out = run(with_moto(fangops(p.path()).args([
        "history",
        "--env",
        "t",
        "--limit",
        "1",
        "--artifact-bucket",
        &bucket,
    ])));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("| updated |"), "{}", out.stdout);
    assert!(!out.stdout.contains("| created |"), "{}", out.stdout);
    assert!(out.stdout.contains("2 older not shown"), "{}", out.stdout);
}
