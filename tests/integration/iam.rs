//! The roles in `infra/iam/` against what fangops calls. Every AWS operation of the
//! `deploy` and `plan` commands below is recorded (`FANGOPS_RECORD_AWS_CALLS`, an SDK
//! interceptor) across the paths they take: a create, a no-op, an update that deletes
//! companies, an alarm and the dashboard, a pull request's preview deployed, listed
//! and torn down, the plan of a new stack and of an existing one, and a protected
//! deploy of promoted artifacts. Each recorded operation must be
//! granted by the role meant for that command, and each granted action must be one
//! fangops calls, here or on a path named in `ELSEWHERE`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{Project, fake_artifacts, fangops, local_env_yaml, repo_root, run, unique};

/// Granted actions the scenario does not reach on moto, each with where it is called,
/// and the permissions AWS checks beside an operation (not calls of their own).
const ELSEWHERE: &[(&str, &str, &str)] = &[
    (
        "deploy",
        "cloudformation:DeleteStack",
        "a stack left in ROLLBACK_COMPLETE, or holding only change sets, is deleted before it is created again (deploy::stack::settle, replay-tested)",
    ),
    (
        "deploy",
        "s3:PutBucketPolicy",
        "a new artifact bucket's TLS-only policy, skipped on moto (plain http)",
    ),
    (
        "deploy",
        "cloudformation:DeleteChangeSet",
        "an empty change set, or one an interrupted deploy left (replay-tested)",
    ),
    (
        "deploy",
        "iam:PassRole",
        "not an API call: CreateChangeSet with RoleARN needs it",
    ),
    (
        "deploy",
        "cloudwatch:TagResource",
        "not an API call: PutMetricAlarm with Tags needs it",
    ),
    (
        "deploy",
        "lambda:InvokeFunction",
        "a verification's canary in AWS invokes the producer; on moto the local runner plays Lambda (run::aws, replay-tested)",
    ),
    (
        "deploy",
        "cloudwatch:DescribeAlarmHistory",
        "a verification in AWS reads each alarm's state updates; moto keeps no history (verify::watch_alarms, replay-tested)",
    ),
    (
        "deploy",
        "logs:DeleteLogGroup",
        "a preview's function log groups, which Lambda makes when the functions run in AWS (moto runs none): teardown::delete_log_groups",
    ),
    (
        "deploy",
        "s3:DeleteObjectVersion",
        "not an API call: DeleteObjects naming versions needs it (tearing down a preview)",
    ),
    (
        "deploy",
        "s3:DeleteObject",
        "a failed verification takes back its artifacts' promotion marks (promotion::record)",
    ),
    (
        "deploy",
        "cloudformation:TagResource",
        "not an API call: CreateChangeSet and ExecuteChangeSet of a change set with stack tags need it (cloudformation:CreateAction)",
    ),
    (
        "plan",
        "iam:PassRole",
        "not an API call: CreateChangeSet with RoleARN needs it",
    ),
    (
        "plan",
        "cloudformation:TagResource",
        "not an API call: CreateChangeSet with stack tags needs it (cloudformation:CreateAction)",
    ),
];

fn actions(policy: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in policy["Statement"].as_array().unwrap() {
        assert_eq!(s["Effect"], "Allow");
        match &s["Action"] {
            serde_json::Value::String(a) => {
                out.insert(a.clone());
            }
            serde_json::Value::Array(list) => {
                out.extend(list.iter().map(|a| a.as_str().unwrap().to_owned()));
            }
            other => panic!("unexpected Action {other}"),
        }
    }
    out
}

fn recorded(file: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        // The local runner's calls stand for the functions' own (their roles in AWS).
        .filter(|l| !l.starts_with("lambda "))
        .filter_map(|l| {
            let (service, op) = l.split_once(':').unwrap();
            fangops::support::iam_action(service, op)
        })
        .collect()
}

fn iam_json(p: &Project, env: &str, bucket: &str) -> serde_json::Value {
    let out = run(fangops(p.path()).args([
        "iam",
        "--env",
        env,
        "--json",
        "--account",
        "123456789012",
        "--repo",
        "acme/pipeline",
        "--artifact-bucket",
        bucket,
    ]));
    assert_eq!(out.code, 0, "{out:?}");
    out.json()
}

fn policy_of(report: &serde_json::Value, purpose: &str) -> serde_json::Value {
    report["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no {purpose} role"))["policy"]
        .clone()
}

#[tokio::test]
async fn the_roles_grant_what_fangops_calls_and_nothing_more() {
    let p = Project::new();
    let iam_dir = p.path().join("infra/iam");
    std::fs::create_dir_all(&iam_dir).unwrap();
    for f in std::fs::read_dir(repo_root().join("infra/iam")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, iam_dir.join(f.file_name().unwrap())).unwrap();
    }
    let records = tempfile::tempdir().unwrap();
    let (deploy_log, plan_log) = (
        records.path().join("deploy.log"),
        records.path().join("plan.log"),
    );
    let bucket = unique("fangops-artifacts-iam");
    let (dev, prod) = (unique("fang-iam-d"), unique("fang-iam-p"));
    let with_role = |stack: &str, companies: &[&str], extra: &str| {
        let names: Vec<String> = companies.iter().map(|c| (*c).to_owned()).collect();
        format!(
            "{}cloudformation_role: {stack}-cloudformation\nalarms:\n  email: ops@example.com\n{extra}",
            local_env_yaml(stack, &names)
        )
    };
    let command = |cmd: &str, env: &str, log: &Path| {
        let out = run(fangops(p.path())
            .args([
                cmd,
                "--env",
                env,
                "--artifact-bucket",
                &bucket,
                "--artifacts",
            ])
            .arg(fake_artifacts())
            .env("AWS_ENDPOINT_URL", &crate::support::moto::moto().endpoint)
            .env("GITHUB_REF", "refs/heads/main")
            .env("FANGOPS_RECORD_AWS_CALLS", log));
        assert_eq!(out.code, 0, "{cmd} {env}: {out:?}");
    };

    // dev: create, no-op, then an update that deletes a company, an alarm and the
    // dashboard.
    p.env_file("d", with_role(&dev, &["Apple", "Netflix"], ""));
    command("deploy", "d", &deploy_log);
    command("deploy", "d", &deploy_log);
    // Apple gets a Wikipedia title: a conditional UpdateItem keeps what else the item
    // holds.
    let update = with_role(
        &dev,
        &["Apple"],
        "  dashboard: false\n  throttles:\n    enabled: false\nlambda:\n  memory_mb: 512\n",
    )
    .replace("  - \"Apple\"", "  - {name: Apple, wikipedia: Apple Inc.}");
    assert!(update.contains("wikipedia: Apple Inc."), "{update}");
    p.env_file("d", update);
    command("deploy", "d", &deploy_log);
    // A pull request's preview of dev: deployed (verified, with the company it adds),
    // listed, torn down, all under dev's deploy role.
    let base = p.path().join("base.yaml");
    std::fs::write(&base, with_role(&dev, &["Apple"], "")).unwrap();
    let preview = |args: &[&str]| {
        let out = run(fangops(p.path())
            .args(args)
            .args(["--env", "d"])
            .env("AWS_ENDPOINT_URL", &crate::support::moto::moto().endpoint)
            .env("FANGOPS_RECORD_AWS_CALLS", &deploy_log));
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    };
    let base_rev = format!("file:{}", base.display());
    preview(&[
        "deploy",
        "--preview",
        "7",
        "--base",
        &base_rev,
        "--artifact-bucket",
        &bucket,
        "--artifacts",
        fake_artifacts().to_str().unwrap(),
    ]);
    preview(&["previews"]);
    preview(&["teardown", "--preview", "7", "--yes"]);
    // prod: planned new, deployed (the artifacts ran in dev), planned changed.
    p.env_file("p", with_role(&prod, &["Apple"], "protected: true\n"));
    command("plan", "p", &plan_log);
    command("deploy", "p", &deploy_log);
    p.env_file(
        "p",
        with_role(
            &prod,
            &["Apple", "Spotify"],
            "protected: true\nlambda:\n  memory_mb: 512\n",
        ),
    );
    command("plan", "p", &plan_log);

    let deploy_role = policy_of(&iam_json(&p, "d", &bucket), "deploy");
    let prod_report = iam_json(&p, "p", &bucket);
    let granted = [
        ("deploy", actions(&deploy_role), recorded(&deploy_log)),
        (
            "plan",
            actions(&policy_of(&prod_report, "plan")),
            recorded(&plan_log),
        ),
    ];
    // dev and prod deploy with the same actions; dev's role also finds and tears down
    // its previews (prod has none).
    let previews: BTreeSet<String> = actions(
        &serde_json::from_str(
            &std::fs::read_to_string(repo_root().join("infra/iam/previews.json")).unwrap(),
        )
        .unwrap(),
    );
    let prod_actions = actions(&policy_of(&prod_report, "deploy"));
    assert_eq!(
        prod_actions
            .union(&previews)
            .cloned()
            .collect::<BTreeSet<_>>(),
        actions(&deploy_role),
    );
    for (command, granted, called) in &granted {
        let missing: Vec<_> = called.difference(granted).collect();
        assert!(missing.is_empty(), "the {command} role lacks {missing:?}");
        let elsewhere: BTreeSet<String> = ELSEWHERE
            .iter()
            .filter(|(c, _, _)| c == command)
            .map(|(_, a, _)| (*a).to_owned())
            .collect();
        let unused: Vec<_> = granted
            .iter()
            .filter(|a| !called.contains(*a) && !elsewhere.contains(*a))
            .collect();
        assert!(
            unused.is_empty(),
            "the {command} role grants {unused:?}, which fangops never calls"
        );
        let stale: Vec<_> = elsewhere.iter().filter(|a| !granted.contains(*a)).collect();
        assert!(
            stale.is_empty(),
            "ELSEWHERE names {stale:?}, which the {command} role no longer grants"
        );
    }
    // The plan role can never run a change set or touch the real stack's existence.
    let plan_actions = &granted[1].1;
    assert!(!plan_actions.contains("cloudformation:ExecuteChangeSet"));
    let plan_policy = policy_of(&prod_report, "plan");
    for s in plan_policy["Statement"].as_array().unwrap() {
        if s["Action"]
            .to_string()
            .contains("cloudformation:DeleteStack")
        {
            assert_eq!(
                s["Resource"],
                format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{prod}-plan/*"),
                "the plan role deletes only its scratch stack"
            );
        }
    }
}

/// The `sub` each workflow job presents is the one its role trusts: a job with an
/// environment presents `environment:NAME`, a pull request job without one
/// `pull_request`.
#[test]
fn the_workflow_jobs_present_the_sub_their_roles_trust() {
    let p = Project::new();
    std::fs::create_dir_all(p.path().join("infra/iam")).unwrap();
    for f in std::fs::read_dir(repo_root().join("infra/iam")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, p.path().join("infra/iam").join(f.file_name().unwrap())).unwrap();
    }
    let mut trusted = std::collections::BTreeMap::new();
    for env in ["dev", "prod"] {
        std::fs::copy(
            repo_root().join(format!("environments/{env}.yaml")),
            p.path().join(format!("environments/{env}.yaml")),
        )
        .unwrap();
        for role in iam_json(&p, env, "b")["roles"].as_array().unwrap() {
            if let Some(var) = role["github_variable"].as_str() {
                let sub = role["trust"]["Statement"][0]["Condition"]["StringEquals"]
                    ["token.actions.githubusercontent.com:sub"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                trusted.insert(var.to_owned(), sub);
            }
        }
    }
    let mut checked = 0;
    for name in ["pull-request.yml", "deploy.yml", "previews.yml"] {
        let text =
            std::fs::read_to_string(repo_root().join(".github/workflows").join(name)).unwrap();
        let w: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let on_pull_request = w["on"].get("pull_request").is_some();
        for (job_name, job) in w["jobs"].as_object().unwrap() {
            for step in job["steps"].as_array().unwrap() {
                let Some(role) = step["with"]["role-to-assume"].as_str() else {
                    continue;
                };
                let var = role
                    .trim_start_matches("${{ vars.")
                    .trim_end_matches(" }}")
                    .to_owned();
                let presented = match job["environment"].as_str() {
                    Some(e) => format!("repo:acme/pipeline:environment:{e}"),
                    None if on_pull_request => "repo:acme/pipeline:pull_request".to_owned(),
                    None => "repo:acme/pipeline:ref:refs/heads/main".to_owned(),
                };
                assert_eq!(
                    trusted.get(&var),
                    Some(&presented),
                    "{name}/{job_name} assumes {var}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked, 6,
        "a preview, its teardown and prune, dev from main, the prod plan, prod"
    );
}
