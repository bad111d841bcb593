//! A deploy that proves itself: `fangops verify --env E`, and `deploy --verify`.
//!
//! Three checks, each timed:
//! 1. **canary run**: a run through the deployed pipeline restricted to the canary
//!    companies (`verify.companies`), under a `canary-` run id whose results go under
//!    `canary/`, apart from the scheduled runs'. In AWS the producer is invoked; against
//!    an emulator the local runner plays Lambda.
//! 2. **result schema**: each canary's result parses as the result record, is for this
//!    run, has a sentiment with scores in 0..1, and was made by the stack's analyzer.
//! 3. **alarms**: no fangops alarm of the stack entered ALARM from the snapshot taken
//!    before the deploy until the watch window after the canary ends. Alarms already in
//!    ALARM at the snapshot are reported, not blamed; the no-results alarm is left out
//!    (a canary publishes no results metric, see the sentiment handler).

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use fang_shared::{ResultStatus, RunId, SentimentRecord};
use time::format_description::well_known::Rfc3339;

use crate::alarms::cloudwatch;
use crate::alarms::desired::NO_RESULTS;
use crate::config::EnvConfig;
pub use crate::deploy::verdict::{Check, Verification, VerifyOptions};
use crate::output::Ui;
use crate::resources::Names;
use crate::run::RunRequest;
use crate::target::Target;

/// How often the alarms are read during the watch window: CloudWatch evaluates a
/// metric alarm about once a minute, so polling faster finds nothing sooner.
const ALARM_POLL: Duration = Duration::from_secs(10);

/// How many deploy records `fangops verify` reads to find when the stack began to run
/// what it runs.
const RECORDS_READ: usize = 20;

/// The stack's alarms before the deploy: what was already in ALARM is not the deploy's.
#[derive(Debug, Clone)]
pub struct AlarmSnapshot {
    pub at: SystemTime,
    pub states: BTreeMap<String, String>,
}

impl AlarmSnapshot {
    pub fn alarming(&self) -> Vec<String> {
        self.states
            .iter()
            .filter(|(_, s)| s.as_str() == "ALARM")
            .map(|(n, _)| n.clone())
            .collect()
    }
}

pub async fn snapshot(cw: &aws_sdk_cloudwatch::Client, stack: &str) -> Result<AlarmSnapshot> {
    let at = SystemTime::now();
    let states = cloudwatch::states(cw, stack).await?;
    Ok(AlarmSnapshot { at, states })
}

/// Verifies the deployed stack of `env`: see the module's documentation. An error is
/// returned only when the verification could not be attempted (no stack, no access to
/// its alarms); a check that fails is a failed verification.
pub async fn verify(
    target: &Target,
    before: &AlarmSnapshot,
    opts: &VerifyOptions,
    ui: &Ui,
) -> Result<Verification> {
    let started = Instant::now();
    let (env, ctx) = (&target.env, target.aws().await?);
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&env.stack, &account);
    let deployed = crate::deploy::stack::describe(&ctx.cloudformation(), &env.stack)
        .await?
        .filter(|i| !i.is_unborn())
        .with_context(|| {
            format!(
                "verifying stack {}: it does not exist; deploy it first with `fangops deploy --env {}`",
                env.stack, env.name
            )
        })?;
    let canaries = env.verify.companies.clone();
    let mut checks = Vec::new();

    // 1. The canary run.
    let (run, check) = canary_run(target, &canaries, opts, ui).await;
    let canary_run = run.as_ref().ok().map(|r| r.run_id.clone());
    checks.push(check);

    // 2. The results, read back as a reader would.
    if let Some(report) = run.as_ref().ok().filter(|r| r.ok()) {
        let analyzer = deployed.parameters.get("Analyzer").map(String::as_str);
        checks.push(result_schema(ctx, env, &names.bucket, report, analyzer).await);
    }

    // 3. The alarms: watched for the window only when the pipeline looked healthy, read
    // once otherwise (the verdict is already failed; the state is still worth telling).
    let t = Instant::now();
    let healthy = checks.iter().all(|c| c.passed);
    let watch = if healthy {
        Duration::from_secs(env.verify.alarm_watch_s.into())
    } else {
        Duration::ZERO
    };
    let watched = watch_alarms(
        &ctx.cloudwatch(),
        &env.stack,
        before,
        watch,
        ALARM_POLL,
        !ctx.is_local(),
    )
    .await;
    checks.push(alarms_check(watched, watch, t.elapsed()));

    Ok(Verification {
        env: env.name.clone(),
        stack: env.stack.clone(),
        passed: checks.iter().all(|c| c.passed),
        canary_run,
        companies: canaries,
        reported: env.verify.reported.clone(),
        checks,
        already_alarming: before
            .alarming()
            .into_iter()
            .filter(|n| !is_no_results(n, &env.stack))
            .collect(),
        duration_s: started.elapsed().as_secs_f64(),
    })
}

/// The first check: a run through the deployed pipeline of the canaries alone.
async fn canary_run(
    target: &Target,
    canaries: &[String],
    opts: &VerifyOptions,
    ui: &Ui,
) -> (Result<crate::run::RunReport>, Check) {
    let t = Instant::now();
    let req = RunRequest {
        timeout: Duration::from_secs(target.env.verify.timeout_s.into()),
        wikipedia_base: opts.wikipedia_base.clone(),
        comprehend_endpoint: opts.comprehend_endpoint.clone(),
        canary: Some(canaries.to_vec()),
    };
    let run = crate::run::run(target, &req, ui).await;
    let (passed, detail) = match &run {
        Ok(report) => (report.ok(), run_detail(report)),
        Err(e) => (false, format!("{e:#}")),
    };
    let check = Check {
        name: "canary run".into(),
        passed,
        detail,
        duration_s: t.elapsed().as_secs_f64(),
    };
    (run, check)
}

/// The second check: the canaries' results, read back from the results bucket as a
/// reader would, against the result schema and the stack's `analyzer`.
async fn result_schema(
    ctx: &crate::aws::AwsContext,
    env: &EnvConfig,
    bucket: &str,
    report: &crate::run::RunReport,
    analyzer: Option<&str>,
) -> Check {
    let t = Instant::now();
    let outcome = fang_sentiment::store::load_records(&ctx.s3(), bucket, &report.run_id)
        .await
        .map_err(|e| format!("reading the canary results: {e}"))
        .and_then(|records| {
            check_records(
                &records,
                &env.verify.companies,
                &env.verify.reported,
                &report.run_id,
                analyzer,
            )
        });
    Check {
        name: "result schema".into(),
        passed: outcome.is_ok(),
        detail: outcome.unwrap_or_else(|e| e),
        duration_s: t.elapsed().as_secs_f64(),
    }
}

/// A verification that could not be attempted (the stack's alarms unreadable, the
/// stack gone): failed, saying why, so that a deploy reports it and rolls back.
pub fn could_not_verify(env: &EnvConfig, e: &anyhow::Error) -> Verification {
    Verification {
        env: env.name.clone(),
        stack: env.stack.clone(),
        passed: false,
        canary_run: None,
        companies: env.verify.companies.clone(),
        reported: env.verify.reported.clone(),
        checks: vec![Check {
            name: "verification".into(),
            passed: false,
            detail: format!("could not run: {e:#}"),
            duration_s: 0.0,
        }],
        already_alarming: Vec::new(),
        duration_s: 0.0,
    }
}

/// The alarms' check from what the watch found. Alarms that could not be read (a
/// throttle, a denied DescribeAlarmHistory) fail the check rather than the whole
/// verification, so that a canary's own failure is still what the report says.
fn alarms_check(watched: Result<Vec<String>>, watch: Duration, took: Duration) -> Check {
    let (passed, detail) = match watched {
        Ok(blamed) if blamed.is_empty() && watch.is_zero() => {
            (true, "none entered ALARM".to_owned())
        }
        Ok(blamed) if blamed.is_empty() => {
            (true, format!("none entered ALARM in {} s", watch.as_secs()))
        }
        Ok(blamed) => (false, blamed.join("; ")),
        Err(e) => (false, format!("could not read the alarms: {e:#}")),
    };
    Check {
        name: "alarms".into(),
        passed,
        detail,
        duration_s: took.as_secs_f64(),
    }
}

fn run_detail(report: &crate::run::RunReport) -> String {
    if let Some(f) = report.failed.first() {
        return format!("{}: {}", f.company, f.reason);
    }
    if report.timed_out {
        return "no result before the timeout (verify.timeout_s)".to_owned();
    }
    format!(
        "{} of {} canar{} through the pipeline in {:.1} s",
        report.succeeded + report.no_text.len(),
        report.companies,
        if report.companies == 1 { "y" } else { "ies" },
        report.duration_s
    )
}

fn is_no_results(alarm: &str, stack: &str) -> bool {
    alarm == format!("{stack}-{NO_RESULTS}")
}

/// Each canary's result as the result record's schema and the deployed stack say it
/// must be. `Ok` says what was found; `Err` the first thing wrong.
/// A company in `reported` may have no text: its result says why, which is what is
/// reported (a preview's added company without a page).
pub fn check_records(
    records: &[SentimentRecord],
    canaries: &[String],
    reported: &[String],
    run_id: &RunId,
    analyzer: Option<&str>,
) -> Result<String, String> {
    let mut found = Vec::new();
    for c in canaries {
        let Some(r) = records.iter().find(|r| &r.company == c) else {
            return Err(format!("no result for {c} in the canary run's results"));
        };
        if &r.run_id != run_id {
            return Err(format!("{c}'s result names run {}, not {run_id}", r.run_id));
        }
        if r.status == ResultStatus::NoText && reported.contains(c) {
            found.push(format!("{c} without text"));
            continue;
        }
        if r.status == ResultStatus::NoText {
            return Err(format!(
                "{c} has no text to analyze ({}): name a canary with a page in verify.companies",
                r.reason.as_deref().unwrap_or("no reason given")
            ));
        }
        let (Some(sentiment), Some(scores)) = (&r.sentiment, &r.scores) else {
            return Err(format!("{c}'s result has no sentiment or no scores"));
        };
        let all = [
            scores.positive,
            scores.negative,
            scores.neutral,
            scores.mixed,
        ];
        if !all.iter().all(|s| (0.0..=1.0).contains(s)) {
            return Err(format!("{c}'s scores are outside 0..1: {all:?}"));
        }
        if let Some(want) = analyzer
            && r.analyzer.as_str() != want
        {
            return Err(format!(
                "{c} was analyzed by {}, but the stack's Analyzer is {want}",
                r.analyzer.as_str()
            ));
        }
        let top = all.iter().copied().fold(0.0_f64, f64::max);
        found.push(format!(
            "{c} {} ({top:.2})",
            sentiment.as_str().to_lowercase()
        ));
    }
    Ok(format!(
        "{} result{} as the schema says: {}",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        found.join(", ")
    ))
}

/// Watches the stack's alarms for `watch` (at least one read), failing fast: the alarms
/// that entered ALARM since the snapshot, each with why. With `history`, the state
/// updates since the snapshot are read too (DescribeAlarmHistory), so an alarm that
/// fired and recovered between two reads is still caught, and so is one that was in
/// ALARM at the snapshot, recovered and fired again; moto has no alarm history, and an
/// emulator evaluates no alarm.
pub async fn watch_alarms(
    cw: &aws_sdk_cloudwatch::Client,
    stack: &str,
    before: &AlarmSnapshot,
    watch: Duration,
    poll: Duration,
    history: bool,
) -> Result<Vec<String>> {
    let until = Instant::now() + watch;
    let was_alarming = |name: &str| before.states.get(name).is_some_and(|s| s == "ALARM");
    let blamable = |name: &str| !is_no_results(name, stack) && !was_alarming(name);
    let mut now;
    loop {
        now = cloudwatch::states(cw, stack).await?;
        let new: Vec<String> = now
            .iter()
            .filter(|(n, s)| s.as_str() == "ALARM" && blamable(n))
            .map(|(n, _)| format!("{n} is in ALARM"))
            .collect();
        if !new.is_empty() {
            return Ok(new);
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        tokio::time::sleep(left.min(poll)).await;
    }
    let mut blamed = Vec::new();
    if history {
        // Every alarm but the no-results one, those already in ALARM at the snapshot
        // included: one of those that went back to OK and fired again since is the
        // deploy's. (From INSUFFICIENT_DATA it is not: a gap in the data of an alarm
        // whose cause is older than the deploy.)
        for name in now.keys().filter(|n| !is_no_results(n, stack)) {
            let was = was_alarming(name);
            if let Some(e) = cloudwatch::entered_alarm_since(cw, name, before.at)
                .await?
                .into_iter()
                .find(|e| !was || e.from == "OK")
            {
                blamed.push(format!("{name} entered ALARM at {}: {}", e.at, e.reason));
            }
        }
    }
    Ok(blamed)
}

/// The alarms in ALARM at the snapshot whose latest entry into ALARM came after `since`
/// (the deploy's start), from their history: the deploy's, though in ALARM before the
/// verification began. An alarm that fired since and recovered is not counted: what
/// `fangops verify` judges is the stack now.
pub async fn alarming_since(
    cw: &aws_sdk_cloudwatch::Client,
    stack: &str,
    before: &AlarmSnapshot,
    since: SystemTime,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for name in before
        .alarming()
        .into_iter()
        .filter(|n| !is_no_results(n, stack))
    {
        if !cloudwatch::entered_alarm_since(cw, &name, since)
            .await?
            .is_empty()
        {
            out.push(name);
        }
    }
    Ok(out)
}

/// `fangops verify --env E`.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    pub artifact_bucket: Option<String>,
    pub options: VerifyOptions,
}

/// Verifies the live stack now, and records the verdict on its latest deploy record when
/// that record is what the stack runs (same fingerprint): a record that fails no longer
/// promotes its artifacts, and one that passes becomes a rollback target.
///
/// "Before the deploy" is when the stack began to run what it runs (its records say):
/// in AWS an alarm in ALARM now that entered ALARM since then is blamed (from its
/// history), one in ALARM since before is reported.
pub async fn run(target: &Target, req: &VerifyRequest, ui: &Ui) -> Result<Verification> {
    let (env, ctx) = (&target.env, target.aws().await?);
    ctx.ensure_account().await?;
    let bucket = crate::deploy::artifacts::bucket_of(ctx, req.artifact_bucket.as_deref()).await?;
    let live = crate::deploy::stack::describe(&ctx.cloudformation(), &env.stack)
        .await?
        .and_then(|i| {
            i.parameters
                .get(crate::deploy::params::FINGERPRINT)
                .cloned()
        });
    let mut before = snapshot(&ctx.cloudwatch(), &env.stack).await?;
    // Emulators keep no alarm history.
    if let Some(fp) = live.as_ref().filter(|_| !ctx.is_local()) {
        // Best-effort: without the records, "before" is now, as for a deploy.
        let records =
            crate::deploy::promotion::records(&ctx.s3(), &bucket, &env.stack, RECORDS_READ)
                .await
                .map(|(records, _)| records)
                .unwrap_or_else(|e| {
                    tracing::warn!("the deploy records were not read: {e:#}");
                    Vec::new()
                });
        if let Some(since) = crate::deploy::promotion::running_since(&records, fp)
            .and_then(|at| time::OffsetDateTime::parse(at, &Rfc3339).ok())
        {
            for name in alarming_since(&ctx.cloudwatch(), &env.stack, &before, since.into()).await?
            {
                // In ALARM now, but since the deploy: not "already" in ALARM before it,
                // so that the watch blames it.
                before.states.insert(name, "OK".to_owned());
            }
        }
    }
    let verification = verify(target, &before, &req.options, ui).await?;
    if let Err(e) = crate::deploy::promotion::record_verification(
        &ctx.s3(),
        &bucket,
        &env.stack,
        live.as_deref(),
        &verification,
    )
    .await
    {
        tracing::warn!("the verification was not recorded: {e:#}");
    }
    Ok(verification)
}

#[cfg(test)]
mod tests;
