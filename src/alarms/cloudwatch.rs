//! The CloudWatch side of the alarms: reading the alarms fangops owns, writing the
//! ones that differ, deleting the ones the file no longer wants, and the dashboard.

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic};

use super::AlarmsReport;
use super::desired::{
    Action, AlarmSpec, NO_RESULTS, dashboard_body, dashboard_name, desired, diff, marker, topic_arn,
};
use crate::config::EnvConfig;
use crate::resources::Names;

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
        actions_enabled: a.actions_enabled().unwrap_or(true),
    }
}

/// The alarms fangops owns for this stack: named with its prefix and marked.
pub async fn live(cw: &Client, stack: &str) -> Result<Vec<AlarmSpec>> {
    Ok(list(cw, stack).await?.0)
}

/// The alarms named with the stack's prefix: fangops's, and the names of the others.
async fn list(cw: &Client, stack: &str) -> Result<(Vec<AlarmSpec>, Vec<String>)> {
    let (ours, foreign) = describe(cw, stack).await?;
    Ok((ours.iter().map(from_live).collect(), foreign))
}

/// DescribeAlarms of the stack's prefix, every page: the metric alarms fangops marked,
/// and the names of the others (composite alarms are never fangops's, but their names
/// can still collide).
async fn describe(cw: &Client, stack: &str) -> Result<(Vec<MetricAlarm>, Vec<String>)> {
    let mark = marker(stack);
    let mut ours = Vec::new();
    let mut foreign = Vec::new();
    // Without AlarmTypes, DescribeAlarms returns metric alarms only, "even if
    // composite alarms exist" (API reference): both are asked for, so that a composite
    // alarm's name is seen to collide.
    let mut pages = cw
        .describe_alarms()
        .alarm_name_prefix(format!("{stack}-"))
        .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
        .alarm_types(aws_sdk_cloudwatch::types::AlarmType::CompositeAlarm)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::error)
            .with_context(|| format!("listing the alarms of stack {stack} (DescribeAlarms)"))?;
        for a in page.metric_alarms() {
            if a.alarm_description().is_some_and(|d| d.ends_with(&mark)) {
                ours.push(a.clone());
            } else {
                foreign.push(a.alarm_name().unwrap_or_default().to_owned());
            }
        }
        foreign.extend(
            page.composite_alarms()
                .iter()
                .filter_map(|a| a.alarm_name().map(str::to_owned)),
        );
    }
    Ok((ours, foreign))
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
        .actions_enabled(a.actions_enabled)
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

/// Makes CloudWatch hold exactly the alarms (and dashboard) the env wants, or, dry,
/// says what that would take.
#[allow(clippy::too_many_arguments)]
pub async fn install(
    env: &EnvConfig,
    cw: &Client,
    names: &Names,
    region: &str,
    account: &str,
    has_run: bool,
    dry_run: bool,
) -> Result<AlarmsReport> {
    let topic = topic_arn(region, account, &env.stack);
    let mut want = desired(env, names, &topic);
    let (have, foreign) = list(cw, &env.stack).await?;
    // No-results stays as the run left it (armed by the producer) once it exists; a new
    // one is armed only if the stack has run already.
    let no_results = format!("{}-{NO_RESULTS}", env.stack);
    let armed = have
        .iter()
        .find(|a| a.name == no_results)
        .map_or(has_run, |a| a.actions_enabled || has_run);
    for a in want.iter_mut().filter(|a| a.name == no_results) {
        a.actions_enabled = armed;
    }
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
        no_results_armed: want.iter().any(|a| a.name == no_results).then_some(armed),
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

/// The state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) of each alarm fangops owns for the
/// stack, by name: what a deploy's verification compares before and after.
pub async fn states(
    cw: &Client,
    stack: &str,
) -> Result<std::collections::BTreeMap<String, String>> {
    Ok(describe(cw, stack)
        .await?
        .0
        .iter()
        .map(|a| {
            (
                a.alarm_name().unwrap_or_default().to_owned(),
                a.state_value()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect())
}

/// An alarm's entry into ALARM, from its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entered {
    /// RFC 3339.
    pub at: String,
    /// The state it left: OK, INSUFFICIENT_DATA (a gap in the data), or "" if unsaid.
    pub from: String,
    pub reason: String,
}

/// When an alarm entered ALARM since `since`, from what, and why: its state updates
/// (DescribeAlarmHistory, `HistoryItemType=StateUpdate`), which catch an alarm that
/// fired and recovered between two polls of [`states`]. Newest first, as AWS lists them.
pub async fn entered_alarm_since(
    cw: &Client,
    name: &str,
    since: std::time::SystemTime,
) -> Result<Vec<Entered>> {
    let mut out = Vec::new();
    let mut pages = cw
        .describe_alarm_history()
        .alarm_name(name)
        .history_item_type(aws_sdk_cloudwatch::types::HistoryItemType::StateUpdate)
        .start_date(aws_sdk_cloudwatch::primitives::DateTime::from(since))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(crate::aws::error).with_context(|| {
            format!("reading the history of alarm {name} (DescribeAlarmHistory)")
        })?;
        for item in page.alarm_history_items() {
            if let Some((from, reason)) = item.history_data().and_then(entered_alarm) {
                let at = item
                    .timestamp()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                    .unwrap_or_default();
                out.push(Entered { at, from, reason });
            }
        }
    }
    Ok(out)
}

/// A state update's `HistoryData` (JSON in a string, as the CloudWatch API reference's
/// AlarmHistoryItem and the CLI's describe-alarm-history example show it), when the
/// update entered ALARM: the state it left, and the new state's reason.
pub fn entered_alarm(history_data: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(history_data).ok()?;
    let new = v.get("newState")?;
    let old = v
        .pointer("/oldState/stateValue")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    (new.get("stateValue")?.as_str()? == "ALARM" && old != "ALARM").then(|| {
        let reason = new
            .get("stateReason")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("no reason given");
        (old.to_owned(), reason.to_owned())
    })
}
