//! `fangops drift --env E`: how far the live environment is from the repository.
//!
//! Two kinds of drift: companies (the table against the env file: names only live,
//! names only in the file) and resources (CloudFormation drift detection: properties
//! someone changed in the console since the last deploy). Detection is asynchronous in
//! AWS (start, poll, then read the drifted resources); where the endpoint lacks it
//! (moto), the report says so and still gives the companies.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftError;
use aws_sdk_cloudformation::types::{
    StackDriftDetectionStatus, StackResourceDrift, StackResourceDriftStatus,
};
use serde::Serialize;

use crate::companies::sync;
use crate::deploy::stack::{self, Timing};
use crate::output::Ui;
use crate::resources::Names;
use crate::retry::is_transient;
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct DriftRequest {
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CompanyDrift {
    pub table: String,
    /// False when the table does not exist: every name of the file is then "only in
    /// the file".
    pub table_exists: bool,
    pub only_live: Vec<String>,
    pub only_in_file: Vec<String>,
    pub in_both: usize,
    /// In both, but the table reads another Wikipedia page than the file says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_page: Vec<crate::companies::sync::Retitle>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PropertyDifference {
    pub path: String,
    pub expected: String,
    pub actual: String,
    /// ADD, REMOVE or NOT_EQUAL.
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResourceDrift {
    pub logical_id: String,
    pub resource_type: String,
    /// MODIFIED or DELETED.
    pub status: String,
    pub differences: Vec<PropertyDifference>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StackDrift {
    /// No stack to compare.
    NotDeployed,
    /// The endpoint has no drift detection (moto), or the credentials may not use it.
    Unavailable { reason: String },
    Checked {
        /// IN_SYNC, DRIFTED, or UNKNOWN when detection failed for some resources.
        status: String,
        /// Why detection was incomplete, when it was.
        reason: Option<String>,
        resources: Vec<ResourceDrift>,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub env: String,
    pub stack_name: String,
    pub companies: CompanyDrift,
    pub stack: StackDrift,
    pub drifted: bool,
    /// The alarm e-mail's subscription, when the env has one: pending is not drift,
    /// but it means no alarm reaches anyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_email: Option<crate::alarms::email::EmailStatus>,
}

impl DriftReport {
    pub fn render(&self) -> String {
        let c = &self.companies;
        let mut out = format!("Drift of {} (stack {}):\n", self.env, self.stack_name);
        if c.table_exists {
            out += &format!(
                "  companies in {}: {} only in the table, {} only in the file, {} in both\n",
                c.table,
                c.only_live.len(),
                c.only_in_file.len(),
                c.in_both
            );
        } else {
            out += &format!("  companies: table {} does not exist\n", c.table);
        }
        for (label, names) in [
            ("only in the table", &c.only_live),
            ("only in the file", &c.only_in_file),
        ] {
            if !names.is_empty() && c.table_exists {
                let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
                let more = names.len().saturating_sub(20);
                out += &format!(
                    "    {label}: {}{}\n",
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                );
            }
        }
        for r in &c.other_page {
            out += &format!("    another page in the table: {r}\n");
        }
        match &self.stack {
            StackDrift::NotDeployed => out += "  stack: not deployed\n",
            StackDrift::Unavailable { reason } => {
                out += &format!("  stack: drift detection not available ({reason})\n");
            }
            StackDrift::Checked {
                status,
                reason,
                resources,
            } => {
                out += &format!("  stack: {status}");
                if let Some(r) = reason {
                    out += &format!(" ({r})");
                }
                out += "\n";
                for r in resources {
                    out += &format!("    {} ({}) {}\n", r.logical_id, r.resource_type, r.status);
                    for d in &r.differences {
                        out += &format!(
                            "      {}: expected {}, actual {} ({})\n",
                            d.path, d.expected, d.actual, d.kind
                        );
                    }
                }
            }
        }
        if let Some(w) = self.alarm_email.as_ref().and_then(|e| e.warning()) {
            out += &format!("  warning: {w}\n");
        }
        out += match (&self.stack, self.drifted) {
            (_, true) => {
                "Drift found: `fangops deploy` restores the stack, `fangops sync` the companies.\n"
            }
            // Not checked is not "no drift": a console edit would go unseen.
            (StackDrift::Unavailable { .. }, false) => {
                "No drift in the companies; the stack's resources were not checked.\n"
            }
            (StackDrift::Checked { status, .. }, false) if status == "UNKNOWN" => {
                "No drift found, but detection did not reach every resource of the stack.\n"
            }
            _ => "No drift.\n",
        };
        out
    }
}

pub async fn drift(target: &Target, req: &DriftRequest, _ui: &Ui) -> Result<DriftReport> {
    let env = &target.env;
    let ctx = target.aws().await?;
    ctx.ensure_account().await?;
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&env.stack, &account);
    let deadline = Instant::now() + req.timeout;

    let mut stats = sync::WriteStats::default();
    let live = sync::read_live(&ctx.dynamodb(), &names.table, deadline, &mut stats).await?;
    let companies = match &live {
        Some(live) => {
            let d = sync::diff_table(live, &env.companies);
            CompanyDrift {
                table: names.table.clone(),
                table_exists: true,
                only_live: d.removed,
                only_in_file: d.added,
                in_both: d.unchanged + d.retitled.len(),
                other_page: d.retitled,
            }
        }
        None => CompanyDrift {
            table: names.table.clone(),
            table_exists: false,
            only_live: Vec::new(),
            only_in_file: env.companies.names().map(str::to_owned).collect(),
            in_both: 0,
            other_page: Vec::new(),
        },
    };

    let cfn = ctx.cloudformation();
    let timing = Timing::new(ctx.is_local(), req.timeout);
    let stack = match stack::describe(&cfn, &env.stack).await? {
        None => StackDrift::NotDeployed,
        Some(info) if info.is_unborn() => StackDrift::NotDeployed,
        Some(_) => detect(&cfn, &env.stack, timing).await?,
    };
    let drifted = (companies.table_exists
        && (!companies.only_live.is_empty()
            || !companies.only_in_file.is_empty()
            || !companies.other_page.is_empty()))
        || matches!(&stack, StackDrift::Checked { resources, .. } if !resources.is_empty());
    let alarm_email = match &env.alarms.email {
        Some(email) if !matches!(stack, StackDrift::NotDeployed) => {
            let topic = crate::alarms::topic_arn(ctx.region(), &account, &env.stack);
            match crate::alarms::email::status(&ctx.sns(), &topic, email).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!("alarm e-mail not checked: {e:#}");
                    None
                }
            }
        }
        _ => None,
    };
    Ok(DriftReport {
        env: env.name.clone(),
        stack_name: env.stack.clone(),
        alarm_email,
        companies,
        stack,
        drifted,
    })
}

/// CloudFormation drift detection: start it, wait for it, read what drifted.
pub async fn detect(cfn: &Client, stack_name: &str, timing: Timing) -> Result<StackDrift> {
    let started = match cfn.detect_stack_drift().stack_name(stack_name).send().await {
        Ok(out) => out,
        Err(e) => {
            return Ok(StackDrift::Unavailable {
                reason: unavailable_reason(e),
            });
        }
    };
    let id = started
        .stack_drift_detection_id()
        .unwrap_or_default()
        .to_owned();
    let status = wait_for_detection(cfn, stack_name, &id, timing).await?;
    let failed = status.detection_status() == Some(&StackDriftDetectionStatus::DetectionFailed);
    let reason = status
        .detection_status_reason()
        .filter(|_| failed)
        .map(str::to_owned);
    let resources = drifted_resources(cfn, stack_name).await?;
    Ok(StackDrift::Checked {
        status: status
            .stack_drift_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "UNKNOWN".to_owned()),
        reason,
        resources,
    })
}

/// Why drift detection could not start: moto answers an HTML 500 for what it lacks;
/// AWS may deny the permission.
fn unavailable_reason(e: SdkError<DetectStackDriftError>) -> String {
    match e.as_service_error() {
        Some(s) if s.code().is_some() => format!(
            "{}: {}",
            s.code().unwrap_or_default(),
            s.message().unwrap_or_default()
        ),
        _ if is_transient(&e) => "the endpoint does not answer DetectStackDrift".to_owned(),
        _ => crate::aws::error(e).to_string(),
    }
}

/// Polls drift detection `id` until it is no longer in progress, within the timeout.
async fn wait_for_detection(
    cfn: &Client,
    stack_name: &str,
    id: &str,
    timing: Timing,
) -> Result<DescribeStackDriftDetectionStatusOutput> {
    let begun = Instant::now();
    loop {
        let status = cfn
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(id)
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("reading drift detection {id} of stack {stack_name}"))?;
        if status.detection_status() != Some(&StackDriftDetectionStatus::DetectionInProgress) {
            return Ok(status);
        }
        if begun.elapsed() >= timing.timeout {
            bail!(
                "drift detection of stack {stack_name} did not finish within {} s",
                timing.timeout.as_secs()
            );
        }
        tokio::time::sleep(timing.poll).await;
    }
}

/// The stack's modified and deleted resources, page by page, sorted by logical id.
async fn drifted_resources(cfn: &Client, stack_name: &str) -> Result<Vec<ResourceDrift>> {
    let mut resources = Vec::new();
    let mut pages = cfn
        .describe_stack_resource_drifts()
        .stack_name(stack_name)
        .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
        .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::error)
            .with_context(|| format!("reading the drifted resources of stack {stack_name}"))?;
        resources.extend(page.stack_resource_drifts().iter().map(resource_drift));
    }
    resources.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(resources)
}

/// One resource's drift, property by property.
fn resource_drift(d: &StackResourceDrift) -> ResourceDrift {
    ResourceDrift {
        logical_id: d.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: d.resource_type().unwrap_or_default().to_owned(),
        status: d
            .stack_resource_drift_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        differences: d
            .property_differences()
            .iter()
            .map(|p| PropertyDifference {
                path: p.property_path().unwrap_or_default().to_owned(),
                expected: p.expected_value().unwrap_or_default().to_owned(),
                actual: p.actual_value().unwrap_or_default().to_owned(),
                kind: p
                    .difference_type()
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    mod replay;

    use super::*;

    #[test]
    fn drift_report_terminal_snapshot() {
        let report = DriftReport {
            env: "dev".into(),
            stack_name: "fang-dev".into(),
            companies: CompanyDrift {
                table: "fang-dev-companies".into(),
                table_exists: true,
                only_live: vec!["Out Of Band".into()],
                only_in_file: vec!["Spotify".into()],
                in_both: 5,
                other_page: vec![crate::companies::sync::Retitle {
                    name: "Apple".into(),
                    from: None,
                    to: Some("Apple Inc.".into()),
                }],
            },
            stack: StackDrift::Checked {
                status: "DRIFTED".into(),
                reason: None,
                resources: vec![ResourceDrift {
                    logical_id: "SentimentFunction".into(),
                    resource_type: "AWS::Lambda::Function".into(),
                    status: "MODIFIED".into(),
                    differences: vec![PropertyDifference {
                        path: "/MemorySize".into(),
                        expected: "256".into(),
                        actual: "1024".into(),
                        kind: "NOT_EQUAL".into(),
                    }],
                }],
            },
            drifted: true,
            alarm_email: Some(crate::alarms::email::EmailStatus::Pending {
                email: "team@example.com".into(),
            }),
        };
        insta::assert_snapshot!("drift_found", report.render());
        let clean = DriftReport {
            companies: CompanyDrift {
                only_live: Vec::new(),
                only_in_file: Vec::new(),
                other_page: Vec::new(),
                ..report.companies.clone()
            },
            stack: StackDrift::Unavailable {
                reason: "the endpoint does not answer DetectStackDrift".into(),
            },
            drifted: false,
            alarm_email: None,
            ..report
        };
        insta::assert_snapshot!("drift_none", clean.render());
        // Regression: a stack whose drift detection was unavailable (above) read "No
        // drift."; only a stack checked in sync does.
        let checked = |status: &str| DriftReport {
            stack: StackDrift::Checked {
                status: status.into(),
                reason: None,
                resources: Vec::new(),
            },
            ..clean.clone()
        };
        assert!(checked("IN_SYNC").render().ends_with("\nNo drift.\n"));
        assert!(checked("UNKNOWN").render().ends_with(
            "\nNo drift found, but detection did not reach every resource of the stack.\n"
        ));
    }
}
