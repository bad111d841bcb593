//! Environment files: `environments/NAME.yaml`, the desired state of one environment.
//!
//! Parsing happens in two steps, as ripgrep does with its flags. First the YAML is read
//! strictly into [`raw::RawEnvFile`], which mirrors the file and keeps the line and
//! column of every value a later check may need to point at. Then [`validate`] checks
//! the values (regions, URLs, schedules, company names) and builds the plain
//! [`EnvConfig`] the rest of fangops works with. Every problem becomes a located
//! [`Diagnostic`]; nothing downstream sees an unchecked value.

pub mod defaults;
pub mod raw;
mod regions;
pub mod schedule;
pub mod schema;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_saphyr::Spanned;

use crate::companies::{CompanyList, RawEntry};
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
    pub endpoint_url: Option<url::Url>,
    pub protected: bool,
    pub schedule: Schedule,
    pub lambda: LambdaConfig,
    pub sentiment: Analyzer,
    pub text_source: TextSource,
    pub alarms: AlarmsConfig,
    pub sync: SyncConfig,
    pub cost: CostAssumptions,
    #[serde(serialize_with = "serialize_companies")]
    pub companies: CompanyList,
}

fn serialize_companies<S: serde::Serializer>(list: &CompanyList, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.names())
}

impl EnvConfig {
    /// True when the environment talks to an emulator on this machine rather than AWS.
    pub fn is_local(&self) -> bool {
        self.endpoint_url.as_ref().is_some_and(is_loopback)
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
    pub result_kb: f64,
    pub log_kb_per_company: f64,
    pub alarm_notifications_per_month: f64,
    pub company_changes_per_month: f64,
    pub cost_explorer_requests_per_month: f64,
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
    let text = decode(path, bytes).map_err(|d| InvalidInput(vec![d]))?;
    let raw = raw::from_str(path, text).map_err(|d| InvalidInput(vec![d]))?;
    validate(path, raw).map_err(InvalidInput)
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

fn at<T>(path: &Path, spanned: &Spanned<T>, key: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(
        path,
        spanned.referenced.line(),
        spanned.referenced.column(),
        message,
    )
    .with_key(key)
}

/// The second step: checks values and applies defaults. Collects every problem.
pub fn validate(path: &Path, raw: raw::RawEnvFile) -> Result<EnvConfig, Vec<Diagnostic>> {
    let mut problems = Vec::new();

    if let Err(m) = check_stack_name(&raw.stack.value) {
        problems.push(at(path, &raw.stack, "stack", m));
    }
    if let Err(m) = regions::check(&raw.region.value) {
        problems.push(at(path, &raw.region, "region", m));
    }
    if let Some(account) = &raw.account {
        let a = &account.value;
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(at(
                path,
                account,
                "account",
                format!(
                    "{a:?} is not an AWS account id (12 digits, quoted so YAML keeps leading zeros)"
                ),
            ));
        }
    }
    let endpoint_url = raw.endpoint_url.as_ref().and_then(|e| {
        check_endpoint(&e.value)
            .map_err(|m| problems.push(at(path, e, "endpoint_url", m)))
            .ok()
    });
    let schedule = match &raw.schedule {
        None => Some(defaults::schedule()),
        Some(s) => Schedule::parse(&s.value)
            .map_err(|m| problems.push(at(path, s, "schedule", m)))
            .ok(),
    };

    let lambda = raw.lambda.unwrap_or_default();
    let memory_mb = spanned_or(&lambda.memory_mb, defaults::LAMBDA_MEMORY_MB);
    if let Some(m) = &lambda.memory_mb
        && !(128..=10_240).contains(&m.value)
    {
        problems.push(at(
            path,
            m,
            "lambda.memory_mb",
            format!(
                "{} MB is outside what Lambda allows (128 to 10240)",
                m.value
            ),
        ));
    }
    let timeout_s = spanned_or(&lambda.timeout_s, defaults::LAMBDA_TIMEOUT_S);
    if let Some(t) = &lambda.timeout_s
        && !(1..=900).contains(&t.value)
    {
        problems.push(at(
            path,
            t,
            "lambda.timeout_s",
            format!("{} s is outside what Lambda allows (1 to 900)", t.value),
        ));
    }

    let alarms = raw.alarms.unwrap_or_default();
    if let Some(email) = &alarms.email
        && let Err(m) = check_email(&email.value)
    {
        problems.push(at(path, email, "alarms.email", m));
    }
    let mut alarm = |key: &str, raw: &Option<raw::RawAlarm>, threshold: f64, period_s: u32| {
        alarm_setting(path, key, raw.as_ref(), threshold, period_s, &mut problems)
    };
    let errors = alarm(
        "errors",
        &alarms.errors,
        defaults::ALARM_ERRORS,
        defaults::ALARM_PERIOD_S,
    );
    let throttles = alarm(
        "throttles",
        &alarms.throttles,
        defaults::ALARM_THROTTLES,
        defaults::ALARM_PERIOD_S,
    );
    let dlq_messages = alarm(
        "dlq_messages",
        &alarms.dlq_messages,
        defaults::ALARM_DLQ_MESSAGES,
        defaults::ALARM_PERIOD_S,
    );
    let oldest_message_age_s = alarm(
        "oldest_message_age_s",
        &alarms.oldest_message_age_s,
        defaults::ALARM_OLDEST_MESSAGE_AGE_S,
        defaults::ALARM_PERIOD_S,
    );
    let sentiment_duration_percent = alarm(
        "sentiment_duration_percent",
        &alarms.sentiment_duration_percent,
        defaults::ALARM_SENTIMENT_DURATION_PERCENT,
        defaults::ALARM_PERIOD_S,
    );
    let no_results_period = schedule.as_ref().and_then(defaults::no_results_period_s);
    let mut no_results = alarm(
        "no_results",
        &alarms.no_results,
        defaults::ALARM_NO_RESULTS,
        no_results_period.unwrap_or(86_400),
    );
    // A schedule with gaps over a week cannot be watched by one CloudWatch period: off
    // unless the file sets the period itself.
    let explicit_period = alarms
        .no_results
        .as_ref()
        .is_some_and(|a| a.period_s.is_some());
    if no_results_period.is_none() && !explicit_period {
        no_results.enabled = false;
    }
    if let Some(p) = alarms
        .sentiment_duration_percent
        .as_ref()
        .and_then(|a| a.threshold.as_ref())
        .filter(|t| t.value > 100.0)
    {
        problems.push(at(
            path,
            p,
            "alarms.sentiment_duration_percent.threshold",
            format!(
                "{}% of the timeout can never be reached (the function stops at 100%)",
                p.value
            ),
        ));
    }

    let sync = raw.sync.unwrap_or_default();
    let max_delete_percent =
        spanned_or(&sync.max_delete_percent, defaults::SYNC_MAX_DELETE_PERCENT);
    if let Some(p) = &sync.max_delete_percent
        && p.value > 100
    {
        problems.push(at(
            path,
            p,
            "sync.max_delete_percent",
            format!("{}% is not a share of the table (0 to 100)", p.value),
        ));
    }

    let raw_cost = raw.cost.unwrap_or_default();
    let mut assume = |key: &str, v: &Option<Spanned<f64>>, default: f64| match v {
        None => default,
        Some(s) if s.value.is_finite() && s.value >= 0.0 => s.value,
        Some(s) => {
            problems.push(at(
                path,
                s,
                &format!("cost.{key}"),
                format!(
                    "{} is not a usable assumption: use a number of at least 0",
                    s.value
                ),
            ));
            default
        }
    };
    let has_email = alarms.email.is_some();
    let cost = CostAssumptions {
        sentiment_ms_per_company: assume(
            "sentiment_ms_per_company",
            &raw_cost.sentiment_ms_per_company,
            defaults::COST_SENTIMENT_MS_PER_COMPANY,
        ),
        producer_ms_per_run: assume(
            "producer_ms_per_run",
            &raw_cost.producer_ms_per_run,
            defaults::COST_PRODUCER_MS_PER_RUN,
        ),
        producer_ms_per_company: assume(
            "producer_ms_per_company",
            &raw_cost.producer_ms_per_company,
            defaults::COST_PRODUCER_MS_PER_COMPANY,
        ),
        text_chars_per_company: assume(
            "text_chars_per_company",
            &raw_cost.text_chars_per_company,
            defaults::COST_TEXT_CHARS_PER_COMPANY,
        ),
        result_kb: assume("result_kb", &raw_cost.result_kb, defaults::COST_RESULT_KB),
        log_kb_per_company: assume(
            "log_kb_per_company",
            &raw_cost.log_kb_per_company,
            defaults::COST_LOG_KB_PER_COMPANY,
        ),
        alarm_notifications_per_month: assume(
            "alarm_notifications_per_month",
            &raw_cost.alarm_notifications_per_month,
            if has_email {
                defaults::COST_ALARM_NOTIFICATIONS_PER_MONTH
            } else {
                0.0
            },
        ),
        company_changes_per_month: assume(
            "company_changes_per_month",
            &raw_cost.company_changes_per_month,
            defaults::COST_COMPANY_CHANGES_PER_MONTH,
        ),
        cost_explorer_requests_per_month: assume(
            "cost_explorer_requests_per_month",
            &raw_cost.cost_explorer_requests_per_month,
            defaults::COST_EXPLORER_REQUESTS_PER_MONTH,
        ),
    };

    let companies = CompanyList::from_entries(raw.companies.iter().map(|c| RawEntry {
        text: &c.value,
        line: c.referenced.line(),
        column: c.referenced.column(),
    }))
    .map_err(|list_problems| {
        for p in list_problems {
            problems.push(Diagnostic::new(path, p.line, p.column, p.message).with_key("companies"));
        }
    })
    .ok();

    if !problems.is_empty() {
        problems.sort_by_key(|d| (d.line, d.column));
        return Err(problems);
    }
    // Every `None` above pushed a problem, so these are present.
    let (Some(schedule), Some(companies)) = (schedule, companies) else {
        unreachable!("a missing value always comes with a problem");
    };
    Ok(EnvConfig {
        name: env_name(path),
        path: path.to_path_buf(),
        stack: raw.stack.value,
        region: raw.region.value,
        account: raw.account.map(|a| a.value),
        endpoint_url,
        protected: raw.protected.unwrap_or(false),
        schedule,
        lambda: LambdaConfig {
            memory_mb,
            timeout_s,
            arch: lambda.arch.unwrap_or_default(),
        },
        sentiment: raw.sentiment.unwrap_or_default(),
        text_source: raw.text_source.unwrap_or_default(),
        alarms: AlarmsConfig {
            email: alarms.email.map(|e| e.value),
            errors,
            throttles,
            dlq_messages,
            oldest_message_age_s,
            sentiment_duration_percent,
            no_results,
            dashboard: alarms.dashboard.unwrap_or(true),
        },
        sync: SyncConfig { max_delete_percent },
        cost,
        companies,
    })
}

/// One alarm's settings with defaults applied; every bad value becomes a problem.
fn alarm_setting(
    path: &Path,
    key: &str,
    raw: Option<&raw::RawAlarm>,
    threshold: f64,
    period_s: u32,
    problems: &mut Vec<Diagnostic>,
) -> AlarmSetting {
    let Some(raw) = raw else {
        return AlarmSetting {
            enabled: true,
            threshold,
            period_s,
            evaluation_periods: defaults::ALARM_EVALUATION_PERIODS,
        };
    };
    let key = |field: &str| format!("alarms.{key}.{field}");
    if let Some(t) = &raw.threshold
        && !(t.value.is_finite() && t.value >= 0.0)
    {
        problems.push(at(
            path,
            t,
            &key("threshold"),
            format!("{} is not a threshold: use a number of at least 0", t.value),
        ));
    }
    if let Some(p) = &raw.period_s
        && !(matches!(p.value, 10 | 20 | 30) || (p.value > 0 && p.value % 60 == 0))
    {
        problems.push(at(
            path,
            p,
            &key("period_s"),
            format!(
                "{} s is not a CloudWatch alarm period: use 10, 20, 30 or a multiple of 60",
                p.value
            ),
        ));
    }
    if let Some(e) = &raw.evaluation_periods
        && e.value == 0
    {
        problems.push(at(
            path,
            e,
            &key("evaluation_periods"),
            "at least 1 period is needed",
        ));
    }
    let setting = AlarmSetting {
        enabled: raw.enabled.unwrap_or(true),
        threshold: spanned_or(&raw.threshold, threshold),
        period_s: spanned_or(&raw.period_s, period_s),
        evaluation_periods: spanned_or(&raw.evaluation_periods, defaults::ALARM_EVALUATION_PERIODS),
    };
    // CloudWatch's limit on the window an alarm looks at.
    let window = u64::from(setting.period_s) * u64::from(setting.evaluation_periods);
    let max = if setting.period_s < 3600 {
        86_400
    } else {
        604_800
    };
    if window > max
        && let Some(at_span) = raw.evaluation_periods.as_ref().or(raw.period_s.as_ref())
    {
        problems.push(at(
            path,
            at_span,
            &key("evaluation_periods"),
            format!(
                "period_s × evaluation_periods is {window} s; CloudWatch allows at most {max} s{}",
                if max == 86_400 {
                    " for periods under an hour"
                } else {
                    ""
                }
            ),
        ));
    }
    setting
}

fn spanned_or<T: Copy>(v: &Option<Spanned<T>>, default: T) -> T {
    v.as_ref().map_or(default, |s| s.value)
}

fn env_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// CloudFormation allows `[A-Za-z][A-Za-z0-9-]*` up to 128 characters; fangops derives
/// bucket, queue and function names from the stack, and S3 bucket names are lowercase
/// and at most 63 characters, so the stack name is held to lowercase and 32 characters.
fn check_stack_name(name: &str) -> Result<(), String> {
    const MAX: usize = 32;
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
