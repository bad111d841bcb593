//! `fangops build`: builds the Lambda crates and packages each binary as `bootstrap`
//! in a zip for the `provided.al2023` runtime.
//!
//! The zips are reproducible: each function is built on its own (so its features are
//! unified with no other crate's), for an explicit glibc-pinned target, with the
//! toolchain `rust-toolchain.toml` pins, symbols stripped and the machine's paths
//! remapped; one zip entry with a fixed timestamp and mode. Unchanged inputs give
//! byte-identical zips on any machine, which is what lets a deploy reuse a zip by its
//! source fingerprint (`fingerprint`) and prod run the bytes dev ran.
//!
//! Every zip is checked before it leaves (`elf`): a Linux executable for the env's
//! architecture, needing no glibc newer than the runtime's.

pub mod elf;
pub mod fingerprint;

use std::io::{BufRead, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Arch;
pub use fingerprint::Recipe;

/// The Lambda crates and the binary each one builds.
pub const FUNCTIONS: [(&str, &str); 2] = [
    ("producer", "fang-producer"),
    ("sentiment", "fang-sentiment"),
];

/// The compiler and the machine paths a build runs with, as the command line found
/// them (`CARGO`, `CARGO_HOME`, `CARGO_TARGET_DIR`).
#[derive(Debug, Clone)]
pub struct Tools {
    /// The cargo to run: `$CARGO` when fangops itself runs under cargo, else `cargo`.
    pub cargo: PathBuf,
    /// Where cargo keeps registry sources: remapped, so their paths in panic messages
    /// do not differ between machines.
    pub cargo_home: Option<PathBuf>,
    /// The target dir, remapped for the same reason (generated sources live there).
    pub target_dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub root: PathBuf,
    pub arch: Arch,
    pub out: PathBuf,
    /// Cargo profile: `lambda` (release, optimized for size) for real artifacts; `dev`
    /// builds fast (tests use it).
    pub profile: String,
    pub tools: Tools,
    /// Build only these functions (None: all).
    pub only: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub function: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// The source fingerprint the zip was built from.
    pub fingerprint: String,
    /// The newest glibc the binary needs (None: static).
    pub glibc: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub arch: Arch,
    pub target: String,
    pub profile: String,
    pub toolchain: String,
    /// How: `cargo zigbuild` (glibc pinned) or a native `cargo build`.
    pub builder: String,
    pub artifacts: Vec<Artifact>,
}

pub fn target_triple(arch: Arch) -> &'static str {
    match arch {
        Arch::Arm64 => "aarch64-unknown-linux-gnu",
        Arch::X86_64 => "x86_64-unknown-linux-gnu",
    }
}

/// How a Lambda binary is built here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builder {
    /// `cargo zigbuild` for the glibc-pinned target: from any host.
    Zigbuild,
    /// Plain `cargo build`: only on Linux/glibc of the function's architecture, and
    /// checked against the runtime's glibc afterwards.
    Native,
}

/// The builder this machine uses for `arch`, found without running cargo:
/// cargo-zigbuild when it is on `PATH`, else native cargo where that makes a Lambda
/// binary. None: this machine cannot build for `arch`.
pub fn detect_builder(arch: Arch) -> Option<Builder> {
    let zigbuild = Command::new("cargo-zigbuild")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if zigbuild {
        Some(Builder::Zigbuild)
    } else if builds_natively(arch) {
        Some(Builder::Native)
    } else {
        None
    }
}

/// The recipe of a Lambda build for `arch`. The target names the builder: zigbuild's
/// carries the runtime's glibc (`aarch64-unknown-linux-gnu.2.34`), a native build's
/// does not, so that the two (different bytes) never stand in for each other in the
/// artifact index. A machine that cannot build looks up zigbuild's, what CI makes.
pub fn recipe(root: &Path, arch: Arch, profile: &str, builder: Option<Builder>) -> Result<Recipe> {
    Ok(Recipe {
        profile: profile.to_owned(),
        target: target_for(arch, builder),
        toolchain: fingerprint::pinned_toolchain(root)?,
    })
}

fn target_for(arch: Arch, builder: Option<Builder>) -> String {
    match builder {
        Some(Builder::Native) => target_triple(arch).to_owned(),
        Some(Builder::Zigbuild) | None => {
            format!("{}.{}", target_triple(arch), elf::RUNTIME_GLIBC)
        }
    }
}

/// The source fingerprint of each function, by function name.
pub fn fingerprints(root: &Path, recipe: &Recipe) -> Result<Vec<(String, String)>> {
    FUNCTIONS
        .iter()
        .map(|(function, package)| {
            fingerprint::fingerprint(root, package, recipe)
                .with_context(|| format!("fingerprinting the {function} function's sources"))
                .map(|f| ((*function).to_owned(), f))
        })
        .collect()
}

/// The architecture of this machine, when it is one Lambda runs.
pub fn host_arch() -> Option<Arch> {
    match std::env::consts::ARCH {
        "x86_64" => Some(Arch::X86_64),
        "aarch64" => Some(Arch::Arm64),
        _ => None,
    }
}

/// Whether this machine builds Lambda binaries for `arch` with plain `cargo build`:
/// Linux with glibc on the same architecture. Anywhere else (a Mac, Windows, the
/// other architecture) cargo would make a binary Lambda cannot start.
pub fn builds_natively(arch: Arch) -> bool {
    cfg!(all(target_os = "linux", target_env = "gnu")) && host_arch() == Some(arch)
}

fn rust_target_installed(triple: &str) -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == triple)
        })
        // No rustup: a toolchain installed another way; cargo will say if it lacks it.
        .unwrap_or(true)
}

/// The builder for `arch`, or a message saying what to install.
fn choose_builder(arch: Arch) -> Result<Builder> {
    let triple = target_triple(arch);
    match detect_builder(arch) {
        Some(Builder::Zigbuild) if !rust_target_installed(triple) => bail!(
            "the Rust target {triple} is not installed; install it with `rustup target add {triple}`"
        ),
        Some(builder) => Ok(builder),
        None => bail!(
            "this machine ({} {}) cannot build Lambda binaries for {arch} with plain cargo: install a cross linker with `pip install ziglang cargo-zigbuild` (or `pipx install cargo-zigbuild` and `pipx inject cargo-zigbuild ziglang`) and `rustup target add {triple}`",
            std::env::consts::OS,
            std::env::consts::ARCH,
        ),
    }
}

/// Credentials no compiler needs, removed from the Lambda builds' environment.
const BUILD_WITHOUT: [&str; 7] = [
    "GITHUB_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_RUNTIME_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// The machine paths a build remaps: where registry sources and generated code live.
fn remaps(tools: &Tools) -> Vec<(&Path, &'static str)> {
    [
        (&tools.cargo_home, "/cargo"),
        (&tools.target_dir, "/target"),
    ]
    .into_iter()
    .filter_map(|(from, to)| from.as_deref().map(|f| (f, to)))
    .collect()
}

/// The flags every Lambda build gets: no symbols or debug info (they hold the build
/// machine's paths, and Lambda needs neither), and registry and target-dir paths
/// remapped. Workspace crates are compiled from relative paths already.
fn rustflags(tools: &Tools) -> String {
    let mut flags = vec!["-Cstrip=symbols".to_owned()];
    for (from, to) in remaps(tools) {
        flags.push(format!("--remap-path-prefix={}={to}", from.display()));
    }
    // CARGO_ENCODED_RUSTFLAGS separates flags with 0x1f, so paths may hold spaces.
    flags.join("\x1f")
}

/// The same remapping for C code that crates compile (aws-lc-sys's `__FILE__`s), in the
/// target-specific variable cc-rs reads.
fn cflags(tools: &Tools) -> String {
    remaps(tools)
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn build(req: &BuildRequest) -> Result<BuildReport> {
    let builder = choose_builder(req.arch)?;
    let zigbuild = builder == Builder::Zigbuild;
    // Without a pinned toolchain the zips still build; they are only never reused.
    let recipe =
        recipe(&req.root, req.arch, &req.profile, Some(builder)).unwrap_or_else(|_| Recipe {
            profile: req.profile.clone(),
            target: target_for(req.arch, Some(builder)),
            toolchain: "unpinned".to_owned(),
        });
    // A manifest fangops cannot read for the fingerprint still builds; the zips are only
    // never indexed (`resolve` says so before it builds).
    let fingerprints = fingerprints(&req.root, &recipe).unwrap_or_else(|e| {
        tracing::warn!("{e:#}");
        FUNCTIONS
            .iter()
            .map(|(f, _)| ((*f).to_owned(), String::new()))
            .collect()
    });
    std::fs::create_dir_all(&req.out).with_context(|| format!("creating {}", req.out.display()))?;
    let mut artifacts = Vec::new();
    for ((function, package), (_, fingerprint)) in FUNCTIONS.iter().zip(&fingerprints) {
        if req
            .only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|o| o == function))
        {
            continue;
        }
        let exe = cargo_build(req, package, zigbuild, &recipe)?;
        let binary = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
        let found = elf::check(&binary, req.arch)
            .with_context(|| format!("checking the {function} binary {}", exe.display()))?;
        let zip = package_bootstrap(&binary)?;
        let path = req.out.join(format!("{function}.zip"));
        write_atomically(&path, &zip)?;
        artifacts.push(Artifact {
            function: (*function).to_owned(),
            path,
            size: zip.len() as u64,
            sha256: sha256_hex(&zip),
            fingerprint: fingerprint.clone(),
            glibc: found.glibc.map(|v| v.to_string()),
        });
    }
    Ok(BuildReport {
        arch: req.arch,
        target: recipe.target.clone(),
        profile: req.profile.clone(),
        toolchain: recipe.toolchain,
        builder: if zigbuild {
            "cargo zigbuild"
        } else {
            "cargo build"
        }
        .to_owned(),
        artifacts,
    })
}

/// Builds one package's binary; returns the executable's path. Each function is built
/// alone, so that its dependencies' features are its own and not the union with the
/// other function's: its bytes depend on its fingerprint's inputs only.
fn cargo_build(
    req: &BuildRequest,
    package: &str,
    zigbuild: bool,
    recipe: &Recipe,
) -> Result<PathBuf> {
    let mut cmd = cargo_command(req, package, zigbuild, recipe);
    tracing::info!(package, target = %recipe.target, profile = %req.profile, "building");
    let mut child = cmd
        .spawn()
        .with_context(|| format!("running {}", req.tools.cargo.display()))?;
    let stdout = child.stdout.take().context("no cargo stdout")?;
    let mut executable = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact"
            && let Some(exe) = msg["executable"].as_str()
        {
            executable = Some(PathBuf::from(exe));
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("building {package} failed ({status})");
    }
    executable.with_context(|| format!("cargo built no {package} binary"))
}

/// The cargo (or cargo-zigbuild) command that builds one package for Lambda.
fn cargo_command(req: &BuildRequest, package: &str, zigbuild: bool, recipe: &Recipe) -> Command {
    let mut cmd = Command::new(&req.tools.cargo);
    cmd.current_dir(&req.root)
        .arg(if zigbuild { "zigbuild" } else { "build" })
        .arg("--manifest-path")
        .arg(req.root.join("Cargo.toml"))
        .args([
            "--locked",
            "--message-format",
            "json-render-diagnostics",
            "--profile",
            &req.profile,
            "--target",
            // zigbuild takes the glibc suffix and gives cargo the plain triple.
            recipe.target.as_str(),
            "-p",
            package,
            "--bin",
            package,
        ])
        // With --target, these flags reach the Lambda's code only, not build scripts,
        // which stay shared with the workspace's own builds.
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags(&req.tools))
        .env_remove("RUSTFLAGS")
        // The bytes depend on the sources and the recipe only: not on a lint wrapper
        // the caller's own build uses (`make test` runs clippy-driver as one).
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .env(
            format!("CFLAGS_{}", target_triple(req.arch).replace('-', "_")),
            cflags(&req.tools),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Build scripts and proc macros of any dependency run with this environment: they
    // get no token that writes the repository, asks GitHub for an OIDC token, or acts
    // in AWS (a pull request's preview builds code the pull request chose).
    for secret in BUILD_WITHOUT {
        cmd.env_remove(secret);
    }
    cmd
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
        let mut out = format!(
            "built for {} ({} profile, Rust {}, {})\n",
            self.target, self.profile, self.toolchain, self.builder
        );
        for a in &self.artifacts {
            out += &format!(
                "  {:<10} {:>6.2} MB  sha256 {}  {}  glibc {}\n",
                a.function,
                a.size as f64 / 1_048_576.0,
                a.sha256,
                a.path.display(),
                a.glibc.as_deref().unwrap_or("none (static)"),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pull request's preview builds code it chose: its build scripts must not see a
    /// token (regression: they inherited GITHUB_TOKEN and the OIDC request variables);
    /// and `make test`'s clippy-driver must not reach the zips' bytes.
    #[test]
    fn the_lambda_build_runs_without_tokens_or_a_lint_wrapper() {
        let req = BuildRequest {
            root: PathBuf::from("/repo"),
            arch: Arch::Arm64,
            out: PathBuf::from("/out"),
            profile: "lambda".into(),
            tools: Tools {
                cargo: PathBuf::from("cargo"),
                cargo_home: None,
                target_dir: None,
            },
            only: None,
        };
        let recipe = Recipe {
            profile: "lambda".into(),
            target: "aarch64-unknown-linux-gnu.2.34".into(),
            toolchain: "1.95.0".into(),
        };
        let cmd = cargo_command(&req, "fang-producer", true, &recipe);
        let removed: Vec<String> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        for var in
            BUILD_WITHOUT
                .iter()
                .chain(&["RUSTFLAGS", "RUSTC_WORKSPACE_WRAPPER", "CLIPPY_ARGS"])
        {
            assert!(removed.iter().any(|r| r == var), "{var} reaches the build");
        }
    }

    #[test]
    fn build_report_terminal_snapshot() {
        let report = BuildReport {
            arch: Arch::Arm64,
            target: "aarch64-unknown-linux-gnu.2.34".into(),
            profile: "lambda".into(),
            toolchain: "1.95.0".into(),
            builder: "cargo zigbuild".into(),
            artifacts: vec![Artifact {
                function: "producer".into(),
                path: "dist/producer.zip".into(),
                size: 4_026_531,
                sha256: "ab".repeat(32),
                fingerprint: "cd".repeat(32),
                glibc: Some("2.34".into()),
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
