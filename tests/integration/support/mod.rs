//! Shared test machinery: the moto server, the fault-injecting proxy, and a builder
//! for running the real `fangops` binary.

pub mod fault_proxy;
pub mod moto;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The repository root (where `environments/` lives).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A name no other test (or test run) uses: tests share one moto server, so every
/// resource a test creates is named with this instead of resetting the server.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `fangops` as a user runs it, with deterministic output: plain logs (`CI=true`),
/// no colour, and one attempt per AWS call so an emulator gap fails at once instead of
/// after the SDK's retries. Tests that want retries set `AWS_MAX_ATTEMPTS` themselves.
pub fn fangops(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fangops"));
    cmd.current_dir(dir)
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("GITHUB_REF")
        // Actions sets these for the job running the tests; a test sets what it needs.
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_SHA")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_BASE_REF")
        .env_remove("GITHUB_API_URL")
        .env_remove("FANGOPS_LOG")
        .stdin(std::process::Stdio::null());
    cmd
}

/// The outcome of a command, with what tests look at.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

pub fn run(cmd: &mut Command) -> Run {
    cmd.output().expect("running fangops").into()
}

/// The same, for tests that keep a fault proxy running on their own runtime.
pub async fn run_async(cmd: Command) -> Run {
    tokio::process::Command::from(cmd)
        .output()
        .await
        .expect("running fangops")
        .into()
}

/// A scratch project: a temporary folder with an `environments/` of its own, so a
/// test can write env files without touching the repository.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// With the repository's template in `infra/`, as a real project has it.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("creating a temp dir");
        std::fs::create_dir(dir.path().join("environments")).expect("creating environments/");
        std::fs::create_dir(dir.path().join("infra")).expect("creating infra/");
        std::fs::copy(
            repo_root().join("infra/template.yaml"),
            dir.path().join("infra/template.yaml"),
        )
        .expect("copying the template");
        Self { dir }
    }

    pub fn template_path(&self) -> PathBuf {
        self.dir.path().join("infra/template.yaml")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `environments/<name>.yaml` and returns its path.
    pub fn env_file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self
            .dir
            .path()
            .join("environments")
            .join(format!("{name}.yaml"));
        std::fs::write(&path, contents).expect("writing an env file");
        path
    }
}

/// An env file for a fresh local environment on the shared moto: a unique stack, the
/// offline text source and analyzer, and the given companies.
pub fn local_env_yaml(stack: &str, companies: &[String]) -> String {
    let mut yaml = format!(
        "stack: {stack}\nregion: us-east-1\nendpoint_url: {}\nsentiment: vader\ntext_source: fixtures\ncompanies:\n",
        moto::moto().endpoint
    );
    for c in companies {
        yaml += &format!(
            "  - {}\n",
            serde_json::to_string(c).expect("a string serializes")
        );
    }
    yaml
}

/// `moto_client!(aws_sdk_x)`: a client of that SDK crate on the shared moto, for
/// setting up and checking what fangops did. An optional closure adjusts the builder.
macro_rules! moto_client {
    ($sdk:ident) => {
        $crate::support::moto_client!($sdk, |b| b)
    };
    ($sdk:ident, $adjust:expr) => {{
        let builder = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new("us-east-1"))
            .endpoint_url(&$crate::support::moto::moto().endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                "t", "t", None, None, "tests",
            ));
        #[allow(clippy::redundant_closure_call)]
        let builder = ($adjust)(builder);
        $sdk::Client::from_conf(builder.build())
    }};
}
pub(crate) use moto_client;

pub fn s3() -> aws_sdk_s3::Client {
    moto_client!(aws_sdk_s3, |b: aws_sdk_s3::config::Builder| b
        .force_path_style(true))
}

pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    moto_client!(aws_sdk_dynamodb)
}

pub fn cloudformation() -> aws_sdk_cloudformation::Client {
    moto_client!(aws_sdk_cloudformation)
}

/// A stack's parameters as CloudFormation has them.
pub async fn stack_parameters(stack: &str) -> std::collections::BTreeMap<String, String> {
    let out = cloudformation()
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describing {stack}: {e}"));
    out.stacks()[0]
        .parameters()
        .iter()
        .map(|p| {
            (
                p.parameter_key().unwrap_or_default().to_owned(),
                p.parameter_value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The company names in a table, sorted; `None` when it does not exist.
pub async fn table_companies(table: &str) -> Vec<String> {
    fang_producer::scan_companies(&dynamodb(), table)
        .await
        .unwrap_or_else(|e| panic!("scanning {table}: {e}"))
}

/// A companies table as the stack makes it (key `company`), without deploying one.
pub async fn create_companies_table(table: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    dynamodb()
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("company")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("company")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("creating {table}: {e:?}"));
}

/// Stand-in Lambda zips: moto stores function code without running it, so any zip
/// will do, and building the real ones would cost every test minutes. Each holds a
/// `bootstrap` that passes fangops's checks (an ELF header for arm64, the default
/// architecture of an env file, needing no glibc), distinct per function.
pub fn fake_artifacts() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| fake_artifacts_in(fangops::support::Arch::Arm64))
        .path()
}

/// The same for x86_64 (the repository's `local` env).
pub fn fake_artifacts_x86_64() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| fake_artifacts_in(fangops::support::Arch::X86_64))
        .path()
}

fn fake_artifacts_in(arch: fangops::support::Arch) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("creating a temp dir");
    for name in ["producer", "sentiment"] {
        let mut binary = fangops::support::sample_elf(arch, &[]);
        binary.extend(name.as_bytes());
        let zip = fangops::support::package_bootstrap(&binary).expect("zipping");
        std::fs::write(dir.path().join(format!("{name}.zip")), zip).expect("writing a zip");
    }
    dir
}

/// Every test that runs cargo on the Lambda crates takes this lock: they share one
/// target dir, where a build at another path overwrites the binary another test's
/// fangops is about to read.
pub fn build_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A copy of the repository's tracked files (as a fresh clone has them, with this
/// working tree's contents) at a new path.
pub fn source_copy() -> tempfile::TempDir {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo_root())
        .output()
        .expect("running git ls-files");
    assert!(out.status.success(), "git ls-files failed");
    let dir = tempfile::Builder::new()
        .prefix("fangops-copy-")
        .tempdir()
        .expect("creating a temp dir");
    for file in out.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let rel = Path::new(std::str::from_utf8(file).expect("a UTF-8 path"));
        let from = repo_root().join(rel);
        if !from.exists() {
            continue; // deleted in the working tree, not yet committed
        }
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("creating a dir");
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copying {}: {e}", rel.display()));
    }
    dir
}

/// `fangops deploy --env ENV` on the shared moto with the stand-in zips for the env
/// file's architecture.
pub fn deploy(dir: &Path, env: &str) -> Run {
    let file = std::fs::read_to_string(dir.join("environments").join(format!("{env}.yaml")))
        .unwrap_or_default();
    let zips = if file.contains("arch: x86_64") {
        fake_artifacts_x86_64()
    } else {
        fake_artifacts()
    };
    run(fangops(dir)
        .args(["deploy", "--env", env, "--artifacts"])
        .arg(zips)
        .env("AWS_ENDPOINT_URL", &moto::moto().endpoint))
}
