//! The second step of reading an env file: values checked and defaults applied, one
//! function per section of the file, each adding every problem it finds (located at
//! its line and key) to one list, so that a user sees them all at once. A new key
//! touches the one function of its section.

use std::path::Path;

use serde_saphyr::Spanned;

use super::schedule::Schedule;
use super::{
    AlarmSetting, AlarmsConfig, CostAssumptions, EnvConfig, LambdaConfig, SyncConfig, check_email,
    check_endpoint, check_stack_name, defaults, env_name, raw, regions,
};
use crate::config::names::{CompanyList, RawEntry, RawTitle};
use crate::diagnostics::Diagnostic;

/// The problems found so far in one file.
struct Problems<'a> {
    path: &'a Path,
    list: Vec<Diagnostic>,
}

impl Problems<'_> {
    /// A problem at a value's place, about `key`.
    fn at<T>(&mut self, spanned: &Spanned<T>, key: &str, message: impl Into<String>) {
        self.list.push(
            Diagnostic::new(
                self.path,
                spanned.referenced.line(),
                spanned.referenced.column(),
                message,
            )
            .with_key(key),
        );
    }
}

/// Checks values and applies defaults. Collects every problem.
pub fn validate(
    path: &Path,
    raw: raw::RawEnvFile,
    as_of: time::Date,
) -> Result<EnvConfig, Vec<Diagnostic>> {
    let mut p = Problems {
        path,
        list: Vec::new(),
    };
    identity(&mut p, &raw);
    let endpoint_url = endpoint_url(&mut p, raw.endpoint_url.as_ref());
    let schedule = schedule(&mut p, raw.schedule.as_ref());
    analyzer_region(&mut p, &raw);
    let lambda = lambda(&mut p, raw.lambda.unwrap_or_default());
    let raw_alarms = raw.alarms.unwrap_or_default();
    let has_email = raw_alarms.email.is_some();
    let alarms = alarms(&mut p, raw_alarms, schedule.as_ref(), as_of);
    let sync = sync(&mut p, raw.sync.unwrap_or_default());
    let results = results(&mut p, raw.results.unwrap_or_default());
    let cost = cost(&mut p, raw.cost.unwrap_or_default(), has_email);
    let companies = companies(&mut p, &raw.companies);
    let protected = raw.protected.unwrap_or(false);
    let local = endpoint_url.as_ref().is_some_and(super::is_loopback);
    let cache = cache(&mut p, raw.cache.unwrap_or_default());
    // The default canary: the first company as the file lists it (the list is sorted).
    let first = raw
        .companies
        .first()
        .and_then(|c| crate::config::names::normalize(c.value.name()).ok());
    // In AWS a canary whose first attempt fails is received again only after the
    // queue's visibility timeout: the default wait covers one retry, so that a passing
    // throttle or a role still propagating does not roll a good deploy back.
    let one_retry = lambda.queue_visibility_timeout_s() + lambda.timeout_s + 60;
    let verify = verify(
        &mut p,
        raw.verify.unwrap_or_default(),
        companies.as_ref(),
        first,
        (protected, local, one_retry),
    );

    let previews = previews(&mut p, raw.previews, protected);

    let mut problems = p.list;
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
        cloudformation_role: raw.cloudformation_role.map(|r| r.value),
        endpoint_url,
        protected,
        schedule,
        as_of,
        lambda,
        sentiment: raw.sentiment.unwrap_or_default(),
        text_source: raw.text_source.unwrap_or_default(),
        alarms,
        sync,
        results,
        cost,
        verify,
        cache,
        previews,
        preview: None,
        companies,
    })
}

/// `endpoint_url`: a URL fangops can send AWS requests to.
fn endpoint_url(p: &mut Problems, raw: Option<&Spanned<String>>) -> Option<url::Url> {
    raw.and_then(|e| {
        check_endpoint(&e.value)
            .map_err(|m| p.at(e, "endpoint_url", m))
            .ok()
    })
}

/// `schedule`: a cron expression, the default when absent.
fn schedule(p: &mut Problems, raw: Option<&Spanned<String>>) -> Option<Schedule> {
    match raw {
        None => Some(defaults::schedule()),
        Some(s) => Schedule::parse(&s.value)
            .map_err(|m| p.at(s, "schedule", m))
            .ok(),
    }
}

/// `sentiment: comprehend` needs a region that offers Amazon Comprehend.
fn analyzer_region(p: &mut Problems, raw: &raw::RawEnvFile) {
    if raw.sentiment.unwrap_or_default() == super::Analyzer::Comprehend
        && regions::check(&raw.region.value).is_ok()
        && !regions::has_comprehend(&raw.region.value)
    {
        p.at(
            &raw.region,
            "sentiment",
            format!(
                "Amazon Comprehend is not offered in {}; use a region that has it ({}), or `sentiment: vader`",
                raw.region.value,
                regions::COMPREHEND_REGIONS.join(", ")
            ),
        );
    }
}

/// `stack`, `region`, `account`: where the environment lives.
fn identity(p: &mut Problems, raw: &raw::RawEnvFile) {
    if let Err(m) = check_stack_name(&raw.stack.value) {
        p.at(&raw.stack, "stack", m);
    }
    if let Err(m) = regions::check(&raw.region.value) {
        p.at(&raw.region, "region", m);
    }
    if let Some(role) = &raw.cloudformation_role {
        let r = &role.value;
        let name_ok = !r.is_empty()
            && r.len() <= 64
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        let arn_ok = r.starts_with("arn:") && r.contains(":iam::") && r.contains(":role/");
        if !(name_ok || arn_ok) {
            p.at(
                role,
                "cloudformation_role",
                format!("{r:?} is neither an IAM role name (up to 64 of letters, digits and +=,.@_-) nor a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
            );
        }
    }
    if let Some(account) = &raw.account {
        let a = &account.value;
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            p.at(
                account,
                "account",
                format!(
                    "{a:?} is not an AWS account id (12 digits, quoted so YAML keeps leading zeros)"
                ),
            );
        }
    }
}

/// `lambda`: within what Lambda allows.
fn lambda(p: &mut Problems, lambda: raw::RawLambda) -> LambdaConfig {
    if let Some(m) = &lambda.memory_mb
        && !(128..=10_240).contains(&m.value)
    {
        p.at(
            m,
            "lambda.memory_mb",
            format!(
                "{} MB is outside what Lambda allows (128 to 10240)",
                m.value
            ),
        );
    }
    if let Some(t) = &lambda.timeout_s
        && !(1..=900).contains(&t.value)
    {
        p.at(
            t,
            "lambda.timeout_s",
            format!("{} s is outside what Lambda allows (1 to 900)", t.value),
        );
    }
    if let Some(c) = &lambda.max_concurrency
        && !(2..=1000).contains(&c.value)
    {
        p.at(
            c,
            "lambda.max_concurrency",
            format!(
                "{} is outside what an SQS event source mapping allows (2 to 1000)",
                c.value
            ),
        );
    }
    LambdaConfig {
        memory_mb: spanned_or(&lambda.memory_mb, defaults::LAMBDA_MEMORY_MB),
        timeout_s: spanned_or(&lambda.timeout_s, defaults::LAMBDA_TIMEOUT_S),
        arch: lambda.arch.unwrap_or_default(),
        max_concurrency: spanned_or(&lambda.max_concurrency, defaults::LAMBDA_MAX_CONCURRENCY),
    }
}

/// `alarms`: each alarm's settings within CloudWatch's limits; the no-results period
/// follows the schedule.
fn alarms(
    p: &mut Problems,
    alarms: raw::RawAlarms,
    schedule: Option<&Schedule>,
    as_of: time::Date,
) -> AlarmsConfig {
    if let Some(email) = &alarms.email
        && let Err(m) = check_email(&email.value)
    {
        p.at(email, "alarms.email", m);
    }
    // The alarms on a fixed period.
    let mut alarm = |key: &str, raw: &Option<raw::RawAlarm>, threshold: f64| {
        alarm_setting(p, key, raw.as_ref(), threshold, defaults::ALARM_PERIOD_S)
    };
    let errors = alarm("errors", &alarms.errors, defaults::ALARM_ERRORS);
    let throttles = alarm("throttles", &alarms.throttles, defaults::ALARM_THROTTLES);
    let dlq_messages = alarm(
        "dlq_messages",
        &alarms.dlq_messages,
        defaults::ALARM_DLQ_MESSAGES,
    );
    let oldest_message_age_s = alarm(
        "oldest_message_age_s",
        &alarms.oldest_message_age_s,
        defaults::ALARM_OLDEST_MESSAGE_AGE_S,
    );
    let sentiment_duration_percent = alarm(
        "sentiment_duration_percent",
        &alarms.sentiment_duration_percent,
        defaults::ALARM_SENTIMENT_DURATION_PERCENT,
    );
    let no_results = no_results_alarm(p, alarms.no_results.as_ref(), schedule, as_of);
    duration_reachable(p, alarms.sentiment_duration_percent.as_ref());
    AlarmsConfig {
        email: alarms.email.map(|e| e.value),
        errors,
        throttles,
        dlq_messages,
        oldest_message_age_s,
        sentiment_duration_percent,
        no_results,
        dashboard: alarms.dashboard.unwrap_or(true),
    }
}

/// `alarms.no_results`: its period follows the schedule.
fn no_results_alarm(
    p: &mut Problems,
    raw: Option<&raw::RawAlarm>,
    schedule: Option<&Schedule>,
    as_of: time::Date,
) -> AlarmSetting {
    let no_results_period = schedule.and_then(|s| defaults::no_results_period_s(s, as_of));
    let mut no_results = alarm_setting(
        p,
        "no_results",
        raw,
        defaults::ALARM_NO_RESULTS,
        no_results_period.unwrap_or(86_400),
    );
    // A schedule with gaps over a week cannot be watched by one CloudWatch period: off
    // unless the file sets the period itself.
    let explicit_period = raw.is_some_and(|a| a.period_s.is_some());
    if no_results_period.is_none() && !explicit_period {
        no_results.enabled = false;
    }
    no_results
}

/// `alarms.sentiment_duration_percent.threshold`: a share of the timeout the function
/// can reach.
fn duration_reachable(p: &mut Problems, raw: Option<&raw::RawAlarm>) {
    if let Some(t) = raw
        .and_then(|a| a.threshold.as_ref())
        .filter(|t| t.value > 100.0)
    {
        p.at(
            t,
            "alarms.sentiment_duration_percent.threshold",
            format!(
                "{}% of the timeout can never be reached (the function stops at 100%)",
                t.value
            ),
        );
    }
}

/// `sync`: the mass-delete guard.
fn sync(p: &mut Problems, sync: raw::RawSync) -> SyncConfig {
    if let Some(pct) = &sync.max_delete_percent
        && pct.value > 100
    {
        p.at(
            pct,
            "sync.max_delete_percent",
            format!("{}% is not a share of the table (0 to 100)", pct.value),
        );
    }
    SyncConfig {
        max_delete_percent: spanned_or(&sync.max_delete_percent, defaults::SYNC_MAX_DELETE_PERCENT),
    }
}

/// `verify`: canaries from the list, a usable timeout. A list with problems has
/// already said so; its canaries are not checked against it.
fn verify(
    p: &mut Problems,
    raw: raw::RawVerify,
    companies: Option<&CompanyList>,
    first: Option<String>,
    (protected, local, one_retry): (bool, bool, u32),
) -> super::VerifyConfig {
    let mut canaries = canaries(p, raw.companies.as_deref(), companies);
    if let Some(list) = &raw.companies
        && list.is_empty()
    {
        // No place to point at but the key's section: an empty list is a whole-file
        // problem, reported at line 1 like a missing key.
        p.list.push(
            crate::diagnostics::Diagnostic::whole_file(
                p.path,
                "verify.companies is empty: name at least one canary, or drop the key to use the first company",
            )
            .with_key("verify.companies"),
        );
    }
    if canaries.is_empty()
        && raw.companies.is_none()
        && let Some(first) = first.filter(|f| companies.is_some_and(|l| l.contains(f)))
    {
        canaries.push(first);
    }
    if let Some(t) = &raw.timeout_s
        && t.value < 10
    {
        p.at(
            t,
            "verify.timeout_s",
            format!(
                "{} s is too short for a run through the queue: give at least 10",
                t.value
            ),
        );
    }
    // Locally the runner retries a failure within seconds, and no alarm is evaluated.
    let (watch_default, timeout_default) = if local {
        (0, defaults::VERIFY_TIMEOUT_S)
    } else {
        (
            defaults::VERIFY_ALARM_WATCH_S,
            defaults::VERIFY_TIMEOUT_S.max(one_retry),
        )
    };
    super::VerifyConfig {
        enabled: raw.enabled.unwrap_or(protected),
        companies: canaries,
        timeout_s: spanned_or(&raw.timeout_s, timeout_default),
        alarm_watch_s: spanned_or(&raw.alarm_watch_s, watch_default),
        reported: Vec::new(),
    }
}

/// `verify.companies`: each canary once, named as the list spells it (the producer
/// matches names exactly); a canary not in the list is a problem.
fn canaries(
    p: &mut Problems,
    raw: Option<&[Spanned<String>]>,
    companies: Option<&CompanyList>,
) -> Vec<String> {
    let mut canaries = Vec::new();
    for c in raw.into_iter().flatten() {
        let listed = |name: &str| {
            let key = crate::config::names::identity_key(name);
            companies.map(|list| {
                list.names()
                    .find(|n| crate::config::names::identity_key(n) == key)
                    .map(str::to_owned)
            })
        };
        match crate::config::names::normalize(&c.value).map(|n| (listed(&n), n)) {
            Ok((Some(Some(name)), _) | (None, name)) => {
                if !canaries.contains(&name) {
                    canaries.push(name);
                }
            }
            Ok((Some(None), name)) => p.at(
                c,
                "verify.companies",
                format!(
                    "{name:?} is not in `companies`: a canary must be a company the table holds"
                ),
            ),
            Err(e) => p.at(c, "verify.companies", e.to_string()),
        }
    }
    canaries
}

/// `previews`: how many pull requests may have one at once. A protected env has none:
/// its stack is what merges deploy, never a pull request's.
fn previews(
    p: &mut Problems,
    raw: Option<raw::RawPreviews>,
    protected: bool,
) -> super::PreviewsConfig {
    let max = raw.as_ref().and_then(|r| r.max.as_ref());
    if let Some(m) = max {
        if m.value > 100 {
            p.at(m, "previews.max", format!("{} previews at once is more than 100: each is a stack with its own table, queue and bucket", m.value));
        } else if protected && m.value > 0 {
            p.at(m, "previews.max", "a protected environment has no previews: pull requests preview the non-protected one (dev), which prod then promotes from");
        }
    }
    super::PreviewsConfig {
        max: if protected {
            0
        } else {
            max.map_or(defaults::PREVIEWS_MAX, |m| m.value).min(100)
        },
    }
}

/// `cache`: on by default, reused for a week.
fn cache(p: &mut Problems, raw: raw::RawCache) -> super::CacheConfig {
    if let Some(d) = &raw.max_age_days
        && d.value == 0
    {
        p.at(
            d,
            "cache.max_age_days",
            "0 days would reuse nothing: give at least 1, or set `cache: {enabled: false}`",
        );
    }
    super::CacheConfig {
        enabled: raw.enabled.unwrap_or(true),
        max_age_days: spanned_or(&raw.max_age_days, defaults::CACHE_MAX_AGE_DAYS).max(1),
    }
}

/// `results`: how long they are kept.
fn results(p: &mut Problems, results: raw::RawResults) -> super::ResultsConfig {
    if let Some(d) = &results.retention_days
        && d.value == 0
    {
        p.at(
            d,
            "results.retention_days",
            "0 days would delete results as they are written: give at least 1, or drop the key to keep them",
        );
    }
    super::ResultsConfig {
        retention_days: results.retention_days.map(|d| d.value).filter(|d| *d > 0),
    }
}

/// `cost`: the cost model's assumptions, each a number of at least 0.
fn cost(p: &mut Problems, raw: raw::RawCost, has_email: bool) -> CostAssumptions {
    if let Some(r) = raw.text_change_rate.as_ref().filter(|r| r.value > 1.0) {
        p.at(
            r,
            "cost.text_change_rate",
            format!("{} is a share of texts: use a number from 0 to 1", r.value),
        );
    }
    let mut assume = |key: &str, v: &Option<Spanned<f64>>, default: f64| match v {
        None => default,
        Some(s) if s.value.is_finite() && s.value >= 0.0 => s.value,
        Some(s) => {
            p.at(
                s,
                &format!("cost.{key}"),
                format!(
                    "{} is not a usable assumption: use a number of at least 0",
                    s.value
                ),
            );
            default
        }
    };
    CostAssumptions {
        sentiment_ms_per_company: assume(
            "sentiment_ms_per_company",
            &raw.sentiment_ms_per_company,
            defaults::COST_SENTIMENT_MS_PER_COMPANY,
        ),
        producer_ms_per_run: assume(
            "producer_ms_per_run",
            &raw.producer_ms_per_run,
            defaults::COST_PRODUCER_MS_PER_RUN,
        ),
        producer_ms_per_company: assume(
            "producer_ms_per_company",
            &raw.producer_ms_per_company,
            defaults::COST_PRODUCER_MS_PER_COMPANY,
        ),
        text_chars_per_company: assume(
            "text_chars_per_company",
            &raw.text_chars_per_company,
            defaults::COST_TEXT_CHARS_PER_COMPANY,
        ),
        text_change_rate: assume(
            "text_change_rate",
            &raw.text_change_rate,
            defaults::COST_TEXT_CHANGE_RATE,
        )
        .min(1.0),
        result_kb: assume("result_kb", &raw.result_kb, defaults::COST_RESULT_KB),
        log_kb_per_company: assume(
            "log_kb_per_company",
            &raw.log_kb_per_company,
            defaults::COST_LOG_KB_PER_COMPANY,
        ),
        alarm_notifications_per_month: assume(
            "alarm_notifications_per_month",
            &raw.alarm_notifications_per_month,
            if has_email {
                defaults::COST_ALARM_NOTIFICATIONS_PER_MONTH
            } else {
                0.0
            },
        ),
        company_changes_per_month: assume(
            "company_changes_per_month",
            &raw.company_changes_per_month,
            defaults::COST_COMPANY_CHANGES_PER_MONTH,
        ),
        cost_explorer_requests_per_month: assume(
            "cost_explorer_requests_per_month",
            &raw.cost_explorer_requests_per_month,
            defaults::COST_EXPLORER_REQUESTS_PER_MONTH,
        ),
    }
}

/// `companies`: normalized, each at most once, each page read by one entry.
fn companies(p: &mut Problems, raw: &[Spanned<raw::RawCompany>]) -> Option<CompanyList> {
    CompanyList::from_entries(raw.iter().map(|c| {
        // A mapping's name has its own place; a plain name is the entry.
        let (line, column) = match &c.value {
            raw::RawCompany::Entry { name, .. } => {
                (name.referenced.line(), name.referenced.column())
            }
            raw::RawCompany::Name(_) => (c.referenced.line(), c.referenced.column()),
        };
        RawEntry {
            text: c.value.name(),
            line,
            column,
            wikipedia: c.value.wikipedia().map(|t| RawTitle {
                text: &t.value,
                line: t.referenced.line(),
                column: t.referenced.column(),
            }),
        }
    }))
    .map_err(|list_problems| {
        for lp in list_problems {
            p.list.push(
                Diagnostic::new(p.path, lp.line, lp.column, lp.message).with_key("companies"),
            );
        }
    })
    .ok()
}

/// One alarm's settings with defaults applied; every bad value becomes a problem.
fn alarm_setting(
    p: &mut Problems,
    key: &str,
    raw: Option<&raw::RawAlarm>,
    threshold: f64,
    period_s: u32,
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
        p.at(
            t,
            &key("threshold"),
            format!("{} is not a threshold: use a number of at least 0", t.value),
        );
    }
    if let Some(period) = &raw.period_s
        && !(matches!(period.value, 10 | 20 | 30) || (period.value > 0 && period.value % 60 == 0))
    {
        p.at(
            period,
            &key("period_s"),
            format!(
                "{} s is not a CloudWatch alarm period: use 10, 20, 30 or a multiple of 60",
                period.value
            ),
        );
    }
    if let Some(e) = &raw.evaluation_periods
        && e.value == 0
    {
        p.at(e, &key("evaluation_periods"), "at least 1 period is needed");
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
        p.at(
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
        );
    }
    setting
}

fn spanned_or<T: Copy>(v: &Option<Spanned<T>>, default: T) -> T {
    v.as_ref().map_or(default, |s| s.value)
}
