//! `fangops alarms`: the CloudWatch alarms (and dashboard) that tell people when the
//! pipeline breaks, from the env file's `alarms` section.
//!
//! Alarms live outside the stack, so that changing a threshold is a quick, reviewable
//! PutMetricAlarm rather than a stack update. fangops owns the alarms whose names
//! start with the stack's and whose description carries its marker: it creates them,
//! rewrites one only when it differs from the file, deletes the ones the file no
//! longer wants, and never touches anyone else's. Every alarm notifies the stack's SNS
//! topic when it fires and when it recovers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic};
use serde::Serialize;

use crate::aws::AwsContext;
use crate::config::{self, AlarmSetting, EnvConfig, EnvRef};
use crate::markdown::{code, escape as md};
use crate::output::Ui;
use crate::resources::Names;

/// The custom metric the sentiment function publishes (embedded metric format) for
/// every batch: how many results it wrote.
pub const RESULTS_NAMESPACE: &str = fang_shared::metrics::NAMESPACE;
pub const RESULTS_METRIC: &str = fang_shared::metrics::RESULTS_WRITTEN;

#[derive(Debug, Clone)]
pub struct AlarmsRequest {
    pub root: PathBuf,
    pub env: EnvRef,
    /// Wins over the env file's `endpoint_url` (the command line reads `AWS_ENDPOINT_URL`).
    pub endpoint: Option<url::Url>,
    pub dry_run: bool,
}

/// One alarm as fangops wants it, or as CloudWatch has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmSpec {
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub statistic: String,
    pub period_s: i32,
    pub evaluation_periods: i32,
    pub threshold: f64,
    pub comparison: String,
    pub treat_missing_data: String,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Add,
    Change,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmChange {
    pub name: String,
    pub action: Action,
    /// For a change: what differs. For an add: the threshold and period, as a summary.
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AlarmsReport {
    pub env: String,
    pub topic: String,
    pub changes: Vec<AlarmChange>,
    pub unchanged: usize,
    pub dashboard: Option<String>,
    /// The dashboard was created or rewritten (false when it already matched).
    pub dashboard_changed: bool,
    pub dry_run: bool,
}

impl AlarmsReport {
    pub fn changed(&self) -> bool {
        !self.changes.is_empty() || self.dashboard_changed
    }

    pub fn summary(&self) -> String {
        format!(
            "{}{}",
            if self.dry_run { "would be: " } else { "" },
            self.counts()
        )
    }

    fn counts(&self) -> String {
        let count = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        format!(
            "{} to add, {} to change, {} to remove, {} unchanged",
            count(Action::Add),
            count(Action::Change),
            count(Action::Remove),
            self.unchanged
        )
    }

    pub fn render(&self) -> String {
        let mut out = format!("Alarms of {} ({}):\n", self.env, self.summary());
        for c in &self.changes {
            let sign = match c.action {
                Action::Add => "+",
                Action::Change => "~",
                Action::Remove => "-",
            };
            out += &format!("  {sign} {}", c.name);
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| match c.action {
                    Action::Add => format!("{} {}", f.field, f.new),
                    _ => format!("{} {} → {}", f.field, f.old, f.new),
                })
                .collect();
            if !fields.is_empty() {
                out += &format!(" ({})", fields.join(", "));
            }
            out.push('\n');
        }
        out += &format!("  notifications go to {}\n", self.topic);
        if let Some(d) = &self.dashboard {
            out += &format!(
                "  dashboard {d}{}\n",
                if self.dashboard_changed {
                    if self.dry_run {
                        " would be written"
                    } else {
                        " written"
                    }
                } else {
                    " unchanged"
                }
            );
        }
        out
    }

    pub fn render_markdown(&self) -> String {
        let mut out = String::from("#### Alarms\n\n");
        if self.changes.is_empty() {
            out += &format!("No changes ({} alarms unchanged).\n", self.unchanged);
            return out;
        }
        out += &format!("{}.\n\n", self.counts());
        out += "| | alarm | what changes |\n|---|---|---|\n";
        for c in &self.changes {
            let sign = match c.action {
                Action::Add => "+",
                Action::Change => "~",
                Action::Remove => "−",
            };
            let what: Vec<String> = c
                .fields
                .iter()
                .map(|f| match c.action {
                    Action::Add => format!("{} {}", md(&f.field), code(&f.new)),
                    _ => format!("{} {} → {}", md(&f.field), code(&f.old), code(&f.new)),
                })
                .collect();
            out += &format!("| {sign} | {} | {} |\n", code(&c.name), what.join("; "));
        }
        out
    }
}

/// The marker that makes an alarm fangops's: in its description, with the stack.
fn marker(stack: &str) -> String {
    format!("[managed by fangops for stack {stack}]")
}

/// The stack's alarm topic: the template names it `{stack}-alarms`.
pub fn topic_arn(region: &str, account: &str, stack: &str) -> String {
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    format!("arn:{partition}:sns:{region}:{account}:{stack}-alarms")
}

/// Every alarm the env file asks for.
pub fn desired(env: &EnvConfig, names: &Names, topic: &str) -> Vec<AlarmSpec> {
    let a = &env.alarms;
    let stack = &env.stack;
    let spec = |suffix: &str,
                setting: &AlarmSetting,
                what: &str,
                todo: &str,
                metric: (&str, &str, &str, &str),
                threshold: f64,
                comparison: &str,
                missing: &str| {
        let (namespace, name, dim, dim_value) = metric;
        AlarmSpec {
            name: format!("{stack}-{suffix}"),
            description: format!("{what} What to do: {todo} {}", marker(stack)),
            namespace: namespace.to_owned(),
            metric: name.to_owned(),
            dimensions: vec![(dim.to_owned(), dim_value.to_owned())],
            statistic: if matches!(name, "Errors" | "Throttles" | "ResultsWritten") {
                "Sum"
            } else {
                "Maximum"
            }
            .to_owned(),
            period_s: setting.period_s as i32,
            evaluation_periods: setting.evaluation_periods as i32,
            threshold,
            comparison: comparison.to_owned(),
            treat_missing_data: missing.to_owned(),
            alarm_actions: vec![topic.to_owned()],
            ok_actions: vec![topic.to_owned()],
        }
    };
    const GE: &str = "GreaterThanOrEqualToThreshold";
    let mut out = Vec::new();
    for (function, fname) in [
        ("producer", &names.producer_function),
        ("sentiment", &names.sentiment_function),
    ] {
        if a.errors.enabled {
            out.push(spec(
                &format!("{function}-errors"),
                &a.errors,
                &format!("The {function} function failed (Lambda Errors)."),
                &format!("read its log group /aws/lambda/{fname} for the error and the company; a bad deploy is undone by reverting the commit and merging."),
                ("AWS/Lambda", "Errors", "FunctionName", fname),
                a.errors.threshold,
                GE,
                "notBreaching",
            ));
        }
        if a.throttles.enabled {
            out.push(spec(
                &format!("{function}-throttles"),
                &a.throttles,
                &format!("Lambda throttled the {function} function: the account's concurrency is used up."),
                "check other functions' concurrency in the account, or ask AWS for a higher limit; throttled messages are retried by SQS.",
                ("AWS/Lambda", "Throttles", "FunctionName", fname),
                a.throttles.threshold,
                GE,
                "notBreaching",
            ));
        }
    }
    if a.dlq_messages.enabled {
        out.push(spec(
            "dlq-messages",
            &a.dlq_messages,
            "Companies failed 3 times and went to the dead-letter queue.",
            &format!("read the messages in {} and the sentiment log group; after a fix, move them back with SQS's redrive (StartMessageMoveTask).", names.dlq),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", &names.dlq),
            a.dlq_messages.threshold,
            GE,
            "notBreaching",
        ));
    }
    if a.oldest_message_age_s.enabled {
        out.push(spec(
            "oldest-message-age",
            &a.oldest_message_age_s,
            "Messages wait too long in the companies queue: the sentiment function is not consuming it.",
            "check that its event source mapping is enabled and that it is not failing or throttled.",
            ("AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", &names.queue),
            a.oldest_message_age_s.threshold,
            GE,
            "notBreaching",
        ));
    }
    if a.sentiment_duration_percent.enabled {
        let timeout_ms = f64::from(env.lambda.timeout_s) * 1000.0;
        out.push(spec(
            "sentiment-duration",
            &a.sentiment_duration_percent,
            &format!(
                "The sentiment function ran close to its timeout ({}% of {} s).",
                a.sentiment_duration_percent.threshold, env.lambda.timeout_s
            ),
            "Wikipedia or Comprehend is slow: raise lambda.timeout_s in the env file, or look for throttling in the log group.",
            ("AWS/Lambda", "Duration", "FunctionName", &names.sentiment_function),
            (a.sentiment_duration_percent.threshold / 100.0 * timeout_ms).round(),
            GE,
            "notBreaching",
        ));
    }
    if a.no_results.enabled {
        out.push(spec(
            "no-results",
            &a.no_results,
            &format!(
                "The pipeline wrote fewer than {} results in {} s: it has stopped (schedule {}).",
                a.no_results.threshold, a.no_results.period_s, env.schedule
            ),
            "check the schedule rule is enabled, the producer's log group for its last run, and the other alarms.",
            (RESULTS_NAMESPACE, RESULTS_METRIC, "Stack", stack),
            a.no_results.threshold,
            "LessThanThreshold",
            // No data at all is the failure this alarm exists for.
            "breaching",
        ));
    }
    out
}

fn from_live(a: &MetricAlarm) -> AlarmSpec {
    let mut dimensions: Vec<(String, String)> = a
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_owned(),
                d.value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    dimensions.sort();
    AlarmSpec {
        name: a.alarm_name().unwrap_or_default().to_owned(),
        description: a.alarm_description().unwrap_or_default().to_owned(),
        namespace: a.namespace().unwrap_or_default().to_owned(),
        metric: a.metric_name().unwrap_or_default().to_owned(),
        dimensions,
        statistic: a
            .statistic()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        period_s: a.period().unwrap_or_default(),
        evaluation_periods: a.evaluation_periods().unwrap_or_default(),
        threshold: a.threshold().unwrap_or_default(),
        comparison: a
            .comparison_operator()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        treat_missing_data: a.treat_missing_data().unwrap_or("missing").to_owned(),
        alarm_actions: a.alarm_actions().to_vec(),
        ok_actions: a.ok_actions().to_vec(),
    }
}

/// The alarms fangops owns for this stack: named with its prefix and marked.
pub async fn live(cw: &Client, stack: &str) -> Result<Vec<AlarmSpec>> {
    Ok(list(cw, stack).await?.0)
}

/// The alarms named with the stack's prefix: fangops's, and the names of the others.
async fn list(cw: &Client, stack: &str) -> Result<(Vec<AlarmSpec>, Vec<String>)> {
    let mark = marker(stack);
    let mut out = Vec::new();
    let mut foreign = Vec::new();
    let mut pages = cw
        .describe_alarms()
        .alarm_name_prefix(format!("{stack}-"))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::error)
            .with_context(|| format!("listing the alarms of stack {stack} (DescribeAlarms)"))?;
        for a in page.metric_alarms() {
            if a.alarm_description().is_some_and(|d| d.ends_with(&mark)) {
                out.push(from_live(a));
            } else {
                foreign.push(a.alarm_name().unwrap_or_default().to_owned());
            }
        }
        // Composite alarms are never fangops's, but their names can still collide.
        foreign.extend(
            page.composite_alarms()
                .iter()
                .filter_map(|a| a.alarm_name().map(str::to_owned)),
        );
    }
    Ok((out, foreign))
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// What differs between what CloudWatch has and what the file wants.
pub fn diff(desired: &[AlarmSpec], live: &[AlarmSpec]) -> (Vec<AlarmChange>, usize) {
    let live_by: BTreeMap<&str, &AlarmSpec> = live.iter().map(|a| (a.name.as_str(), a)).collect();
    let want_by: BTreeMap<&str, &AlarmSpec> =
        desired.iter().map(|a| (a.name.as_str(), a)).collect();
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for (name, want) in &want_by {
        let Some(have) = live_by.get(name) else {
            changes.push(AlarmChange {
                name: (*name).to_owned(),
                action: Action::Add,
                fields: vec![
                    FieldChange {
                        field: "threshold".into(),
                        old: String::new(),
                        new: format!("{} {}", symbol(&want.comparison), fmt_num(want.threshold)),
                    },
                    FieldChange {
                        field: "period".into(),
                        old: String::new(),
                        new: format!("{} s × {}", want.period_s, want.evaluation_periods),
                    },
                ],
            });
            continue;
        };
        let mut fields = Vec::new();
        let mut cmp = |field: &str, old: String, new: String| {
            if old != new {
                fields.push(FieldChange {
                    field: field.to_owned(),
                    old,
                    new,
                });
            }
        };
        cmp(
            "threshold",
            fmt_num(have.threshold),
            fmt_num(want.threshold),
        );
        cmp(
            "comparison",
            have.comparison.clone(),
            want.comparison.clone(),
        );
        cmp(
            "period_s",
            have.period_s.to_string(),
            want.period_s.to_string(),
        );
        cmp(
            "evaluation_periods",
            have.evaluation_periods.to_string(),
            want.evaluation_periods.to_string(),
        );
        cmp(
            "metric",
            format!("{}/{}", have.namespace, have.metric),
            format!("{}/{}", want.namespace, want.metric),
        );
        cmp(
            "dimensions",
            format!("{:?}", have.dimensions),
            format!("{:?}", want.dimensions),
        );
        cmp("statistic", have.statistic.clone(), want.statistic.clone());
        cmp(
            "missing data",
            have.treat_missing_data.clone(),
            want.treat_missing_data.clone(),
        );
        cmp(
            "alarm actions",
            have.alarm_actions.join(","),
            want.alarm_actions.join(","),
        );
        cmp(
            "ok actions",
            have.ok_actions.join(","),
            want.ok_actions.join(","),
        );
        cmp(
            "description",
            have.description.clone(),
            want.description.clone(),
        );
        if fields.is_empty() {
            unchanged += 1;
        } else {
            changes.push(AlarmChange {
                name: (*name).to_owned(),
                action: Action::Change,
                fields,
            });
        }
    }
    for name in live_by.keys().filter(|n| !want_by.contains_key(*n)) {
        changes.push(AlarmChange {
            name: (*name).to_owned(),
            action: Action::Remove,
            fields: Vec::new(),
        });
    }
    (changes, unchanged)
}

fn symbol(comparison: &str) -> &'static str {
    match comparison {
        "GreaterThanOrEqualToThreshold" => "≥",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "≤",
        _ => "?",
    }
}

async fn put(cw: &Client, a: &AlarmSpec, stack: &str, env: &str) -> Result<()> {
    cw.put_metric_alarm()
        .alarm_name(&a.name)
        .alarm_description(&a.description)
        .namespace(&a.namespace)
        .metric_name(&a.metric)
        .set_dimensions(Some(
            a.dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect(),
        ))
        .statistic(Statistic::from(a.statistic.as_str()))
        .period(a.period_s)
        .evaluation_periods(a.evaluation_periods)
        .threshold(a.threshold)
        .comparison_operator(ComparisonOperator::from(a.comparison.as_str()))
        .treat_missing_data(&a.treat_missing_data)
        .actions_enabled(true)
        .set_alarm_actions(Some(a.alarm_actions.clone()))
        .set_ok_actions(Some(a.ok_actions.clone()))
        // Tags apply when the alarm is created; they let the console and the cost
        // reports find fangops's alarms.
        .tags(
            aws_sdk_cloudwatch::types::Tag::builder()
                .key("fangops:stack")
                .value(stack)
                .build(),
        )
        .tags(
            aws_sdk_cloudwatch::types::Tag::builder()
                .key("fangops:env")
                .value(env)
                .build(),
        )
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("writing alarm {} (PutMetricAlarm)", a.name))?;
    Ok(())
}

/// The dashboard: the same metrics as the alarms, one graph each.
pub fn dashboard_body(env: &EnvConfig, names: &Names, region: &str) -> String {
    let lambda = |metric: &str, stat: &str| {
        serde_json::json!([
            ["AWS/Lambda", metric, "FunctionName", names.producer_function, {"stat": stat}],
            ["AWS/Lambda", metric, "FunctionName", names.sentiment_function, {"stat": stat}]
        ])
    };
    let widget = |i: usize, title: &str, metrics: serde_json::Value| {
        serde_json::json!({
            "type": "metric",
            "x": (i % 2) * 12, "y": (i / 2) * 6, "width": 12, "height": 6,
            "properties": {
                "title": title, "region": region, "view": "timeSeries",
                "period": 300, "metrics": metrics
            }
        })
    };
    let widgets = vec![
        widget(0, "Errors", lambda("Errors", "Sum")),
        widget(1, "Throttles", lambda("Throttles", "Sum")),
        widget(2, "Duration (ms, max)", lambda("Duration", "Maximum")),
        widget(
            3,
            "Results written",
            serde_json::json!([[RESULTS_NAMESPACE, RESULTS_METRIC, "Stack", env.stack, {"stat": "Sum"}]]),
        ),
        widget(
            4,
            "Dead-letter queue (messages)",
            serde_json::json!([["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", names.dlq, {"stat": "Maximum"}]]),
        ),
        widget(
            5,
            "Oldest queued message (s)",
            serde_json::json!([["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", names.queue, {"stat": "Maximum"}]]),
        ),
    ];
    serde_json::json!({ "widgets": widgets }).to_string()
}

/// Writes the dashboard unless it already is this; deletes it when the file turns it
/// off. Returns whether anything changed (or would).
async fn sync_dashboard(
    cw: &Client,
    name: &str,
    body: Option<&str>,
    dry_run: bool,
) -> Result<bool> {
    let current = match cw.get_dashboard().dashboard_name(name).send().await {
        Ok(out) => out.dashboard_body().map(str::to_owned),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_dashboard_not_found_error()) =>
        {
            None
        }
        Err(e) => {
            return Err(crate::aws::error(e))
                .with_context(|| format!("reading dashboard {name} (GetDashboard)"));
        }
    };
    let same = |a: &str, b: &str| {
        serde_json::from_str::<serde_json::Value>(a).ok()
            == serde_json::from_str::<serde_json::Value>(b).ok()
    };
    match (body, current) {
        (Some(want), Some(have)) if same(want, &have) => Ok(false),
        (None, None) => Ok(false),
        _ if dry_run => Ok(true),
        (Some(want), _) => {
            cw.put_dashboard()
                .dashboard_name(name)
                .dashboard_body(want)
                .send()
                .await
                .map_err(crate::aws::error)
                .with_context(|| format!("writing dashboard {name} (PutDashboard)"))?;
            Ok(true)
        }
        (None, Some(_)) => {
            delete_dashboard(cw, name).await?;
            Ok(true)
        }
    }
}

pub async fn delete_dashboard(cw: &Client, name: &str) -> Result<()> {
    match cw.delete_dashboards().dashboard_names(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_dashboard_not_found_error()) =>
        {
            Ok(())
        }
        Err(e) => Err(crate::aws::error(e))
            .with_context(|| format!("deleting dashboard {name} (DeleteDashboards)")),
    }
}

/// Deletes alarms by name, 100 a call (DeleteAlarms' limit).
pub async fn delete(cw: &Client, names: &[String]) -> Result<()> {
    for chunk in names.chunks(100) {
        cw.delete_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("deleting alarms {} (DeleteAlarms)", chunk.join(", ")))?;
    }
    Ok(())
}

pub fn dashboard_name(stack: &str) -> String {
    format!("{stack}-pipeline")
}

/// Makes CloudWatch hold exactly the alarms (and dashboard) the env wants, or, dry,
/// says what that would take.
pub async fn install(
    env: &EnvConfig,
    cw: &Client,
    names: &Names,
    region: &str,
    account: &str,
    dry_run: bool,
) -> Result<AlarmsReport> {
    let topic = topic_arn(region, account, &env.stack);
    let want = desired(env, names, &topic);
    let (have, foreign) = list(cw, &env.stack).await?;
    // Writing over an alarm someone else made would take it over: refuse instead.
    let taken: Vec<&str> = want
        .iter()
        .map(|a| a.name.as_str())
        .filter(|n| foreign.iter().any(|f| f == n))
        .collect();
    if !taken.is_empty() {
        anyhow::bail!(
            "alarm{} {} already exist{} and {} not managed by fangops (no marker in the description); \
             rename or delete {}, or turn that alarm off in {}",
            if taken.len() == 1 { "" } else { "s" },
            taken.join(", "),
            if taken.len() == 1 { "s" } else { "" },
            if taken.len() == 1 { "is" } else { "are" },
            if taken.len() == 1 { "it" } else { "them" },
            env.path.display()
        );
    }
    let (changes, unchanged) = diff(&want, &have);
    if !dry_run {
        for c in &changes {
            match c.action {
                Action::Add | Action::Change => {
                    let spec = want
                        .iter()
                        .find(|a| a.name == c.name)
                        .expect("a wanted alarm");
                    put(cw, spec, &env.stack, &env.name).await?;
                }
                Action::Remove => {}
            }
        }
        let removed: Vec<String> = changes
            .iter()
            .filter(|c| c.action == Action::Remove)
            .map(|c| c.name.clone())
            .collect();
        delete(cw, &removed).await?;
    }
    let dashboard = dashboard_name(&env.stack);
    let body = env
        .alarms
        .dashboard
        .then(|| dashboard_body(env, names, region));
    let dashboard_changed = sync_dashboard(cw, &dashboard, body.as_deref(), dry_run).await?;
    Ok(AlarmsReport {
        env: env.name.clone(),
        topic,
        changes,
        unchanged,
        dashboard: env.alarms.dashboard.then_some(dashboard),
        dashboard_changed,
        dry_run,
    })
}

/// Removes every alarm fangops owns for the stack, and its dashboard (teardown).
pub async fn remove_all(cw: &Client, stack: &str) -> Result<usize> {
    let names: Vec<String> = live(cw, stack).await?.into_iter().map(|a| a.name).collect();
    delete(cw, &names).await?;
    delete_dashboard(cw, &dashboard_name(stack)).await?;
    Ok(names.len())
}

/// [`install`] with the region, account and client of an AWS context.
pub async fn install_in(
    ctx: &AwsContext,
    env: &EnvConfig,
    names: &Names,
    dry_run: bool,
) -> Result<AlarmsReport> {
    let account = ctx.identity().await?.account.clone();
    install(
        env,
        &ctx.cloudwatch(),
        names,
        ctx.region(),
        &account,
        dry_run,
    )
    .await
}

/// `fangops alarms --env E [--dry-run]`.
pub async fn run(req: &AlarmsRequest, _ui: &Ui) -> Result<AlarmsReport> {
    let env = config::load(&req.env.path(&req.root))?;
    let ctx = AwsContext::new(&env, req.endpoint.as_ref()).await?;
    ctx.ensure_account().await?;
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&env.stack, &account);
    install_in(&ctx, &env, &names, req.dry_run).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &str) -> EnvConfig {
        let yaml = format!(
            "stack: fang-dev\nregion: us-east-1\nlambda: {{ timeout_s: 60 }}\n{extra}companies: [A]\n"
        );
        config::parse(
            std::path::Path::new("environments/dev.yaml"),
            yaml.as_bytes(),
        )
        .unwrap()
    }

    fn names() -> Names {
        Names::new("fang-dev", "123456789012")
    }

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:fang-dev-alarms";

    #[test]
    fn defaults_make_eight_alarms_on_the_right_metrics() {
        let want = desired(&env(""), &names(), TOPIC);
        let got: Vec<(&str, &str, f64, &str)> = want
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.metric.as_str(),
                    a.threshold,
                    a.comparison.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "fang-dev-producer-errors",
                    "Errors",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-producer-throttles",
                    "Throttles",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-sentiment-errors",
                    "Errors",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-sentiment-throttles",
                    "Throttles",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-dlq-messages",
                    "ApproximateNumberOfMessagesVisible",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-oldest-message-age",
                    "ApproximateAgeOfOldestMessage",
                    3600.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                // 80% of a 60 s timeout, in milliseconds.
                (
                    "fang-dev-sentiment-duration",
                    "Duration",
                    48_000.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-no-results",
                    "ResultsWritten",
                    1.0,
                    "LessThanThreshold"
                ),
            ]
        );
        let no_results = want.last().unwrap();
        assert_eq!(no_results.treat_missing_data, "breaching");
        assert_eq!(no_results.period_s, 90_000);
        assert_eq!(
            no_results.dimensions,
            [("Stack".to_owned(), "fang-dev".to_owned())]
        );
        assert!(
            want.iter()
                .all(|a| a.alarm_actions == [TOPIC] && a.ok_actions == [TOPIC])
        );
        assert!(want.iter().all(|a| {
            a.description
                .ends_with("[managed by fangops for stack fang-dev]")
        }));
        assert!(want.iter().all(|a| a.description.len() <= 1024));
        let dlq = &want[4];
        assert_eq!(
            dlq.dimensions,
            [("QueueName".to_owned(), "fang-dev-companies-dlq".to_owned())]
        );
    }

    #[test]
    fn disabled_alarms_are_not_wanted() {
        let want = desired(
            &env("alarms:\n  throttles: { enabled: false }\n  no_results: { enabled: false }\n"),
            &names(),
            TOPIC,
        );
        assert_eq!(want.len(), 5);
        assert!(
            want.iter()
                .all(|a| !a.name.ends_with("throttles") && !a.name.ends_with("no-results"))
        );
    }

    #[test]
    fn diff_shows_adds_changes_with_old_and_new_and_removes() {
        let want = desired(
            &env("alarms:\n  dlq_messages: { threshold: 5, evaluation_periods: 2 }\n"),
            &names(),
            TOPIC,
        );
        let mut have = desired(&env(""), &names(), TOPIC);
        have.retain(|a| !a.name.ends_with("no-results"));
        have.push(AlarmSpec {
            name: "fang-dev-old-alarm".into(),
            ..have[0].clone()
        });
        let (changes, unchanged) = diff(&want, &have);
        assert_eq!(unchanged, 6);
        let find = |n: &str| changes.iter().find(|c| c.name == n).unwrap();
        assert_eq!(find("fang-dev-no-results").action, Action::Add);
        assert_eq!(find("fang-dev-old-alarm").action, Action::Remove);
        let dlq = find("fang-dev-dlq-messages");
        assert_eq!(dlq.action, Action::Change);
        assert_eq!(
            dlq.fields,
            [
                FieldChange {
                    field: "threshold".into(),
                    old: "1".into(),
                    new: "5".into()
                },
                FieldChange {
                    field: "evaluation_periods".into(),
                    old: "1".into(),
                    new: "2".into()
                },
            ]
        );
        let report = AlarmsReport {
            env: "dev".into(),
            topic: TOPIC.into(),
            changes,
            unchanged,
            dry_run: true,
            ..Default::default()
        };
        insta::assert_snapshot!("alarms_plan", report.render_markdown());
        assert!(
            report
                .render()
                .contains("~ fang-dev-dlq-messages (threshold 1 → 5, evaluation_periods 1 → 2)")
        );
    }

    #[test]
    fn topic_arn_follows_the_partition() {
        assert_eq!(
            topic_arn("cn-north-1", "1", "s"),
            "arn:aws-cn:sns:cn-north-1:1:s-alarms"
        );
        assert_eq!(
            topic_arn("eu-west-1", "1", "s"),
            "arn:aws:sns:eu-west-1:1:s-alarms"
        );
    }
}
