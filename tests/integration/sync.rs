//! `fangops sync` on moto: the table ends equal to the file, whatever was in it, however
//! the network behaves, however often or concurrently the sync runs. UnprocessedItems
//! (which moto never returns) are covered on recorded responses in `src/companies/sync.rs`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::support::fault_proxy::{FaultKind, FaultPlan, FaultProxy};
use crate::support::moto::moto;
use crate::support::{
    Project, create_companies_table, deploy, dynamodb, fangops, local_env_yaml, run, run_async,
    table_companies, unique,
};

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix} {i:05}")).collect()
}

/// A project with env `e` for a fresh stack whose companies table exists.
async fn setup(companies: &[String]) -> (Project, String) {
    let stack = unique("sync");
    let project = Project::new();
    project.env_file("e", local_env_yaml(&stack, companies));
    let table = format!("{stack}-companies");
    create_companies_table(&table).await;
    (project, table)
}

async fn put(table: &str, name: &str, extra: Option<(&str, &str)>) {
    let mut req = dynamodb()
        .put_item()
        .table_name(table)
        .item("company", AttributeValue::S(name.to_owned()));
    if let Some((k, v)) = extra {
        req = req.item(k, AttributeValue::S(v.to_owned()));
    }
    req.send().await.unwrap();
}

fn sorted(v: &[String]) -> Vec<String> {
    v.iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_makes_the_table_equal_the_file_and_a_second_run_changes_nothing() {
    let file = vec!["Acme".to_owned(), "Apple".to_owned(), "Nvidia".to_owned()];
    let (project, table) = setup(&file).await;
    put(&table, "Acme", Some(("note", "added by hand"))).await;
    put(&table, "Gone Corp", None).await;

    // Dry run: says what would change, changes nothing.
    let dry = run(fangops(project.path()).args(["sync", "--env", "e", "--dry-run", "--json"]));
    assert_eq!(dry.code, 0, "{dry:?}");
    let j = dry.json();
    assert_eq!(j["added"], serde_json::json!(["Apple", "Nvidia"]));
    assert_eq!(j["removed"], serde_json::json!(["Gone Corp"]));
    assert_eq!(j["unchanged"], 1);
    assert_eq!(j["dry_run"], true);
    assert_eq!(j["stats"]["batch_calls"], 0);
    assert_eq!(table_companies(&table).await, ["Acme", "Gone Corp"]);

    let out = run(fangops(project.path()).args(["sync", "--env", "e"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("2 added, 1 removed, 1 unchanged"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("  + Apple"), "{}", out.stdout);
    assert!(out.stdout.contains("  - Gone Corp"), "{}", out.stdout);
    assert_eq!(table_companies(&table).await, file);
    // The item written out of band kept what the sync does not own.
    let acme = dynamodb()
        .get_item()
        .table_name(&table)
        .key("company", AttributeValue::S("Acme".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        acme.item().unwrap().get("note"),
        Some(&AttributeValue::S("added by hand".into()))
    );

    let again = run(fangops(project.path()).args(["sync", "--env", "e", "--json"]));
    assert_eq!(again.code, 0, "{again:?}");
    let j = again.json();
    assert_eq!(j["added"], serde_json::json!([]));
    assert_eq!(j["removed"], serde_json::json!([]));
    assert_eq!(j["unchanged"], 3);
    assert_eq!(j["stats"]["batch_calls"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mass_delete_is_refused_and_changes_nothing() {
    let live = names("Live", 10);
    let (project, table) = setup(&live[..3]).await;
    for n in &live {
        put(&table, n, None).await;
    }
    let out = run(fangops(project.path()).args(["sync", "--env", "e"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("environments/e.yaml: `companies`: the sync would delete 7 of the 10 companies in the table, 70% of it, more than the 50% allowed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Live 00009"), "{}", out.stderr);
    assert_eq!(table_companies(&table).await, live);
    // A dry run shows the diff and the refusal the real sync would meet.
    let dry = run(fangops(project.path()).args(["sync", "--env", "e", "--dry-run"]));
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout
            .contains("would be: 0 added, 7 removed, 3 unchanged"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("The sync would refuse: the sync would delete 7"),
        "{}",
        dry.stdout
    );
    assert_eq!(table_companies(&table).await, live);

    // An empty list is refused whatever the share.
    project.env_file(
        "e",
        local_env_yaml(table.trim_end_matches("-companies"), &[])
            .replace("companies:\n", "companies: []\n"),
    );
    let out = run(fangops(project.path()).args(["sync", "--env", "e"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("every company in it, as the file lists none"),
        "{}",
        out.stderr
    );
    assert_eq!(table_companies(&table).await, live);

    let out = run(fangops(project.path()).args(["sync", "--env", "e", "--allow-mass-delete"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(table_companies(&table).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_companies_through_a_faulty_network_end_exactly_equal() {
    let file = names("Faulty", 5000);
    let (project, table) = setup(&file).await;
    // Some already there, and stale rows to delete: a share small enough for the guard.
    for n in file.iter().step_by(50).chain(&names("Stale", 30)) {
        put(&table, n, None).await;
    }
    let kinds = [
        FaultKind::InternalError,
        FaultKind::Unavailable,
        FaultKind::Throttle,
        FaultKind::Drop,
    ];
    let proxy = FaultProxy::start(&moto().endpoint, FaultPlan::new(11, 0.1).kinds(&kinds)).await;
    let mut cmd = fangops(project.path());
    // One attempt per SDK call (support::fangops): every retry is the sync's own.
    cmd.args(["sync", "--env", "e", "--json"])
        .env("AWS_ENDPOINT_URL", &proxy.endpoint);
    let out = run_async(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(j["added"].as_array().unwrap().len(), 4900);
    assert_eq!(j["unchanged"], 100);
    assert_eq!(j["removed"].as_array().unwrap().len(), 30);
    assert!(
        proxy.stats.faults() >= 10,
        "{} faults",
        proxy.stats.faults()
    );
    assert!(j["stats"]["errors_retried"].as_u64().unwrap() >= 10, "{j}");
    assert_eq!(table_companies(&table).await, sorted(&file));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_midway_converges_when_run_again() {
    let file = names("Killed", 3000);
    let (project, table) = setup(&file).await;
    // Every request slowed down, so that the kill lands midway.
    let mut plan = FaultPlan::new(5, 1.0).kinds(&[FaultKind::Slow]);
    plan.slow_by = Duration::from_millis(40);
    let proxy = FaultProxy::start(&moto().endpoint, plan).await;
    let mut child = tokio::process::Command::from({
        let mut cmd = fangops(project.path());
        cmd.args(["sync", "--env", "e", "--concurrency", "2"])
            .env("AWS_ENDPOINT_URL", &proxy.endpoint);
        cmd
    })
    .spawn()
    .unwrap();
    let started = Instant::now();
    loop {
        let n = table_companies(&table).await.len();
        if n >= 100 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync never started writing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().await.unwrap();
    let partial = table_companies(&table).await.len();
    assert!(
        (100..3000).contains(&partial),
        "the kill did not land midway: {partial} written"
    );

    let out = run(fangops(project.path()).args(["sync", "--env", "e", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.json()["added"].as_array().unwrap().len(),
        3000 - partial,
        "the second run wrote only what the first did not"
    );
    assert_eq!(table_companies(&table).await, sorted(&file));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_syncs_at_once_converge_to_the_file() {
    let file = names("Both", 1500);
    let (project, table) = setup(&file).await;
    for n in file.iter().step_by(15).chain(&names("Stale", 40)) {
        put(&table, n, None).await;
    }
    let a = run_async({
        let mut cmd = fangops(project.path());
        cmd.args(["sync", "--env", "e"]);
        cmd
    });
    let b = run_async({
        let mut cmd = fangops(project.path());
        cmd.args(["sync", "--env", "e"]);
        cmd
    });
    let (a, b) = tokio::join!(a, b);
    assert_eq!(a.code, 0, "{a:?}");
    assert_eq!(b.code, 0, "{b:?}");
    assert_eq!(table_companies(&table).await, sorted(&file));
}

#[test]
fn sync_without_a_table_says_to_deploy_first() {
    let project = Project::new();
    let stack = unique("nosync");
    project.env_file("e", local_env_yaml(&stack, &["Apple".to_owned()]));
    let out = run(fangops(project.path()).args(["sync", "--env", "e"]));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "table {stack}-companies does not exist; deploy the environment first with `fangops deploy --env e`"
        )),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_finds_out_of_band_companies_and_deploy_guards_mass_deletes() {
    let stack = unique("drift");
    let project = Project::new();
    let file = names("Drift", 6);
    project.env_file("e", local_env_yaml(&stack, &file));
    let out = deploy(project.path(), "e");
    assert_eq!(out.code, 0, "{out:?}");
    let table = format!("{stack}-companies");
    assert_eq!(table_companies(&table).await, file);

    let out = run(fangops(project.path()).args(["drift", "--env", "e", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["drifted"], false);

    put(&table, "Out Of Band", None).await;
    dynamodb()
        .delete_item()
        .table_name(&table)
        .key("company", AttributeValue::S(file[0].clone()))
        .send()
        .await
        .unwrap();
    let out = run(fangops(project.path()).args(["drift", "--env", "e", "--json"]));
    assert_eq!(out.code, 3, "{out:?}");
    let j = out.json();
    assert_eq!(
        j["companies"]["only_live"],
        serde_json::json!(["Out Of Band"])
    );
    assert_eq!(j["companies"]["only_in_file"], serde_json::json!([file[0]]));
    assert_eq!(j["companies"]["in_both"], 5);
    // moto has no drift detection: said, not failed.
    assert_eq!(j["stack"]["state"], "unavailable", "{j}");
    let human = run(fangops(project.path()).args(["drift", "--env", "e"]));
    assert_eq!(human.code, 3);
    assert!(
        human
            .stdout
            .contains("1 only in the table, 1 only in the file, 5 in both"),
        "{}",
        human.stdout
    );

    // A deploy whose sync would delete most of the table refuses before the stack.
    project.env_file("e", local_env_yaml(&stack, &file[..1]));
    let out = deploy(project.path(), "e");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--allow-mass-delete"), "{}", out.stderr);
    assert!(!out.stderr.contains("change set"), "{}", out.stderr);
    assert_eq!(table_companies(&table).await.len(), 6);
}

/// The Wikipedia page an entry names travels to the table (and so to the producer's
/// messages); a changed page is a change, written in place so other attributes stay;
/// a page changed by hand in the table is drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wikipedia_pages_are_synced_in_place_and_drift_is_seen() {
    let (project, table) = setup(&[]).await;
    let stack = table.trim_end_matches("-companies").to_owned();
    let with_pages = |apple: &str| {
        local_env_yaml(&stack, &["Amazon".to_owned()])
            + &format!("  - {{name: Apple, wikipedia: \"{apple}\"}}\n")
    };
    put(&table, "Apple", Some(("note", "added by hand"))).await;
    project.env_file("e", with_pages("Apple Inc."));

    let out = run(fangops(project.path()).args(["sync", "--env", "e", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    let j = out.json();
    assert_eq!(j["added"], serde_json::json!(["Amazon"]));
    assert_eq!(j["retitled"][0]["name"], "Apple");
    assert_eq!(j["retitled"][0]["to"], "Apple Inc.");
    let entries = fang_producer::scan_entries(&dynamodb(), &table)
        .await
        .unwrap();
    let apple = entries.iter().find(|c| c.name == "Apple").unwrap();
    assert_eq!(apple.wikipedia.as_deref(), Some("Apple Inc."));
    assert_eq!(
        entries
            .iter()
            .find(|c| c.name == "Amazon")
            .unwrap()
            .wikipedia,
        None
    );
    // UpdateItem, not PutItem: the attribute written by hand is still there.
    let item = dynamodb()
        .get_item()
        .table_name(&table)
        .key("company", AttributeValue::S("Apple".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        item.item().unwrap()["note"],
        AttributeValue::S("added by hand".into())
    );

    // In sync now: no drift, and a second sync changes nothing.
    let out = run(fangops(project.path()).args(["drift", "--env", "e", "--json"]));
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(fangops(project.path()).args(["sync", "--env", "e", "--json"]));
    assert_eq!(out.json()["retitled"], serde_json::Value::Null, "{out:?}");

    // The file names another page: drift until the sync writes it.
    project.env_file("e", with_pages("Apple Computer"));
    let out = run(fangops(project.path()).args(["drift", "--env", "e", "--json"]));
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(
        out.json()["companies"]["other_page"][0]["from"],
        "Apple Inc."
    );
    let out = run(fangops(project.path()).args(["sync", "--env", "e"]));
    assert!(
        out.stdout
            .contains("~ Apple: page Apple Inc. → Apple Computer"),
        "{}",
        out.stdout
    );
    let entries = fang_producer::scan_entries(&dynamodb(), &table)
        .await
        .unwrap();
    assert_eq!(
        entries
            .iter()
            .find(|c| c.name == "Apple")
            .unwrap()
            .wikipedia
            .as_deref(),
        Some("Apple Computer")
    );
}
