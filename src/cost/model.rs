//! The usage model: what one environment uses in an average month, derived from its
//! env file (schedule, companies, function settings, alarms) and the stated
//! assumptions, priced with a pricing table. Every number that is not read from the
//! file is an assumption and is listed with the estimate.

use serde::Serialize;

use super::pricing::PricingTable;
use crate::config::{Analyzer, Arch, EnvConfig};
use crate::resources::Names;

/// Days in an average month (365 / 12): monthly figures are yearly ones over 12.
pub const DAYS_PER_MONTH: f64 = 365.0 / 12.0;
/// The event source mapping's batch size (template: BatchSize 25).
const BATCH: f64 = fang_shared::SENTIMENT_BATCH_SIZE as f64;
/// Lambda's SQS event source mapping polls with 5 long polls of up to 20 s even when
/// the queue is empty.
const ESM_POLLERS: f64 = 5.0;
const LONG_POLL_S: f64 = 20.0;
/// Comprehend's sentiment reads the first 500 characters of a text, so the sentiment
/// function sends at most that; units are 100 characters sent, 3 at least.
pub(crate) const COMPREHEND_MAX_CHARS: f64 =
    fang_sentiment::analyze::COMPREHEND_ANALYZED_CHARS as f64;
/// A companies-table item (the name and the key), bytes.
const ITEM_BYTES: f64 = 100.0;
/// Lambda's own log lines per invocation (START, END, REPORT) and the metric line, KB.
const LOG_KB_PER_INVOCATION: f64 = 0.4;
/// Log groups keep 30 days (template: LogRetentionDays).
const LOG_RETENTION_DAYS: f64 = 30.0;
const KB_PER_GB: f64 = 1024.0 * 1024.0;
/// Noncurrent versions kept 30 days (a result rewritten by a redelivered message, a
/// summary written by more than one batch), as a share of the results' storage.
const NONCURRENT_SHARE: f64 = 0.01;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Assumption {
    pub name: String,
    pub value: String,
    /// `env file`, `default`, or how it was derived.
    pub source: String,
}

/// One priced quantity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Line {
    pub service: String,
    pub price_key: String,
    pub what: String,
    /// In the price's base unit (requests, GB-seconds, GB-months, ...).
    pub quantity: f64,
    pub free: f64,
    pub cost: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceCost {
    pub service: String,
    pub monthly: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub env: String,
    pub region: String,
    pub free_tier: bool,
    pub prices_checked: String,
    pub companies: usize,
    pub runs_per_month: f64,
    pub lines: Vec<Line>,
    pub services: Vec<ServiceCost>,
    pub monthly: f64,
    pub yearly: f64,
    pub per_company_monthly: f64,
    /// How long one run takes, about: the producer, then the batches, at most
    /// `lambda.max_concurrency` at once.
    pub run_duration_s: f64,
    pub max_concurrency: u32,
    pub assumptions: Vec<Assumption>,
    /// The month without the analysis cache, when the cache saves anything (Comprehend
    /// with `cache.enabled`): what the plan sets beside the estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_without_cache: Option<f64>,
}

fn service_name(code: &str) -> &str {
    match code {
        "AWSLambda" => "AWS Lambda",
        "AWSQueueService" => "Amazon SQS",
        "AmazonDynamoDB" => "Amazon DynamoDB",
        "AmazonS3" => "Amazon S3",
        "comprehend" => "Amazon Comprehend",
        "AmazonCloudWatch" => "Amazon CloudWatch",
        "AmazonSNS" => "Amazon SNS",
        "AmazonEventBridge" => "Amazon EventBridge",
        "AWSCostExplorer" => "AWS Cost Explorer",
        other => other,
    }
}

/// Runs in an average month: the schedule's runs in the twelve months from the day the
/// env file was read, over 12.
pub fn runs_per_month(env: &EnvConfig) -> f64 {
    // A preview's schedule is disabled: it runs when its deploy verifies, a few times.
    if env.preview.is_some() {
        return 0.0;
    }
    env.schedule.runs_between(env.as_of, 365) as f64 / 12.0
}

/// What every line of the estimate derives from.
struct Shape<'a> {
    env: &'a EnvConfig,
    companies: f64,
    runs: f64,
    /// SQS batches (sentiment invocations) a run.
    batches: f64,
}

impl<'a> Shape<'a> {
    fn new(env: &'a EnvConfig) -> Self {
        let companies = env.companies.len() as f64;
        Self {
            env,
            companies,
            runs: runs_per_month(env),
            batches: (companies / BATCH).ceil(),
        }
    }

    /// One run's wall-clock time: the producer, then waves of batches (at most
    /// `max_concurrency` at once), each batch's companies one after another as billed,
    /// plus the batching window that gathers it.
    fn run_duration_s(&self) -> f64 {
        let a = &self.env.cost;
        let producer =
            (a.producer_ms_per_run + a.producer_ms_per_company * self.companies) / 1000.0;
        let waves = (self.batches / f64::from(self.env.lambda.max_concurrency)).ceil();
        let per_batch = self.companies.min(BATCH) * a.sentiment_ms_per_company / 1000.0
            + f64::from(fang_shared::BATCHING_WINDOW_S);
        producer + waves * per_batch
    }

    /// How many months of results the bucket holds on average over the first year: they
    /// accumulate (6.5 months' worth on average) unless `results.retention_days`
    /// expires them sooner.
    fn months_of_results(&self) -> f64 {
        let all_year = 6.5;
        self.env
            .results
            .retention_days
            .map_or(all_year, |d| (f64::from(d) / DAYS_PER_MONTH).min(all_year))
    }

    /// The share of a run's texts sent to the analyzer: all without the cache; with it,
    /// those that changed (`cost.text_change_rate`), and at least one run in each
    /// `cache.max_age_days` (an unchanged text is analyzed again past it).
    fn analyzed_share(&self) -> f64 {
        let cache = &self.env.cache;
        if !cache.enabled {
            return 1.0;
        }
        let runs_per_age = self.runs * f64::from(cache.max_age_days) / DAYS_PER_MONTH;
        let floor = if runs_per_age > 1.0 {
            1.0 / runs_per_age
        } else {
            1.0
        };
        self.env.cost.text_change_rate.max(floor).min(1.0)
    }

    /// The characters of a text Comprehend is paid for, and its billing units (100
    /// characters each, at least 3).
    fn comprehend_text(&self) -> (f64, f64) {
        let chars = self
            .env
            .cost
            .text_chars_per_company
            .min(COMPREHEND_MAX_CHARS);
        (chars, (chars / 100.0).ceil().max(3.0))
    }
}

/// Quantities to price: (price key, what it is, quantity a month).
type Usage = Vec<(&'static str, String, f64)>;

pub fn estimate(env: &EnvConfig, table: &PricingTable, free_tier: bool) -> Estimate {
    let shape = Shape::new(env);
    let mut usage = Usage::new();
    // One function per service; the order is the report's.
    for service in [
        lambda,
        sqs,
        dynamodb,
        s3,
        comprehend,
        cloudwatch,
        notifications,
    ] {
        service(&shape, &mut usage);
    }
    let lines = price(usage, table, free_tier);
    let mut services: Vec<ServiceCost> = Vec::new();
    for l in &lines {
        match services.iter_mut().find(|s| s.service == l.service) {
            Some(s) => s.monthly += l.cost,
            None => services.push(ServiceCost {
                service: l.service.clone(),
                monthly: l.cost,
            }),
        }
    }
    let monthly: f64 = lines.iter().map(|l| l.cost).sum();
    let n = shape.companies;
    Estimate {
        env: env.name.clone(),
        region: table.region.clone(),
        free_tier,
        prices_checked: table.checked().to_owned(),
        companies: env.companies.len(),
        runs_per_month: shape.runs,
        lines,
        services,
        monthly,
        yearly: monthly * 12.0,
        per_company_monthly: if n > 0.0 { monthly / n } else { 0.0 },
        run_duration_s: shape.run_duration_s(),
        max_concurrency: env.lambda.max_concurrency,
        assumptions: assumptions(&shape, free_tier),
        monthly_without_cache: (shape.analyzed_share() < 1.0
            && env.sentiment == Analyzer::Comprehend)
            .then(|| {
                let mut without = env.clone();
                without.cache.enabled = false;
                estimate(&without, table, free_tier).monthly
            })
            // Under a cent (the free tier can take all of Comprehend): nothing to say.
            .filter(|without| without - monthly >= 0.005),
    }
}

/// Each quantity at its price, less the free tier when asked.
fn price(usage: Usage, table: &PricingTable, free_tier: bool) -> Vec<Line> {
    usage
        .into_iter()
        .map(|(key, what, quantity)| {
            let p = table.get(key);
            let free = if free_tier {
                p.free.map_or(0.0, |(q, _)| q)
            } else {
                0.0
            };
            let billable = (quantity - free).max(0.0);
            Line {
                service: service_name(&p.service_code).to_owned(),
                price_key: key.to_owned(),
                what,
                quantity,
                free: free.min(quantity),
                cost: billable / p.scale * p.price,
            }
        })
        .collect()
}

/// Every assumption the estimate rests on, with where it came from.
fn assumptions(shape: &Shape, free_tier: bool) -> Vec<Assumption> {
    use crate::config::defaults as d;
    let (env, a) = (shape.env, &shape.env.cost);
    let mut assumptions = Vec::new();
    let mut assume = |name: &str, value: String, source: &str| {
        assumptions.push(Assumption {
            name: name.to_owned(),
            value,
            source: source.to_owned(),
        });
    };
    assume(
        "runs a month",
        format!("{:.2}", shape.runs),
        &if env.preview.is_some() {
            "none: a preview's schedule is disabled (its deploys' canaries are not counted)"
                .to_owned()
        } else {
            format!("schedule {} over the next 12 months, / 12", env.schedule)
        },
    );
    assume("companies", format!("{}", shape.companies), "env file");
    assume(
        "SQS batches a run",
        format!("{}", shape.batches),
        "companies / 25 (the event source mapping's batch size)",
    );
    assume(
        "one run",
        format!(
            "about {} ({} {}, at most {} at once)",
            duration(shape.run_duration_s()),
            shape.batches,
            if shape.batches == 1.0 {
                "batch"
            } else {
                "batches"
            },
            env.lambda.max_concurrency
        ),
        "lambda.max_concurrency; a batch: 25 companies × the sentiment time + 5 s batching window",
    );
    assume(
        "function memory",
        format!(
            "{} MB, {}",
            env.lambda.memory_mb,
            arch_name(env.lambda.arch)
        ),
        "env file",
    );
    let cost_source = |default: f64, v: f64| {
        if (v - default).abs() < f64::EPSILON {
            "default"
        } else {
            "env file"
        }
    };
    assume(
        "producer time a run",
        format!(
            "{} ms + {} ms a company",
            a.producer_ms_per_run, a.producer_ms_per_company
        ),
        cost_source(d::COST_PRODUCER_MS_PER_RUN, a.producer_ms_per_run),
    );
    assume(
        "sentiment time a company",
        format!("{} ms", a.sentiment_ms_per_company),
        cost_source(d::COST_SENTIMENT_MS_PER_COMPANY, a.sentiment_ms_per_company),
    );
    if env.sentiment == Analyzer::Comprehend {
        let (chars, units) = shape.comprehend_text();
        assume(
            "text a company",
            format!(
                "{} characters, {chars} of them sent = {units} Comprehend units",
                env.cost.text_chars_per_company
            ),
            "cost.text_chars_per_company, of which at most 500 are sent (all Comprehend reads); units of 100 characters, 3 at least",
        );
        assume(
            "texts analyzed a run",
            format!("{:.1}%", shape.analyzed_share() * 100.0),
            &if env.cache.enabled {
                format!(
                    "the cache: cost.text_change_rate ({}), and every text at least once in cache.max_age_days ({})",
                    a.text_change_rate, env.cache.max_age_days
                )
            } else {
                "cache: {enabled: false}: every text, every run".to_owned()
            },
        );
    } else {
        assume(
            "analyzer",
            "VADER, embedded: no Comprehend charges".into(),
            "env file",
        );
    }
    assume(
        "result object",
        format!("{} KB, kept (no expiry)", a.result_kb),
        cost_source(d::COST_RESULT_KB, a.result_kb),
    );
    assume(
        "S3 storage",
        match env.results.retention_days {
            None => "first-year average: 6.5 months of results, +1% noncurrent versions".into(),
            Some(d) => format!(
                "{:.1} months of results (kept {d} days), +1% noncurrent versions",
                shape.months_of_results()
            ),
        },
        "results accumulate unless results.retention_days expires them; versions are kept 30 days",
    );
    assume(
        "SQS idle polling",
        format!("{} pollers × one 20 s long poll", ESM_POLLERS),
        "Lambda's event source mapping polls even when the queue is empty",
    );
    assume(
        "logs",
        format!(
            "{LOG_KB_PER_INVOCATION} KB an invocation + {} KB a company, kept 30 days",
            a.log_kb_per_company
        ),
        "Lambda's START/END/REPORT lines and fangops's log lines",
    );
    assume(
        "alarm e-mails a month",
        format!("{}", a.alarm_notifications_per_month),
        if env.alarms.email.is_some() {
            "cost.alarm_notifications_per_month"
        } else {
            "no alarms.email"
        },
    );
    assume(
        "company changes a month",
        format!("{}", a.company_changes_per_month),
        "cost.company_changes_per_month",
    );
    assume(
        "Cost Explorer requests a month",
        format!("{}", a.cost_explorer_requests_per_month),
        "cost.cost_explorer_requests_per_month (fangops cost makes 2)",
    );
    if free_tier {
        assume("free tier", "applied: allowances are per account, shared with its other workloads; some end after 12 months".into(), "--free-tier");
    }
    assumptions
}

/// Lambda: one producer and one sentiment invocation a batch; compute by run time.
fn lambda(s: &Shape, u: &mut Usage) {
    let (a, n) = (&s.env.cost, s.companies);
    u.push((
        "lambda_requests",
        "invocations: 1 producer + 1 sentiment a batch, a run".into(),
        s.runs * (1.0 + s.batches),
    ));
    let producer_s = (a.producer_ms_per_run + a.producer_ms_per_company * n) / 1000.0;
    let sentiment_s = n * a.sentiment_ms_per_company / 1000.0;
    let mem_gb = f64::from(s.env.lambda.memory_mb) / 1024.0;
    let gb_key = match s.env.lambda.arch {
        Arch::Arm64 => "lambda_gb_seconds_arm64",
        Arch::X86_64 => "lambda_gb_seconds_x86_64",
    };
    u.push((
        gb_key,
        "compute: run time × memory".into(),
        s.runs * (producer_s + sentiment_s) * mem_gb,
    ));
}

/// SQS: send, receive and delete a batch each; idle polling all month.
fn sqs(s: &Shape, u: &mut Usage) {
    let idle_polls = ESM_POLLERS * DAYS_PER_MONTH * 86_400.0 / LONG_POLL_S;
    u.push((
        "sqs_requests",
        "send, receive, delete a batch; idle long polls".into(),
        s.runs * s.batches * 3.0 + idle_polls,
    ));
}

/// DynamoDB: one scan a run (0.5 RRU per 4 KB, eventually consistent), sync writes.
fn dynamodb(s: &Shape, u: &mut Usage) {
    let n = s.companies;
    let rru_per_scan = ((n * ITEM_BYTES / 4096.0).ceil() * 0.5).max(0.5);
    u.push((
        "dynamodb_read_request_units",
        "the producer's scan".into(),
        s.runs * rru_per_scan,
    ));
    u.push((
        "dynamodb_write_request_units",
        "sync writes".into(),
        s.env.cost.company_changes_per_month,
    ));
    u.push((
        "dynamodb_storage",
        "the companies table".into(),
        n * ITEM_BYTES / (KB_PER_GB * 1024.0),
    ));
}

/// S3: results, manifest and summary; per batch a manifest GET and a listing.
fn s3(s: &Shape, u: &mut Usage) {
    let n = s.companies;
    let lists = s.batches * (n / 1000.0).ceil().max(1.0);
    u.push((
        "s3_put_requests",
        "results, manifest, summary; listings".into(),
        s.runs * (n + 2.0 + lists),
    ));
    u.push((
        "s3_get_requests",
        "manifest a batch; results for the summary".into(),
        s.runs * (s.batches + n),
    ));
    if s.env.cache.enabled {
        // Each company reads its page's entry (Wikipedia texts) and its analysis's;
        // what changed is written again.
        let per_company = if s.env.text_source == crate::config::TextSource::Wikipedia {
            2.0
        } else {
            1.0
        };
        u.push((
            "s3_get_requests",
            "the cache: a page and an analysis a company".into(),
            s.runs * n * per_company,
        ));
        u.push((
            "s3_put_requests",
            "the cache: what changed".into(),
            s.runs * n * per_company * s.analyzed_share(),
        ));
    }
    let monthly_gb = s.runs * n * (s.env.cost.result_kb + 0.2) / KB_PER_GB;
    u.push((
        "s3_storage",
        "results (average of the first year), and their noncurrent versions".into(),
        monthly_gb * s.months_of_results() * (1.0 + NONCURRENT_SHARE),
    ));
}

/// Comprehend: the units of each text sent (none with the embedded analyzer).
fn comprehend(s: &Shape, u: &mut Usage) {
    if s.env.sentiment == Analyzer::Comprehend {
        let (_, units) = s.comprehend_text();
        let share = s.analyzed_share();
        let what = if share < 1.0 {
            format!(
                "sentiment of the texts that changed ({:.1}% a run; {:.0} units without the cache)",
                share * 100.0,
                s.runs * s.companies * units
            )
        } else {
            "sentiment of each text".to_owned()
        };
        u.push((
            "comprehend_sentiment_units",
            what,
            s.runs * s.companies * units * share,
        ));
    }
}

/// CloudWatch: alarms, the results metric, the dashboard, the functions' logs.
fn cloudwatch(s: &Shape, u: &mut Usage) {
    let env = s.env;
    // The alarms fangops would install: counted from the same list, so the estimate
    // follows any alarm added there. Names and topic do not change the count.
    let alarms = crate::alarms::desired::desired(env, &Names::new(&env.stack, "000000000000"), "")
        .len() as f64;
    u.push(("cloudwatch_alarms", "alarms".into(), alarms));
    // Each metric of the sentiment function's batch line (ResultsWritten, which the
    // no-results alarm watches, and what `cost --measured` reads) is a custom metric.
    // CloudWatch prorates a metric-month by the hour and bills only the hours in which
    // the metric received data (CloudWatch pricing): a run's batches publish within
    // the hours the run spans, so a daily pipeline pays about 1/24 of a month.
    let metrics = fang_shared::metrics::published();
    let hours_per_month = DAYS_PER_MONTH * 24.0;
    let active_hours =
        (s.runs * (s.run_duration_s() / 3600.0).ceil().max(1.0)).min(hours_per_month);
    u.push((
        "cloudwatch_custom_metrics",
        format!(
            "pipeline metrics ({} and {} more), {:.0} hours of data a month",
            metrics[0],
            metrics.len() - 1,
            active_hours
        ),
        metrics.len() as f64 * active_hours / hours_per_month,
    ));
    if env.alarms.dashboard {
        u.push((
            "cloudwatch_dashboards",
            "the pipeline dashboard".into(),
            1.0,
        ));
    }
    let log_gb = s.runs
        * ((1.0 + s.batches) * LOG_KB_PER_INVOCATION + s.companies * env.cost.log_kb_per_company)
        / KB_PER_GB;
    u.push(("cloudwatch_logs_ingestion", "function logs".into(), log_gb));
    u.push((
        "cloudwatch_logs_storage",
        "function logs, 30 days".into(),
        log_gb * LOG_RETENTION_DAYS / DAYS_PER_MONTH,
    ));
}

/// SNS alarm e-mails, the EventBridge schedule, and fangops's Cost Explorer requests.
fn notifications(s: &Shape, u: &mut Usage) {
    let a = &s.env.cost;
    u.push((
        "sns_email_notifications",
        "alarm e-mails".into(),
        a.alarm_notifications_per_month,
    ));
    u.push((
        "eventbridge_scheduled_invocations",
        "schedule".into(),
        s.runs,
    ));
    u.push((
        "cost_explorer_api_requests",
        "fangops cost".into(),
        a.cost_explorer_requests_per_month,
    ));
}

/// A duration as people read it: seconds under two minutes, then minutes.
pub fn duration(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

fn arch_name(a: Arch) -> &'static str {
    match a {
        Arch::Arm64 => "arm64",
        Arch::X86_64 => "x86_64",
    }
}

#[cfg(test)]
mod tests {
    //! Hand-computed cases, the arithmetic written out. R is runs a month, B batches a
    //! run; prices are the shipped us-east-1 table's.
    use super::*;
    use crate::testing::reports::pricing_table;

    /// An env without the cache: the figures below are each text analyzed every run
    /// (`the_cache_pays_for_changed_texts_only` prices the cache).
    fn env(schedule: &str, companies: usize, arch: &str) -> EnvConfig {
        env_with(schedule, companies, arch, "cache: {enabled: false}\n")
    }

    fn env_with(schedule: &str, companies: usize, arch: &str, extra: &str) -> EnvConfig {
        let head = format!(
            "stack: fang-cost\nregion: us-east-1\nschedule: {schedule}\nlambda: {{ memory_mb: 256, arch: {arch} }}\n{extra}"
        );
        let names = crate::testing::env::numbered(companies);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        crate::testing::env::file("cost", &head, &names)
    }

    /// Regression: schedules were counted over 2026 whatever the day, so a schedule with
    /// a year field was priced at 0 runs and had its no-results alarm turned off.
    #[test]
    fn a_schedule_is_counted_over_the_twelve_months_ahead() {
        let read_on = |day: time::Date| {
            crate::config::parse_as_of(
                std::path::Path::new("environments/dev.yaml"),
                b"stack: fang-dev\nregion: us-east-1\nschedule: cron(0 9 * * ? 2027)\ncompanies: [A]\n",
                day,
            )
            .unwrap()
        };
        let early = read_on(time::macros::date!(2026 - 01 - 01));
        assert_eq!(
            runs_per_month(&early),
            0.0,
            "no run in the twelve months ahead"
        );
        assert!(!early.alarms.no_results.enabled);
        // From 8 December 2026: 1 January to 7 December 2027, 341 daily runs.
        let late = read_on(time::macros::date!(2026 - 12 - 08));
        cents(runs_per_month(&late), 341.0 / 12.0);
        assert!(late.alarms.no_results.enabled);
        assert_eq!(late.alarms.no_results.period_s, 86_400 + 3_600);
    }

    #[track_caller]
    fn cents(got: f64, want: f64) {
        assert!((got - want).abs() < 0.005, "got {got:.6}, want {want:.6}");
    }

    fn service(e: &Estimate, name: &str) -> f64 {
        e.services
            .iter()
            .find(|s| s.service == name)
            .map_or(0.0, |s| s.monthly)
    }

    #[test]
    fn the_cache_pays_for_changed_texts_only() {
        let without = estimate(&env("rate(1 hour)", 1000, "arm64"), &pricing_table(), false);
        let with = estimate(
            &env_with("rate(1 hour)", 1000, "arm64", ""),
            &pricing_table(),
            false,
        );
        // 730 runs × 1,000 texts × 5 units × $0.0001 = $365 without; with 5% of the
        // texts changing between runs (more than a week's floor of 1/168), 5% of it.
        cents(service(&without, "Amazon Comprehend"), 365.0);
        cents(service(&with, "Amazon Comprehend"), 18.25);
        // The cache's own requests: 2 GETs a company a run (page and analysis) and a
        // PUT of each of the 5% that changed, of each kind: 1.46M GETs × $0.0004/K
        // + 73,000 PUTs × $0.005/K = $0.584 + $0.365.
        cents(
            service(&with, "Amazon S3") - service(&without, "Amazon S3"),
            0.949,
        );
        assert!(with.monthly < without.monthly - 300.0);
        let line = with
            .lines
            .iter()
            .find(|l| l.price_key == "comprehend_sentiment_units")
            .unwrap();
        assert!(line.what.contains("5.0% a run"), "{}", line.what);
        // A text unchanged for a week is analyzed again: daily runs reach the floor.
        let mut weekly = env_with(
            "rate(1 day)",
            10,
            "arm64",
            "cost: {text_change_rate: 0.01}\n",
        );
        weekly.cache.max_age_days = 7;
        let e = estimate(&weekly, &pricing_table(), false);
        let a = e
            .assumptions
            .iter()
            .find(|a| a.name == "texts analyzed a run")
            .unwrap();
        assert_eq!(
            a.value, "14.3%",
            "daily: of 7 runs in 7 days, one analyzes all"
        );
    }

    #[test]
    fn five_companies_daily() {
        // R = 365/12 = 30.416667, B = 1.
        let e = estimate(&env("rate(1 day)", 5, "arm64"), &pricing_table(), false);
        cents(e.runs_per_month, 30.416667);
        // Lambda: R×2 requests × $0.20/M = $0.000012; (0.31 s + 5×0.8 s) × 0.25 GB × R
        // = 32.774 GB-s × $0.0000133334 = $0.000437.
        cents(service(&e, "AWS Lambda"), 0.000449);
        // SQS: R×1×3 + 5 pollers × R days × 86,400 s / 20 s = 91.25 + 657,000 requests
        // × $0.40/M = $0.262837.
        cents(service(&e, "Amazon SQS"), 0.262837);
        // Comprehend: 1,200 characters, of which 500 are sent = 5 units × 5 × R =
        // 760.42 units × $0.0001 (all 1,200 would be 12 units: $0.1825).
        cents(service(&e, "Amazon Comprehend"), 0.076042);
        // S3: R × (5 results + manifest + summary + 1 listing) = 243.3 PUTs × $0.005/K
        // + R × (1 + 5) = 182.5 GETs × $0.0004/K + 0.00415 GB × $0.023.
        cents(service(&e, "Amazon S3"), 0.001385);
        // CloudWatch: 9 alarms × $0.10 + 9 metrics (the batch line's) × $0.30 for the
        // R hours a month they get data (R / 730 of a month: $0.1125) + 1 dashboard ×
        // $3.00 + logs.
        cents(service(&e, "Amazon CloudWatch"), 4.01255);
        cents(service(&e, "AWS Cost Explorer"), 0.20);
        cents(e.monthly, 4.553342);
        cents(e.yearly, 4.553342 * 12.0);
        cents(e.per_company_monthly, 4.553342 / 5.0);
    }

    #[test]
    fn a_thousand_companies_hourly_arm64_against_x86_64() {
        // R = 365×24/12 = 730, B = 1,000 / 25 = 40.
        let arm = estimate(&env("rate(1 hour)", 1000, "arm64"), &pricing_table(), false);
        let x86 = estimate(
            &env("rate(1 hour)", 1000, "x86_64"),
            &pricing_table(),
            false,
        );
        cents(arm.runs_per_month, 730.0);
        // Requests: 730 × 41 = 29,930 × $0.20/M = $0.005986. Compute: (0.3 + 2.0 s
        // + 1,000 × 0.8 s) × 0.25 GB × 730 = 146,419.75 GB-s.
        cents(
            service(&arm, "AWS Lambda"),
            0.005986 + 146_419.75 * 0.0000133334,
        );
        cents(
            service(&x86, "AWS Lambda"),
            0.005986 + 146_419.75 * 0.0000166667,
        );
        // SQS: 730 × 40 × 3 + 657,000 = 744,600 requests × $0.40/M.
        cents(service(&arm, "Amazon SQS"), 0.29784);
        // S3: 730 × (1,000 + 2 + 40 listings) = 760,660 PUTs × $0.005/K = $3.8033;
        // 730 × 1,040 = 759,200 GETs × $0.0004/K = $0.30368; 730 × 1,000 × 2.2 KB =
        // 1.5316 GB a month × 6.5 months × 1.01 (noncurrent versions) × $0.023 =
        // $0.231264.
        cents(service(&arm, "Amazon S3"), 3.8033 + 0.30368 + 0.231264);
        // Comprehend: 730 × 1,000 × 5 units × $0.0001 = $365 (12 units: $876).
        cents(service(&arm, "Amazon Comprehend"), 365.0);
        // CloudWatch: $6.60 (hourly runs: the metrics get data every hour) + logs (41 × 0.4 + 1,000 × 0.5 KB) × 730 = 0.359509 GB
        // × $0.50 + 0.359509 × 30/30.4167 × $0.03.
        cents(
            service(&arm, "Amazon CloudWatch"),
            6.60 + 0.179754 + 0.010638,
        );
        cents(arm.monthly, 378.5867);
        // arm64's GB-second is 20% cheaper: the whole difference is Lambda compute.
        cents(
            x86.monthly - arm.monthly,
            146_419.75 * (0.0000166667 - 0.0000133334),
        );
        // One run: the producer (0.3 + 2 s), then 40 batches 5 at a time: 8 waves of
        // 25 × 0.8 s + 5 s of batching window = 25 s each.
        cents(arm.run_duration_s, 2.3 + 8.0 * 25.0);
    }

    #[test]
    fn free_tier_subtracts_the_allowances() {
        let e = estimate(&env("rate(1 hour)", 1000, "arm64"), &pricing_table(), true);
        // Lambda, SQS, CloudWatch (9 alarms ≤ 10, 9 metrics ≤ 10, 1 dashboard ≤ 3, logs
        // ≤ 5 GB) and EventBridge fall inside the free tier.
        cents(service(&e, "AWS Lambda"), 0.0);
        cents(service(&e, "Amazon SQS"), 0.0);
        cents(service(&e, "Amazon CloudWatch"), 0.0);
        // S3: (760,660 - 2,000) PUTs + (759,200 - 20,000) GETs + (10.0549 - 5) GB.
        cents(service(&e, "Amazon S3"), 3.7933 + 0.29568 + 0.116263);
        // Comprehend: 3,650,000 - 50,000 units.
        cents(service(&e, "Amazon Comprehend"), 360.0);
        cents(e.monthly, 364.40637);
        let line = e
            .lines
            .iter()
            .find(|l| l.price_key == "comprehend_sentiment_units")
            .unwrap();
        assert_eq!(line.free, 50_000.0);
        assert!(e.assumptions.iter().any(|a| a.name == "free tier"));
    }

    #[test]
    fn a_retention_period_bounds_the_storage() {
        let mut e = env("rate(1 hour)", 1000, "arm64");
        e.results.retention_days = Some(30);
        let est = estimate(&e, &pricing_table(), false);
        let storage = est
            .lines
            .iter()
            .find(|l| l.price_key == "s3_storage")
            .unwrap();
        // 1.5316 GB a month, kept 30 days = 30 / 30.4167 months, + 1%.
        cents(storage.quantity, 1.531601 * (30.0 / (365.0 / 12.0)) * 1.01);
        assert!(
            est.assumptions
                .iter()
                .any(|a| a.value.contains("(kept 30 days)")),
            "{:?}",
            est.assumptions
        );
    }

    #[test]
    fn vader_has_no_comprehend_line_and_weekday_crons_run_less() {
        let mut e = env("cron(0 6 ? * MON-FRI *)", 5, "arm64");
        e.sentiment = Analyzer::Vader;
        let est = estimate(&e, &pricing_table(), false);
        // 2026 has 261 weekdays: 261 / 12 = 21.75 runs a month.
        cents(est.runs_per_month, 21.75);
        assert!(
            est.lines
                .iter()
                .all(|l| l.price_key != "comprehend_sentiment_units")
        );
        assert!(est.assumptions.iter().any(|a| a.value.contains("VADER")));
    }

    #[test]
    fn long_texts_are_bounded_by_what_comprehend_reads() {
        let mut e = env("rate(1 day)", 1, "arm64");
        e.cost.text_chars_per_company = 20_000.0;
        let est = estimate(&e, &pricing_table(), false);
        let line = est
            .lines
            .iter()
            .find(|l| l.price_key == "comprehend_sentiment_units")
            .unwrap();
        // 500 characters sent at most (all Comprehend reads): 5 units a text.
        cents(line.quantity, 5.0 * 365.0 / 12.0);
        e.cost.text_chars_per_company = 50.0;
        let est = estimate(&e, &pricing_table(), false);
        let line = est
            .lines
            .iter()
            .find(|l| l.price_key == "comprehend_sentiment_units")
            .unwrap();
        // Short texts still cost 3 units.
        cents(line.quantity, 3.0 * 365.0 / 12.0);
    }
}
