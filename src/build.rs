//! `fangops build`: builds the Lambda crates and packages each binary as `bootstrap`
//! in a zip for the `provided.al2023` runtime.
//!
//! The zips are deterministic: one entry, a fixed timestamp and mode, the same
//! compression, so unchanged inputs give byte-identical zips and the deploy can skip
//! uploading an artifact that is already there (artifacts are named by their hash).

use std::io::{BufRead, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Arch;

/// The Lambda crates and the binary each one builds.
pub const FUNCTIONS: [(&str, &str); 2] = [
    ("producer", "fang-producer"),
    ("sentiment", "fang-sentiment"),
];

#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub root: PathBuf,
    pub arch: Arch,
    pub out: PathBuf,
    /// Cargo profile: `lambda` (release, optimized for size) for real artifacts; `dev`
    /// builds fast (tests use it).
    pub profile: String,
    /// The cargo to run: `$CARGO` when fangops itself runs under cargo, else `cargo`.
    pub cargo: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub function: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub arch: Arch,
    pub target: String,
    pub profile: String,
    pub artifacts: Vec<Artifact>,
}

pub fn target_triple(arch: Arch) -> &'static str {
    match arch {
        Arch::Arm64 => "aarch64-unknown-linux-gnu",
        Arch::X86_64 => "x86_64-unknown-linux-gnu",
    }
}

/// The architecture of this machine, when it is one Lambda runs.
pub fn host_arch() -> Option<Arch> {
    match std::env::consts::ARCH {
        "x86_64" => Some(Arch::X86_64),
        "aarch64" => Some(Arch::Arm64),
        _ => None,
    }
}

/// Cross builds need the target's standard library and a linker for it; cargo-zigbuild
/// (with the `ziglang` package from PyPI) provides the latter on any Linux host.
fn check_cross_toolchain(cargo: &Path, triple: &str) -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == triple)
        })
        .unwrap_or(false);
    if !installed {
        bail!(
            "the Rust target {triple} is not installed; install it with `rustup target add {triple}`, and a linker for it with `pip install ziglang` and `cargo install cargo-zigbuild` (or build with --arch matching this machine)"
        );
    }
    let zigbuild = Command::new(cargo)
        .args(["zigbuild", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !zigbuild {
        bail!(
            "cross-compiling to {triple} needs a linker for it: install one with `pip install ziglang` and `cargo install cargo-zigbuild`"
        );
    }
    Ok(())
}

pub fn build(req: &BuildRequest) -> Result<BuildReport> {
    let triple = target_triple(req.arch);
    let native = host_arch() == Some(req.arch);
    if !native {
        check_cross_toolchain(&req.cargo, triple)?;
    }
    let mut cmd = Command::new(&req.cargo);
    cmd.arg(if native { "build" } else { "zigbuild" })
        .arg("--manifest-path")
        .arg(req.root.join("Cargo.toml"))
        .args([
            "--locked",
            "--message-format",
            "json-render-diagnostics",
            "--profile",
            &req.profile,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if !native {
        cmd.args(["--target", triple]);
    }
    for (_, package) in FUNCTIONS {
        cmd.args(["-p", package, "--bin", package]);
    }
    tracing::info!(target = triple, profile = %req.profile, "building the Lambda functions");
    let mut child = cmd.spawn().context("running cargo")?;
    let stdout = child.stdout.take().context("no cargo stdout")?;
    let mut executables = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact"
            && let Some(exe) = msg["executable"].as_str()
        {
            executables.push(PathBuf::from(exe));
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("building the Lambda functions failed ({status})");
    }

    std::fs::create_dir_all(&req.out).with_context(|| format!("creating {}", req.out.display()))?;
    let mut artifacts = Vec::new();
    for (function, package) in FUNCTIONS {
        let exe = executables
            .iter()
            .find(|p| p.file_name().is_some_and(|n| n == package))
            .with_context(|| format!("cargo built no {package} binary"))?;
        let binary = std::fs::read(exe).with_context(|| format!("reading {}", exe.display()))?;
        let zip = package_bootstrap(&binary)?;
        let path = req.out.join(format!("{function}.zip"));
        write_atomically(&path, &zip)?;
        artifacts.push(Artifact {
            function: function.to_owned(),
            path,
            size: zip.len() as u64,
            sha256: sha256_hex(&zip),
        });
    }
    Ok(BuildReport {
        arch: req.arch,
        target: triple.to_owned(),
        profile: req.profile.clone(),
        artifacts,
    })
}

/// A zip holding `binary` as `bootstrap`, executable, with a fixed timestamp.
pub fn package_bootstrap(binary: &[u8]) -> Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default());
    zip.start_file("bootstrap", options)
        .context("starting the zip entry")?;
    zip.write_all(binary).context("compressing the binary")?;
    Ok(zip.finish().context("finishing the zip")?.into_inner())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    fang_shared::hex(&Sha256::digest(bytes))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("zip.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

impl BuildReport {
    pub fn render(&self) -> String {
        let mut out = format!("built for {} ({} profile)\n", self.target, self.profile);
        for a in &self.artifacts {
            out += &format!(
                "  {:<10} {:>6.2} MB  sha256 {}  {}\n",
                a.function,
                a.size as f64 / 1_048_576.0,
                a.sha256,
                a.path.display()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_report_terminal_snapshot() {
        let report = BuildReport {
            arch: Arch::Arm64,
            target: "aarch64-unknown-linux-gnu".into(),
            profile: "lambda".into(),
            artifacts: vec![Artifact {
                function: "producer".into(),
                path: "dist/producer.zip".into(),
                size: 4_026_531,
                sha256: "ab".repeat(32),
            }],
        };
        insta::assert_snapshot!(report.render());
    }

    #[test]
    fn packaging_is_deterministic() {
        let a = package_bootstrap(b"\x7fELF fake binary").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = package_bootstrap(b"\x7fELF fake binary").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, package_bootstrap(b"\x7fELF other binary").unwrap());
    }

    #[test]
    fn zip_holds_an_executable_bootstrap() {
        let bytes = package_bootstrap(b"binary").unwrap();
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(zip.len(), 1);
        let entry = zip.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    }
}
