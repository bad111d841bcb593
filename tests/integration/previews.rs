//! Pull-request previews on moto (the local runner playing Lambda): two previews with
//! different company lists side by side, each with its own table and results, the
//! shared stack untouched; the cap naming the holders; a teardown of one preview that
//! leaves the other and the env; a prune that asks GitHub (wiremock) which pull
//! requests are closed; a protected env taking zips only a preview ran; and, through a
//! Wikipedia stand-in, the comment's row for each added company, page or no page.

use std::collections::BTreeMap;
use std::path::Path;

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::moto::moto;
use crate::support::{
    Project, fake_artifacts, fangops, local_env_yaml, run, run_async, table_companies, unique,
};

fn env_yaml(stack: &str, companies: &[&str], max: u32) -> String {
    let names: Vec<String> = companies.iter().map(|c| (*c).to_owned()).collect();
    format!(
        "{}previews:\n  max: {max}\nalarms:\n  email: ops@example.com\n",
        local_env_yaml(stack, &names)
    )
}

fn command(p: &Path, bucket: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = listing(p, args);
    cmd.args(["--artifact-bucket", bucket]);
    cmd
}

/// A protected env of `stack` (one company): it has no previews.
fn protected_env_yaml(stack: &str) -> String {
    format!(
        "{}protected: true\n",
        local_env_yaml(stack, &["Apple".into()])
    )
}

/// A command that takes no artifact bucket (`previews`).
fn listing(p: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = fangops(p);
    cmd.args(args)
        .arg("--json")
        .env("AWS_ENDPOINT_URL", &moto().endpoint);
    cmd
}

/// A project with the pricing tables, which the preview's cost a day comes from.
fn project() -> Project {
    let p = Project::new();
    let dir = p.path().join("infra/pricing");
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(crate::support::repo_root().join("infra/pricing")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    p
}

/// `deploy --env d --preview N` against `base` (an env file standing for the base
/// branch's), its comment written to `comment`.
fn preview_command(
    p: &Project,
    bucket: &str,
    pr: u64,
    base: &Path,
    comment: &Path,
) -> std::process::Command {
    let zips = fake_artifacts().to_str().unwrap().to_owned();
    let base = format!("file:{}", base.display());
    let pr = pr.to_string();
    let comment = comment.to_str().unwrap();
    command(
        p.path(),
        bucket,
        &[
            "deploy",
            "--env",
            "d",
            "--artifacts",
            &zips,
            "--preview",
            &pr,
            "--base",
            &base,
            "--comment",
            "--comment-out",
            comment,
        ],
    )
}

fn preview(p: &Project, bucket: &str, pr: u64, base: &Path, comment: &Path) -> crate::support::Run {
    run(&mut preview_command(p, bucket, pr, base, comment))
}

async fn stack(name: &str) -> Option<aws_sdk_cloudformation::types::Stack> {
    crate::support::cloudformation()
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .ok()
        .and_then(|o| o.stacks().first().cloned())
        .filter(|s| {
            s.stack_status()
                .is_none_or(|s| s.as_str() != "DELETE_COMPLETE")
        })
}

#[tokio::test]
async fn two_previews_stay_apart_the_cap_names_the_holders_and_teardown_takes_one() {
    let p = project();
    let base_stack = unique("fang-pv");
    let bucket = unique("fangops-artifacts-pv");
    let base = p.path().join("base.yaml");
    std::fs::write(&base, env_yaml(&base_stack, &["Apple", "Netflix"], 2)).unwrap();

    // The shared stack, as main has it.
    p.env_file("d", env_yaml(&base_stack, &["Apple", "Netflix"], 2));
    let zips = fake_artifacts().to_str().unwrap().to_owned();
    let out = run(&mut command(
        p.path(),
        &bucket,
        &["deploy", "--env", "d", "--artifacts", &zips, "--no-verify"],
    ));
    assert_eq!(out.code, 0, "{out:?}");

    // Pull request 1 adds Spotify: its preview runs it and shows the result.
    p.env_file(
        "d",
        env_yaml(&base_stack, &["Apple", "Netflix", "Spotify"], 2),
    );
    let c1 = p.path().join("pr1.md");
    let out = preview(&p, &bucket, 1, &base, &c1);
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    let pr1 = format!("{base_stack}-pr1");
    assert_eq!(r["stack"], pr1.as_str(), "{r:#}");
    assert_eq!(
        r["changes"]["added"],
        serde_json::json!(["Spotify"]),
        "{r:#}"
    );
    assert_eq!(r["results"].as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(r["results"][0]["company"], "Spotify");
    assert!(r["results"][0]["sentiment"].is_string(), "{r:#}");
    assert_eq!(r["deploy"]["verification"]["passed"], true, "{r:#}");
    let comment = std::fs::read_to_string(&c1).unwrap();
    assert!(
        comment.starts_with("<!-- fangops env=d -->\n### fangops preview · `d` #1 "),
        "{comment}"
    );
    assert!(comment.contains("| Spotify |"), "{comment}");
    assert!(
        comment.contains("This preview costs about $0.0"),
        "{comment}"
    );

    // Pull request 2 removes Netflix: its preview runs nothing of its own.
    p.env_file("d", env_yaml(&base_stack, &["Apple"], 2));
    let c2 = p.path().join("pr2.md");
    let out = preview(&p, &bucket, 2, &base, &c2);
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    assert!(r["results"].as_array().unwrap().is_empty(), "{r:#}");
    assert_eq!(
        r["changes"]["removed"],
        serde_json::json!(["Netflix"]),
        "{r:#}"
    );
    let comment = std::fs::read_to_string(&c2).unwrap();
    assert!(comment.contains("only removes companies"), "{comment}");

    // Side by side, each with its own list; the shared stack keeps main's.
    let pr2 = format!("{base_stack}-pr2");
    assert_eq!(
        table_companies(&format!("{pr1}-companies")).await,
        ["Apple", "Netflix", "Spotify"]
    );
    assert_eq!(
        table_companies(&format!("{pr2}-companies")).await,
        ["Apple"]
    );
    assert_eq!(
        table_companies(&format!("{base_stack}-companies")).await,
        ["Apple", "Netflix"]
    );
    // A preview has no schedule and no alarm e-mail; the shared stack keeps both.
    let (shared, one) = (
        crate::support::stack_parameters(&base_stack).await,
        crate::support::stack_parameters(&pr1).await,
    );
    assert_eq!(shared["ScheduleState"], "ENABLED");
    assert_eq!(shared["AlarmEmail"], "ops@example.com");
    assert_eq!(one["ScheduleState"], "DISABLED");
    assert_eq!(one["AlarmEmail"], "");
    let tags: BTreeMap<String, String> = stack(&pr1)
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert_eq!(tags["fangops:preview-of"], base_stack);
    assert_eq!(tags["fangops:pull-request"], "1");

    // A third pull request finds the two slots taken, and is told by whom.
    let c3 = p.path().join("pr3.md");
    let out = preview(&p, &bucket, 3, &base, &c3);
    assert_eq!(out.code, 1, "{out:?}");
    let r = out.json();
    assert_eq!(r["refused"]["max"], 2, "{r:#}");
    let comment = std::fs::read_to_string(&c3).unwrap();
    assert!(comment.contains("**refused**"), "{comment}");
    assert!(
        comment.contains(&format!("`{pr1}`")) && comment.contains(&format!("`{pr2}`")),
        "{comment}"
    );
    assert!(stack(&format!("{base_stack}-pr3")).await.is_none());
    // A push to a pull request that has a preview still updates it.
    let out = preview(&p, &bucket, 2, &base, &c2);
    assert_eq!(out.code, 0, "{out:?}");

    // A preview has no schedule: it runs when asked, and its results are its own.
    let out = run(&mut listing(
        p.path(),
        &["run", "--env", "d", "--preview", "2"],
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["companies"], 1, "{}", out.stdout);
    let out = run(&mut listing(
        p.path(),
        &["results", "--env", "d", "--preview", "2"],
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let companies: Vec<String> = out.json()["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["company"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(companies, ["Apple"], "{}", out.stdout);

    // The list: both, with age and cost.
    let out = run(&mut listing(p.path(), &["previews", "--env", "d"]));
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    let prs: Vec<u64> = r["previews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pull_request"].as_u64().unwrap())
        .collect();
    assert_eq!(prs, [1, 2], "{r:#}");
    assert!(r["previews"][0]["cost_so_far"].is_number(), "{r:#}");
    // `cost` counts them beside the env (with credentials; Cost Explorer is not on moto).
    let out = run(&mut listing(p.path(), &["cost", "--env", "d"]));
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    assert_eq!(
        r["previews"]["pull_requests"],
        serde_json::json!([1, 2]),
        "{r:#}"
    );
    assert!(r["previews"]["per_day"].as_f64().unwrap() > 0.0, "{r:#}");

    // Tearing one down leaves the other and the shared stack as they were.
    let out = run(&mut command(
        p.path(),
        &bucket,
        &["teardown", "--env", "d", "--preview", "1", "--yes"],
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(stack(&pr1).await.is_none(), "{pr1} is still there");
    assert_eq!(
        table_companies(&format!("{pr2}-companies")).await,
        ["Apple"]
    );
    assert_eq!(
        table_companies(&format!("{base_stack}-companies")).await,
        ["Apple", "Netflix"]
    );
    assert!(stack(&base_stack).await.is_some());

    // Tearing the shared stack down leaves the preview's log groups alone, though they
    // share its start (`STACK-`): the preview's stack made them, and its teardown
    // removes them.
    let logs = crate::support::moto_client!(aws_sdk_cloudwatchlogs);
    let groups = || async {
        logs.describe_log_groups()
            .log_group_name_prefix(format!("/aws/lambda/{pr2}-"))
            .send()
            .await
            .unwrap()
            .log_groups()
            .len()
    };
    assert!(
        groups().await > 0,
        "the preview's stack made its log groups"
    );
    let out = run(&mut command(
        p.path(),
        &bucket,
        &["teardown", "--env", "d", "--yes"],
    ));
    assert_eq!(out.code, 0, "{out:?}");
    let deleted = out.json()["log_groups_deleted"].to_string();
    assert!(!deleted.contains("-pr2-"), "{deleted}");
    assert!(
        groups().await > 0,
        "the shared stack's teardown took the preview's logs"
    );
    // Previews turned off in the file: the ones left can still be torn down.
    p.env_file("d", env_yaml(&base_stack, &["Apple"], 0));
    let out = run(&mut command(
        p.path(),
        &bucket,
        &["teardown", "--env", "d", "--preview", "2", "--yes"],
    ));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(groups().await, 0);
    assert!(stack(&pr2).await.is_none());

    // A protected env has no previews: a usage error at its file, nothing deployed.
    let prod_stack = unique("fang-pvp");
    p.env_file("prod", protected_env_yaml(&prod_stack));
    let zips = fake_artifacts().to_str().unwrap().to_owned();
    let out = run(&mut command(
        p.path(),
        &bucket,
        &[
            "deploy",
            "--env",
            "prod",
            "--artifacts",
            &zips,
            "--preview",
            "4",
        ],
    ));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.json()["errors"][0]["key"], "protected", "{out:?}");
    assert!(stack(&format!("{prod_stack}-pr4")).await.is_none());
    let out = run(&mut command(
        p.path(),
        &bucket,
        &["teardown", "--env", "prod", "--preview", "4", "--yes"],
    ));
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.json()["errors"][0]["key"], "protected", "{out:?}");
}

/// Prune asks GitHub: the preview of a closed pull request goes, an open one's stays.
/// A protected env then takes the zips that only a (verified) preview ran.
#[tokio::test]
async fn prune_removes_the_preview_of_a_closed_pull_request_and_keeps_an_open_ones() {
    let p = project();
    let base_stack = unique("fang-pp");
    let bucket = unique("fangops-artifacts-pp");
    let base = p.path().join("base.yaml");
    std::fs::write(&base, env_yaml(&base_stack, &["Apple"], 5)).unwrap();
    p.env_file("d", env_yaml(&base_stack, &["Apple", "Netflix"], 5));
    for pr in [4, 5] {
        let out = preview(&p, &bucket, pr, &base, &p.path().join("c.md"));
        assert_eq!(out.code, 0, "{out:?}");
    }

    let github = MockServer::start().await;
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/pulls/4"))
        .and(header("authorization", "Bearer t0ken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "number": 4, "state": "closed", "merged_at": null, "updated_at": now
        })))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/pipeline/pulls/5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "number": 5, "state": "open", "merged_at": null, "updated_at": now
        })))
        .expect(1)
        .mount(&github)
        .await;
    let mut cmd = listing(
        p.path(),
        &[
            "previews",
            "--env",
            "d",
            "prune",
            "--older-than",
            "7d",
            "--repo",
            "acme/pipeline",
        ],
    );
    cmd.env("GITHUB_TOKEN", "t0ken")
        .env("GITHUB_API_URL", github.uri());
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("t0ken") && !out.stderr.contains("t0ken"));
    let r = out.json();
    let decided: Vec<(u64, bool)> = r["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["pull_request"].as_u64().unwrap(),
                d["remove"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(decided, [(4, true), (5, false)], "{r:#}");
    assert!(stack(&format!("{base_stack}-pr4")).await.is_none());
    assert!(stack(&format!("{base_stack}-pr5")).await.is_some());

    // Promotion counts previews: the zips ran (and verified) only in a preview.
    let prod = unique("fang-ppp");
    p.env_file("prod", protected_env_yaml(&prod));
    let zips = fake_artifacts().to_str().unwrap().to_owned();
    let mut cmd = command(
        p.path(),
        &bucket,
        &[
            "deploy",
            "--env",
            "prod",
            "--artifacts",
            &zips,
            "--no-verify",
        ],
    );
    cmd.env("GITHUB_REF", "refs/heads/main");
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    let ran_in = r["promotion"]["artifacts"][0]["ran_in"].to_string();
    assert!(ran_in.contains(&format!("{base_stack}-pr5")), "{r:#}");
}

/// Through the pipeline with a Wikipedia stand-in: each company the pull request adds
/// gets its result in the comment, a sentiment with the page read, or why there is
/// none; a company without a page is a result, and the preview still verifies (its
/// canary has one).
#[tokio::test]
async fn the_comment_shows_each_added_companys_result_or_why_there_is_none() {
    let wiki = MockServer::start().await;
    Mock::given(path("/page/summary/Amazon"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "disambiguation", "extract": "Amazon may refer to:",
            "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/Amazon"}}
        })))
        .mount(&wiki)
        .await;
    Mock::given(path("/page/summary/Nonexistent_Corp"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&wiki)
        .await;
    Mock::given(wiremock::matchers::path_regex("^/page/summary/Good_.*"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "type": "standard", "extract": "A wonderful, successful company.",
            "content_urls": {"desktop": {"page": "https://en.wikipedia.org/wiki/Good_(company)"}}
        })))
        .mount(&wiki)
        .await;
    let p = project();
    let base_stack = unique("fang-pw");
    let bucket = unique("fangops-artifacts-pw");
    let wiki_env = |companies: &[&str]| {
        env_yaml(&base_stack, companies, 3)
            .replace("text_source: fixtures", "text_source: wikipedia")
    };
    let base = p.path().join("base.yaml");
    std::fs::write(&base, wiki_env(&["Good One"])).unwrap();
    p.env_file(
        "d",
        wiki_env(&["Good One", "Good Two", "Amazon", "Nonexistent Corp"]),
    );
    let comment = p.path().join("c.md");
    let mut cmd = preview_command(&p, &bucket, 8, &base, &comment);
    cmd.env("WIKIPEDIA_BASE_URL", wiki.uri());
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    let c = std::fs::read_to_string(&comment).unwrap();
    assert!(
        c.contains(
            "| Good Two | [Good Two](https://en.wikipedia.org/wiki/Good_%28company%29) | positive |"
        ),
        "{c}"
    );
    assert!(
        c.contains("| Amazon | Amazon | _none: &quot;Amazon&quot; is a Wikipedia disambiguation page; set \\`wikipedia:\\` to the company's own page_ |"),
        "{c}"
    );
    assert!(
        c.contains(
            "| Nonexistent Corp | Nonexistent Corp | _none: no Wikipedia page for &quot;Nonexistent Corp&quot;_ |"
        ),
        "{c}"
    );
    // Verified on the canary; the three added companies reported on, not judged.
    assert!(c.contains("— created, verified\n"), "{c}");
    assert!(
        c.contains("1 canary result and 3 companies reported on, no alarms"),
        "{c}"
    );
}
