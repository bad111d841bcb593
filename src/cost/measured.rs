//! What an environment actually used, from CloudWatch: the functions' invocations and
//! duration, the queue's traffic, and the sentiment function's own metrics (the
//! embedded-metric line of each batch). Turned into usage per run and per company,
//! set beside the cost model's assumptions, and usable in their place: the estimate
//! starts from reality once an environment has run.
//!
//! One GetMetricData call (up to 500 queries) reads the whole window as one period a
//! metric, following NextToken when CloudWatch pages the answer.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, StatusCode,
};
use fang_shared::metrics as m;
use serde::Serialize;

use crate::aws::AwsContext;
use crate::config::defaults as d;
use crate::config::{Analyzer, CostAssumptions, EnvConfig};
use crate::resources::Names;

/// The window read by default, in days (1-minute data is kept 15 days).
pub const DEFAULT_DAYS: u32 = 14;

/// GetMetricData calls a read may make.
const MAX_PAGES: u32 = 20;

/// The sums of a window, by query id.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sums {
    pub totals: BTreeMap<String, f64>,
    /// Seconds from the window's first run to its end; `None` when unknown.
    pub history_s: Option<i64>,
}

impl Sums {
    /// Sums without the history, from (query id, total) pairs.
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, f64)]) -> Self {
        Self {
            totals: pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            history_s: None,
        }
    }

    /// A count: what did not happen in the window (no datapoint) is zero.
    fn get(&self, id: &str) -> f64 {
        self.totals.get(id).copied().unwrap_or(0.0)
    }

    /// A measure: a metric without datapoints in the window was not measured (a stack
    /// deployed before the function published it), which is not a zero.
    fn measured(&self, id: &str) -> Option<f64> {
        self.totals.get(id).copied()
    }
}

/// The hourly series of producer invocations, read beside the sums: when the
/// environment first ran in the window.
const RUNS_HOURLY: &str = "runs_hourly";

/// Under a day of history measures one run's accidents, not the usage.
const MIN_HISTORY_S: i64 = 86_400;

/// Usage derived from a window of metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    pub days: u32,
    /// Producer invocations: runs started.
    pub runs: f64,
    pub results: f64,
    /// GetMetricData calls made (pages included).
    pub requests: u32,
    /// Why the measured figures are not used, when they are not (too little data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_enough: Option<String>,
    /// Each assumption the metrics can speak to: assumed against measured.
    pub comparisons: Vec<Comparison>,
    /// Every metric read, a run on average (queue traffic included), by query id.
    pub per_run: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The `cost:` key of the env file.
    pub key: &'static str,
    pub assumed: f64,
    pub measured: f64,
    /// The measure priced the estimate: the env file leaves this key at its default.
    /// A value written in the file wins (it may be a pull request's change, or a
    /// measure stored by `--write`), so a change to it still shows as a delta.
    pub used: bool,
}

impl Comparison {
    /// The measure is more than twice, or less than half, the assumption.
    pub fn far_off(&self) -> bool {
        self.assumed > 0.0
            && (self.measured > 2.0 * self.assumed || self.measured < 0.5 * self.assumed)
    }
}

impl Measured {
    pub fn usable(&self) -> bool {
        self.not_enough.is_none()
    }

    /// The env's assumptions with the measured ones in their place.
    pub fn apply(&self, assumptions: &CostAssumptions) -> CostAssumptions {
        let mut a = assumptions.clone();
        for c in self.comparisons.iter().filter(|c| c.used) {
            *a.value_mut(c.key).expect("a measured key is a cost key") = c.measured;
        }
        a
    }
}

/// The estimate's assumptions that came from the measure say so.
pub fn label(mut estimate: super::Estimate, measured: Option<&Measured>) -> super::Estimate {
    let Some(m) = measured.filter(|m| m.usable()) else {
        return estimate;
    };
    for a in &mut estimate.assumptions {
        let key = match a.name.as_str() {
            "producer time a run" => "producer_ms_per_run",
            "sentiment time a company" => "sentiment_ms_per_company",
            "text a company" => "text_chars_per_company",
            "result object" => "result_kb",
            "texts analyzed a run" => "text_change_rate",
            _ => continue,
        };
        if m.comparisons.iter().any(|c| c.key == key && c.used) {
            a.source = format!("measured over {} days ({} runs)", m.days, m.runs);
        }
    }
    estimate
}

/// A query: (id, namespace, metric, dimension name, dimension value).
type Query = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    String,
);

/// The queries of the window's sums.
fn queries(env: &EnvConfig, names: &Names) -> Vec<Query> {
    let lambda = |id, metric, function: &str| {
        (
            id,
            "AWS/Lambda",
            metric,
            "FunctionName",
            function.to_owned(),
        )
    };
    let (producer, sentiment) = (&names.producer_function, &names.sentiment_function);
    let sqs = |id, metric| (id, "AWS/SQS", metric, "QueueName", names.queue.clone());
    // The sentiment function's embedded-metric line (lambdas/shared/src/metrics.rs).
    let own = |id, metric| (id, m::NAMESPACE, metric, "Stack", env.stack.clone());
    vec![
        lambda("producer_invocations", "Invocations", producer),
        lambda("producer_errors", "Errors", producer),
        lambda("producer_duration", "Duration", producer),
        lambda("sentiment_invocations", "Invocations", sentiment),
        lambda("sentiment_duration", "Duration", sentiment),
        sqs("sent", "NumberOfMessagesSent"),
        sqs("received", "NumberOfMessagesReceived"),
        sqs("deleted", "NumberOfMessagesDeleted"),
        sqs("empty_receives", "NumberOfEmptyReceives"),
        own("results", m::RESULTS_WRITTEN),
        own("texts", m::TEXTS_ANALYZED),
        own("units", m::COMPREHEND_UNITS),
        own("chars", m::CHARS_ANALYZED),
        own("wikipedia", m::WIKIPEDIA_REQUESTS),
        own("result_bytes", m::RESULT_BYTES),
        own("cache_hits", m::CACHE_HITS),
        own("cache_misses", m::CACHE_MISSES),
    ]
}

/// Reads the window's sums: one query a metric, one period the whole window.
pub async fn read(
    cw: &Client,
    env: &EnvConfig,
    days: u32,
    now: time::OffsetDateTime,
) -> Result<(Sums, u32)> {
    let start = now - time::Duration::days(i64::from(days));
    let request = cw
        .get_metric_data()
        .set_metric_data_queries(Some(window_queries(env, days)))
        .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            start.unix_timestamp(),
        ))
        .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            now.unix_timestamp(),
        ));
    let mut sums = Sums::default();
    let mut token = None;
    let mut requests = 0;
    loop {
        requests += 1;
        let out = request
            .clone()
            .set_next_token(token)
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| {
                format!(
                    "reading {days} days of the metrics of stack {} (GetMetricData)",
                    env.stack
                )
            })?;
        add_page(&mut sums, &out, &env.stack, now)?;
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok((sums, requests));
        }
        // One datapoint a metric needs one page; a token that keeps coming back
        // (InternalError answered again and again) must not loop forever.
        if requests >= MAX_PAGES {
            anyhow::bail!(
                "reading the metrics of stack {}: CloudWatch still paging after {MAX_PAGES} requests",
                env.stack
            );
        }
    }
}

/// The GetMetricData queries of a window of `days`: the sums' queries, one period the
/// whole window, and the hourly series of runs.
fn window_queries(env: &EnvConfig, days: u32) -> Vec<MetricDataQuery> {
    // The function and queue names do not depend on the account (the bucket's does),
    // so no STS call is needed to name the metrics.
    let names = &Names::new(&env.stack, "");
    // GetMetricData: a period is a multiple of 60 s (of 300 s past 15 days, of 3600 s
    // past 63 days: whole days are all three); one period the whole window gives one
    // datapoint a metric, or none when the metric has no data.
    let period = i32::try_from(u64::from(days) * 86_400).unwrap_or(i32::MAX) / 60 * 60;
    let mut wanted = queries(env, names);
    wanted.push((
        RUNS_HOURLY,
        "AWS/Lambda",
        "Invocations",
        "FunctionName",
        names.producer_function.clone(),
    ));
    wanted
        .into_iter()
        .map(|query| {
            // Hourly: a multiple of 3600 s is valid however old the start (455 days).
            let period = if query.0 == RUNS_HOURLY {
                3_600
            } else {
                period
            };
            metric_query(query, period)
        })
        .collect()
}

/// One metric's Sum over periods of `period` seconds.
fn metric_query((id, namespace, metric, dim, value): Query, period: i32) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(metric)
                        .dimensions(Dimension::builder().name(dim).value(value).build())
                        .build(),
                )
                .period(period)
                .stat("Sum")
                .build(),
        )
        .return_data(true)
        .build()
}

/// Adds a page of GetMetricData's answer to the sums, warning of what CloudWatch says
/// about it and refusing a metric it could not read.
fn add_page(
    sums: &mut Sums,
    out: &GetMetricDataOutput,
    stack: &str,
    now: time::OffsetDateTime,
) -> Result<()> {
    // Messages: a limit hit or a problem with part of the request, the rest
    // answered; said, since the figures may be short.
    for msg in out.messages() {
        tracing::warn!(
            "CloudWatch on the metrics of stack {}: {} {}",
            stack,
            msg.code().unwrap_or_default(),
            msg.value().unwrap_or_default()
        );
    }
    for r in out.metric_data_results() {
        for msg in r.messages() {
            tracing::warn!(
                "CloudWatch on metric {} of stack {}: {} {}",
                r.id().unwrap_or_default(),
                stack,
                msg.code().unwrap_or_default(),
                msg.value().unwrap_or_default()
            );
        }
        refuse_unread(r, out.next_token().is_some(), stack)?;
        if r.id() == Some(RUNS_HOURLY) {
            if let Some(first) = first_run(r) {
                let history = now.unix_timestamp() - first;
                sums.history_s = Some(sums.history_s.map_or(history, |h| h.max(history)));
            }
            continue;
        }
        // A metric without datapoints in the window answers an empty list: it stays
        // out of the sums, so that it reads as not measured rather than as zero.
        if r.values().is_empty() {
            continue;
        }
        let total: f64 = r.values().iter().sum();
        *sums
            .totals
            .entry(r.id().unwrap_or_default().to_owned())
            .or_default() += total;
    }
    Ok(())
}

/// MetricDataResult.StatusCode: Complete, PartialData (more under NextToken),
/// InternalError (retry with NextToken if any) or Forbidden. A metric that could not
/// be read is not a zero.
fn refuse_unread(r: &MetricDataResult, more_pages: bool, stack: &str) -> Result<()> {
    match r.status_code() {
        Some(StatusCode::Forbidden) => anyhow::bail!(
            "reading metric {} of stack {}: CloudWatch answered Forbidden (cloudwatch:GetMetricData is limited by a policy)",
            r.id().unwrap_or_default(),
            stack
        ),
        Some(StatusCode::InternalError) if !more_pages => anyhow::bail!(
            "reading metric {} of stack {}: CloudWatch answered InternalError; try again",
            r.id().unwrap_or_default(),
            stack
        ),
        _ => Ok(()),
    }
}

/// The hourly series' first hour with a run, in Unix seconds.
fn first_run(hourly: &MetricDataResult) -> Option<i64> {
    hourly
        .timestamps()
        .iter()
        .zip(hourly.values())
        .filter(|(_, v)| **v > 0.0)
        .map(|(t, _)| t.secs())
        .min()
}

/// Reads and derives the last `days` of `env`'s usage.
pub async fn measure(ctx: &AwsContext, env: &EnvConfig, days: u32) -> Result<Measured> {
    let (sums, requests) = read(
        &ctx.cloudwatch(),
        env,
        days,
        time::OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(derive(env, &sums, days, requests))
}

/// Usage per run and per company from the window's sums.
pub fn derive(env: &EnvConfig, sums: &Sums, days: u32, requests: u32) -> Measured {
    // Lambda's Invocations counts invocations that end in a function error, and a
    // scheduled (asynchronous) producer invocation that fails is tried twice more:
    // a run is an invocation that did not fail.
    let runs = (sums.get("producer_invocations") - sums.get("producer_errors")).max(0.0);
    let results = sums.get("results");
    let mut measured = Measured {
        days,
        runs,
        results,
        requests,
        not_enough: None,
        comparisons: Vec::new(),
        per_run: BTreeMap::new(),
    };
    measured.not_enough = not_enough(sums, days, runs, results);
    if measured.not_enough.is_some() {
        return measured;
    }
    measured.per_run = sums
        .totals
        .iter()
        .map(|(k, v)| (k.clone(), (v / runs * 100.0).round() / 100.0))
        .collect();
    measured.comparisons = comparisons(env, sums, runs, results);
    measured
}

/// Why the window is too little to measure, if it is: no runs or results, or under a
/// day of history.
fn not_enough(sums: &Sums, days: u32, runs: f64, results: f64) -> Option<String> {
    if days < 1 || runs < 1.0 || results < 1.0 {
        return Some(format!(
            "{runs} runs and {results} results in the last {days} days: too little to measure; the estimate uses the assumptions"
        ));
    }
    if let Some(h) = sums.history_s.filter(|h| *h < MIN_HISTORY_S) {
        return Some(format!(
            "the first run in the last {days} days was {} hours ago, under a day of history: too little to measure; the estimate uses the assumptions",
            h / 3_600
        ));
    }
    None
}

/// Each assumption the window's sums can speak to, set beside its measure.
fn comparisons(env: &EnvConfig, sums: &Sums, runs: f64, results: f64) -> Vec<Comparison> {
    let a = &env.cost;
    let per_run_companies = results / runs;
    let mut comparisons = Vec::new();
    let mut compare = |key: &'static str, assumed: f64, value: Option<f64>| {
        comparisons.extend(comparison(a, key, assumed, value));
    };
    compare(
        "sentiment_ms_per_company",
        a.sentiment_ms_per_company,
        sums.measured("sentiment_duration").map(|d| d / results),
    );
    compare(
        "producer_ms_per_run",
        a.producer_ms_per_run,
        sums.measured("producer_duration")
            .map(|d| (d / runs - a.producer_ms_per_company * per_run_companies).max(0.0)),
    );
    let texts = sums.get("texts");
    // The function sends Comprehend at most its first 500 characters and counts
    // what it sent; the model prices the same min(text, 500), so that is what is
    // compared (a 1,200-character assumption and 500 measured agree).
    if env.sentiment == Analyzer::Comprehend {
        compare(
            "text_chars_per_company",
            a.text_chars_per_company
                .min(super::model::COMPREHEND_MAX_CHARS),
            (texts > 0.0).then(|| sums.get("chars") / texts),
        );
    }
    compare(
        "result_kb",
        a.result_kb,
        sums.measured("result_bytes").map(|b| b / results / 1024.0),
    );
    // The cache's measured miss rate stands for the share of texts that change (it
    // includes the texts re-analyzed past cache.max_age_days, as the model does).
    let looked_up = sums.get("cache_hits") + sums.get("cache_misses");
    if env.cache.enabled && looked_up > 0.0 {
        compare(
            "text_change_rate",
            a.text_change_rate,
            Some(sums.get("cache_misses") / looked_up),
        );
    }
    comparisons
}

/// An assumption beside its measure, when there is a finite one; the measure is used
/// when the env file leaves the key at its default.
fn comparison(
    a: &CostAssumptions,
    key: &'static str,
    assumed: f64,
    value: Option<f64>,
) -> Option<Comparison> {
    let measured_value = value.filter(|v| v.is_finite())?;
    let default = match key {
        "sentiment_ms_per_company" => d::COST_SENTIMENT_MS_PER_COMPANY,
        "producer_ms_per_run" => d::COST_PRODUCER_MS_PER_RUN,
        "text_chars_per_company" => d::COST_TEXT_CHARS_PER_COMPANY,
        "text_change_rate" => d::COST_TEXT_CHANGE_RATE,
        _ => d::COST_RESULT_KB,
    };
    Some(Comparison {
        key,
        assumed,
        measured: (measured_value * 100.0).round() / 100.0,
        used: (a.value(key).expect("a measured key is a cost key") - default).abs() < f64::EPSILON,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::env::dev;

    /// GetMetricData as CloudWatch's query protocol answers it (aws-sdk-cloudwatch 1.99).
    fn page(results: &[(&str, &[f64])], next: Option<&str>) -> String {
        let members: String = results
            .iter()
            .map(|(id, values)| {
                let ts: String = values
                    .iter()
                    .map(|_| "<member>2026-11-17T06:00:00Z</member>")
                    .collect();
                let vs: String = values
                    .iter()
                    .map(|v| format!("<member>{v}</member>"))
                    .collect();
                let status = if next.is_some() { "PartialData" } else { "Complete" };
                format!(
                    "<member><Id>{id}</Id><Label>{id}</Label><StatusCode>{status}</StatusCode><Timestamps>{ts}</Timestamps><Values>{vs}</Values></member>"
                )
            })
            .collect();
        let next = next.map_or(String::new(), |t| format!("<NextToken>{t}</NextToken>"));
        format!(
            r#"<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricDataResult><MetricDataResults>{members}</MetricDataResults>{next}<Messages/></GetMetricDataResult><ResponseMetadata><RequestId>3e4f</RequestId></ResponseMetadata></GetMetricDataResponse>"#
        )
    }

    fn client(
        responses: Vec<(u16, String)>,
    ) -> (
        Client,
        aws_smithy_http_client::test_util::StaticReplayClient,
    ) {
        let replay = crate::testing::replay::replay(
            "https://monitoring.us-east-1.amazonaws.com/",
            "text/xml",
            responses,
        );
        (
            crate::testing::replay::client!(aws_sdk_cloudwatch, replay),
            replay,
        )
    }

    fn now() -> time::OffsetDateTime {
        time::macros::datetime!(2026-12-01 06:00 UTC)
    }

    #[tokio::test]
    async fn pages_are_followed_and_summed_and_missing_datapoints_are_zero() {
        let (cw, replay) = client(vec![
            (
                200,
                page(
                    &[
                        ("producer_invocations", &[200.0]),
                        ("results", &[300.0]),
                        ("texts", &[]),
                    ],
                    Some("p2"),
                ),
            ),
            (
                200,
                page(
                    &[("producer_invocations", &[136.0]), ("results", &[372.0])],
                    None,
                ),
            ),
        ]);
        let (sums, requests) = read(&cw, &dev(&["A", "B"], ""), 14, now()).await.unwrap();
        assert_eq!(requests, 2);
        assert_eq!(replay.actual_requests().count(), 2);
        assert_eq!(sums.get("producer_invocations"), 336.0);
        assert_eq!(sums.get("results"), 672.0);
        assert_eq!(sums.get("texts"), 0.0, "no datapoints: nothing used");
        assert_eq!(sums.get("wikipedia"), 0.0, "not answered: nothing used");
        // The request: one query a metric, the whole window one period, the second
        // page asked with the first one's token.
        let bodies: Vec<String> = replay
            .actual_requests()
            .map(|r| String::from_utf8(r.body().bytes().unwrap().to_vec()).unwrap())
            .collect();
        let first = &bodies[0];
        assert!(first.contains("Action=GetMetricData"), "{first}");
        assert!(
            first.contains("MetricDataQueries.member.15.Id=result_bytes"),
            "{first}"
        );
        assert!(
            first.contains("MetricDataQueries.member.18.Id=runs_hourly"),
            "{first}"
        );
        assert!(
            first.contains("MetricDataQueries.member.18.MetricStat.Period=3600"),
            "{first}"
        );
        assert!(!first.contains("member.19."), "{first}");
        assert!(first.contains("MetricStat.Period=1209600"), "{first}");
        assert!(
            first.contains("StartTime=2026-11-17T06%3A00%3A00Z"),
            "{first}"
        );
        assert!(
            first.contains("MetricStat.Metric.Dimensions.member.1.Value=fang-dev-producer"),
            "{first}"
        );
        assert!(!first.contains("NextToken"), "{first}");
        assert!(bodies[1].contains("NextToken=p2"), "{}", bodies[1]);
    }

    #[tokio::test]
    async fn under_a_day_of_history_reads_as_too_little() {
        // The hourly series first, so that its two timestamps are the ones replaced.
        let hourly = |first: &str| {
            page(
                &[
                    ("runs_hourly", &[1.0, 2.0]),
                    ("producer_invocations", &[3.0]),
                    ("results", &[15.0]),
                ],
                None,
            )
            .replacen("2026-11-17T06:00:00Z", first, 2)
        };
        // First run 6 hours before the window's end.
        let (cw, _replay) = client(vec![(200, hourly("2026-12-01T00:00:00Z"))]);
        let (sums, requests) = read(&cw, &dev(&["A", "B"], ""), 14, now()).await.unwrap();
        assert_eq!(sums.history_s, Some(6 * 3_600));
        assert_eq!(sums.get("runs_hourly"), 0.0, "the series is not a sum");
        let m = derive(&dev(&["A", "B"], ""), &sums, 14, requests);
        assert!(
            m.not_enough
                .unwrap()
                .contains("6 hours ago, under a day of history")
        );
        // Two days: enough.
        let (cw, _replay) = client(vec![(200, hourly("2026-11-29T06:00:00Z"))]);
        let (sums, requests) = read(&cw, &dev(&["A", "B"], ""), 14, now()).await.unwrap();
        assert!(derive(&dev(&["A", "B"], ""), &sums, 14, requests).usable());
    }

    #[tokio::test]
    async fn a_window_with_no_runs_reads_as_too_little() {
        let (cw, _replay) = client(vec![(
            200,
            page(&[("producer_invocations", &[]), ("results", &[])], None),
        )]);
        let (sums, requests) = read(&cw, &dev(&["A", "B"], ""), 14, now()).await.unwrap();
        let m = derive(&dev(&["A", "B"], ""), &sums, 14, requests);
        assert!(!m.usable());
        assert!(
            m.not_enough
                .unwrap()
                .starts_with("0 runs and 0 results in the last 14 days")
        );
    }

    #[tokio::test]
    async fn access_denied_and_a_forbidden_metric_are_errors_not_zeros() {
        let denied = r#"<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action</Message></Error><RequestId>3e4f</RequestId></ErrorResponse>"#;
        let (cw, _replay) = client(vec![(403, denied.to_owned())]);
        let e = format!(
            "{:#}",
            read(&cw, &dev(&["A", "B"], ""), 14, now())
                .await
                .unwrap_err()
        );
        assert!(
            e.contains("reading 14 days of the metrics of stack fang-dev"),
            "{e}"
        );
        assert!(e.contains("cloudwatch:GetMetricData"), "{e}");

        let forbidden = page(&[("results", &[3.0])], None).replace("Complete", "Forbidden");
        let (cw, _replay) = client(vec![(200, forbidden)]);
        let e = format!(
            "{:#}",
            read(&cw, &dev(&["A", "B"], ""), 14, now())
                .await
                .unwrap_err()
        );
        assert!(
            e.contains("metric results of stack fang-dev: CloudWatch answered Forbidden"),
            "{e}"
        );
    }

    #[test]
    fn usage_per_run_and_company_and_what_is_far_off() {
        // 14 days of hourly runs of 2 companies: 336 runs, 672 results.
        let s = Sums::from_pairs(&[
            ("producer_invocations", 336.0),
            ("producer_duration", 336.0 * 304.0),
            ("results", 672.0),
            ("sentiment_duration", 672.0 * 2_000.0),
            ("texts", 672.0),
            ("chars", 672.0 * 480.0),
            ("result_bytes", 672.0 * 1_024.0),
            ("cache_hits", 640.0),
            ("cache_misses", 32.0),
        ]);
        let m = derive(&dev(&["A", "B"], ""), &s, 14, 1);
        assert!(m.usable());
        let get = |k: &str| m.comparisons.iter().find(|c| c.key == k).unwrap().clone();
        assert_eq!(get("sentiment_ms_per_company").measured, 2_000.0);
        assert!(
            get("sentiment_ms_per_company").far_off(),
            "2.5 times the 800 ms assumed"
        );
        // 304 ms a run, less the assumed 2 ms a company.
        assert_eq!(get("producer_ms_per_run").measured, 300.0);
        assert!(!get("producer_ms_per_run").far_off());
        assert_eq!(get("text_chars_per_company").measured, 480.0);
        assert!(
            !get("text_chars_per_company").far_off(),
            "480 sent against the 500 of a 1,200-character text that Comprehend reads"
        );
        assert_eq!(get("result_kb").measured, 1.0);
        let applied = m.apply(&dev(&["A", "B"], "").cost);
        assert_eq!(applied.sentiment_ms_per_company, 2_000.0);
        assert_eq!(applied.text_chars_per_company, 480.0);
        // The cache missed 32 of 672: the measured share of texts that change.
        assert_eq!(get("text_change_rate").measured, 0.05);
        assert_eq!(applied.text_change_rate, 0.05);
    }

    /// Regression: a metric without datapoints (`ResultBytes` of a stack deployed before
    /// the function published it) was priced as a measured zero, and `--write` stored it.
    #[test]
    fn a_metric_without_datapoints_is_not_measured() {
        let s = Sums::from_pairs(&[
            ("producer_invocations", 336.0),
            ("producer_duration", 336.0 * 304.0),
            ("results", 672.0),
            ("sentiment_duration", 672.0 * 2_000.0),
        ]);
        let m = derive(&dev(&["A", "B"], ""), &s, 14, 1);
        assert!(m.usable());
        let keys: Vec<&str> = m.comparisons.iter().map(|c| c.key).collect();
        assert_eq!(keys, ["sentiment_ms_per_company", "producer_ms_per_run"]);
        assert!(!m.per_run.contains_key("result_bytes"), "{:?}", m.per_run);
        // An empty series in GetMetricData's answer leaves the sums without it.
        let out = aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput::builder()
            .metric_data_results(
                aws_sdk_cloudwatch::types::MetricDataResult::builder()
                    .id("result_bytes")
                    .status_code(StatusCode::Complete)
                    .build(),
            )
            .build();
        let mut sums = Sums::default();
        add_page(&mut sums, &out, "fang-dev", now()).unwrap();
        assert_eq!(sums.measured("result_bytes"), None);
    }

    #[test]
    fn a_value_the_env_file_sets_wins_and_failed_producer_attempts_are_not_runs() {
        let set = crate::config::parse(
            std::path::Path::new("environments/dev.yaml"),
            b"stack: fang-dev\nregion: us-east-1\ncompanies: [A, B]\ncost:\n  sentiment_ms_per_company: 1000\n",
        )
        .unwrap();
        // 10 scheduled runs, one of which failed three times (two retries).
        let s = Sums::from_pairs(&[
            ("producer_invocations", 12.0),
            ("producer_errors", 3.0),
            ("producer_duration", 12.0 * 300.0),
            ("results", 18.0),
            ("sentiment_duration", 18.0 * 2_000.0),
            // Measured, so compared (a metric without datapoints is not).
            ("result_bytes", 18.0 * 1_024.0),
        ]);
        let m = derive(&set, &s, 14, 1);
        assert_eq!(m.runs, 9.0);
        let c = m
            .comparisons
            .iter()
            .find(|c| c.key == "sentiment_ms_per_company")
            .unwrap();
        assert!(!c.used, "the file says 1000");
        assert!(
            !c.far_off() && c.measured == 2_000.0,
            "exactly twice is not far off"
        );
        assert_eq!(m.apply(&set.cost).sentiment_ms_per_company, 1_000.0);
        assert!(m.comparisons.iter().any(|c| c.key == "result_kb" && c.used));
    }

    #[test]
    fn a_window_without_runs_falls_back_to_the_assumptions() {
        let m = derive(&dev(&["A", "B"], ""), &Sums::default(), 14, 1);
        assert!(!m.usable());
        assert!(
            m.not_enough
                .as_deref()
                .unwrap()
                .contains("too little to measure")
        );
        assert!(m.comparisons.is_empty());
        assert_eq!(
            m.apply(&dev(&["A", "B"], "").cost),
            dev(&["A", "B"], "").cost
        );
    }
}
