//! The workflows' security rules, checked on their YAML: every third-party action
//! pinned by commit SHA, no persisted checkout credentials, least permissions per job,
//! AWS only by OIDC role assumption, one deploy per environment at a time, and fork
//! pull requests never near credentials; actionlint clean; a company-only pull request
//! compiles nothing.

use crate::support::repo_root;

fn workflow(name: &str) -> serde_json::Value {
    let path = repo_root().join(".github/workflows").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn steps(job: &serde_json::Value) -> Vec<&serde_json::Value> {
    job["steps"]
        .as_array()
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

#[test]
fn every_workflow_follows_the_rules() {
    for name in ["ci.yml", "pull-request.yml", "deploy.yml", "previews.yml"] {
        let w = workflow(name);
        assert_eq!(
            w["permissions"],
            serde_json::json!({}),
            "{name}: no default permissions"
        );
        for (job_name, job) in w["jobs"].as_object().unwrap() {
            assert!(
                job["env"]["GITHUB_TOKEN"].is_null(),
                "{name}/{job_name}: the token only on the steps that post"
            );
            let perms = job["permissions"]
                .as_object()
                .unwrap_or_else(|| panic!("{name}/{job_name}: permissions per job"));
            assert_eq!(
                perms.get("contents").and_then(|v| v.as_str()),
                Some("read"),
                "{name}/{job_name}"
            );
            for step in steps(job) {
                if let Some(uses) = step["uses"].as_str() {
                    let (_, rev) = uses
                        .split_once('@')
                        .unwrap_or_else(|| panic!("{name}: {uses} unpinned"));
                    assert!(
                        rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{name}: {uses} is not pinned by commit SHA"
                    );
                    if uses.starts_with("actions/checkout@") {
                        assert_eq!(
                            step["with"]["persist-credentials"], false,
                            "{name}/{job_name}: persist-credentials"
                        );
                    }
                    if uses.starts_with("aws-actions/configure-aws-credentials@") {
                        assert!(
                            step["with"]["role-to-assume"].is_string(),
                            "{name}/{job_name}: OIDC role"
                        );
                        assert!(
                            step["with"]["aws-access-key-id"].is_null(),
                            "{name}/{job_name}: no stored keys"
                        );
                        assert_eq!(
                            perms.get("id-token").and_then(|v| v.as_str()),
                            Some("write"),
                            "{name}/{job_name}"
                        );
                    }
                }
                if let Some(run) = step["run"].as_str() {
                    assert!(
                        !run.contains("secrets."),
                        "{name}/{job_name}: secrets in a script"
                    );
                }
            }
        }
    }
}

#[test]
fn deploys_never_race_and_forks_never_deploy() {
    let pr = workflow("pull-request.yml");
    // A pull request deploys its own preview, one push after the other, never waiting
    // for another pull request's.
    let preview = &pr["jobs"]["preview"];
    assert_eq!(
        preview["concurrency"]["group"],
        "fangops-preview-${{ github.event.pull_request.number }}"
    );
    assert_eq!(preview["concurrency"]["cancel-in-progress"], false);
    assert_eq!(
        preview["if"],
        "github.event.action != 'closed' && github.event.pull_request.head.repo.full_name == github.repository"
    );
    assert!(steps(preview).iter().any(|s| {
        s["run"].as_str().is_some_and(|r| {
            r.contains("fangops deploy --env dev --preview \"$PULL_REQUEST\"")
                && r.contains("--comment")
        })
    }));
    // No pull request deploys the shared dev stack: main does.
    for (job_name, job) in pr["jobs"].as_object().unwrap() {
        for s in steps(job) {
            let run = s["run"].as_str().unwrap_or_default();
            assert!(
                !run.contains("deploy --env") || run.contains("--preview"),
                "{job_name}: {run}"
            );
        }
    }
    let fork = &pr["jobs"]["fork"];
    assert_eq!(
        fork["if"],
        "github.event.action != 'closed' && github.event.pull_request.head.repo.full_name != github.repository"
    );
    assert!(
        fork["permissions"].get("id-token").is_none(),
        "a fork gets no AWS role"
    );
    assert!(
        steps(fork)
            .iter()
            .all(|s| s["run"].as_str().is_none_or(|r| !r.contains("deploy")))
    );
    let deploy = workflow("deploy.yml");
    assert_eq!(
        deploy["on"]["push"]["branches"],
        serde_json::json!(["main"])
    );
    // The shared dev stack follows main, before prod: what prod takes ran there first.
    assert_eq!(deploy["jobs"]["dev"]["concurrency"]["group"], "fangops-dev");
    assert_eq!(deploy["jobs"]["prod"]["needs"], "dev");
    // A plan of prod reads a change set that a deploy of prod would delete: one group.
    let plan = &pr["jobs"]["prod-plan"];
    assert_eq!(plan["concurrency"]["group"], "fangops-prod");
    assert_eq!(plan["concurrency"]["cancel-in-progress"], false);
    assert_eq!(
        plan["needs"], "preview",
        "the plan finds the zips the preview indexed"
    );
    // GitHub cancels a group's pending job when another queues, unless it may queue:
    // a pull request's plan must never drop a merge's pending prod deploy.
    let deploy_jobs = [
        preview,
        plan,
        &deploy["jobs"]["dev"],
        &deploy["jobs"]["prod"],
    ];
    for job in deploy_jobs {
        assert_eq!(job["concurrency"]["queue"], "max", "{job}");
    }
    let prod = &deploy["jobs"]["prod"];
    assert_eq!(
        prod["environment"], "prod",
        "required reviewers live on the environment"
    );
    assert_eq!(prod["concurrency"]["group"], "fangops-prod");
    assert_eq!(prod["concurrency"]["cancel-in-progress"], false);
    assert!(steps(prod).iter().any(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("fangops deploy --env prod") && r.contains("--comment"))
    }));
}

/// Closing a pull request tears its preview down with dev's role alone: the job can
/// reach nothing of prod's (no prod role, no prod environment), and no other job runs
/// on a closed pull request.
#[test]
fn the_closed_teardown_job_has_no_access_to_prods_role() {
    let pr = workflow("pull-request.yml");
    assert_eq!(
        pr["on"]["pull_request"]["types"],
        serde_json::json!(["opened", "synchronize", "reopened", "closed"])
    );
    let teardown = &pr["jobs"]["teardown"];
    assert_eq!(
        teardown["if"],
        "github.event.action == 'closed' && github.event.pull_request.head.repo.full_name == github.repository"
    );
    assert_eq!(teardown["environment"], "dev");
    let text = teardown.to_string();
    assert!(!text.to_lowercase().contains("prod"), "{text}");
    let roles: Vec<&str> = steps(teardown)
        .iter()
        .filter_map(|s| s["with"]["role-to-assume"].as_str())
        .collect();
    assert_eq!(roles, ["${{ vars.AWS_ROLE_DEV }}"]);
    assert_eq!(
        teardown["concurrency"]["group"], pr["jobs"]["preview"]["concurrency"]["group"],
        "a push's deploy still running finishes before the teardown"
    );
    assert!(steps(teardown).iter().any(|s| {
        s["run"].as_str().is_some_and(|r| {
            r.contains("fangops teardown --env dev --preview \"$PULL_REQUEST\" --yes")
        })
    }));
    assert!(
        teardown["permissions"].get("pull-requests").is_none(),
        "it posts nothing"
    );
    for (job_name, job) in pr["jobs"].as_object().unwrap() {
        if job_name != "teardown" {
            assert!(
                job["if"]
                    .as_str()
                    .is_some_and(|c| c.contains("github.event.action != 'closed'")),
                "{job_name} runs on a closed pull request"
            );
        }
    }
    // The nightly prune: dev's role, pull requests read, never prod's.
    let prune = &workflow("previews.yml")["jobs"]["prune"];
    assert!(!prune.to_string().to_lowercase().contains("prod"));
    assert_eq!(prune["permissions"]["pull-requests"], "read");
    assert!(steps(prune).iter().any(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("previews --env dev prune --older-than 7d"))
            && s["env"]["GITHUB_TOKEN"].is_string()
    }));
}

/// actionlint (the PyPI build of a maintained fork, pinned in scripts/requirements.txt)
/// finds nothing in the workflows. `ci.yml` runs the official release on GitHub.
#[test]
fn actionlint_is_clean() {
    let actionlint = crate::support::moto::venv_python()
        .parent()
        .unwrap()
        .join("actionlint");
    let out = crate::support::run(
        std::process::Command::new(&actionlint)
            .arg("-no-color")
            .current_dir(repo_root()),
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// The pull-request path of a company-only change: the fangops binary comes from a
/// cache keyed by everything it is built from, cargo runs only on a miss, no Lambda is
/// built by the workflow itself (the artifact index decides), and no Python tool is
/// installed into the runner's system Python.
#[test]
fn a_company_only_pull_request_compiles_nothing() {
    for name in ["pull-request.yml", "deploy.yml", "previews.yml"] {
        let w = workflow(name);
        for (job_name, job) in w["jobs"].as_object().unwrap() {
            let steps = steps(job);
            let cache = steps
                .iter()
                .find(|s| s["id"] == "fangops")
                .unwrap_or_else(|| panic!("{name}/{job_name}: no cached fangops binary"));
            let key = cache["with"]["key"].as_str().unwrap();
            for input in [
                "rust-toolchain.toml",
                "Cargo.lock",
                "'src/**'",
                "'lambdas/**'",
            ] {
                assert!(key.contains(input), "{name}/{job_name}: key misses {input}");
            }
            for s in &steps {
                let Some(run) = s["run"].as_str() else {
                    continue;
                };
                if run.contains("cargo build") {
                    assert_eq!(
                        s["if"], "steps.fangops.outputs.cache-hit != 'true'",
                        "{name}/{job_name}: cargo runs only on a cache miss"
                    );
                }
                assert!(
                    !run.contains("fangops build"),
                    "{name}/{job_name}: zips come from the index"
                );
                assert!(
                    !run.contains("--artifacts"),
                    "{name}/{job_name}: zips come from the index"
                );
                assert!(
                    !run.contains("pip install --user") && !run.contains("sudo pip"),
                    "{name}/{job_name}: no tool into the system Python"
                );
            }
        }
    }
}
