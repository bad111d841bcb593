//! The commands on pull-request previews. What a preview is and how it is named is
//! `crate::config::preview`; which previews exist, `crate::stacks::previews`.
//!
//! - [`deploy`]: `fangops deploy --env dev --preview N`. The cap first (`previews.max`,
//!   a pull request that has a preview keeps it), then the deploy of the preview stack,
//!   verified as every preview is, its canary run carrying the companies the pull
//!   request adds or changes against the base branch's file. Their results are the
//!   report's table: the page used, the sentiment and scores, or why there is none.
//! - [`list`]: `fangops previews --env dev`, with age, pull request and cost so far.
//! - [`prune`]: `fangops previews --env dev prune --older-than 7d`, tearing down the
//!   previews whose pull request is closed, gone, or quiet for longer than that.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fang_shared::{ResultStatus, SentimentRecord, SentimentScores};
use serde::Serialize;

use crate::config::names::CompanyList;
use crate::config::preview;
use crate::config::{self};
use crate::deploy::{DeployReport, DeployRequest};
use crate::github::{self, PullState};
use crate::output::Ui;
use crate::stacks::previews::{self as listing, Preview, Refusal};
use crate::target::Target;
use crate::teardown::{self, TeardownReport, TeardownRequest};

/// The companies a pull request adds, changes (a new `wikipedia:` page) and removes,
/// against its base branch's env file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CompanyChanges {
    /// The base revision compared with.
    pub base: String,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl CompanyChanges {
    /// `base` is `None` when the env file did not exist at the base revision: every
    /// company is new.
    pub fn between(rev: &str, head: &CompanyList, base: Option<&CompanyList>) -> Self {
        let mut out = Self {
            base: rev.to_owned(),
            ..Self::default()
        };
        for c in head.iter() {
            match base.and_then(|b| b.get(&c.name)) {
                None => out.added.push(c.name.clone()),
                Some(was) if was.page() != c.page() => out.changed.push(c.name.clone()),
                Some(_) => {}
            }
        }
        if let Some(base) = base {
            out.removed = base
                .names()
                .filter(|n| !head.contains(n))
                .map(str::to_owned)
                .collect();
        }
        out
    }

    /// The companies whose results the preview shows.
    pub fn to_run(&self) -> Vec<String> {
        self.added.iter().chain(&self.changed).cloned().collect()
    }
}

/// One company's result in the preview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompanyResult {
    pub company: String,
    /// The Wikipedia title read, when the text source is Wikipedia.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<SentimentScores>,
    /// Why there is no sentiment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl CompanyResult {
    /// From the canary run's records: each company asked for, found or not.
    pub fn from_records(companies: &[String], records: &[SentimentRecord]) -> Vec<Self> {
        companies
            .iter()
            .map(|c| match records.iter().find(|r| &r.company == c) {
                Some(r) => Self {
                    company: c.clone(),
                    page: r.page.clone(),
                    source_url: Some(r.source_url.clone()).filter(|u| !u.is_empty()),
                    sentiment: r.sentiment.map(|s| s.as_str().to_lowercase()),
                    scores: r.scores,
                    reason: match r.status {
                        ResultStatus::NoText => Some(
                            r.reason
                                .clone()
                                .unwrap_or_else(|| "no text to analyze".to_owned()),
                        ),
                        _ => None,
                    },
                },
                None => Self {
                    company: c.clone(),
                    page: None,
                    source_url: None,
                    sentiment: None,
                    scores: None,
                    reason: Some(
                        "no result: the pipeline failed for it (see the verification)".to_owned(),
                    ),
                },
            })
            .collect()
    }
}

/// `deploy --preview N` (the target is the preview): the deploy request, and the base
/// revision the companies are compared with.
#[derive(Debug, Clone)]
pub struct PreviewRequest {
    pub deploy: DeployRequest,
    pub base: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewReport {
    pub env: String,
    pub pull_request: u64,
    pub stack: String,
    /// `None` without a base revision to compare with (outside a pull request's job).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<CompanyChanges>,
    /// Past `previews.max`: nothing was deployed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refusal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployReport>,
    pub results: Vec<CompanyResult>,
    /// The model's cost of the preview, a day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_day: Option<f64>,
    pub duration_s: f64,
}

impl PreviewReport {
    pub fn ok(&self) -> bool {
        self.refused.is_none() && self.deploy.as_ref().is_some_and(DeployReport::ok)
    }

    /// Which companies ran, and why those.
    pub fn what_ran(&self) -> String {
        match &self.changes {
            None => "No base revision to compare the companies with (pass --base REF): no company's result to show.".to_owned(),
            Some(c) if c.to_run().is_empty() && c.removed.is_empty() => format!(
                "This pull request adds and changes no company against {}: nothing to show.",
                c.base
            ),
            Some(c) if c.to_run().is_empty() => format!(
                "This pull request only removes companies against {} ({}): no result of its own to show.",
                c.base,
                c.removed.join(", ")
            ),
            Some(c) => format!(
                "Results for the {} this pull request adds or changes against {}, through the preview's pipeline:",
                if c.to_run().len() == 1 {
                    "company"
                } else {
                    "companies"
                },
                c.base
            ),
        }
    }
}

/// Deploys pull request N's preview and reports its companies' results: see the
/// module's documentation. A refusal past the cap is a report, not an error, so that
/// the comment can say who holds the slots.
pub async fn deploy(mut target: Target, req: &PreviewRequest, ui: &Ui) -> Result<PreviewReport> {
    let started = Instant::now();
    let pull_request = target
        .pull_request()
        .context("deploying a preview: the target is the env's own stack")?;
    let changes = match &req.base {
        Some(rev) => Some(changes_since(&target.env, rev)?),
        None => None,
    };
    let companies = changes
        .as_ref()
        .map(CompanyChanges::to_run)
        .unwrap_or_default();
    // Priced from the env file: a preview of it costs what any of its previews does.
    let cost_per_day =
        crate::cost::preview_per_day_at(&target.root, &target.env).unwrap_or_else(|e| {
            tracing::warn!("no cost estimate for the preview: {e:#}");
            None
        });
    preview::report_on(&mut target.env, &companies);
    let mut report = PreviewReport {
        env: target.env.name.clone(),
        pull_request,
        stack: target.env.stack.clone(),
        changes,
        refused: None,
        deploy: None,
        results: Vec::new(),
        cost_per_day,
        duration_s: 0.0,
    };

    let ctx = target.aws().await?;
    ctx.ensure_account().await?;
    let existing = listing::list(&ctx.cloudformation(), &target.env).await?;
    if let Err(refusal) = listing::check_cap(target.env.previews.max, pull_request, &existing) {
        tracing::warn!("{}", refusal.message(pull_request));
        report.refused = Some(refusal);
        report.duration_s = started.elapsed().as_secs_f64();
        return Ok(report);
    }

    let deploy_req = DeployRequest {
        verify: Some(true),
        rollback: false,
        ..req.deploy.clone()
    };
    let deployed = crate::release::deploy(&target, &deploy_req, ui).await?;
    if !companies.is_empty() {
        report.results = canary_results(ctx, &deployed, &companies).await;
    }
    report.deploy = Some(deployed);
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What the pull request changes in the env's companies, against revision `rev`.
fn changes_since(env: &config::EnvConfig, rev: &str) -> Result<CompanyChanges> {
    let base = config::load_at_rev(&env.path, rev)?;
    Ok(CompanyChanges::between(
        rev,
        &env.companies,
        base.as_ref().map(|b| &b.companies),
    ))
}

/// The results of the changed `companies` in the deploy's canary run (none without one).
async fn canary_results(
    ctx: &crate::aws::AwsContext,
    deployed: &DeployReport,
    companies: &[String],
) -> Vec<CompanyResult> {
    let Some(run) = deployed
        .verification
        .as_ref()
        .and_then(|v| v.canary_run.as_ref())
    else {
        return CompanyResult::from_records(companies, &[]);
    };
    // The deploy happened: a results read that fails is said in the table, and the
    // comment still replaces the last push's.
    match fang_sentiment::store::load_records(&ctx.s3(), &deployed.resources.bucket, run).await {
        Ok(records) => CompanyResult::from_records(companies, &records),
        Err(e) => {
            let why = format!("the results of run {run} could not be read: {e}");
            tracing::warn!("{why}");
            CompanyResult::from_records(companies, &[])
                .into_iter()
                .map(|r| CompanyResult {
                    reason: Some(why.clone()),
                    ..r
                })
                .collect()
        }
    }
}

/// `fangops previews`: which previews exist, and since when.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// Now, in seconds since the epoch (ages are reckoned from it).
    pub now: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub preview: Preview,
    pub age_days: f64,
    /// The model's daily cost times the age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_so_far: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PreviewsReport {
    pub env: String,
    pub stack: String,
    pub max: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_per_day: Option<f64>,
    pub previews: Vec<Listed>,
}

pub async fn list(target: &Target, req: &ListRequest) -> Result<PreviewsReport> {
    let env = &target.env;
    // The same error as a preview deploy's, at the same key.
    preview::refuse_protected(env)?;
    let ctx = target.aws().await?;
    ctx.ensure_account().await?;
    let each = crate::cost::preview_per_day_at(&target.root, env).unwrap_or_else(|e| {
        tracing::warn!("no cost estimate for the previews: {e:#}");
        None
    });
    let previews = listing::list(&ctx.cloudformation(), env)
        .await?
        .into_iter()
        .map(|p| {
            let age_days = p.age_days(req.now);
            Listed {
                cost_so_far: each.map(|c| c * age_days),
                age_days,
                preview: p,
            }
        })
        .collect();
    let report = PreviewsReport {
        env: env.name.clone(),
        stack: env.stack.clone(),
        max: env.previews.max,
        cost_per_day: each,
        previews,
    };
    Ok(report)
}

/// `fangops previews prune`.
#[derive(Debug, Clone)]
pub struct PruneRequest {
    pub list: ListRequest,
    /// A preview whose pull request (or, without GitHub, whose stack) has been quiet
    /// this long is removed.
    pub older_than: Duration,
    /// Where pull requests are looked up; without a token, age alone decides.
    pub github: github::Target,
    /// Say what would go, remove nothing.
    pub dry_run: bool,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub stack: String,
    pub pull_request: u64,
    pub remove: bool,
    pub why: String,
    /// What went wrong with this preview (the others are still pruned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teardown: Option<TeardownReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    pub env: String,
    pub dry_run: bool,
    pub decisions: Vec<Decision>,
}

impl PruneReport {
    pub fn ok(&self) -> bool {
        self.decisions.iter().all(|d| d.error.is_none())
    }
}

/// Whether a preview goes: its pull request closed or gone, or quiet for longer than
/// `older_than` (by GitHub's last activity on it; by the stack's last change when the
/// pull request's state is unknown).
pub fn decide(
    p: &Preview,
    state: Option<&PullState>,
    now: i64,
    older_than: Duration,
) -> (bool, String) {
    let limit = older_than.as_secs() as i64;
    let days = |secs: i64| format!("{:.1} days", secs as f64 / 86_400.0);
    match state {
        Some(PullState::Closed { merged: true }) => (true, "its pull request was merged".into()),
        Some(PullState::Closed { merged: false }) => (true, "its pull request was closed".into()),
        Some(PullState::Gone) => (true, "its pull request is gone (404)".into()),
        Some(PullState::Open { updated_at }) => {
            let at = time::OffsetDateTime::parse(
                updated_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map(|t| t.unix_timestamp())
            .ok();
            match at {
                Some(at) if now - at > limit => (
                    true,
                    format!("its pull request is open but quiet for {}", days(now - at)),
                ),
                Some(at) => (
                    false,
                    format!("its pull request is open, active {} ago", days(now - at)),
                ),
                None => (false, "its pull request is open".into()),
            }
        }
        None => match p.last_changed {
            Some(at) if now - at > limit => (
                true,
                format!(
                    "unchanged for {} (pull request state unknown: no GITHUB_TOKEN)",
                    days(now - at)
                ),
            ),
            _ => (
                false,
                "changed recently (pull request state unknown: no GITHUB_TOKEN)".into(),
            ),
        },
    }
}

/// Decides each preview and tears down those that go. A preview whose pull request
/// cannot be read, or whose teardown fails, is reported and left; the others go on.
pub async fn prune(target: &Target, req: &PruneRequest, ui: &Ui) -> Result<PruneReport> {
    let listed = list(target, &req.list).await?;
    let mut decisions = Vec::new();
    for l in listed.previews {
        let p = l.preview;
        let mut decision = Decision {
            stack: p.stack.clone(),
            pull_request: p.pull_request,
            remove: false,
            why: String::new(),
            error: None,
            teardown: None,
        };
        let state = if req.github.can_post() {
            match github::pull_state(&req.github, p.pull_request).await {
                Ok(s) => Some(s),
                Err(e) => {
                    decision.why = "kept: its pull request could not be read".into();
                    decision.error = Some(format!("{e:#}"));
                    decisions.push(decision);
                    continue;
                }
            }
        } else {
            None
        };
        (decision.remove, decision.why) = decide(&p, state.as_ref(), req.list.now, req.older_than);
        if decision.remove && !req.dry_run {
            let t = TeardownRequest {
                yes: true,
                confirm: None,
                artifacts: false,
                artifact_bucket: None,
                timeout: req.timeout,
            };
            let torn = match target.preview(p.pull_request) {
                Ok(preview) => teardown::teardown(&preview, &t, ui).await,
                Err(e) => Err(e.into()),
            };
            match torn {
                Ok(r) => {
                    tracing::info!("pruned {}: {}", p.stack, decision.why);
                    decision.teardown = Some(r);
                }
                Err(e) => {
                    tracing::warn!("pruning {}: {e:#}", p.stack);
                    decision.error = Some(format!("{e:#}"));
                }
            }
        }
        decisions.push(decision);
    }
    Ok(PruneReport {
        env: target.env.name.clone(),
        dry_run: req.dry_run,
        decisions,
    })
}

/// `7d`, `36h`, `90m`: how long a preview may stay quiet.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.split_at(s.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len());
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?} is not an age: use a number and d, h or m (7d, 36h)"))?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => {
            return Err(format!(
                "{s:?} is not an age: use a number and d, h or m (7d, 36h)"
            ));
        }
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long an age"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> CompanyList {
        CompanyList::from_names(names).unwrap()
    }

    #[test]
    fn the_companies_a_pull_request_adds_changes_and_removes() {
        let base = list(&["Apple", "Netflix", "Amazon"]);
        let mut head = list(&["Apple", "Netflix", "Spotify"]);
        let c = CompanyChanges::between("origin/main", &head, Some(&base));
        assert_eq!(c.added, ["Spotify"]);
        assert!(c.changed.is_empty());
        assert_eq!(c.removed, ["Amazon"]);
        // A new `wikipedia:` page is a change: its result may differ.
        let entry = |text, title: Option<&'static str>| crate::config::names::RawEntry {
            text,
            line: 0,
            column: 0,
            wikipedia: title.map(|text| crate::config::names::RawTitle {
                text,
                line: 0,
                column: 0,
            }),
        };
        head =
            CompanyList::from_entries([entry("Apple", Some("Apple Inc.")), entry("Netflix", None)])
                .unwrap();
        let c = CompanyChanges::between("origin/main", &head, Some(&base));
        assert_eq!(c.to_run(), ["Apple"]);
        // A new env file: every company is new.
        let c = CompanyChanges::between("origin/main", &base, None);
        assert_eq!(c.added.len(), 3);
    }

    fn preview(last_changed: i64) -> Preview {
        Preview {
            stack: "fang-dev-pr7".into(),
            pull_request: 7,
            head: None,
            status: "UPDATE_COMPLETE".into(),
            created: Some(0),
            last_changed: Some(last_changed),
        }
    }

    #[test]
    fn prune_removes_closed_gone_and_quiet_previews_and_keeps_active_ones() {
        let day = 86_400;
        let now = 30 * day;
        let week = Duration::from_secs(7 * day as u64);
        let p = preview(now - day);
        let open = |days_ago: i64| PullState::Open {
            updated_at: time::OffsetDateTime::from_unix_timestamp(now - days_ago * day)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
        };
        assert!(decide(&p, Some(&PullState::Closed { merged: true }), now, week).0);
        assert!(decide(&p, Some(&PullState::Closed { merged: false }), now, week).0);
        assert!(decide(&p, Some(&PullState::Gone), now, week).0);
        assert!(!decide(&p, Some(&open(2)), now, week).0);
        let (gone, why) = decide(&p, Some(&open(9)), now, week);
        assert!(gone, "{why}");
        assert_eq!(why, "its pull request is open but quiet for 9.0 days");
        // Without GitHub, the stack's last change decides.
        assert!(!decide(&p, None, now, week).0);
        assert!(decide(&preview(now - 8 * day), None, now, week).0);
    }

    #[test]
    fn ages_read_as_days_hours_or_minutes() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("36h"), Ok(Duration::from_secs(36 * 3_600)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(90 * 60)));
        assert!(parse_age("7").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("7w").is_err());
    }
}
