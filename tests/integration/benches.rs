//! Every benchmark script, run at its smoke size (`BENCH_SMOKE=1`) with this build of
//! fangops: a benchmark that stopped working fails here, not the next time someone
//! wants its figures. (`benches/companies.rs` runs its smoke size under `cargo test`
//! by itself.) The figures of a smoke run mean nothing; only that each line appears.

use std::process::Command;

use crate::support::{repo_root, run};

fn smoke(script: &str, args: &[&str]) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("bench").join(script))
        .args(args)
        .current_dir(repo_root())
        .env("BENCH_SMOKE", "1")
        .env("FANGOPS_BIN", env!("CARGO_BIN_EXE_fangops"))
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("PROFILE");
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "bench/{script}: {out:?}");
    out.stdout
}

#[test]
fn pipeline_smoke() {
    let out = smoke("pipeline.sh", &[]);
    assert!(out.contains("5/5 companies in"), "{out}");
}

#[test]
fn deploy_smoke() {
    let out = smoke("deploy.sh", &[]);
    assert!(out.contains("first create end to end"), "{out}");
    assert!(out.contains("no-op deploy: fangops"), "{out}");
}

#[test]
fn sync_smoke() {
    let out = smoke("sync.sh", &[]);
    assert!(out.contains("(d) fangops sync"), "{out}");
    assert!(out.contains("100 companies: load"), "{out}");
}

#[test]
fn cache_smoke() {
    let out = smoke("cache.sh", &[]);
    // The second run, with nothing changed, scores and downloads nothing. Its 304 count is
    // not asserted: a batch the runner retries under load asks Wikipedia again (CI saw 22).
    let second: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("2: nothing changed"))
        .unwrap_or_else(|| panic!("no second run in {out}"))
        .split_whitespace()
        .skip(3)
        .collect();
    assert_eq!(second[..4], ["20", "0", "0", "0"], "{out}");
    let not_modified: u32 = second[4].parse().unwrap();
    assert!(not_modified >= 20, "{out}");
    assert!(out.contains("with the cache $"), "{out}");
}

#[test]
fn verify_smoke() {
    let out = smoke("verify.sh", &[]);
    assert!(out.contains("of which verification (1 canary)"), "{out}");
    assert!(out.contains("then rolled back and verified again"), "{out}");
}

#[test]
fn preview_smoke() {
    let out = smoke("preview.sh", &[]);
    assert!(
        out.contains("(a) adds one company, to its result in the comment:"),
        "{out}"
    );
    assert!(out.contains("(stack unchanged)"), "{out}");
    assert!(out.contains("a preview costs about $"), "{out}");
}

#[test]
fn artifacts_smoke() {
    // It runs `fangops build` in the repository: cargo on the shared target dir, where
    // a build from another path (the two-clones test) rewrites the binaries this one
    // zips, and the other way round (a CI flake: "sentiment differs between two paths").
    let _lock = crate::support::build_lock();
    let out = smoke("artifacts.sh", &[]);
    assert!(
        out.contains("producer") && out.contains("MB zipped"),
        "{out}"
    );
}

#[test]
fn comprehend_cost_smoke() {
    let out = smoke("comprehend_cost.sh", &[]);
    assert!(out.contains("whole text sent:        12 units"), "{out}");
    assert!(out.contains("500 characters (fangops):  5 units"), "{out}");
}

#[test]
fn throttled_comprehend_smoke() {
    let out = smoke("throttled.sh", &[]);
    assert!(
        out.contains("20/20 done, 0 failed, 0 in the dead-letter queue"),
        "{out}"
    );
    assert!(out.contains("of which throttled"), "{out}");
}

/// Regression: the sentiment Lambda began to require STACK_NAME and exited before its
/// first Runtime API request, so the benchmark waited 10 s and timed nothing. It times
/// the `bootstrap` of the zips `fangops build` makes, as Lambda would start it.
#[test]
fn coldstart_smoke() {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let _lock = crate::support::build_lock();
    let out_dir = tempfile::tempdir().unwrap();
    let built = run(crate::support::fangops(repo_root())
        .args(["build", "--profile", "dev", "--out"])
        .arg(out_dir.path()));
    assert_eq!(built.code, 0, "{built:?}");
    for function in ["producer", "sentiment"] {
        let zip = std::fs::File::open(out_dir.path().join(format!("{function}.zip"))).unwrap();
        let mut bootstrap = Vec::new();
        zip::ZipArchive::new(zip)
            .unwrap()
            .by_name("bootstrap")
            .unwrap()
            .read_to_end(&mut bootstrap)
            .unwrap();
        let binary = out_dir.path().join(function);
        std::fs::write(&binary, bootstrap).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = run(Command::new("python3")
            .arg(repo_root().join("bench/coldstart.py"))
            .arg(&binary)
            .arg("3"));
        assert_eq!(out.code, 0, "{function}: {out:?}");
        assert!(
            out.stdout
                .contains("exec to first Runtime API request median"),
            "{out:?}"
        );
    }
}

#[test]
fn measured_smoke() {
    let out = smoke("measured.sh", &[]);
    assert!(
        out.contains("fangops cost --measured       1 CloudWatch request(s)"),
        "{out}"
    );
}

#[test]
fn pr_smoke() {
    // It builds the Lambdas in a clone (the cold figure): one cargo at a time.
    let _lock = crate::support::build_lock();
    let out = smoke("pr.sh", &[]);
    assert!(
        out.contains("no compiler ran, 0 files in the target dir"),
        "{out}"
    );
    assert!(out.contains("cold (nothing cached):"), "{out}");
}
