//! `fangops plan`: what a deploy would change, never changing it. The same change set
//! a deploy creates is created, described, and deleted; a stack that did not exist
//! before (CloudFormation creates an empty one to hold the change set) is removed too.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::alarms::{self, AlarmsReport};
use crate::companies::check::PageCheck;
use crate::companies::sync::{self, CompaniesPlan};
use crate::config::{self};
use crate::cost::CostReport;
use crate::deploy::stack::ChangeAction;
use crate::deploy::stack::{self, ChangeSetResult, ChangeSetSpec, ResourceChange, Timing};
use crate::deploy::{self, ArtifactSource, Basis, ParameterChange};
use crate::output::Ui;
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub artifacts: ArtifactSource,
    pub artifact_bucket: Option<String>,
    pub timeout: Duration,
    /// The git revision to compare the companies with when the live table cannot be
    /// read (a pull request's base branch).
    pub base: Option<String>,
    /// Wikipedia's REST base for the page checks (`WIKIPEDIA_BASE_URL`).
    pub wikipedia_base: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub env: String,
    pub stack: String,
    /// The stack does not exist yet: every resource is an Add.
    pub new_stack: bool,
    /// How the plan knows: `fingerprint` (the stack already is this), `change set`.
    pub basis: Basis,
    pub changes: Vec<ResourceChange>,
    pub parameter_changes: Vec<ParameterChange>,
    pub replacements: usize,
    pub companies: CompaniesPlan,
    /// The Wikipedia pages of the companies added or given another page, checked as
    /// the pipeline will read them (env files that read Wikipedia only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<PageCheck>,
    /// A protected env's artifacts, and where each already ran (a deploy takes only
    /// those that ran in a non-protected env).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<crate::deploy::promotion::PromotionReport>,
    /// What the deploy would do to the alarms (and dashboard).
    pub alarms: Option<AlarmsReport>,
    /// The cost estimate, with the delta against the base branch when known.
    pub cost: Option<CostReport>,
    pub duration_s: f64,
}

impl PlanReport {
    pub fn has_changes(&self) -> bool {
        self.stack_changes()
            || self.companies.changed()
            || self.alarms.as_ref().is_some_and(AlarmsReport::changed)
    }

    pub fn stack_changes(&self) -> bool {
        !self.changes.is_empty() || !self.parameter_changes.is_empty()
    }
}

/// How many of the changes add, modify and remove a resource.
pub fn action_counts(changes: &[ResourceChange]) -> (usize, usize, usize) {
    [
        ChangeAction::Add,
        ChangeAction::Modify,
        ChangeAction::Remove,
    ]
    .map(|a| changes.iter().filter(|c| c.action == a).count())
    .into()
}

/// The pages of the companies the plan adds or gives another page, when the env reads
/// Wikipedia (the offline texts have no pages to check).
async fn check_pages(
    env: &config::EnvConfig,
    companies: &CompaniesPlan,
    wikipedia_base: Option<&str>,
) -> Vec<PageCheck> {
    if env.text_source != config::TextSource::Wikipedia {
        return Vec::new();
    }
    let changed = companies
        .added
        .iter()
        .chain(companies.retitled.iter().map(|r| &r.name))
        .filter_map(|name| env.companies.get(name));
    match crate::companies::check::client(wikipedia_base) {
        Ok(wikipedia) => crate::companies::check::check_for_plan(&wikipedia, changed).await,
        Err(e) => {
            tracing::warn!("Wikipedia pages not checked: {e:#}");
            Vec::new()
        }
    }
}

pub async fn plan(target: &Target, req: &PlanRequest, ui: &Ui) -> Result<PlanReport> {
    let started = Instant::now();
    let p = deploy::prepare(target, &req.artifacts, req.artifact_bucket.as_deref()).await?;
    let ctx = target.aws().await?;
    let companies = sync::plan(
        &p.env,
        &ctx.dynamodb(),
        &p.names.table,
        req.base.as_deref(),
        req.timeout,
    )
    .await;
    let alarms = alarms::install_in(ctx, &p.env, &p.names, true)
        .await
        .context("comparing the alarms")?;
    let promotion = if p.env.protected {
        let found = deploy::promotion::promotions(&ctx.s3(), &p.artifact_bucket, &p.artifacts)
            .await
            .context("reading where the artifacts ran before")?;
        Some(deploy::promotion::PromotionReport {
            artifacts: found,
            overridden: false,
        })
    } else {
        None
    };
    let cfn = ctx.cloudformation();
    let stack_name = p.env.stack.clone();
    let timing = Timing::new(ctx.is_local(), req.timeout);
    let progress = ui.progress(format!("planning stack {stack_name}"));
    let existing =
        stack::wait_until_idle(&cfn, &stack_name, timing, |l| progress.println(l)).await?;
    let mut report = PlanReport {
        env: p.env.name.clone(),
        stack: stack_name.clone(),
        new_stack: existing.is_none(),
        basis: Basis::ChangeSet,
        changes: Vec::new(),
        parameter_changes: Vec::new(),
        replacements: 0,
        pages: check_pages(&p.env, &companies, req.wikipedia_base.as_deref()).await,
        companies,
        promotion,
        alarms: Some(alarms),
        cost: crate::cost::section_or_warn(&target.root, ctx, &p.env, req.base.as_deref()).await,
        duration_s: 0.0,
    };
    if p.is_current(existing.as_ref()) {
        report.basis = Basis::Fingerprint;
        report.duration_s = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    report.parameter_changes = deploy::parameter_changes(existing.as_ref(), &p.parameters);
    // A stack in ROLLBACK_COMPLETE is deleted and created by the deploy: all Adds.
    let recreate = existing
        .as_ref()
        .is_some_and(|i| i.status == "ROLLBACK_COMPLETE");
    if recreate {
        progress.println(format!(
            "stack {stack_name} is in ROLLBACK_COMPLETE; the deploy deletes and creates it again"
        ));
    }
    let create = existing.as_ref().is_none_or(|i| i.is_unborn() || recreate);
    let scratch = existing.is_none() || recreate;
    let changes = changes_of(&cfn, &p, create, scratch, timing).await;
    drop(progress);
    if let ChangeSetResult::Ready(changes) = changes? {
        report.replacements = changes.iter().filter(|c| c.may_replace()).count();
        report.changes = changes;
    }
    report.new_stack = create;
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The changes a deploy of `p` would make, from a change set created, read and deleted.
/// A stack that does not exist yet is planned under a scratch name, as is one in
/// ROLLBACK_COMPLETE (which takes no change set): CloudFormation creates an empty stack
/// to hold a new stack's change set, and that stack must never bear the real name. A
/// deploy starting meanwhile would find it, and the plan role would need DeleteStack on
/// the real stack to clean it up.
async fn changes_of(
    cfn: &aws_sdk_cloudformation::Client,
    p: &deploy::Prepared,
    create: bool,
    scratch: bool,
    timing: Timing,
) -> Result<ChangeSetResult> {
    let name = deploy::plan_change_set_name();
    let scratch_name = format!("{}-plan", p.env.stack);
    let spec = ChangeSetSpec {
        stack: if scratch { &scratch_name } else { &p.env.stack },
        name: &name,
        create,
        template_body: &p.template.body,
        parameters: &p.parameters,
        tags: &p.tags,
        role_arn: p.role_arn.as_deref(),
    };
    let result = stack::create_change_set(cfn, &spec, timing).await;
    // Leave nothing behind, whatever happened.
    if scratch {
        remove_review_stack(cfn, spec.stack, spec.name, timing).await;
    } else {
        let _ = stack::delete_change_set(cfn, spec.stack, spec.name).await;
    }
    result
}

/// The plan of a new stack made CloudFormation create an empty scratch stack in
/// REVIEW_IN_PROGRESS to hold its change set. It is deleted only while it is still
/// that and holds nothing but fangops's plan change sets (an interrupted plan may have
/// left one); otherwise only this plan's change set goes.
async fn remove_review_stack(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    change_set: &str,
    timing: Timing,
) {
    let still_ours = match stack::describe(cfn, stack).await {
        Ok(Some(info)) if info.status == "REVIEW_IN_PROGRESS" => {
            match stack::change_sets(cfn, stack).await {
                // Only plans' change sets, and none of another plan that may still be
                // reading its own: this one's, or ones past their time.
                Ok(sets) => {
                    let now = std::time::SystemTime::now();
                    sets.iter().all(|s| {
                        let old = s.age(now).is_some_and(|a| a >= deploy::PLAN_CHANGE_SET_TTL);
                        s.name.starts_with(deploy::PLAN_CHANGE_SET_PREFIX)
                            && (s.name == change_set || old)
                    })
                }
                Err(e) => {
                    tracing::warn!("{e:#}");
                    false
                }
            }
        }
        Ok(None) => return,
        Ok(Some(_)) => false,
        Err(e) => {
            tracing::warn!("{e:#}");
            false
        }
    };
    if still_ours {
        let _ = stack::delete(cfn, stack, timing, &|_| {}).await;
    } else {
        tracing::warn!(
            "stack {stack} is not the plan's scratch stack any more: only the plan's change set is removed"
        );
        let _ = stack::delete_change_set(cfn, stack, change_set).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::companies::sync::Against;
    use crate::deploy::stack::Replacement;
    use crate::markdown::Flavor;
    use crate::report::plan::companies_section;

    #[test]
    fn typed_fields_keep_their_json_spelling() {
        fn to<T: serde::Serialize>(v: T) -> String {
            serde_json::to_string(&v).unwrap()
        }
        assert_eq!(to(Against::LiveTable), r#""live table""#);
        assert_eq!(to(Against::NewTable), r#""new table""#);
        assert_eq!(
            to(Against::Revision("origin/main".into())),
            r#""origin/main""#
        );
        assert_eq!(to(Against::Unknown), r#""unknown""#);
        assert_eq!(to(Basis::ChangeSet), r#""change set""#);
        assert_eq!(to(Basis::Fingerprint), r#""fingerprint""#);
        assert_eq!(to(Basis::EmptyChangeSet), r#""empty change set""#);
        assert_eq!(to(ChangeAction::Modify), r#""Modify""#);
        assert_eq!(
            to(ChangeAction::from("SyncWithActual")),
            r#""SyncWithActual""#
        );
        assert_eq!(to(Replacement::Conditional), r#""Conditional""#);
        assert_eq!(ChangeAction::from("Remove"), ChangeAction::Remove);
    }

    #[test]
    fn plan_markdown_snapshot() {
        let change = |action: &str, id: &str, replacement: Option<&str>| ResourceChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: "AWS::SQS::Queue".into(),
            physical_id: None,
            replacement: replacement.map(Into::into),
            scope: Vec::new(),
        };
        let mut report = PlanReport {
            pages: Vec::new(),
            env: "prod".into(),
            stack: "fang-prod".into(),
            new_stack: false,
            basis: Basis::ChangeSet,
            changes: vec![
                change("Modify", "CompaniesQueue", Some("True")),
                change("Add", "ExtraQueue", None),
                change("Remove", "OldQueue", None),
            ],
            parameter_changes: vec![ParameterChange {
                name: "Schedule".into(),
                old: Some("rate(1 day)".into()),
                new: "cron(0 6 * * ? *)".into(),
            }],
            replacements: 1,
            companies: CompaniesPlan {
                against: Against::LiveTable,
                added: vec![
                    "Spotify".into(),
                    "<script>alert(1)</script> | @octocat".into(),
                ],
                removed: vec!["Netflix".into()],
                unchanged: 4,
                ..Default::default()
            },
            promotion: Some(crate::deploy::promotion::PromotionReport {
                artifacts: vec![
                    crate::deploy::promotion::Promotion {
                        function: "producer".into(),
                        sha256: "ab".repeat(32),
                        ran_in: vec![crate::deploy::promotion::RanIn {
                            env: "dev".into(),
                            stack: "fang-dev".into(),
                            commit: Some("0123456789abcdef".into()),
                            deployed_at: "2026-12-01T07:00:00Z".into(),
                            running: true,
                        }],
                    },
                    crate::deploy::promotion::Promotion {
                        function: "sentiment".into(),
                        sha256: "cd".repeat(32),
                        ran_in: Vec::new(),
                    },
                ],
                overridden: false,
            }),
            alarms: None,
            cost: None,
            duration_s: 1.0,
        };
        insta::assert_snapshot!("plan_changes", report.render_markdown());
        report.changes.clear();
        report.parameter_changes.clear();
        report.replacements = 0;
        assert!(report.has_changes(), "the companies still change");
        report.companies.added.clear();
        report.companies.removed.clear();
        assert!(!report.has_changes());
        let text = report.render_markdown();
        assert!(text.contains("No changes to the stack."), "{text}");
        assert!(
            text.contains("No changes against the live table (4 companies)."),
            "{text}"
        );
    }

    #[test]
    fn companies_section_snapshots() {
        let many: Vec<String> = (0..60).map(|i| format!("New Co {i:02}")).collect();
        let blocked = CompaniesPlan {
            against: Against::LiveTable,
            added: vec!["Apple".into()],
            removed: vec!["Amazon".into(), "Meta".into(), "Nvidia".into()],
            unchanged: 1,
            retitled: Vec::new(),
            refused: Some("the sync would delete 3 of the 4 companies in the table, 75% of it, more than the 50% allowed (sync.max_delete_percent): Amazon, Meta, Nvidia".into()),
            note: None,
        };
        insta::assert_snapshot!(
            "companies_blocked",
            companies_section(&blocked, Flavor::Markdown)
        );
        let from_base = CompaniesPlan {
            against: Against::Revision("origin/main".into()),
            added: many,
            removed: Vec::new(),
            unchanged: 7,
            retitled: vec![crate::companies::sync::Retitle {
                name: "Alphabet".into(),
                from: None,
                to: Some("Alphabet Inc.".into()),
            }],
            refused: None,
            note: Some("the live table could not be read: AccessDeniedException".into()),
        };
        insta::assert_snapshot!(
            "companies_against_base",
            companies_section(&from_base, Flavor::Markdown)
        );
        let unknown = CompaniesPlan {
            against: Against::Unknown,
            note: Some("the live table could not be read: AccessDeniedException".into()),
            ..Default::default()
        };
        assert_eq!(
            companies_section(&unknown, Flavor::Markdown),
            "#### Companies\n\nNot compared: the live table could not be read: AccessDeniedException.\n"
        );
    }
}
