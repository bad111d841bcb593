//! `fangops build`: deterministic `bootstrap` zips. Built with the dev profile here, so
//! the test reuses the debug build instead of compiling everything again in release.

use std::io::Read;

use crate::support::{fangops, repo_root, run};

fn build(out: &std::path::Path) -> serde_json::Value {
    let run = run(fangops(repo_root())
        .args(["build", "--profile", "dev", "--json", "--out"])
        .arg(out));
    assert_eq!(run.code, 0, "{run:?}");
    run.json()
}

#[test]
fn rebuild_gives_byte_identical_zips() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = build(a.path());
    let second = build(b.path());
    for function in ["producer", "sentiment"] {
        let za = std::fs::read(a.path().join(format!("{function}.zip"))).unwrap();
        let zb = std::fs::read(b.path().join(format!("{function}.zip"))).unwrap();
        assert!(za == zb, "{function}.zip differs between two builds");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(za)).unwrap();
        assert_eq!(zip.len(), 1);
        let mut entry = zip.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut head = [0u8; 4];
        entry.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"\x7fELF", "bootstrap is an executable");
    }
    // The reports agree on everything but the output folder.
    for (x, y) in first["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(second["artifacts"].as_array().unwrap())
    {
        assert_eq!(
            (&x["function"], &x["size"], &x["sha256"]),
            (&y["function"], &y["size"], &y["sha256"])
        );
    }
    assert_eq!(first["artifacts"][0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn missing_cross_target_says_how_to_install_it() {
    // This machine builds natively for its own architecture; ask for the other one.
    let other = if cfg!(target_arch = "x86_64") {
        "arm64"
    } else {
        "x86_64"
    };
    let out = run(fangops(repo_root()).args([
        "build",
        "--arch",
        other,
        "--out",
        "/nonexistent-fangops-out",
    ]));
    if out.code == 0 {
        // A machine that has the cross toolchain installed builds; nothing to check.
        return;
    }
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("rustup target add") || out.stderr.contains("cargo-zigbuild"),
        "{}",
        out.stderr
    );
}
