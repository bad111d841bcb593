//! Environment files: `environments/NAME.yaml`, the desired state of one environment.
//!
//! Parsing happens in two steps, as ripgrep does with its flags. First the YAML is read
//! strictly into [`raw::RawEnvFile`], which mirrors the file and keeps the line and
//! column of every value a later check may need to point at. Then [`validate`] checks
//! the values (regions, URLs, schedules, company names) and builds the plain
//! [`EnvConfig`] the rest of fangops works with. Every problem becomes a located
//! [`Diagnostic`]; nothing downstream sees an unchecked value.

mod check;
pub mod defaults;
pub mod edit;
pub mod names;
pub mod preview;
pub mod raw;
pub mod regions;
pub mod schedule;
pub mod schema;

pub use check::validate;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::names::CompanyList;
use crate::diagnostics::{Diagnostic, InvalidInput};

pub use raw::{Analyzer, Arch, TextSource};
pub use schedule::Schedule;

/// The folder, relative to the project root, that holds one YAML file per environment.
pub const ENV_DIR: &str = "environments";

/// How a command names an environment: `--env dev` or `--env path/to/file.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvRef {
    Name(String),
    Path(PathBuf),
}

impl EnvRef {
    /// A bare word is a name under `environments/`; anything with a path separator or
    /// a YAML extension is a path.
    pub fn parse(s: &str) -> Self {
        let looks_like_path = s.contains('/')
            || s.contains(std::path::MAIN_SEPARATOR)
            || s.ends_with(".yaml")
            || s.ends_with(".yml");
        if looks_like_path {
            Self::Path(PathBuf::from(s))
        } else {
            Self::Name(s.to_owned())
        }
    }

    /// The file this reference points at, relative to the project root.
    pub fn path(&self, root: &Path) -> PathBuf {
        // Keep paths relative for the default root, so messages read `environments/x.yaml`.
        let root = if root == Path::new(".") {
            Path::new("")
        } else {
            root
        };
        match self {
            Self::Name(name) => root.join(ENV_DIR).join(format!("{name}.yaml")),
            Self::Path(p) if p.is_absolute() => p.clone(),
            Self::Path(p) => root.join(p),
        }
    }
}

/// A file of the project, relative to its root; kept relative for the default root so
/// messages read `infra/template.yaml`, not `./infra/template.yaml`.
pub fn project_path(root: &Path, rel: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(rel)
    } else {
        root.join(rel)
    }
}

impl CostAssumptions {
    /// The `cost:` keys of the env file (the ones `fangops cost --measured --write` may
    /// store).
    pub const KEYS: [&str; 7] = [
        "sentiment_ms_per_company",
        "producer_ms_per_run",
        "producer_ms_per_company",
        "text_chars_per_company",
        "result_kb",
        "text_change_rate",
        "log_kb_per_company",
    ];

    /// The assumption a `cost:` key of the env file names (the ones `fangops cost
    /// --measured --write` may store).
    pub fn value_mut(&mut self, key: &str) -> Option<&mut f64> {
        Some(match key {
            "sentiment_ms_per_company" => &mut self.sentiment_ms_per_company,
            "producer_ms_per_run" => &mut self.producer_ms_per_run,
            "producer_ms_per_company" => &mut self.producer_ms_per_company,
            "text_chars_per_company" => &mut self.text_chars_per_company,
            "result_kb" => &mut self.result_kb,
            "text_change_rate" => &mut self.text_change_rate,
            "log_kb_per_company" => &mut self.log_kb_per_company,
            _ => return None,
        })
    }

    pub fn value(&self, key: &str) -> Option<f64> {
        self.clone().value_mut(key).map(|v| *v)
    }
}

/// A validated environment, ready to act on.
#[derive(Debug, Clone, Serialize)]
pub struct EnvConfig {
    /// The environment's name: the file name without `.yaml`.
    pub name: String,
    /// The file it was read from, as given (for messages).
    pub path: PathBuf,
    pub stack: String,
    pub region: String,
    pub account: Option<String>,
    /// The CloudFormation service role, as the file gives it (a name or an ARN).
    pub cloudformation_role: Option<String>,
    pub endpoint_url: Option<url::Url>,
    pub protected: bool,
    pub schedule: Schedule,
    /// The day the file was read: its schedule is counted over the twelve months from
    /// it (the cost's runs a month, the no-results alarm's period), so that a schedule
    /// with a year field is priced and watched for the runs it has ahead. Not part of
    /// the env's JSON: it is when, not what.
    #[serde(skip)]
    pub as_of: time::Date,
    pub lambda: LambdaConfig,
    pub sentiment: Analyzer,
    pub text_source: TextSource,
    pub alarms: AlarmsConfig,
    pub sync: SyncConfig,
    pub results: ResultsConfig,
    pub cost: CostAssumptions,
    pub verify: VerifyConfig,
    pub cache: CacheConfig,
    pub previews: PreviewsConfig,
    /// Set when this is a pull request's preview of the env (`deploy --preview N`),
    /// never by the file: see [`crate::config::preview`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<PreviewOf>,
    #[serde(serialize_with = "serialize_companies")]
    pub companies: CompanyList,
}

fn serialize_companies<S: serde::Serializer>(list: &CompanyList, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.names())
}

impl EnvConfig {
    /// The env file's own stack: a preview's stands beside it, and shares what is made
    /// once per env (the roles, the functions' permissions boundary).
    pub fn base_stack(&self) -> &str {
        self.preview.as_ref().map_or(&self.stack, |p| &p.stack)
    }

    /// True when the environment talks to an emulator on this machine rather than AWS.
    pub fn is_local(&self) -> bool {
        self.endpoint_url.as_ref().is_some_and(is_loopback)
    }
}

impl EnvConfig {
    /// The CloudFormation service role as an ARN: a bare name is a role of `account`.
    pub fn cloudformation_role_arn(&self, account: &str) -> Option<String> {
        self.cloudformation_role.as_ref().map(|r| {
            if r.starts_with("arn:") {
                r.clone()
            } else {
                format!(
                    "arn:{}:iam::{account}:role/{r}",
                    regions::partition(&self.region)
                )
            }
        })
    }
}

/// Whether a URL points at this machine (moto and other emulators in local mode).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LambdaConfig {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub arch: Arch,
    /// The event source mapping's maximum concurrency.
    pub max_concurrency: u32,
}

impl LambdaConfig {
    /// AWS advises an SQS visibility timeout of six times the function timeout plus the
    /// batching window for a Lambda consumer. SQS caps it at 12 hours.
    pub fn queue_visibility_timeout_s(&self) -> u32 {
        (self.timeout_s.saturating_mul(6))
            .saturating_add(fang_shared::BATCHING_WINDOW_S)
            .min(43_200)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmsConfig {
    pub email: Option<String>,
    pub errors: AlarmSetting,
    pub throttles: AlarmSetting,
    pub dlq_messages: AlarmSetting,
    pub oldest_message_age_s: AlarmSetting,
    pub sentiment_duration_percent: AlarmSetting,
    pub no_results: AlarmSetting,
    pub dashboard: bool,
}

/// One alarm as configured, defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlarmSetting {
    pub enabled: bool,
    pub threshold: f64,
    pub period_s: u32,
    pub evaluation_periods: u32,
}

/// The cost model's assumptions, defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostAssumptions {
    pub sentiment_ms_per_company: f64,
    pub producer_ms_per_run: f64,
    pub producer_ms_per_company: f64,
    pub text_chars_per_company: f64,
    pub text_change_rate: f64,
    pub result_kb: f64,
    pub log_kb_per_company: f64,
    pub alarm_notifications_per_month: f64,
    pub company_changes_per_month: f64,
    pub cost_explorer_requests_per_month: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResultsConfig {
    /// Days results are kept; `None`: kept.
    pub retention_days: Option<u32>,
}

/// What the sentiment function reuses between runs, defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheConfig {
    pub enabled: bool,
    pub max_age_days: u32,
}

impl CacheConfig {
    /// The function's `CACHE_MAX_AGE_DAYS` (the template's `CacheMaxAgeDays`): 0 is off.
    pub fn max_age_parameter(&self) -> u32 {
        if self.enabled { self.max_age_days } else { 0 }
    }
}

/// How a deploy is verified, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyConfig {
    /// `deploy` verifies unless told otherwise.
    pub enabled: bool,
    /// The canary companies, as the companies list names them; never empty.
    pub companies: Vec<String>,
    pub timeout_s: u32,
    pub alarm_watch_s: u32,
    /// Companies run with the canaries whose results are reported, not judged: one
    /// without a page is a result to show, not a failed verification (a preview's
    /// added companies). Never set by the file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reported: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewsConfig {
    /// Previews that may exist at once; 0: none (always so for a protected env).
    pub max: u32,
}

/// What makes an env a pull request's preview: its stack is its own, named from the
/// shared one's, and it keeps no schedule, dashboard or alarm e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewOf {
    /// The shared stack the preview stands beside (the env file's `stack`).
    pub stack: String,
    pub pull_request: u64,
    /// The pull request's head commit, when known.
    pub head: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncConfig {
    pub max_delete_percent: u32,
}

/// Reads and validates one env file. The error lists every problem found.
pub fn load(path: &Path) -> Result<EnvConfig, InvalidInput> {
    let bytes = std::fs::read(path).map_err(|e| {
        let message = match e.kind() {
            std::io::ErrorKind::NotFound => "file not found".to_owned(),
            _ => format!("cannot read file: {e}"),
        };
        InvalidInput(vec![Diagnostic::whole_file(path, message)])
    })?;
    parse(path, &bytes)
}

/// The env file as committed at git revision `rev` (a pull request's base branch):
/// `Ok(None)` when the file did not exist there (a new environment).
///
/// `file:PATH` instead of a revision names another env file to compare with (a copy
/// being edited, as in `make demo`).
pub fn load_at_rev(path: &Path, rev: &str) -> anyhow::Result<Option<EnvConfig>> {
    use anyhow::Context;
    if let Some(other) = rev.strip_prefix("file:") {
        let other = Path::new(other);
        if !other.exists() {
            return Ok(None);
        }
        return load(other).map(Some).map_err(anyhow::Error::new);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file = path
        .file_name()
        .context("an env file path names a file")?
        .to_string_lossy();
    // `REV:./NAME` is relative to the working directory, which `-C` sets.
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["show", &format!("{rev}:./{file}")])
        .output()
        .with_context(|| format!("running git to read {} at {rev}", path.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("does not exist in") || stderr.contains("exists on disk, but not in") {
            return Ok(None);
        }
        anyhow::bail!(
            "reading {} at {rev} with git: {}",
            path.display(),
            stderr.trim()
        );
    }
    parse(path, &out.stdout)
        .map(Some)
        .map_err(|e| anyhow::Error::new(e).context(format!("the env file at {rev} is not valid")))
}

/// Parses and validates env-file contents; `path` is used for messages and the name.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<EnvConfig, InvalidInput> {
    parse_as_of(path, bytes, time::OffsetDateTime::now_utc().date())
}

/// [`parse`] as if read on `as_of` (tests pin the day).
pub fn parse_as_of(
    path: &Path,
    bytes: &[u8],
    as_of: time::Date,
) -> Result<EnvConfig, InvalidInput> {
    let text = decode(path, bytes).map_err(|d| InvalidInput(vec![d]))?;
    let raw = raw::from_str(path, text).map_err(|d| InvalidInput(vec![d]))?;
    validate(path, raw, as_of).map_err(InvalidInput)
}

/// Env files are UTF-8 (a byte-order mark is fine). A file in another encoding gets an
/// error pointing at the first byte that is not UTF-8, instead of a parser's guess.
fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, Diagnostic> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count() as u64
            + 1;
        Diagnostic::new(
            path,
            line,
            column,
            format!(
                "file is not valid UTF-8 (byte 0x{:02X}); save it as UTF-8",
                bytes[e.valid_up_to()]
            ),
        )
    })
}

fn env_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// CloudFormation allows `[A-Za-z][A-Za-z0-9-]*` up to 128 characters; fangops derives
/// bucket, queue and function names from the stack, and S3 bucket names are lowercase
/// and at most 63 characters, so the stack name is held to lowercase and 32 characters.
/// The longest stack name an env file may give (see [`check_stack_name`]); a preview's
/// name is held to it too.
pub const MAX_STACK_LEN: usize = 32;

pub(crate) fn check_stack_name(name: &str) -> Result<(), String> {
    const MAX: usize = MAX_STACK_LEN;
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let starts_with_letter = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if name.is_empty()
        || !valid_chars
        || !starts_with_letter
        || name.ends_with('-')
        || name.contains("--")
    {
        return Err(format!(
            "{name:?} is not a valid stack name: use lowercase letters, digits and single hyphens, starting with a letter (resource names such as the S3 bucket are derived from it)"
        ));
    }
    if name.len() > MAX {
        return Err(format!(
            "stack name {name:?} is {} characters; at most {MAX} are allowed so that the names derived from it fit AWS limits",
            name.len()
        ));
    }
    Ok(())
}

fn check_endpoint(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s).map_err(|e| format!("{s:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{s:?} is not an http or https URL"));
    }
    if url.host().is_none() {
        return Err(format!("{s:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("endpoint_url must not contain credentials".to_owned());
    }
    Ok(url)
}

/// A deliberately plain check: one `@`, a local part, a dotted domain, no spaces. SNS
/// sends a confirmation mail, which is the real test of an address.
fn check_email(s: &str) -> Result<(), String> {
    let bad = || format!("{s:?} is not an e-mail address");
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';');
    if ok { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests;
