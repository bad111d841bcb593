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

/// The ELF machine of a zip's `bootstrap` (e_machine: 0x3e x86-64, 0xb7 AArch64).
fn elf_machine(zip_path: &std::path::Path) -> u16 {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let mut head = [0u8; 20];
    zip.by_name("bootstrap")
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    assert_eq!(&head[..4], b"\x7fELF");
    u16::from_le_bytes([head[18], head[19]])
}

#[test]
fn cross_build_makes_the_other_machine_or_says_how_to_install_it() {
    // This machine builds natively for its own architecture; ask for the other one.
    let (other, machine) = if cfg!(target_arch = "x86_64") {
        ("arm64", 0xb7)
    } else {
        ("x86_64", 0x3e)
    };
    let out_dir = tempfile::tempdir().unwrap();
    let out = run(fangops(repo_root())
        .args(["build", "--profile", "dev", "--arch", other, "--out"])
        .arg(out_dir.path()));
    if out.code == 0 {
        // A machine with the cross toolchain builds: the binaries are for the other one.
        for function in ["producer", "sentiment"] {
            let zip = out_dir.path().join(format!("{function}.zip"));
            assert_eq!(elf_machine(&zip), machine, "{function} for {other}");
        }
        return;
    }
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("rustup target add") || out.stderr.contains("cargo-zigbuild"),
        "{}",
        out.stderr
    );
    assert!(
        std::fs::read_dir(out_dir.path()).unwrap().next().is_none(),
        "a refused build writes nothing"
    );
}
