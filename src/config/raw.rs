//! The env file exactly as written: strict serde types that keep source locations.
//!
//! Unknown keys are errors (`deny_unknown_fields`), values that later checks point at are
//! wrapped in [`Spanned`], and optional keys are `Option` so that defaults live in one
//! place ([`super::defaults`]) instead of in serde attributes scattered over the types.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::diagnostics::Diagnostic;

/// An environment of the FANG sentiment pipeline: one CloudFormation stack and the
/// companies it watches.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "fangops environment file")]
pub struct RawEnvFile {
    /// CloudFormation stack name; every resource name is derived from it. Lowercase
    /// letters, digits and single hyphens, starting with a letter, at most 32 characters.
    #[schemars(
        with = "String",
        regex(pattern = r"^[a-z](-?[a-z0-9])*$"),
        length(max = 32)
    )]
    pub stack: Spanned<String>,
    /// AWS region code, e.g. `us-east-1`.
    #[schemars(with = "String")]
    pub region: Spanned<String>,
    /// Optional guard: fangops refuses to write when the credentials belong to another
    /// account. Quote it so YAML keeps leading zeros.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[0-9]{12}$"))]
    pub account: Option<Spanned<String>>,
    /// Local mode only: an AWS-compatible emulator, e.g. `http://127.0.0.1:4566`. The
    /// `AWS_ENDPOINT_URL` environment variable overrides it.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub endpoint_url: Option<Spanned<String>>,
    /// The CloudFormation service role that creates the stack's resources: a role name
    /// in the env's account (`fang-prod-cloudformation`) or an ARN. With it, the role
    /// that runs fangops needs no permission to create resources itself, only to pass
    /// this one (`fangops iam` prints both). Default: none (the caller's credentials).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub cloudformation_role: Option<Spanned<String>>,
    /// A protected environment (prod) deploys only from `main` in CI, or with an
    /// explicit override that names the stack. Default: false.
    #[serde(default)]
    pub protected: Option<bool>,
    /// EventBridge schedule: `rate(N minute|minutes|hour|hours|day|days)` or
    /// `cron(min hour day-of-month month day-of-week year)`. Default: `rate(1 day)`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub schedule: Option<Spanned<String>>,
    /// Settings of both Lambda functions.
    #[serde(default)]
    pub lambda: Option<RawLambda>,
    /// Which analyzer scores the texts. Default: `comprehend`.
    #[serde(default)]
    pub sentiment: Option<Analyzer>,
    /// Where the texts come from. Default: `wikipedia`.
    #[serde(default)]
    pub text_source: Option<TextSource>,
    /// CloudWatch alarms and who hears about them.
    #[serde(default)]
    pub alarms: Option<RawAlarms>,
    /// How `fangops sync` makes the companies table match this file.
    #[serde(default)]
    pub sync: Option<RawSync>,
    /// How long results are kept.
    #[serde(default)]
    pub results: Option<RawResults>,
    /// Assumptions of the cost estimate (`fangops cost`); each has a default.
    #[serde(default)]
    pub cost: Option<RawCost>,
    /// Reuse between runs: a page's text while Wikipedia says it is unchanged, and an
    /// analysis while its text is (each for at most `max_age_days`).
    #[serde(default)]
    pub cache: Option<RawCache>,
    /// How a deploy proves itself: a canary run through the deployed pipeline, then a
    /// watch of the stack's alarms (`fangops verify`, `deploy --verify`).
    #[serde(default)]
    pub verify: Option<RawVerify>,
    /// A preview pipeline per pull request (`fangops deploy --preview N`): a stack of
    /// this file's own beside the shared one, torn down when the pull request closes.
    #[serde(default)]
    pub previews: Option<RawPreviews>,
    /// The companies to watch: the desired content of the companies table. A set: order
    /// does not matter, duplicates (ignoring case and spacing) are an error. An entry is
    /// a name, or `{name: Apple, wikipedia: "Apple Inc."}` when the page to read is not
    /// the name's (the name's page is a fruit, a disambiguation page, ...).
    #[schemars(with = "Vec<CompanySchema>")]
    pub companies: Vec<Spanned<RawCompany>>,
}

/// One entry of the companies list, as written.
#[derive(Debug, Clone)]
pub enum RawCompany {
    /// `- Netflix`
    Name(String),
    /// `- {name: Apple, wikipedia: "Apple Inc."}`
    Entry {
        name: Spanned<String>,
        wikipedia: Option<Spanned<String>>,
    },
}

impl RawCompany {
    /// The name as written.
    pub fn name(&self) -> &str {
        match self {
            Self::Name(n) => n,
            Self::Entry { name, .. } => &name.value,
        }
    }

    pub fn wikipedia(&self) -> Option<&Spanned<String>> {
        match self {
            Self::Name(_) => None,
            Self::Entry { wikipedia, .. } => wikipedia.as_ref(),
        }
    }
}

/// A hand-written visitor rather than an untagged enum: serde buffers untagged enums,
/// which loses the locations `Spanned` keeps and turns every mistake into "did not
/// match any variant". This way an unknown key or a missing name is named, at its line.
impl<'de> Deserialize<'de> for RawCompany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawCompany;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a company name, or a mapping with `name` and `wikipedia`")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawCompany, E> {
                Ok(RawCompany::Name(v.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawCompany, A::Error> {
                const FIELDS: &[&str] = &["name", "wikipedia"];
                let mut name = None;
                let mut wikipedia = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" if name.is_some() => {
                            return Err(serde::de::Error::duplicate_field("name"));
                        }
                        "wikipedia" if wikipedia.is_some() => {
                            return Err(serde::de::Error::duplicate_field("wikipedia"));
                        }
                        "name" => name = Some(map.next_value::<Spanned<String>>()?),
                        "wikipedia" => wikipedia = Some(map.next_value::<Spanned<String>>()?),
                        other => return Err(serde::de::Error::unknown_field(other, FIELDS)),
                    }
                }
                let name = name.ok_or_else(|| serde::de::Error::missing_field("name"))?;
                Ok(RawCompany::Entry { name, wikipedia })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A company: its name, or its name and the Wikipedia page to read for it.
#[derive(JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
#[allow(dead_code)]
enum CompanySchema {
    /// The company's name; its Wikipedia page is the page of that title.
    Name(String),
    /// A company whose page is not its name's.
    Entry {
        /// The company's name, as it appears in results.
        name: String,
        /// The title of the company's Wikipedia page (`Apple Inc.`), when the name's
        /// page is another (`Apple`, the fruit) or a disambiguation page.
        #[schemars(length(min = 1))]
        wikipedia: Option<String>,
    },
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLambda {
    /// Memory in MB, 128 to 10240. Default: 256.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 128, max = 10240))]
    pub memory_mb: Option<Spanned<u32>>,
    /// Timeout in seconds, 1 to 900. Default: 60.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 900))]
    pub timeout_s: Option<Spanned<u32>>,
    /// CPU architecture. Default: `arm64` (cheaper per GB-second).
    #[serde(default)]
    pub arch: Option<Arch>,
    /// Sentiment batches (of up to 25 companies) in flight at once, 2 to 1000: what
    /// bounds the load on Wikipedia and Comprehend. Default: 5.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 2, max = 1000))]
    pub max_concurrency: Option<Spanned<u32>>,
}

/// CloudWatch alarms: each one is on with its defaults unless set here. Every alarm
/// notifies the stack's SNS topic when it fires and when it recovers.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlarms {
    /// Address subscribed to the alarm topic. Omit for no e-mail.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub email: Option<Spanned<String>>,
    /// Errors of each function (Sum in a period). Default threshold: 1 in 5 minutes.
    #[serde(default)]
    pub errors: Option<RawAlarm>,
    /// Throttled invocations of each function. Default threshold: 1 in 5 minutes.
    #[serde(default)]
    pub throttles: Option<RawAlarm>,
    /// Messages in the dead-letter queue (companies that failed 5 times). Default: 1.
    #[serde(default)]
    pub dlq_messages: Option<RawAlarm>,
    /// Age of the oldest message in the queue, in seconds. Default: 3600.
    #[serde(default)]
    pub oldest_message_age_s: Option<RawAlarm>,
    /// The sentiment function's longest run, in percent of its timeout. Default: 80.
    #[serde(default)]
    pub sentiment_duration_percent: Option<RawAlarm>,
    /// Fewer results written than the threshold over a period (default 1 over the
    /// schedule's interval): the pipeline that silently stopped.
    #[serde(default)]
    pub no_results: Option<RawAlarm>,
    /// Also keep a CloudWatch dashboard of the same metrics. Default: true.
    #[serde(default)]
    pub dashboard: Option<bool>,
}

/// One alarm's settings; anything omitted takes the alarm's default.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAlarm {
    /// `false` turns this alarm off (fangops then deletes it). Default: true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The value that fires the alarm; at least 0.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub threshold: Option<Spanned<f64>>,
    /// Length of one evaluation period in seconds: 10, 20, 30 or a multiple of 60.
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub period_s: Option<Spanned<u32>>,
    /// Consecutive breaching periods before the alarm fires. Default: 1.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub evaluation_periods: Option<Spanned<u32>>,
}

/// What the cost model cannot know from the rest of the file. Every value is at
/// least 0; each appears in the estimate's list of assumptions.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// Sentiment function time per company (fetch, analyze, write), ms. Default: 800.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub sentiment_ms_per_company: Option<Spanned<f64>>,
    /// Producer time per run before the first company, ms. Default: 300.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub producer_ms_per_run: Option<Spanned<f64>>,
    /// Producer time per company queued, ms. Default: 2.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub producer_ms_per_company: Option<Spanned<f64>>,
    /// Characters of text per company sent to Comprehend (at most 5,000 count).
    /// Default: 1200, a typical Wikipedia summary.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub text_chars_per_company: Option<Spanned<f64>>,
    /// Share of texts that change between two runs, 0 to 1: with the cache, only those
    /// (and those past `cache.max_age_days`) are sent to Comprehend. Default: 0.05.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0, max = 1))]
    pub text_change_rate: Option<Spanned<f64>>,
    /// Size of one result object in S3, KB. Default: 2.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub result_kb: Option<Spanned<f64>>,
    /// Log output per company processed, KB. Default: 0.5.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub log_kb_per_company: Option<Spanned<f64>>,
    /// Alarm e-mails a month (each ALARM and each OK). Default: 4 with an e-mail, else 0.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub alarm_notifications_per_month: Option<Spanned<f64>>,
    /// Companies added or removed a month (sync writes). Default: 10.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub company_changes_per_month: Option<Spanned<f64>>,
    /// Cost Explorer requests a month (`fangops cost` makes 2 per run). Default: 20.
    #[serde(default)]
    #[schemars(with = "Option<f64>", range(min = 0))]
    pub cost_explorer_requests_per_month: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawResults {
    /// Days a run's results are kept in the results bucket before S3 deletes them
    /// (a lifecycle rule), at least 1. Default: kept. Overwritten or deleted objects
    /// stay recoverable for 30 days either way (the bucket is versioned).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub retention_days: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    /// `false`: fetch every page and analyze every text on every run. Default: true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Days an analysis is reused while its text is unchanged; past it the text is
    /// analyzed again, so that a change in the analyzer's model reaches the results.
    /// At least 1. Default: 7.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    pub max_age_days: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVerify {
    /// Whether `fangops deploy` verifies each deploy (and rolls back one that fails).
    /// `--verify` and `--no-verify` override it. Default: true for a protected env,
    /// else false.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The canary companies: each must be in `companies`. Their results go under
    /// `canary/` in the results bucket, never counted as a scheduled run's. Default:
    /// the first company of the list.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub companies: Option<Vec<Spanned<String>>>,
    /// Seconds to wait for the canary results, at least 10. Default: enough for one
    /// retry of a failed attempt in AWS (the queue's visibility timeout, another
    /// function timeout and a minute; 485 with the default timeout), at least 300.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 10))]
    pub timeout_s: Option<Spanned<u32>>,
    /// Seconds to watch the stack's alarms after the canary, during which none may
    /// enter ALARM. Default: 120 (0 in a local env: an emulator evaluates no alarm).
    #[serde(default)]
    #[schemars(with = "Option<u32>")]
    pub alarm_watch_s: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPreviews {
    /// Previews of this environment that may exist at once: past it, a preview deploy
    /// refuses and names the pull requests holding the slots. 0 turns previews off.
    /// Default: 10.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 0, max = 100))]
    pub max: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSync {
    /// A sync that would delete more than this share of the live table, in percent,
    /// refuses without `--allow-mass-delete`; so does one that would empty it.
    /// 0 to 100. Default: 50.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 0, max = 100))]
    pub max_delete_percent: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    #[default]
    Arm64,
    X86_64,
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Arm64 => "arm64",
            Self::X86_64 => "x86_64",
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Analyzer {
    /// Amazon Comprehend DetectSentiment / BatchDetectSentiment.
    #[default]
    Comprehend,
    /// The embedded VADER analyzer: offline, no AWS charges.
    Vader,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    /// The Wikipedia REST summary of each company.
    #[default]
    Wikipedia,
    /// Short descriptions shipped in the repository: offline and deterministic.
    Fixtures,
}

/// Limits for env files: far above any real file (100,000 companies fit), far below what
/// an alias bomb needs, so one is rejected in milliseconds with bounded memory.
fn budget() -> serde_saphyr::budget::Budget {
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_aliases = 100;
    budget.max_anchors = 100;
    budget.max_nodes = 250_000;
    budget.max_depth = 32;
    budget.max_documents = 1;
    budget
}

/// Reads the YAML strictly. The first structural problem (syntax, unknown key, wrong
/// type, missing key) stops parsing; it is reported with its line, column and key path.
pub fn from_str(path: &Path, text: &str) -> Result<RawEnvFile, Diagnostic> {
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(Diagnostic::new(
            path,
            1,
            1,
            "file is empty; an env file needs at least `stack`, `region` and `companies`",
        ));
    }
    let options = serde_saphyr::options! { budget: Some(budget()) };
    let mut key_path = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            // `Spanned<T>` deserializes through an inner `value` field; users never see it.
            key_path = e.path().to_string().replace(".value", "");
            e.into_inner()
        })
    });
    result.map_err(|e| yaml_diagnostic(path, e, key_path))
}

/// A located diagnostic from a YAML parse error; `key_path` is serde_path_to_error's.
pub(crate) fn yaml_diagnostic(path: &Path, e: serde_saphyr::Error, key_path: String) -> Diagnostic {
    let e = e.without_snippet();
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    let mut message = e.to_string();
    // The crate appends the location we already print in front.
    let suffix = format!(" at line {line}, column {column}");
    if let Some(stripped) = message.strip_suffix(&suffix) {
        message.truncate(stripped.len());
    }
    let message = improve_message(message);
    let key = if key_path == "." {
        String::new()
    } else {
        key_path
    };
    Diagnostic::new(path, line, column, message).with_key(key)
}

/// Rewords the few parser messages that read badly to someone editing a config file.
fn improve_message(message: String) -> String {
    if message.starts_with("budget breached") {
        return format!(
            "too many anchors, aliases or nodes for an env file ({message}); expand aliases by hand"
        );
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((unknown, rest)) = rest.split_once('`')
        && let Some((_, expected)) = rest
            .split_once("expected one of ")
            .or_else(|| rest.split_once("expected "))
    {
        let closest = expected
            .split([',', ' '])
            .map(|k| k.trim_matches('`'))
            .filter(|k| !k.is_empty() && *k != "or")
            .map(|k| (strsim::levenshtein(k, unknown), k))
            .min()
            .filter(|(distance, _)| *distance <= 3);
        if let Some((_, k)) = closest {
            return format!("{message}; did you mean `{k}`?");
        }
    }
    if message.contains("tabs disallowed") {
        return format!("{message}: indent with spaces, YAML does not allow tabs here");
    }
    message
}
