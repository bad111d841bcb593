//! `fangops build`: deterministic `bootstrap` zips. Built with the dev profile here, so
//! the test reuses the debug build instead of compiling everything again in release.

use std::io::Read;

use crate::support::{build_lock, fangops, repo_root, run, source_copy};

fn build_in(root: &std::path::Path, out: &std::path::Path) -> serde_json::Value {
    let run = run(fangops(root)
        .args(["build", "--profile", "dev", "--json", "--out"])
        .arg(out));
    assert_eq!(run.code, 0, "{run:?}");
    run.json()
}

fn build(out: &std::path::Path) -> serde_json::Value {
    build_in(repo_root(), out)
}

#[test]
fn rebuild_gives_byte_identical_zips() {
    let _lock = build_lock();
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
    // Checked for Lambda's runtime: no glibc newer than provided.al2023's.
    for a in first["artifacts"].as_array().unwrap() {
        let glibc = a["glibc"].as_str().unwrap_or("0.0");
        let minor: u32 = glibc.split('.').nth(1).unwrap().parse().unwrap();
        assert!(minor <= 34, "{a}");
    }
}

/// The same commit, checked out at another path, builds the same bytes: nothing of
/// the machine's paths reaches the binaries (workspace crates compile from relative
/// paths; the registry and target dir are remapped; symbols are stripped).
#[test]
// The machine paths it looks for are this process's own.
#[allow(clippy::disallowed_methods)]
fn two_clones_at_different_paths_build_byte_identical_zips() {
    let _lock = build_lock();
    let copy = source_copy();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let here = build(a.path());
    let there = build_in(copy.path(), b.path());
    for (x, y) in here["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(there["artifacts"].as_array().unwrap())
    {
        assert_eq!(x["fingerprint"], y["fingerprint"], "{x} {y}");
        assert_eq!(
            x["sha256"], y["sha256"],
            "{} differs between two paths",
            x["function"]
        );
    }
    for function in ["producer", "sentiment"] {
        let za = std::fs::read(a.path().join(format!("{function}.zip"))).unwrap();
        let zb = std::fs::read(b.path().join(format!("{function}.zip"))).unwrap();
        assert!(za == zb, "{function}.zip differs");
        // No machine path is left in the binary: neither the checkout's, nor the cargo
        // home's (registry sources, remapped), nor the target dir's (generated code).
        let mut bootstrap = Vec::new();
        zip::ZipArchive::new(std::io::Cursor::new(za))
            .unwrap()
            .by_name("bootstrap")
            .unwrap()
            .read_to_end(&mut bootstrap)
            .unwrap();
        let text = String::from_utf8_lossy(&bootstrap).into_owned();
        assert!(
            text.contains("/cargo/registry/"),
            "registry paths are remapped, not removed"
        );
        let mut machine_paths = vec![
            repo_root().display().to_string(),
            copy.path().display().to_string(),
        ];
        if let Some(home) = std::env::var_os("CARGO_HOME").or_else(|| {
            std::env::var_os("HOME")
                .map(|h| std::path::Path::new(&h).join(".cargo").into_os_string())
        }) {
            machine_paths.push(home.to_string_lossy().into_owned());
        }
        if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
            machine_paths.push(target.to_string_lossy().into_owned());
        }
        for path in machine_paths {
            assert!(
                !text.contains(&format!("{path}/")),
                "{function} holds {path}"
            );
        }
    }
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
    let _lock = build_lock();
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

/// The two functions are built alone (each one's bytes depend on its own inputs), so
/// a crate both build is compiled once only when both turn on the same features of it.
/// The producer declares the features the sentiment function's dependencies turn on
/// (`lambdas/producer/Cargo.toml`); this fails when a dependency change makes them
/// differ again, which would compile the AWS SDK twice in every cold `fangops build`.
#[test]
fn both_functions_build_their_shared_crates_with_the_same_features() {
    let features = |package: &str| -> std::collections::BTreeMap<String, String> {
        let out = std::process::Command::new(env!("CARGO"))
            .args([
                "tree",
                "--locked",
                "--offline",
                "-e",
                "normal",
                "--prefix",
                "none",
            ])
            .args([
                "-f",
                "{p} {f}",
                "--target",
                "x86_64-unknown-linux-gnu",
                "-p",
                package,
            ])
            .current_dir(repo_root())
            .output()
            .expect("running cargo tree");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| {
                let mut parts = l.trim_end_matches(" (*)").splitn(3, ' ');
                let (name, version) = (parts.next()?, parts.next()?);
                let features = parts.next().unwrap_or("");
                // Workspace crates (with a path) and proc macros (built for the host
                // alike) are not the question.
                (!features.starts_with('('))
                    .then(|| (format!("{name} {version}"), features.to_owned()))
            })
            .collect()
    };
    let (producer, sentiment) = (features("fang-producer"), features("fang-sentiment"));
    let differ: Vec<String> = producer
        .iter()
        .filter_map(|(krate, f)| {
            let other = sentiment.get(krate)?;
            (other != f).then(|| format!("{krate}: producer [{f}], sentiment [{other}]"))
        })
        .collect();
    assert!(producer.len() > 100 && sentiment.len() > 100);
    assert!(differ.is_empty(), "features differ:\n{}", differ.join("\n"));
}
