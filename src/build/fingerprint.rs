//! The source fingerprint of a Lambda: a hash of everything that decides its bytes,
//! computed without a compiler, so that a deploy can find a zip already built from the
//! same inputs and run no cargo at all.
//!
//! The inputs, for one function's crate:
//! - every file of the crate and of the workspace crates it depends on (through
//!   `Cargo.lock`), by path relative to the workspace root;
//! - the `Cargo.lock` entries of its whole dependency closure (name, version, source,
//!   checksum), so a bump of a dependency only fangops uses changes no Lambda;
//! - the workspace sections of the root `Cargo.toml` (dependency specs with their
//!   features, lints, profiles), `.cargo/config.toml` and `rust-toolchain.toml`;
//! - the profile, the target, the toolchain (the channel `rust-toolchain.toml` pins)
//!   and the version of fangops' build recipe (the rustc flags, the zip layout).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// Bumped whenever fangops changes how it builds or packages (the zip layout, the
/// rustc flags), so that no index entry made the old way is taken for the new.
const RECIPE_VERSION: &str = "fangops-lambda-recipe-1";

/// What a build is asked to make, besides the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    pub profile: String,
    /// The target as the builder takes it, glibc pin included
    /// (`aarch64-unknown-linux-gnu.2.34`).
    pub target: String,
    /// The toolchain: the channel `rust-toolchain.toml` pins.
    pub toolchain: String,
}

/// The pinned toolchain channel of the workspace at `root`, from `rust-toolchain.toml`
/// (or the legacy `rust-toolchain`). Only a pinned version counts: `stable` moves, so
/// two builds of one commit under it need not match, and nothing is reused.
pub fn pinned_toolchain(root: &Path) -> Result<String> {
    for name in ["rust-toolchain.toml", "rust-toolchain"] {
        let path = root.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let channel = text
            .lines()
            .map(str::trim)
            .find_map(|l| {
                let rest = l.strip_prefix("channel")?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_owned())
            })
            .or_else(|| (name == "rust-toolchain").then(|| text.trim().to_owned()))
            .with_context(|| format!("{} names no channel", path.display()))?;
        let pinned = channel.starts_with(|c: char| c.is_ascii_digit())
            || channel.starts_with("nightly-")
            || channel.starts_with("beta-");
        if !pinned {
            bail!(
                "{}: channel {channel:?} is not a pinned version (such as \"1.95.0\"), so two builds of one commit need not match; pin one to reuse built artifacts",
                path.display()
            );
        }
        return Ok(channel);
    }
    bail!(
        "no rust-toolchain.toml in {}: pin the toolchain there to reuse built artifacts",
        root.display()
    )
}

/// One `[[package]]` of `Cargo.lock`.
#[derive(Debug, Default, Clone)]
struct LockedPackage {
    name: String,
    version: String,
    /// None: a path (workspace) package.
    source: Option<String>,
    checksum: Option<String>,
    dependencies: Vec<String>,
}

fn quoted(value: &str) -> String {
    value.trim().trim_matches('"').to_owned()
}

/// Reads the package entries of a `Cargo.lock` (version 3 or 4: one key per line, and
/// `dependencies` as an array of strings, one per line).
fn parse_lock(text: &str) -> Result<Vec<LockedPackage>> {
    let mut packages = Vec::new();
    let mut current: Option<LockedPackage> = None;
    let mut in_deps = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line == "[[package]]" {
            packages.extend(current.take());
            current = Some(LockedPackage::default());
            in_deps = false;
            continue;
        }
        if line.starts_with('[') && !in_deps {
            // Another table (`[metadata]`, `[[patch.unused]]`): not a package.
            packages.extend(current.take());
            continue;
        }
        let Some(p) = current.as_mut() else {
            continue;
        };
        if in_deps {
            if line == "]" {
                in_deps = false;
            } else {
                p.dependencies.push(quoted(line.trim_end_matches(',')));
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key.trim() {
            "name" => p.name = quoted(value),
            "version" => p.version = quoted(value),
            "source" => p.source = Some(quoted(value)),
            "checksum" => p.checksum = Some(quoted(value)),
            "dependencies" => {
                let value = value.trim();
                if value == "[" {
                    in_deps = true;
                } else if let Some(inner) =
                    value.strip_prefix('[').and_then(|v| v.strip_suffix(']'))
                {
                    p.dependencies
                        .extend(inner.split(',').map(quoted).filter(|d| !d.is_empty()));
                } else {
                    bail!("Cargo.lock line {}: unexpected dependencies value", i + 1);
                }
            }
            _ => {}
        }
    }
    packages.extend(current);
    Ok(packages)
}

/// A lock file's packages, and how its dependency strings (`name`, `name version`,
/// `name version (source)`) resolve to them.
struct Lock {
    packages: Vec<LockedPackage>,
}

impl Lock {
    fn find(&self, spec: &str) -> Result<usize> {
        let mut parts = spec.split_whitespace();
        let name = parts.next().unwrap_or_default();
        let version = parts.next();
        let found: Vec<usize> = self
            .packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.name == name && version.is_none_or(|v| p.version == v))
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [one] => Ok(*one),
            [] => bail!("Cargo.lock has no package {spec:?}"),
            // `name version (source)`: the same name and version from two sources.
            many => many
                .iter()
                .copied()
                .find(|&i| {
                    self.packages[i]
                        .source
                        .as_deref()
                        .is_some_and(|s| spec.contains(s))
                })
                .with_context(|| format!("Cargo.lock: {spec:?} is ambiguous")),
        }
    }

    /// The dependency closure of one package, itself included, in a stable order.
    fn closure(&self, name: &str) -> Result<BTreeSet<usize>> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![self.find(name)?];
        while let Some(i) = stack.pop() {
            if seen.insert(i) {
                for d in &self.packages[i].dependencies {
                    stack.push(self.find(d)?);
                }
            }
        }
        Ok(seen)
    }
}

/// The workspace members by package name, read from the root manifest's `members`
/// and each member's `name`.
fn member_dirs(root: &Path, manifest: &str) -> Result<BTreeMap<String, PathBuf>> {
    // `members = [ ... ]`, on one line or several.
    let start = manifest
        .lines()
        .position(|l| {
            l.trim()
                .strip_prefix("members")
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .context("the root Cargo.toml lists no workspace members")?;
    let mut array = String::new();
    for line in manifest.lines().skip(start) {
        let line = line.split('#').next().unwrap_or_default();
        array.push_str(line);
        if line.contains(']') {
            break;
        }
    }
    let members = array
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(inside, _)| inside)
        .context("the root Cargo.toml's workspace members are not an array")?;
    if members.contains('*') {
        bail!("workspace members given by glob are not supported for fingerprints; list them");
    }
    let mut dirs = BTreeMap::new();
    for member in members.split(',').map(quoted).filter(|m| !m.is_empty()) {
        let dir = root.join(&member);
        let manifest_path = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        let name = text
            .lines()
            .skip_while(|l| l.trim() != "[package]")
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name")?
                    .trim_start()
                    .strip_prefix('=')
            })
            .map(quoted)
            .with_context(|| format!("{} has no package name", manifest_path.display()))?;
        dirs.insert(name, PathBuf::from(member));
    }
    Ok(dirs)
}

/// The parts of the root manifest that shape every member's build: the `[workspace…]`,
/// `[profile…]`, `[patch…]` and `[replace]` tables. The root package's own dependencies and targets are left
/// out: they are fangops', not the Lambdas'.
fn workspace_sections(manifest: &str) -> String {
    let mut keep = false;
    let mut out = String::new();
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            let table = t.trim_start_matches('[');
            keep = ["workspace", "profile", "patch", "replace"]
                .iter()
                .any(|t| table.starts_with(t));
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every file under `dir` (relative to `root`), skipping build output and dot files,
/// sorted so that the walk order never changes the hash.
fn files_under(root: &Path, crate_dir: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let abs = root.join(dir);
    let entries = std::fs::read_dir(&abs).with_context(|| format!("listing {}", abs.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", abs.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Build output sits at a crate's root; a `target` module deeper down is source.
        if name.starts_with('.') || (name == "target" && dir == crate_dir) {
            continue;
        }
        let rel = dir.join(&*name);
        let kind = entry
            .file_type()
            .with_context(|| format!("reading {}", rel.display()))?;
        if kind.is_dir() {
            files_under(root, crate_dir, &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

fn relative_display(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The fingerprint of `package` (a workspace member) built with `recipe`. The rustc
/// flags fangops passes hold machine paths, so they count through `RECIPE_VERSION`.
pub fn fingerprint(root: &Path, package: &str, recipe: &Recipe) -> Result<String> {
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let lock_path = root.join("Cargo.lock");
    let lock_text = std::fs::read_to_string(&lock_path)
        .with_context(|| format!("reading {}", lock_path.display()))?;
    let lock = Lock {
        packages: parse_lock(&lock_text).context("reading Cargo.lock")?,
    };
    let members = member_dirs(root, &manifest)?;

    let mut h = Sha256::new();
    let mut line = |s: String| {
        h.update(s.as_bytes());
        h.update(b"\n");
    };
    line(format!("recipe {RECIPE_VERSION}"));
    line(format!("package {package}"));
    line(format!("profile {}", recipe.profile));
    line(format!("target {}", recipe.target));
    line(format!("toolchain {}", recipe.toolchain));
    line(format!(
        "workspace {}",
        super::sha256_hex(workspace_sections(&manifest).as_bytes())
    ));
    for extra in [".cargo/config.toml", "rust-toolchain.toml"] {
        if let Ok(bytes) = std::fs::read(root.join(extra)) {
            line(format!("file {extra} {}", super::sha256_hex(&bytes)));
        }
    }
    let mut dirs = Vec::new();
    for i in lock.closure(package)? {
        let p = &lock.packages[i];
        line(format!(
            "lock {} {} {} {}",
            p.name,
            p.version,
            p.source.as_deref().unwrap_or("path"),
            p.checksum.as_deref().unwrap_or("-")
        ));
        if p.source.is_none() {
            let dir = members.get(&p.name).with_context(|| {
                format!(
                    "{} is a path dependency outside the workspace members",
                    p.name
                )
            })?;
            dirs.push(dir.clone());
        }
    }
    let mut files = Vec::new();
    for dir in &dirs {
        files_under(root, dir, dir, &mut files)?;
    }
    files.sort();
    for f in files {
        let bytes =
            std::fs::read(root.join(&f)).with_context(|| format!("reading {}", f.display()))?;
        line(format!(
            "file {} {}",
            relative_display(&f),
            super::sha256_hex(&bytes)
        ));
    }
    Ok(fang_shared::hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "fang-producer"
version = "0.1.0"
dependencies = [
 "fang-shared",
 "serde",
]

[[package]]
name = "fang-sentiment"
version = "0.1.0"
dependencies = [
 "fang-shared",
 "url 2.5.0",
]

[[package]]
name = "fang-shared"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "fangops"
version = "0.1.0"
dependencies = [
 "fang-producer",
 "clap",
]

[[package]]
name = "serde"
version = "1.0.200"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "aaaa"

[[package]]
name = "url"
version = "2.5.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "bbbb"

[[package]]
name = "clap"
version = "4.5.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "cccc"
"#;

    const MANIFEST: &str = r#"[workspace]
members = [".", "lambdas/shared", "lambdas/producer", "lambdas/sentiment"]

[workspace.dependencies]
serde = "1"

[package]
name = "fangops"

[dependencies]
clap = "4"

[profile.lambda]
inherits = "release"
"#;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(r, "Cargo.toml", MANIFEST);
        write(r, "Cargo.lock", LOCK);
        write(
            r,
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"1.95.0\"\n",
        );
        write(r, "src/main.rs", "fn main() {}\n");
        for (dir, name) in [
            ("lambdas/shared", "fang-shared"),
            ("lambdas/producer", "fang-producer"),
            ("lambdas/sentiment", "fang-sentiment"),
        ] {
            write(
                r,
                &format!("{dir}/Cargo.toml"),
                &format!("[package]\nname = \"{name}\"\n"),
            );
            write(r, &format!("{dir}/src/lib.rs"), "// one\n");
        }
        dir
    }

    fn recipe() -> Recipe {
        Recipe {
            profile: "lambda".into(),
            target: "aarch64-unknown-linux-gnu.2.34".into(),
            toolchain: "1.95.0".into(),
        }
    }

    fn both(root: &Path) -> (String, String) {
        (
            fingerprint(root, "fang-producer", &recipe()).unwrap(),
            fingerprint(root, "fang-sentiment", &recipe()).unwrap(),
        )
    }

    #[test]
    fn a_changed_lambda_source_changes_only_that_lambda() {
        let ws = workspace();
        let (producer, sentiment) = both(ws.path());
        assert_ne!(producer, sentiment);
        write(ws.path(), "lambdas/sentiment/src/lib.rs", "// two\n");
        let (p2, s2) = both(ws.path());
        assert_eq!(
            p2, producer,
            "the producer does not depend on the sentiment crate"
        );
        assert_ne!(s2, sentiment);
        // A shared crate changes both; fangops' own sources and dependencies neither.
        write(ws.path(), "src/main.rs", "fn main() { println!(); }\n");
        write(
            ws.path(),
            "Cargo.toml",
            &MANIFEST.replace("clap = \"4\"", "clap = \"4.5\""),
        );
        assert_eq!(both(ws.path()), (p2.clone(), s2.clone()));
        write(ws.path(), "lambdas/shared/src/lib.rs", "// changed\n");
        let (p3, s3) = both(ws.path());
        assert!(p3 != p2 && s3 != s2);
    }

    #[test]
    fn the_recipe_and_the_lock_count() {
        let ws = workspace();
        let base = fingerprint(ws.path(), "fang-producer", &recipe()).unwrap();
        let other = |r: Recipe| fingerprint(ws.path(), "fang-producer", &r).unwrap();
        assert_ne!(
            other(Recipe {
                profile: "dev".into(),
                ..recipe()
            }),
            base
        );
        assert_ne!(
            other(Recipe {
                target: "x86_64-unknown-linux-gnu.2.34".into(),
                ..recipe()
            }),
            base
        );
        assert_ne!(
            other(Recipe {
                toolchain: "1.96.0".into(),
                ..recipe()
            }),
            base
        );
        // A dependency of the producer bumps its fingerprint; one of the sentiment
        // crate's (url) does not.
        write(ws.path(), "Cargo.lock", &LOCK.replace("aaaa", "aaab"));
        assert_ne!(other(recipe()), base);
        write(ws.path(), "Cargo.lock", &LOCK.replace("bbbb", "bbbc"));
        assert_eq!(other(recipe()), base);
        // Profiles live in the root manifest.
        write(
            ws.path(),
            "Cargo.toml",
            &format!("{MANIFEST}opt-level = \"s\"\n"),
        );
        assert_ne!(other(recipe()), base);
    }

    #[test]
    fn build_output_and_dot_files_are_not_sources() {
        let ws = workspace();
        let base = both(ws.path());
        write(ws.path(), "lambdas/producer/target/debug/x", "out");
        write(ws.path(), "lambdas/producer/.swp", "editor");
        assert_eq!(both(ws.path()), base);
        write(ws.path(), "lambdas/producer/src/new.rs", "");
        let with_new = both(ws.path());
        assert_ne!(with_new.0, base.0);
        // A module named `target` is source.
        write(ws.path(), "lambdas/producer/src/target/mod.rs", "");
        assert_ne!(both(ws.path()).0, with_new.0);
    }

    #[test]
    fn members_may_span_lines() {
        let ws = workspace();
        let base = both(ws.path());
        write(
            ws.path(),
            "Cargo.toml",
            &MANIFEST.replace(
                r#"members = [".", "lambdas/shared", "lambdas/producer", "lambdas/sentiment"]"#,
                "members = [\n  \".\",\n  \"lambdas/shared\", # the shared crate\n  \"lambdas/producer\",\n  \"lambdas/sentiment\",\n]",
            ),
        );
        // The manifest's text changed, so the fingerprints do, but they still compute.
        let (p, s) = both(ws.path());
        assert!(p != base.0 && s != base.1);
    }

    #[test]
    fn only_a_pinned_toolchain_fingerprints() {
        let ws = workspace();
        assert_eq!(pinned_toolchain(ws.path()).unwrap(), "1.95.0");
        write(
            ws.path(),
            "rust-toolchain.toml",
            "[toolchain]\nchannel = \"stable\"\n",
        );
        let err = pinned_toolchain(ws.path()).unwrap_err().to_string();
        assert!(err.contains("not a pinned version"), "{err}");
        std::fs::remove_file(ws.path().join("rust-toolchain.toml")).unwrap();
        let err = pinned_toolchain(ws.path()).unwrap_err().to_string();
        assert!(err.contains("no rust-toolchain.toml"), "{err}");
    }

    #[test]
    fn the_real_lock_file_parses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        let lock = Lock {
            packages: parse_lock(&text).unwrap(),
        };
        let producer = lock.closure("fang-producer").unwrap();
        let names: BTreeSet<&str> = producer
            .iter()
            .map(|&i| lock.packages[i].name.as_str())
            .collect();
        assert!(
            names.contains("fang-shared") && names.contains("aws-sdk-sqs"),
            "{names:?}"
        );
        assert!(
            !names.contains("clap"),
            "fangops' own dependencies are not the producer's"
        );
    }
}
