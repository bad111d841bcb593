//! The alarms and the dashboard an env file asks for, and how they differ from what
//! CloudWatch holds: pure data, no SDK calls, so that the cost model and the plan can
//! count and compare alarms without touching AWS.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{AlarmSetting, EnvConfig};
use crate::resources::Names;

/// The custom metric the sentiment function publishes (embedded metric format) for
/// every batch: how many results it wrote.
pub const RESULTS_NAMESPACE: &str = fang_shared::metrics::NAMESPACE;
pub const RESULTS_METRIC: &str = fang_shared::metrics::RESULTS_WRITTEN;

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
    /// Whether the alarm notifies anyone. Not compared: the no-results alarm is written
    /// disarmed until the stack's first run, which arms it (see [`NO_RESULTS`]).
    pub actions_enabled: bool,
}

/// The alarm that would fire on a new stack before its first scheduled run (no data is
/// its failure): fangops writes it with its actions off until a run exists, and the
/// producer turns them on when a run starts (EnableAlarmActions).
pub const NO_RESULTS: &str = "no-results";

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

/// The marker that makes an alarm fangops's: in its description, with the stack.
pub(super) fn marker(stack: &str) -> String {
    format!("[managed by fangops for stack {stack}]")
}

/// The stack's alarm topic: the template names it `{stack}-alarms`.
pub fn topic_arn(region: &str, account: &str, stack: &str) -> String {
    let partition = crate::config::regions::partition(region);
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
            actions_enabled: true,
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
            &format!("Companies failed {} times (errors or throttling that outlasted every retry) and went to the dead-letter queue; a company without a Wikipedia page is a no_text result instead, never a failure.", fang_shared::MAX_RECEIVES),
            &format!("read the messages in {} and the sentiment log group; after a fix, move them back with SQS's redrive (StartMessageMoveTask).", names.dlq),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", &names.dlq),
            a.dlq_messages.threshold,
            GE,
            "notBreaching",
        ));
    }
    // The producer's failed events: the same setting as the companies' dead letters.
    if a.dlq_messages.enabled {
        out.push(spec(
            "producer-failures",
            &a.dlq_messages,
            "The producer failed on a scheduled event three times (Lambda's two retries): that run did not start.",
            &format!("read the producer's log group and the event in {}; after a fix, start the run with `fangops run`.", names.producer_failures),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", &names.producer_failures),
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
            NO_RESULTS,
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

pub(super) fn fmt_num(v: f64) -> String {
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
            changes.push(added(name, want));
            continue;
        };
        let fields = changed_fields(have, want);
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

/// A new alarm, shown by its threshold and period.
fn added(name: &str, want: &AlarmSpec) -> AlarmChange {
    AlarmChange {
        name: name.to_owned(),
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
    }
}

/// The fields of an alarm CloudWatch has that differ from the wanted one, in the order
/// the plan shows them.
fn changed_fields(have: &AlarmSpec, want: &AlarmSpec) -> Vec<FieldChange> {
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
    fields
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

pub fn dashboard_name(stack: &str) -> String {
    format!("{stack}-pipeline")
}
