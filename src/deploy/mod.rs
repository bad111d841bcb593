//! `fangops deploy`: the env file and the template become a CloudFormation stack.
//!
//! Build (or take) the zips, upload them content-addressed, then either find that the
//! stack already is what this deploy would make it (the fingerprint stored on the
//! stack matches: no change set at all) or create a change set, show it, execute it
//! while streaming the stack's events, and report. A stack left in ROLLBACK_COMPLETE
//! by a failed first create is deleted and created again; a stack busy with another
//! operation is waited for, never raced. Then the companies are synced.
//!
//! `fangops plan` shares everything up to the change set.

pub mod artifacts;
pub mod params;
pub mod promotion;
pub mod stack;
pub mod template;
pub mod verdict;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::alarms::{self, AlarmsReport};
use crate::aws::AwsContext;
use crate::build::{self, BuildRequest};
use crate::companies::sync::{self, SyncReport};
use crate::config::{self, EnvConfig};
use crate::deploy::verdict::{RollbackReport, Verification};
use crate::diagnostics::{Diagnostic, InvalidInput};
use crate::output::Ui;
use crate::resources::Names;
use crate::target::Target;
use artifacts::Artifact;
use stack::{ChangeSetResult, ChangeSetSpec, FailedResource, ResourceChange, StackInfo, Timing};

/// Change sets fangops creates are named with this prefix (and stale ones cleaned up).
pub const CHANGE_SET_PREFIX: &str = "fangops-";
/// A plan's change sets: a deploy leaves those younger than `PLAN_CHANGE_SET_TTL` alone,
/// since a plan may still be reading one.
pub const PLAN_CHANGE_SET_PREFIX: &str = "fangops-plan-";
pub const PLAN_CHANGE_SET_TTL: Duration = Duration::from_secs(3600);

/// Where the zips come from.
#[derive(Debug, Clone)]
pub enum ArtifactSource {
    /// Zips `fangops build` wrote before (`producer.zip`, `sentiment.zip`).
    Dir(PathBuf),
    /// Reuse the zips the artifact bucket's index has for these sources, and build the
    /// others now with this cargo profile and these tools.
    Build {
        profile: String,
        tools: build::Tools,
    },
}

#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub artifacts: ArtifactSource,
    /// Overrides the artifact bucket's name (default: one per account and region).
    pub artifact_bucket: Option<String>,
    /// `--allow-protected STACK`: deploy a protected env outside main, naming its stack.
    pub allow_protected: Option<String>,
    /// Whether this runs in CI, and on which ref: a protected env deploys from main only.
    pub ci: CiContext,
    pub timeout: Duration,
    /// Sync the companies afterwards (on by default).
    pub sync: bool,
    /// Let that sync delete more of the table than the env file allows.
    pub allow_mass_delete: bool,
    /// Let a protected env take artifacts no other env deployed (recorded).
    pub allow_unpromoted: bool,
    /// When the command started (RFC 3339), for the deploy's record.
    pub started_at: String,
    /// `--verify` / `--no-verify`; the env file's `verify.enabled` when unset.
    pub verify: Option<bool>,
    /// Roll back a deploy whose verification fails (off with `--no-rollback`).
    pub rollback: bool,
    pub verify_options: crate::deploy::verdict::VerifyOptions,
}

/// How a deploy or plan knew what changes: the fingerprint on the stack matched (no
/// change set needed), or a change set said so. JSON keeps the spelling it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Basis {
    #[serde(rename = "fingerprint")]
    Fingerprint,
    #[serde(rename = "change set")]
    ChangeSet,
    /// AWS made a change set and found nothing to change.
    #[serde(rename = "empty change set")]
    EmptyChangeSet,
}

impl std::fmt::Display for Basis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fingerprint => "fingerprint",
            Self::ChangeSet => "change set",
            Self::EmptyChangeSet => "empty change set",
        })
    }
}

/// How the deploy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    /// Nothing to change: the fingerprint matched, or AWS found no changes.
    Unchanged,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub env: String,
    pub stack: String,
    pub region: String,
    pub outcome: Outcome,
    /// Why an unchanged deploy was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged_because: Option<Basis>,
    /// The stack was in ROLLBACK_COMPLETE and was deleted before being created again.
    pub recreated: bool,
    pub final_status: Option<String>,
    pub changes: Vec<ResourceChange>,
    pub parameter_changes: Vec<ParameterChange>,
    pub failures: Vec<FailedResource>,
    pub artifacts: Vec<Artifact>,
    pub artifact_bucket: String,
    pub outputs: BTreeMap<String, String>,
    pub resources: Names,
    pub fingerprint: String,
    /// A protected env's: where each artifact ran before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<promotion::PromotionReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarms: Option<AlarmsReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::CostReport>,
    /// What someone should act on although the deploy went through.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What failed after the stack went through (the companies' sync, the alarms): the
    /// deploy fails, but the changed stack is still verified, and rolled back if it
    /// fails that too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The deploy's verification, when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// What followed a failed verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<AfterFailure>,
    pub duration_s: f64,
    /// The record written for this deploy, written again once verified.
    #[serde(skip)]
    pub record: Option<promotion::Record>,
}

/// What a deploy whose verification failed did about it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum AfterFailure {
    /// `--no-rollback`: the failed state stays, for debugging.
    Kept,
    /// The stack was not changed by this deploy: nothing of it to undo.
    NothingToUndo,
    RolledBack(Box<RollbackReport>),
}

impl DeployReport {
    pub fn ok(&self) -> bool {
        self.outcome != Outcome::Failed
            && self.errors.is_empty()
            && self.verification.as_ref().is_none_or(|v| v.passed)
    }
}

/// A parameter whose value a deploy changes (the fingerprint aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterChange {
    pub name: String,
    pub old: Option<String>,
    pub new: String,
}

/// The parameters that differ from the stack's. A change set lists resources, not
/// values, so this is how a reviewer sees "MemoryMb 256 -> 512".
pub fn parameter_changes(
    existing: Option<&StackInfo>,
    new: &[(String, String)],
) -> Vec<ParameterChange> {
    let Some(info) = existing.filter(|i| !i.is_unborn()) else {
        return Vec::new();
    };
    new.iter()
        .filter(|(k, _)| k != params::FINGERPRINT)
        .filter(|(k, v)| info.parameters.get(k) != Some(v))
        .map(|(k, v)| ParameterChange {
            name: k.clone(),
            old: info.parameters.get(k).cloned(),
            new: v.clone(),
        })
        .collect()
}

/// A protected env deploys only from `main` in CI, or with an override naming its stack.
pub fn check_protected(
    env: &EnvConfig,
    allow: Option<&str>,
    ci: &CiContext,
) -> Result<(), InvalidInput> {
    if !env.protected {
        return Ok(());
    }
    if let Some(named) = allow {
        if named == env.stack {
            return Ok(());
        }
        return Err(InvalidInput(vec![
            Diagnostic::whole_file(
                &env.path,
                format!(
                    "--allow-protected names stack {named}, but this env's stack is {}",
                    env.stack
                ),
            )
            .with_key("stack"),
        ]));
    }
    let git_ref = ci.git_ref.as_deref();
    if ci.ci && git_ref == Some("refs/heads/main") {
        return Ok(());
    }
    let where_ = match (ci.ci, git_ref) {
        (true, Some(r)) => format!("CI on {r}"),
        (true, None) => "CI without GITHUB_REF".to_owned(),
        (false, _) => "outside CI".to_owned(),
    };
    Err(InvalidInput(vec![
        Diagnostic::whole_file(
            &env.path,
            format!(
                "environment {} is protected: it deploys from refs/heads/main in CI; this is {where_}. To deploy anyway, pass --allow-protected {}",
                env.name, env.stack
            ),
        )
        .with_key("protected"),
    ]))
}

/// Whether the process runs in CI, and on which git ref, as the command line read
/// them from the CI's variables (`CI`, `GITHUB_REF`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiContext {
    pub ci: bool,
    /// `refs/heads/main`, `refs/pull/7/merge`, ...
    pub git_ref: Option<String>,
    /// The commit being deployed (`GITHUB_SHA`), for the deploy's record.
    pub sha: Option<String>,
}

/// Everything a deploy or a plan sends, ready before any AWS write.
#[derive(Debug)]
pub struct Prepared {
    pub env: EnvConfig,
    pub template: template::Template,
    pub artifacts: Vec<Artifact>,
    /// The index entries of the artifacts built here, written once they are uploaded.
    pub index: Vec<artifacts::IndexEntry>,
    pub artifact_bucket: String,
    pub names: Names,
    pub parameters: Vec<(String, String)>,
    pub fingerprint: String,
    pub tags: Vec<(String, String)>,
    /// The CloudFormation service role's ARN (`cloudformation_role`), if set.
    pub role_arn: Option<String>,
}

/// Reads the env file and the template, takes or builds the artifacts, and derives
/// the parameters. Bad input fails here, before anything is changed.
pub async fn prepare(
    target: &Target,
    source: &ArtifactSource,
    artifact_bucket: Option<&str>,
) -> Result<Prepared> {
    let (root, env, ctx) = (&target.root, target.env.clone(), target.aws().await?);
    let template = template::load(&config::project_path(root, template::TEMPLATE_PATH))?;
    ctx.ensure_account().await?;
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&env.stack, &account);
    let artifact_bucket = artifact_bucket
        .map(str::to_owned)
        .unwrap_or_else(|| artifacts::bucket_name(&account, ctx.region()));
    let (artifacts, index) = match source {
        ArtifactSource::Dir(dir) => (artifacts::read_dir(dir, env.lambda.arch)?, Vec::new()),
        ArtifactSource::Build { profile, tools } => {
            let req = BuildRequest {
                root: root.to_path_buf(),
                arch: env.lambda.arch,
                out: root.join("dist").join("artifacts").join(&env.name),
                profile: profile.clone(),
                tools: tools.clone(),
                only: None,
            };
            artifacts::resolve(req, &ctx.s3(), &artifact_bucket).await?
        }
    };
    let code = params::Code {
        bucket: artifact_bucket.clone(),
        producer_key: artifacts[0].key.clone(),
        sentiment_key: artifacts[1].key.clone(),
    };
    let mut parameters = params::parameters(&env, &code, ctx.is_local());
    let fingerprint = params::fingerprint(&template.body, &parameters);
    parameters.push((params::FINGERPRINT.to_owned(), fingerprint.clone()));
    template.check_parameters(parameters.iter().map(|(k, _)| k.as_str()))?;
    let tags = params::tags(&env);
    let role_arn = env.cloudformation_role_arn(&account);
    Ok(Prepared {
        env,
        template,
        artifacts,
        index,
        artifact_bucket,
        names,
        parameters,
        fingerprint,
        tags,
        role_arn,
    })
}

impl Prepared {
    /// The stack already is what this deploy would make it: complete, and carrying
    /// this fingerprint. Deploy and plan then need no change set.
    pub fn is_current(&self, existing: Option<&StackInfo>) -> bool {
        existing.is_some_and(|i| {
            i.is_complete() && i.parameters.get(params::FINGERPRINT) == Some(&self.fingerprint)
        })
    }
}

/// A change set name unique enough for one stack.
pub fn change_set_name() -> String {
    change_set_name_with(CHANGE_SET_PREFIX)
}

/// The name of a plan's change set.
pub fn plan_change_set_name() -> String {
    change_set_name_with(PLAN_CHANGE_SET_PREFIX)
}

fn change_set_name_with(prefix: &str) -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{prefix}{:04}{:02}{:02}{:02}{:02}{:02}-{:04x}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        ((now.nanosecond() >> 16) ^ std::process::id()) & 0xffff
    )
}

/// Refuses, before anything is changed, a deploy its env does not allow here: a
/// protected env outside main, unless `--allow-protected` names its stack.
pub fn check(target: &Target, req: &DeployRequest) -> Result<()> {
    Ok(check_protected(
        &target.env,
        req.allow_protected.as_deref(),
        &req.ci,
    )?)
}

/// How a change set went.
#[derive(Debug)]
pub struct Applied {
    /// Created, Updated, Unchanged (AWS found nothing to change) or Failed.
    pub outcome: Outcome,
    pub changes: Vec<ResourceChange>,
    pub final_status: Option<String>,
    pub failures: Vec<FailedResource>,
}

/// Creates the change set (after clearing stale ones), shows it, executes it and
/// follows the stack's events to the end: what a deploy and a rollback share.
pub async fn apply_change_set(
    cfn: &aws_sdk_cloudformation::Client,
    spec: &ChangeSetSpec<'_>,
    exists: bool,
    timing: Timing,
    progress: &crate::output::Progress,
) -> Result<Applied> {
    let say = |line: &str| progress.println(line.to_owned());
    // A stack holding only change sets (`create`) still has stale ones to clear.
    if exists {
        stack::delete_stale_change_sets(
            cfn,
            spec.stack,
            CHANGE_SET_PREFIX,
            (PLAN_CHANGE_SET_PREFIX, PLAN_CHANGE_SET_TTL),
        )
        .await?;
    }
    progress.set_message(format!("creating change set {}", spec.name));
    let changes = match stack::create_change_set(cfn, spec, timing).await? {
        ChangeSetResult::NoChanges => {
            stack::delete_change_set(cfn, spec.stack, spec.name).await?;
            return Ok(Applied {
                outcome: Outcome::Unchanged,
                changes: Vec::new(),
                final_status: None,
                failures: Vec::new(),
            });
        }
        ChangeSetResult::Ready(changes) => changes,
    };
    for c in &changes {
        say(&format!(
            "change: {} {} ({}){}",
            c.action,
            c.logical_id,
            c.resource_type,
            if c.may_replace() { " REPLACEMENT" } else { "" }
        ));
    }
    progress.set_message(format!(
        "executing change set {} on stack {}",
        spec.name, spec.stack
    ));
    let finished = stack::execute(cfn, spec.stack, spec.name, timing, &|e| {
        say(&stack::event_line(e));
    })
    .await?;
    let outcome = match (finished.ok, spec.create) {
        (false, _) => Outcome::Failed,
        (true, true) => Outcome::Created,
        (true, false) => Outcome::Updated,
    };
    Ok(Applied {
        outcome,
        changes,
        final_status: Some(finished.status),
        failures: finished.failures,
    })
}

/// The deploy of a prepared stack, companies and alarms, without its verification
/// (`release::deploy` adds it).
pub async fn deploy_prepared(
    target: &Target,
    req: &DeployRequest,
    p: &Prepared,
    started: Instant,
    ui: &Ui,
) -> Result<DeployReport> {
    let (root, ctx) = (&target.root, target.aws().await?);
    let cfn = ctx.cloudformation();
    let stack_name = p.env.stack.clone();
    let timing = Timing::new(ctx.is_local(), req.timeout);
    let progress = ui.progress(format!("deploying stack {stack_name}"));
    let say = |line: &str| progress.println(line.to_owned());

    let mut report = DeployReport::starting(p, ctx.region());
    // A protected env takes only artifacts that ran elsewhere first: checked before
    // anything is written.
    if p.env.protected {
        let found = promotion::promotions(&ctx.s3(), &p.artifact_bucket, &p.artifacts).await?;
        report.promotion = Some(promotion::check(&p.env, found, req.allow_unpromoted)?);
    }
    let pre_read = pre_read(req, p, ctx).await?;
    let settled = stack::settle(&cfn, &stack_name, timing, &say).await?;
    report.recreated = settled.recreated;
    let existing = settled.existing;

    // What this run built goes to the bucket and its index even when the stack is
    // current, so that the next run of these sources builds nothing.
    let current = p.is_current(existing.as_ref());
    if !current || !p.index.is_empty() {
        store_artifacts(ctx, p, &mut report.artifacts).await?;
    }
    if current {
        drop(progress);
        report.unchanged_because = Some(Basis::Fingerprint);
        report.outputs = existing.map(|i| i.outputs).unwrap_or_default();
        return finish(report, p, (root, ctx), req, pre_read, started, ui).await;
    }

    report.parameter_changes = parameter_changes(existing.as_ref(), &p.parameters);
    let name = change_set_name();
    let spec = ChangeSetSpec {
        stack: &stack_name,
        name: &name,
        create: existing.as_ref().is_none_or(StackInfo::is_unborn),
        template_body: &p.template.body,
        parameters: &p.parameters,
        tags: &p.tags,
        role_arn: p.role_arn.as_deref(),
    };
    let applied = apply_change_set(&cfn, &spec, existing.is_some(), timing, &progress).await?;
    drop(progress);
    report.changes = applied.changes;
    report.final_status = applied.final_status;
    report.outcome = applied.outcome;
    match applied.outcome {
        Outcome::Unchanged => {
            report.unchanged_because = Some(Basis::EmptyChangeSet);
            report.outputs = existing.map(|i| i.outputs).unwrap_or_default();
        }
        Outcome::Failed => {
            report.failures = applied.failures;
            record_deploy(&mut report, p, ctx, req).await;
            report.duration_s = started.elapsed().as_secs_f64();
            return Ok(report);
        }
        Outcome::Created | Outcome::Updated => {
            // The stack has changed: a failed read of its outputs must not skip the
            // record, the sync, the verification or a rollback.
            match stack::describe(&cfn, &stack_name).await {
                Ok(info) => report.outputs = info.map(|i| i.outputs).unwrap_or_default(),
                Err(e) => report
                    .warnings
                    .push(format!("the stack's outputs were not read: {e:#}")),
            }
        }
    }
    finish(report, p, (root, ctx), req, pre_read, started, ui).await
}

impl DeployReport {
    /// The report of a deploy of `p` about to start: nothing changed yet.
    fn starting(p: &Prepared, region: &str) -> Self {
        Self {
            env: p.env.name.clone(),
            stack: p.env.stack.clone(),
            region: region.to_owned(),
            outcome: Outcome::Unchanged,
            unchanged_because: None,
            recreated: false,
            final_status: None,
            changes: Vec::new(),
            parameter_changes: Vec::new(),
            failures: Vec::new(),
            artifacts: p.artifacts.clone(),
            artifact_bucket: p.artifact_bucket.clone(),
            outputs: BTreeMap::new(),
            resources: p.names.clone(),
            fingerprint: p.fingerprint.clone(),
            promotion: None,
            sync: None,
            alarms: None,
            cost: None,
            warnings: Vec::new(),
            errors: Vec::new(),
            verification: None,
            rollback: None,
            duration_s: 0.0,
            record: None,
        }
    }
}

/// The sync after the stack must not be the first to find out that it would empty the
/// table: it is refused now, before the stack changes. What is read is handed on.
async fn pre_read(req: &DeployRequest, p: &Prepared, ctx: &AwsContext) -> Result<Option<PreRead>> {
    if !req.sync {
        return Ok(None);
    }
    let mut stats = sync::WriteStats::default();
    let deadline = Instant::now() + req.timeout;
    let live = sync::read_live(&ctx.dynamodb(), &p.names.table, deadline, &mut stats).await?;
    if let Some(live) = &live {
        let d = sync::diff_table(live, &p.env.companies);
        sync::check_mass_delete(&p.env, &d, live.len(), req.allow_mass_delete)?;
    }
    Ok(Some(PreRead { live, stats }))
}

/// The zips this deploy runs, in the artifact bucket (made if new), and the index
/// entries of those it built.
async fn store_artifacts(ctx: &AwsContext, p: &Prepared, zips: &mut [Artifact]) -> Result<()> {
    let s3 = ctx.s3();
    let account = ctx.identity().await?.account.clone();
    artifacts::ensure_bucket(
        &s3,
        &p.artifact_bucket,
        ctx.region(),
        &account,
        !ctx.is_local(),
    )
    .await?;
    artifacts::upload(&s3, &p.artifact_bucket, zips).await?;
    artifacts::record_index(&s3, &p.artifact_bucket, &p.index).await
}

/// The companies table as the pre-check read it (`None`: no table yet).
#[derive(Debug)]
struct PreRead {
    live: Option<sync::LiveTable>,
    stats: sync::WriteStats,
}

/// After a successful (or unchanged) stack: sync the companies, time the whole.
async fn finish(
    mut report: DeployReport,
    p: &Prepared,
    (root, ctx): (&std::path::Path, &AwsContext),
    req: &DeployRequest,
    pre_read: Option<PreRead>,
    started: Instant,
    ui: &Ui,
) -> Result<DeployReport> {
    // The stack is what it will be: recorded now, so that a sync or alarm failure below
    // leaves the record (and the promotion of what the stack runs) in place.
    record_deploy(&mut report, p, ctx, req).await;
    if let Some(pre_read) = pre_read.filter(|_| req.sync) {
        sync_after_stack(&mut report, p, ctx, req, pre_read, ui).await;
    }
    // The alarms are installed whatever the sync did: they watch the stack, which is
    // already changed.
    install_alarms_after_stack(&mut report, p, ctx).await;
    record_errors(&mut report, p, ctx).await;
    report.cost = crate::cost::section_or_warn(root, ctx, &p.env, None).await;
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Syncs the companies into the table the stack now has; a failure fails the deploy.
async fn sync_after_stack(
    report: &mut DeployReport,
    p: &Prepared,
    ctx: &AwsContext,
    req: &DeployRequest,
    PreRead { live, mut stats }: PreRead,
    ui: &Ui,
) {
    let opts = sync::SyncOptions {
        allow_mass_delete: req.allow_mass_delete,
        ..Default::default()
    };
    let ddb = ctx.dynamodb();
    let sync_started = Instant::now();
    // An unchanged stack left the table as the pre-check read it. A changed one may
    // have created or replaced it (a new table is empty): read it again.
    let live = match live.filter(|_| report.outcome == Outcome::Unchanged) {
        Some(live) => Ok(live),
        None => {
            let deadline = sync_started + opts.timeout;
            sync::read_existing(&p.env, &ddb, &p.names.table, deadline, &mut stats)
                .await
                .context("reading the companies table after the deploy")
        }
    };
    let synced = match live {
        Ok(live) => {
            sync::apply(
                &p.env,
                &ddb,
                &p.names.table,
                live,
                stats,
                opts,
                sync_started,
                ui,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match synced.context("syncing the companies after the deploy") {
        Ok(sync) => {
            tracing::info!("companies in {}: {}", sync.table, sync.summary());
            report.sync = Some(sync);
        }
        Err(e) => fail_after_stack(report, e),
    }
}

/// Installs the alarms, and warns of an alarm e-mail still to confirm; a failure fails
/// the deploy.
async fn install_alarms_after_stack(report: &mut DeployReport, p: &Prepared, ctx: &AwsContext) {
    match alarms::install_in(ctx, &p.env, &p.names, false)
        .await
        .context("installing the alarms after the deploy")
    {
        Ok(alarms) => {
            tracing::info!("alarms of {}: {}", p.env.stack, alarms.summary());
            if let Some(email) = &p.env.alarms.email {
                match crate::alarms::email::status(&ctx.sns(), &alarms.topic, email).await {
                    Ok(status) => report.warnings.extend(status.warning()),
                    Err(e) => tracing::warn!("alarm e-mail not checked: {e:#}"),
                }
            }
            report.alarms = Some(alarms);
        }
        Err(e) => fail_after_stack(report, e),
    }
}

/// The record written first says the deploy went through: it says what failed too.
async fn record_errors(report: &mut DeployReport, p: &Prepared, ctx: &AwsContext) {
    if !report.errors.is_empty()
        && let Some(mut record) = report.record.take()
    {
        record.errors = report.errors.clone();
        // Its template went with it.
        if let Err(e) = promotion::record(&ctx.s3(), &p.artifact_bucket, &record, None).await {
            report.warnings.push(format!(
                "the deploy record's errors were not written: {e:#}"
            ));
        }
        report.record = Some(record);
    }
}

/// A step after the stack that failed: the deploy fails, but goes on to what is left
/// (the alarms, the verification, a rollback), since the stack has changed already.
fn fail_after_stack(report: &mut DeployReport, e: anyhow::Error) {
    tracing::error!("{}: {e:#}", report.stack);
    report.errors.push(format!("{e:#}"));
}

/// Leaves the deploy's record in the artifact bucket once the stack's outcome is known,
/// failed ones too: what `fangops history` lists, and what promotes a non-protected
/// env's artifacts. A record that cannot be written is a warning, not a failed deploy
/// (its artifacts are then not promoted, which a protected env's deploy says).
async fn record_deploy(
    report: &mut DeployReport,
    p: &Prepared,
    ctx: &AwsContext,
    req: &DeployRequest,
) {
    let record = promotion::Record {
        env: p.env.name.clone(),
        stack: p.env.stack.clone(),
        protected: p.env.protected,
        commit: req.ci.sha.clone(),
        outcome: serde_json::to_value(report.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        fingerprint: p.fingerprint.clone(),
        template_sha256: build::sha256_hex(p.template.body.as_bytes()),
        parameters: p
            .parameters
            .iter()
            .filter(|(k, _)| k != params::FINGERPRINT)
            .cloned()
            .collect(),
        companies: p.env.companies.len(),
        artifacts: report
            .artifacts
            .iter()
            .map(promotion::RecordedArtifact::of)
            .collect(),
        started_at: req.started_at.clone(),
        deployed_at: artifacts::now_rfc3339_millis(),
        unpromoted: report.promotion.as_ref().is_some_and(|p| p.overridden),
        verification: None,
        restores: None,
        preview: p.env.preview.as_ref().map(|p| p.pull_request),
        errors: Vec::new(),
    };
    let written = promotion::record(
        &ctx.s3(),
        &p.artifact_bucket,
        &record,
        Some(&p.template.body),
    )
    .await;
    match written {
        Ok(()) => report.record = Some(record),
        Err(e) => report
            .warnings
            .push(format!("the deploy record was not written: {e:#}")),
    }
}

#[cfg(test)]
mod tests {
    mod replay;

    use super::*;
    use crate::report::deploy::human_size;
    use crate::testing::reports::{sample_report, verified_report};

    #[test]
    fn deploy_report_terminal_snapshot() {
        // The terminal gets the same report as plain text, not its markdown: an AWS
        // reason reads as AWS wrote it (it showed `&lt;=` and `\|` when the terminal
        // was given the markdown).
        let text = crate::output::plain(&sample_report(Outcome::Failed).render());
        assert!(
            text.starts_with("Deploy of fang-dev (dev): failed (UPDATE_ROLLBACK_COMPLETE)"),
            "{text}"
        );
        assert!(text.contains("'memorySize' | must be <= 10240"), "{text}");
        assert!(!text.contains("&lt;") && !text.contains("**") && !text.contains('`'));
        let markdown = sample_report(Outcome::Failed).render_markdown();
        assert!(markdown.contains("\\| must be &lt;= 10240"), "{markdown}");
        insta::assert_snapshot!("deploy_failed_terminal", text);
    }

    fn env(protected: bool) -> EnvConfig {
        let head = format!("stack: fang-prod\nregion: us-east-1\nprotected: {protected}\n");
        crate::testing::env::file("prod", &head, &["A"])
    }

    #[test]
    fn protected_env_deploys_only_from_main_in_ci() {
        let prod = env(true);
        let ci = |ci: bool, git_ref: Option<&str>| CiContext {
            ci,
            git_ref: git_ref.map(str::to_owned),
            sha: None,
        };
        assert!(check_protected(&prod, None, &ci(true, Some("refs/heads/main"))).is_ok());
        let err = check_protected(&prod, None, &ci(true, Some("refs/pull/7/merge"))).unwrap_err();
        let text = err.0[0].to_string();
        assert!(text.contains("environments/prod.yaml"), "{text}");
        assert!(text.contains("refs/pull/7/merge"), "{text}");
        assert!(text.contains("--allow-protected fang-prod"), "{text}");
        assert!(check_protected(&prod, None, &ci(false, Some("refs/heads/main"))).is_err());
        assert!(check_protected(&prod, Some("fang-prod"), &ci(false, None)).is_ok());
        let err = check_protected(&prod, Some("fang-dev"), &ci(false, None)).unwrap_err();
        assert!(
            err.0[0].message.contains("names stack fang-dev"),
            "{}",
            err.0[0]
        );
        assert!(check_protected(&env(false), None, &ci(false, None)).is_ok());
    }

    #[test]
    fn change_set_names_are_valid() {
        assert!(plan_change_set_name().starts_with(PLAN_CHANGE_SET_PREFIX));
        assert!(plan_change_set_name().starts_with(CHANGE_SET_PREFIX));
        let name = change_set_name();
        assert!(name.starts_with(CHANGE_SET_PREFIX));
        assert!(name.len() <= 128);
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }

    #[test]
    fn deploy_report_markdown_snapshot() {
        insta::assert_snapshot!(
            "deploy_updated",
            sample_report(Outcome::Updated).render_markdown()
        );
        insta::assert_snapshot!(
            "deploy_failed",
            sample_report(Outcome::Failed).render_markdown()
        );
    }

    #[test]
    fn a_step_that_failed_after_the_stack_fails_the_deploy_and_says_so() {
        let report = DeployReport {
            errors: vec![
                "installing the alarms after the deploy: alarm fang-dev-dlq-messages already exists and is not managed by fangops".into(),
            ],
            alarms: None,
            ..verified_report(true)
        };
        assert!(!report.ok(), "a failed step fails the deploy");
        assert_eq!(report.verdict_suffix(), ", **then failed**, verified");
        insta::assert_snapshot!("deploy_then_failed", report.render_markdown());
    }

    #[test]
    fn verified_deploy_markdown_snapshot() {
        let ok = verified_report(true);
        assert!(ok.ok());
        insta::assert_snapshot!("deploy_verified", ok.render_markdown());
        let failed = verified_report(false);
        assert!(!failed.ok(), "a failed verification fails the deploy");
        let md = failed.render_markdown();
        assert!(
            md.contains("verification failed: canary run: Apple: no result before the timeout; last error: fetching the page: connection refused; rolled back to `0123456` (verified 2026-11-30)"),
            "{md}"
        );
        insta::assert_snapshot!("deploy_verification_failed_rolled_back", md);
        let kept = DeployReport {
            rollback: Some(AfterFailure::Kept),
            ..verified_report(false)
        };
        assert!(
            kept.render_markdown()
                .contains("not rolled back (`--no-rollback`, or a preview)")
        );
        assert!(
            kept.render_markdown().starts_with(
                "### Deploy of `fang-dev` (dev): updated (3 changes), **verification failed**\n"
            ),
            "{}",
            kept.render_markdown()
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(4_730_000), "4.73 MB");
    }
}
