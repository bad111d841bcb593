//! Deploys that prove themselves, on moto with the local runner playing Lambda: a
//! rollback with nothing verified to go back to, a deploy that verifies, a deploy whose
//! configuration breaks the pipeline and is rolled back, and the history of all three.

use crate::support::moto::moto;
use crate::support::{Project, fake_artifacts, fangops, local_env_yaml, run, unique};

async fn keys_under(bucket: &str, prefix: &str) -> Vec<String> {
    crate::support::s3()
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// `fangops ARGS --env v --json` in `p` with its own artifact bucket, at `commit`.
fn command(p: &Project, bucket: &str, args: &[&str], commit: &str) -> crate::support::Run {
    run(fangops(p.path())
        .args(args)
        .args(["--env", "v", "--json", "--artifact-bucket", bucket])
        .env("AWS_ENDPOINT_URL", &moto().endpoint)
        .env("GITHUB_SHA", commit)
        // Nothing answers there: a Wikipedia text source cannot fetch a page.
        .env("WIKIPEDIA_BASE_URL", "http://127.0.0.1:1"))
}

/// `fangops deploy --artifacts ZIPS EXTRA…`, as [`command`].
fn deploy(p: &Project, bucket: &str, extra: &[&str], commit: &str) -> crate::support::Run {
    let zips = fake_artifacts();
    let mut args = vec!["deploy", "--artifacts", zips.to_str().unwrap()];
    args.extend_from_slice(extra);
    command(p, bucket, &args, commit)
}

/// The env file that breaks the pipeline: a Wikipedia text source nothing answers for.
fn broken(good: &str) -> String {
    good.replace("text_source: fixtures", "text_source: wikipedia")
        + "lambda:\n  memory_mb: 512\nverify:\n  timeout_s: 10\n"
}

#[tokio::test]
async fn a_deploy_that_breaks_the_pipeline_fails_verification_and_rolls_back() {
    let p = Project::new();
    let stack = unique("fang-verify");
    let bucket = unique("fangops-artifacts-verify");
    let good = local_env_yaml(&stack, &["Apple".into(), "Netflix".into()]);
    let command = |args: &[&str], commit: &str| command(&p, &bucket, args, commit);
    let deploy = |extra: &[&str], commit: &str| deploy(&p, &bucket, extra, commit);

    // 1. A stack deployed without verification has nothing verified to go back to.
    p.env_file("v", good.clone());
    let out = deploy(&["--no-verify"], "1111111111111111111111111111111111111111");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.json().get("verification").is_none(), "{}", out.stdout);
    let out = command(&["rollback"], "");
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.json();
    assert_eq!(report["outcome"], "no_target", "{report:#}");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("no earlier deploy of"),
        "{report:#}"
    );

    // 2. A deploy that verifies: a canary through the pipeline, its result read back as
    // the schema says, no alarm.
    p.env_file("v", good.clone() + "lambda:\n  memory_mb: 512\n");
    let out = deploy(&["--verify"], "2222222222222222222222222222222222222222");
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    let v = &report["verification"];
    assert_eq!(v["passed"], true, "{v:#}");
    assert_eq!(
        v["companies"],
        serde_json::json!(["Apple"]),
        "the first company"
    );
    let checks: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["canary run", "result schema", "alarms"]);
    let canary = v["canary_run"].as_str().unwrap();
    assert!(canary.starts_with("canary-"), "{canary}");
    // The canary's result is under canary/, and no scheduled run exists.
    let results_bucket = report["resources"]["bucket"].as_str().unwrap().to_owned();
    let canary_keys = keys_under(&results_bucket, "canary/").await;
    assert!(
        canary_keys
            .iter()
            .any(|k| k.contains(canary) && k.ends_with(".json")),
        "{canary_keys:?}"
    );
    assert!(keys_under(&results_bucket, "results/").await.is_empty());
    let verified = crate::support::stack_parameters(&stack).await;

    // 3. A text source that cannot answer: the stack updates, the canary fails, and the
    // stack goes back to what step 2 verified.
    p.env_file("v", broken(&good));
    let out = deploy(&["--verify"], "3333333333333333333333333333333333333333");
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.json();
    assert_eq!(report["outcome"], "updated", "{report:#}");
    let v = &report["verification"];
    assert_eq!(v["passed"], false, "{v:#}");
    assert_eq!(v["checks"][0]["name"], "canary run");
    assert_eq!(v["checks"][0]["passed"], false);
    let rollback = &report["rollback"];
    assert_eq!(rollback["action"], "rolled_back", "{rollback:#}");
    assert_eq!(rollback["outcome"], "rolled_back", "{rollback:#}");
    assert_eq!(
        rollback["to"]["commit"],
        "2222222222222222222222222222222222222222"
    );
    assert_eq!(rollback["verification"]["passed"], true, "{rollback:#}");
    assert_eq!(
        crate::support::stack_parameters(&stack).await,
        verified,
        "parameters, code keys and fingerprint as step 2 left them"
    );
    // `fangops verify` on demand: the live stack (the rollback's) passes again.
    let out = command(&["verify"], "");
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["passed"], true, "{v:#}");
    assert_ne!(
        v["canary_run"], rollback["verification"]["canary_run"],
        "a new canary"
    );

    // `--to 1` names what the stack already runs: nothing to do, nothing recorded.
    let out = command(&["rollback", "--to", "1", "--no-verify"], "");
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    assert_eq!(report["outcome"], "already_running", "{report:#}");
    assert!(report.get("final_status").is_none(), "{report:#}");

    // 4. The history of all three, and what each record says.
    let out = command(&["history"], "");
    assert_eq!(out.code, 0, "{out:?}");
    let history = out.json();
    let deploys = history["deploys"].as_array().unwrap();
    let row = |i: usize| {
        (
            deploys[i]["outcome"].as_str().unwrap(),
            deploys[i]["commit"]
                .as_str()
                .unwrap_or_default()
                .get(..1)
                .unwrap_or_default()
                .to_owned(),
            deploys[i]["verification"]["passed"].as_bool(),
            deploys[i]["restores"].is_string(),
        )
    };
    assert_eq!(deploys.len(), 4, "{history:#}");
    assert_eq!(
        row(0),
        ("updated", "2".into(), Some(true), true),
        "the rollback"
    );
    assert_eq!(
        row(1),
        ("updated", "3".into(), Some(false), false),
        "the broken deploy"
    );
    assert_eq!(
        row(2),
        ("updated", "2".into(), Some(true), false),
        "the verified deploy"
    );
    assert_eq!(
        row(3),
        ("created", "1".into(), None, false),
        "the unverified create"
    );
    let text = run(fangops(p.path())
        .args(["history", "--env", "v", "--artifact-bucket", &bucket])
        .env("AWS_ENDPOINT_URL", &moto().endpoint));
    assert_eq!(text.code, 0, "{text:?}");
    assert!(
        text.stdout
            .contains("#2: verification failed: canary run: Apple"),
        "{}",
        text.stdout
    );

    // The failed verification took back the promotion of what it deployed; the verified
    // rollback, which runs the same zips, promotes them again.
    let marks = keys_under(&bucket, "promotions/").await;
    assert_eq!(marks.len(), 2, "{marks:?}");
}

/// A failed verification with nothing verified before it keeps the stack and says so;
/// `--no-rollback` keeps the failed state even with a target, and `fangops rollback`
/// then restores it on demand.
#[tokio::test]
async fn with_no_target_or_no_rollback_a_failed_verification_keeps_the_stack() {
    let p = Project::new();
    let stack = unique("fang-keep");
    let bucket = unique("fangops-artifacts-keep");
    let good = local_env_yaml(&stack, &["Apple".into()]);
    let deploy = |extra: &[&str], commit: &str| deploy(&p, &bucket, extra, commit);

    p.env_file("v", good.clone());
    assert_eq!(deploy(&["--no-verify"], "1111111").code, 0);
    // Broken, and nothing verified to go back to: the failed state stays.
    p.env_file("v", broken(&good));
    let out = deploy(&["--verify"], "2222222");
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.json();
    assert_eq!(report["verification"]["passed"], false, "{report:#}");
    assert_eq!(report["rollback"]["action"], "rolled_back", "{report:#}");
    assert_eq!(report["rollback"]["outcome"], "no_target", "{report:#}");
    let broken_params = crate::support::stack_parameters(&stack).await;
    assert_eq!(
        broken_params["TextSource"], "wikipedia",
        "{broken_params:?}"
    );

    // Fixed and verified: a target now. (Not step 1's file again: moto diffs a change
    // set's parameters against those the stack was created with, so going back to
    // them would look like no change.)
    p.env_file("v", good.clone() + "lambda:\n  memory_mb: 384\n");
    let out = deploy(&["--verify"], "3333333");
    assert_eq!(out.code, 0, "{out:?}");
    let verified = crate::support::stack_parameters(&stack).await;

    // Broken again with --no-rollback: kept, for debugging.
    p.env_file("v", broken(&good));
    let out = deploy(&["--verify", "--no-rollback"], "4444444");
    assert_eq!(out.code, 1, "{out:?}");
    let report = out.json();
    assert_eq!(report["rollback"]["action"], "kept", "{report:#}");
    assert_eq!(
        crate::support::stack_parameters(&stack).await,
        broken_params
    );

    // On demand, the stack goes back to what verified.
    let out = command(&p, &bucket, &["rollback"], "");
    assert_eq!(out.code, 0, "{out:?}");
    let report = out.json();
    assert_eq!(report["outcome"], "rolled_back", "{report:#}");
    assert_eq!(report["to"]["commit"], "3333333", "{report:#}");
    assert_eq!(crate::support::stack_parameters(&stack).await, verified);
}
