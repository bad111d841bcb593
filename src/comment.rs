//! The pull-request comment: everything a reviewer needs about one environment, most
//! important first, in one comment that every push edits in place.
//!
//! Order: a hidden marker (how fangops finds its comment again), a one-line verdict,
//! a summary table, then what can hurt (replacements, mass deletes) before what
//! cannot, the change set, the companies diff, the alarm changes, the cost with its
//! delta, and folded details. GitHub refuses comments over 65,536 characters: the
//! details go first, then the body is cut at a line with a note saying so. Every
//! outside string is escaped (`crate::markdown`) or fenced, so no company name can
//! break the layout or inject HTML.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::companies::sync::{Against, CompaniesPlan};
use crate::config::EnvRef;
use crate::cost::CostReport;
use crate::deploy::{
    DeployReport, Outcome, render_changes_markdown, render_parameter_changes_markdown,
};
use crate::github::{self, CommentOutcome, Posted, Target};
use crate::markdown::{Table, code, escape as md, raw};
use crate::output::Ui;
use crate::plan::PlanReport;

/// GitHub's limit on a comment body, in characters.
pub const LIMIT: usize = 65_536;

/// The hidden first line that identifies fangops's comment for an environment.
pub fn marker(env: &str) -> String {
    format!("<!-- fangops env={env} -->")
}

/// Where a comment goes: a pull request, or (without a token) stdout or a file.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub target: Target,
    /// Without a token, write the comment here instead of printing it.
    pub out: Option<PathBuf>,
}

/// Posts (or, without a token, prints) an environment's pull-request comment, and
/// logs what happened.
pub async fn post(delivery: &Delivery, env: &str, body: &str, ui: &Ui) -> Result<CommentOutcome> {
    let Delivery { target, out } = delivery;
    // With --json, stdout is the report: a comment without a token goes to stderr.
    let outcome = if ui.json && out.is_none() && !target.can_post() {
        github::step_summary(target.step_summary.as_deref(), body)?;
        ui.eprintln(body);
        CommentOutcome {
            posted: Posted::NotPosted,
            pr: target.pr,
            url: None,
        }
    } else {
        github::deliver(target, &marker(env), body, out.as_deref()).await?
    };
    match outcome.posted {
        Posted::NotPosted => {
            tracing::info!("no GITHUB_TOKEN (or repository): the comment was not posted");
        }
        Posted::Created | Posted::Updated => tracing::info!(
            "comment {} on pull request #{}{}",
            if outcome.posted == Posted::Created {
                "created"
            } else {
                "updated"
            },
            outcome.pr.unwrap_or_default(),
            outcome
                .url
                .as_deref()
                .map(|u| format!(": {u}"))
                .unwrap_or_default()
        ),
    }
    Ok(outcome)
}

/// Where `fangops comment` reads the markdown from.
#[derive(Debug, Clone)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

/// `fangops comment`: any rendered report (`plan --out`, `deploy --report`) as the
/// environment's comment.
#[derive(Debug, Clone)]
pub struct CommentRequest {
    pub env: EnvRef,
    pub source: Source,
    pub delivery: Delivery,
}

/// The name an env's comment marker carries: the env's name, or a path's file stem.
fn env_name(env: &EnvRef) -> String {
    match env {
        EnvRef::Name(n) => n.clone(),
        EnvRef::Path(p) => p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// A body read from elsewhere, marked as the env's comment and bounded to GitHub's
/// limit (unless it already is a fangops comment, bounded when it was rendered).
pub fn prepare_body(env: &str, body: String) -> String {
    let marker = marker(env);
    if body.starts_with(&marker) {
        body
    } else {
        bound(format!("{marker}\n{body}"), "")
    }
}

pub async fn run(req: &CommentRequest, ui: &Ui) -> Result<CommentOutcome> {
    let env = env_name(&req.env);
    let body =
        match &req.source {
            Source::Stdin => std::io::read_to_string(std::io::stdin())
                .context("reading the comment from stdin")?,
            Source::File(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        };
    post(&req.delivery, &env, &prepare_body(&env, body), ui).await
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn cost_line(cost: &CostReport) -> String {
    let e = &cost.estimate;
    // Which usage priced it: a reviewer weighs a measured figure differently.
    let basis = match &cost.measured {
        Some(m) if m.usable() => format!(", measured usage ({} days)", m.days),
        _ => String::new(),
    };
    let line = match &cost.base {
        Some(b) => {
            let base = b.estimate.as_ref().map_or(0.0, |b| b.monthly);
            let pct = if base > 0.0 {
                format!(" ({:+.1}%)", b.monthly_delta / base * 100.0)
            } else {
                String::new()
            };
            format!(
                "{} → {} a month{pct}, {} a year",
                money(base),
                money(e.monthly),
                money(e.yearly)
            )
        }
        None => format!("{} a month, {} a year", money(e.monthly), money(e.yearly)),
    };
    line + &basis
}

fn money(v: f64) -> String {
    format!("${:.2}", (v * 100.0).round() / 100.0)
}

/// A fenced ```diff block of the companies to add and remove; the fence is longer than
/// any run of backticks in a name, so no name can close it.
fn companies_diff(c: &CompaniesPlan, limit: usize) -> String {
    let retitled: Vec<String> = c.retitled.iter().map(ToString::to_string).collect();
    let longest = c
        .added
        .iter()
        .chain(&c.removed)
        .chain(&retitled)
        .map(|n| n.split(|ch| ch != '`').map(str::len).max().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("{fence}diff\n");
    let lines = c
        .added
        .iter()
        .map(|n| format!("+ {n}"))
        .chain(c.removed.iter().map(|n| format!("- {n}")))
        .chain(retitled.iter().map(|r| format!("! {r}")));
    let total = c.added.len() + c.removed.len() + retitled.len();
    for l in lines.take(limit) {
        out += &l;
        out.push('\n');
    }
    if total > limit {
        out += &format!("# … and {} more\n", total - limit);
    }
    out += &fence;
    out.push('\n');
    out
}

/// The plan as a pull-request comment: the verdict, a summary table, what can hurt
/// first, then each section; the cost assumptions and the plan's basis folded.
pub fn plan_comment(p: &PlanReport, commit: Option<&str>) -> String {
    let counts = PlanCounts::of(p);
    let mut head = format!(
        "{}\n### fangops plan · {} (stack {}) — {}\n\n",
        marker(&p.env),
        code(&p.env),
        code(&p.stack),
        plan_verdict(p, &counts)
    );
    head += &plan_summary(p, &counts);
    head.push('\n');
    head += &plan_callouts(p, &counts);
    head += &plan_sections(p, &counts);
    let mut details = String::new();
    if let Some(cost) = &p.cost {
        let (main, assumptions) = cost.render_markdown_parts_under("**Cost estimate**");
        head += &main;
        head.push('\n');
        details += "**Cost assumptions**\n\n";
        details += &assumptions;
        details.push('\n');
    }
    details += &format!(
        "Plan basis: {}; companies compared with {}; generated by fangops {}{}.\n",
        p.basis,
        md(&p.companies.against.to_string()),
        env!("CARGO_PKG_VERSION"),
        commit
            .map(|c| format!(" for commit {}", code(c)))
            .unwrap_or_default()
    );
    bound(head, &details)
}

/// How much a plan changes, part by part, and the zips a protected env would refuse.
struct PlanCounts<'a> {
    stack: usize,
    companies: usize,
    alarms: usize,
    unpromoted: Vec<&'a str>,
}

impl<'a> PlanCounts<'a> {
    fn of(p: &'a PlanReport) -> Self {
        let c = &p.companies;
        Self {
            stack: p.changes.len() + p.parameter_changes.len(),
            companies: c.added.len() + c.removed.len() + c.retitled.len(),
            alarms: p.alarms.as_ref().map_or(0, |a| a.changes.len()),
            unpromoted: p
                .promotion
                .iter()
                .flat_map(|pr| &pr.artifacts)
                .filter(|a| !a.promoted())
                .map(|a| a.function.as_str())
                .collect(),
        }
    }

    fn total(&self) -> usize {
        self.stack + self.companies + self.alarms
    }
}

/// The heading's verdict: blocked, or how many changes, and the cost delta.
fn plan_verdict(p: &PlanReport, counts: &PlanCounts) -> String {
    let mut verdict = if let Some(why) = &p.companies.refused {
        format!("**blocked**: {}", md(why.split(':').next().unwrap_or(why)))
    } else if counts.total() == 0 {
        "no changes".to_owned()
    } else {
        plural(counts.total(), "change", "changes")
    };
    if let Some(c) = &p.cost
        && let Some(b) = &c.base
        && (b.monthly_delta * 100.0).round() != 0.0
    {
        verdict += &format!(
            ", cost {}{}/month",
            if b.monthly_delta > 0.0 { "+" } else { "-" },
            money(b.monthly_delta.abs())
        );
    }
    verdict
}

/// The summary table: one row per part of the plan.
fn plan_summary(p: &PlanReport, counts: &PlanCounts) -> String {
    let mut summary = Table::new(["", ""]);
    summary.row([raw("Infrastructure"), raw(infrastructure_line(p, counts))]);
    summary.row([raw("Companies"), raw(companies_line(&p.companies, counts))]);
    if let Some(a) = &p.alarms {
        summary.row([
            raw("Alarms"),
            raw(if a.changes.is_empty() {
                "no changes".to_owned()
            } else {
                plural(a.changes.len(), "change", "changes")
            }),
        ]);
    }
    if let Some(cost) = &p.cost {
        summary.row([raw("Cost"), raw(cost_line(cost))]);
    }
    if let Some(pr) = &p.promotion {
        let unpromoted = counts.unpromoted.len();
        let ran = pr.artifacts.len() - unpromoted;
        summary.row([
            raw("Artifacts"),
            raw(if unpromoted == 0 {
                format!(
                    "{} ran in another environment first",
                    plural(ran, "zip", "zips")
                )
            } else {
                format!(
                    "**{} ran nowhere yet**: the deploy will refuse {}",
                    plural(unpromoted, "zip", "zips"),
                    if unpromoted == 1 { "it" } else { "them" }
                )
            }),
        ]);
    }
    summary.render()
}

fn infrastructure_line(p: &PlanReport, counts: &PlanCounts) -> String {
    if counts.stack == 0 {
        return "no changes".to_owned();
    }
    let (add, modify, remove) = crate::plan::action_counts(&p.changes);
    let mut s = format!("{add} add, {modify} modify, {remove} remove");
    if !p.parameter_changes.is_empty() {
        s += &format!(
            ", {}",
            plural(p.parameter_changes.len(), "parameter", "parameters")
        );
    }
    if p.replacements > 0 {
        s += &format!(", **{} replaced**", p.replacements);
    }
    if p.new_stack {
        s += " (new stack)";
    }
    s
}

fn companies_line(c: &CompaniesPlan, counts: &PlanCounts) -> String {
    if c.against == Against::Unknown {
        return "not compared".to_owned();
    }
    if counts.companies == 0 {
        return format!("no changes ({})", c.unchanged);
    }
    let kept = c.unchanged + c.retitled.len();
    let before = kept + c.removed.len();
    let after = kept + c.added.len();
    format!(
        "+{} −{}{} ({before} → {after})",
        c.added.len(),
        c.removed.len(),
        if c.retitled.is_empty() {
            String::new()
        } else {
            format!(", {} new page", c.retitled.len())
        }
    )
}

/// What can hurt, first: unreadable pages, a refused sync, zips a protected env would
/// refuse, replaced resources.
fn plan_callouts(p: &PlanReport, counts: &PlanCounts) -> String {
    use crate::companies::check::{Verdict, verdict_name};
    let mut out = String::new();
    let unreadable: Vec<String> = p
        .pages
        .iter()
        .filter(|c| {
            matches!(
                c.verdict,
                Verdict::Disambiguation | Verdict::Missing | Verdict::Empty
            )
        })
        .map(|c| format!("{} ({})", md(&c.company), verdict_name(c.verdict)))
        .collect();
    let them = |n: usize| if n == 1 { "it" } else { "them" };
    if !unreadable.is_empty() {
        out += &format!(
            "> [!WARNING]\n> No Wikipedia text for {}: the pipeline would record no sentiment for {}. Set `wikipedia:` as the table below says.\n\n",
            unreadable.join(", "),
            them(unreadable.len())
        );
    }
    if let Some(why) = &p.companies.refused {
        out += &format!(
            "> [!CAUTION]\n> The deploy's sync refuses this: {}. Deploy with `--allow-mass-delete` if it is intended.\n\n",
            md(why)
        );
    }
    let unpromoted = &counts.unpromoted;
    if !unpromoted.is_empty() {
        out += &format!(
            "> [!CAUTION]\n> {} ran in no other environment: this protected environment's deploy will refuse {}. A deploy of the same commit to dev promotes {}; `--allow-unpromoted` overrides.\n\n",
            unpromoted.join(" and "),
            them(unpromoted.len()),
            them(unpromoted.len()),
        );
    }
    if p.replacements > 0 {
        out += &format!(
            "> [!WARNING]\n> {} replaced (deleted and created again): data in {} can be lost.\n\n",
            plural(p.replacements, "resource is", "resources are"),
            them(p.replacements)
        );
    }
    out
}

/// The plan's sections: the infrastructure, the artifacts, the companies, their pages,
/// the alarms (the cost comes after them, with its assumptions folded).
fn plan_sections(p: &PlanReport, counts: &PlanCounts) -> String {
    let mut out = String::new();
    if counts.stack > 0 {
        out += "**Infrastructure**\n\n";
        if !p.changes.is_empty() {
            out += &render_changes_markdown(&p.changes);
            out.push('\n');
        }
        if !p.parameter_changes.is_empty() {
            out += &render_parameter_changes_markdown(&p.parameter_changes);
            out.push('\n');
        }
    }
    if let Some(pr) = &p.promotion {
        out += "**Artifacts** this deploy would run, and where each ran before\n\n";
        out += &pr.render_markdown();
        out.push('\n');
    }
    let c = &p.companies;
    if counts.companies > 0 {
        out += &format!(
            "**Companies** (against {})\n\n",
            c.against.describe_markdown()
        );
        out += &companies_diff(c, 1000);
        out.push('\n');
    }
    if !p.pages.is_empty() {
        out += &crate::plan::render_pages_markdown(&p.pages);
        out.push('\n');
    }
    if let Some(a) = &p.alarms
        && !a.changes.is_empty()
    {
        out += &a.render_markdown_under("**Alarms**");
        out.push('\n');
    }
    out
}

/// The deploy report as a pull-request comment (it replaces the plan's).
pub fn deploy_comment(r: &DeployReport, commit: Option<&str>) -> String {
    let mut head = format!(
        "{}\n### fangops deploy · {} (stack {}) — {}{}\n\n",
        marker(&r.env),
        code(&r.env),
        code(&r.stack),
        deploy_verdict(r),
        r.verdict_suffix()
    );
    let (main, details) = deploy_parts(r, commit);
    head += &main;
    bound(head, &details)
}

fn deploy_verdict(r: &DeployReport) -> String {
    match r.outcome {
        Outcome::Created => "created".to_owned(),
        Outcome::Updated => format!("updated ({})", plural(r.changes.len(), "change", "changes")),
        Outcome::Unchanged => "unchanged".to_owned(),
        Outcome::Failed => format!(
            "**failed** ({})",
            md(r.final_status.as_deref().unwrap_or("no status"))
        ),
    }
}

/// The deploy report's markdown under a comment's heading: the main part, and what
/// goes folded.
fn deploy_parts(r: &DeployReport, commit: Option<&str>) -> (String, String) {
    // The deploy report already lists failures first, then changes, artifacts, sync.
    let body = r.render_markdown();
    let body = body
        .split_once("\n\n")
        .map_or(body.as_str(), |(_, rest)| rest);
    let (main, details) = match body.find("<details>") {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    let details = format!(
        "{details}\nGenerated by fangops {}{}.\n",
        env!("CARGO_PKG_VERSION"),
        commit
            .map(|c| format!(" for commit {}", code(c)))
            .unwrap_or_default()
    );
    (main.to_owned(), details)
}

/// A pull request's preview as its comment (the env's, in place of the shared
/// stack's): the results of the companies it adds, the preview's cost a day, then the
/// deploy report. Past the cap, the previews holding the slots. `now` (seconds since
/// the epoch) dates their ages.
pub fn preview_comment(
    r: &crate::previews::PreviewReport,
    commit: Option<&str>,
    now: i64,
) -> String {
    let Some(d) = &r.deploy else {
        let mut out = format!(
            "{}\n### fangops preview · {} #{} — **refused**\n\n",
            marker(&r.env),
            code(&r.env),
            r.pull_request
        );
        if let Some(refusal) = &r.refused {
            out += &format!(
                "`previews.max` is {}, and these previews hold the slots:\n\n",
                refusal.max
            );
            // The head commit the stack was last changed for (a push that changes
            // nothing leaves it, and its tags, alone).
            let mut t = Table::new(["pull request", "stack", "age", "last changed for"]);
            for p in &refusal.holders {
                t.row([
                    raw(format!("#{}", p.pull_request)),
                    crate::markdown::value(&p.stack),
                    crate::markdown::text(format!("{:.1} days", p.age_days(now))),
                    crate::markdown::value(
                        p.head
                            .as_deref()
                            .map_or_else(|| "unknown".to_owned(), |h| h.chars().take(7).collect()),
                    ),
                ]);
            }
            out += &t.render();
            out += &format!(
                "\nClose one of them, prune them (`fangops previews --env {} prune --older-than 7d`), or raise `previews.max` in the env file; the next push tries again.\n",
                r.env
            );
        }
        // A few lines and a table of at most `previews.max` (≤ 100) rows: well within
        // GitHub's limit, and nothing to fold.
        return out;
    };
    let mut head = format!(
        "{}\n### fangops preview · {} #{} (stack {}) — {}{}\n\n",
        marker(&r.env),
        code(&r.env),
        r.pull_request,
        code(&r.stack),
        deploy_verdict(d),
        d.verdict_suffix()
    );
    head += &format!("{}\n\n", md(&r.what_ran()));
    if !r.results.is_empty() {
        head += &results_table(&r.results);
        head.push('\n');
    }
    if let Some(c) = r.cost_per_day {
        head += &format!(
            "This preview costs about {} a day (no schedule, dashboard or alarm e-mail) and is torn down when the pull request closes.\n\n",
            crate::cost::usd(c)
        );
    }
    let (main, details) = deploy_parts(d, commit);
    head += &main;
    bound(head, &details)
}

/// The companies' results: the page read, the sentiment and its four scores, or why
/// there is none.
fn results_table(results: &[crate::previews::CompanyResult]) -> String {
    let mut t = Table::new([
        "company",
        "page",
        "sentiment",
        "positive",
        "negative",
        "neutral",
        "mixed",
    ])
    .right(3)
    .right(4)
    .right(5)
    .right(6);
    for r in results {
        // Only a web page is a link: the offline texts' `fixtures://` is not one.
        let web = r
            .source_url
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        let page = match (&r.page, web, &r.source_url) {
            (Some(p), Some(u), _) => raw(format!("[{}]({})", md(p), link_target(u))),
            (Some(p), None, _) => crate::markdown::text(p),
            (None, Some(u), _) => raw(format!("[source]({})", link_target(u))),
            (None, None, Some(u)) => crate::markdown::value(u),
            (None, None, None) => raw("—"),
        };
        match (&r.sentiment, &r.scores) {
            (Some(s), Some(sc)) => t.row([
                crate::markdown::text(&r.company),
                page,
                crate::markdown::text(s),
                raw(format!("{:.2}", sc.positive)),
                raw(format!("{:.2}", sc.negative)),
                raw(format!("{:.2}", sc.neutral)),
                raw(format!("{:.2}", sc.mixed)),
            ]),
            _ => t.row([
                crate::markdown::text(&r.company),
                page,
                raw(format!(
                    "_none: {}_",
                    md(r.reason.as_deref().unwrap_or("no result"))
                )),
                raw(""),
                raw(""),
                raw(""),
                raw(""),
            ]),
        };
    }
    t.render()
}

/// A URL as a markdown link's target: what could end the link or the cell is
/// percent-encoded.
fn link_target(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '(' => "%28".to_owned(),
            ')' => "%29".to_owned(),
            '<' => "%3C".to_owned(),
            '>' => "%3E".to_owned(),
            '|' => "%7C".to_owned(),
            '"' => "%22".to_owned(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// Fits GitHub's limit: the head and folded details (none when there are no details);
/// without the details when too long; cut at a line with a note when the head alone is.
pub fn bound(head: String, details: &str) -> String {
    let folded = if details.trim().is_empty() {
        String::new()
    } else {
        format!("<details><summary>Details</summary>\n\n{details}\n</details>\n")
    };
    if head.chars().count() + folded.chars().count() <= LIMIT {
        return head + &folded;
    }
    let dropped = "_Details were left out to fit GitHub's comment size limit; run `fangops plan` for all of them._\n";
    if !folded.is_empty() && head.chars().count() + dropped.len() <= LIMIT {
        return head + dropped;
    }
    let note = "\n\n_…cut here to fit GitHub's 65,536-character limit; the full report is in the workflow's log and step summary._\n";
    // Room for the note and for closing a fence the cut leaves open.
    let budget = LIMIT - note.chars().count() - 64;
    let cut: String = head.chars().take(budget).collect();
    let mut cut = match cut.rfind('\n') {
        Some(i) => cut[..i].to_owned(),
        None => cut,
    };
    if let Some(fence) = open_fence(&cut) {
        cut += "\n";
        cut += &fence;
    }
    cut + note
}

/// The fence of a code block left open at the end of `text`, if any.
fn open_fence(text: &str) -> Option<String> {
    let mut open: Option<usize> = None;
    for line in text.lines() {
        let run = line.len() - line.trim_start_matches('`').len();
        match open {
            None if run >= 3 => open = Some(run),
            Some(n) if run >= n && line.trim_start_matches('`').trim().is_empty() => open = None,
            _ => {}
        }
    }
    open.map(|n| "`".repeat(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::desired::FieldChange;
    use crate::alarms::{Action, AlarmChange, AlarmsReport};
    use crate::deploy::ParameterChange;
    use crate::deploy::stack::ResourceChange;
    use crate::testing::env::dev;

    fn cost(base: &[&str], head: &[&str]) -> CostReport {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/pricing/us-east-1.yaml");
        let table =
            crate::cost::pricing::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
        let (b, h) = (dev(base, ""), dev(head, ""));
        let (estimate, base) =
            crate::cost::estimate_with_base(&h, &table, Some(("origin/main", Some(&b))), false);
        CostReport {
            estimate,
            base,
            actual: None,
            measured: None,
            written: None,
            previews: None,
        }
    }

    fn plan(companies: CompaniesPlan, cost: Option<CostReport>) -> PlanReport {
        PlanReport {
            env: "dev".into(),
            stack: "fang-dev".into(),
            new_stack: false,
            basis: crate::deploy::Basis::Fingerprint,
            changes: Vec::new(),
            parameter_changes: Vec::new(),
            replacements: 0,
            companies,
            pages: Vec::new(),
            promotion: None,
            alarms: Some(AlarmsReport {
                env: "dev".into(),
                topic: "arn:aws:sns:us-east-1:123456789012:fang-dev-alarms".into(),
                unchanged: 8,
                dry_run: true,
                ..Default::default()
            }),
            cost,
            duration_s: 1.0,
        }
    }

    fn live(added: &[&str], removed: &[&str], unchanged: usize) -> CompaniesPlan {
        CompaniesPlan {
            against: Against::LiveTable,
            added: added.iter().map(|s| (*s).to_owned()).collect(),
            removed: removed.iter().map(|s| (*s).to_owned()).collect(),
            unchanged,
            retitled: Vec::new(),
            refused: None,
            note: None,
        }
    }

    const FIVE: [&str; 5] = ["Amazon", "Apple", "Meta", "Netflix", "Nvidia"];

    #[test]
    fn no_change() {
        let c = plan_comment(
            &plan(live(&[], &[], 5), Some(cost(&FIVE, &FIVE))),
            Some("abc1234"),
        );
        assert!(c.starts_with("<!-- fangops env=dev -->\n### fangops plan · `dev` (stack `fang-dev`) — no changes\n"), "{c}");
        insta::assert_snapshot!("comment_no_change", c);
    }

    #[test]
    fn companies_only_and_names_cannot_break_it() {
        let hostile = "Evil ``` <img src=x onerror=alert(1)> @octocat | **x**";
        let c = plan_comment(
            &plan(
                live(&["Microsoft", hostile], &["Netflix"], 4),
                Some(cost(
                    &FIVE,
                    &["Amazon", "Apple", "Meta", "Nvidia", "Microsoft", hostile],
                )),
            ),
            None,
        );
        // The name sits inside a fence longer than its own backticks.
        assert!(
            c.contains(&format!(
                "````diff\n+ Microsoft\n+ {hostile}\n- Netflix\n````\n"
            )),
            "{c}"
        );
        assert!(
            !c.contains("<img src=x onerror=alert(1)> @octocat |**"),
            "{c}"
        );
        insta::assert_snapshot!("comment_companies_only", c);
    }

    #[test]
    fn added_companies_show_their_page_and_a_disambiguation_warns() {
        use crate::companies::check::{PageCheck, Verdict};
        let mut p = plan(live(&["Amazon", "Spotify"], &[], 4), None);
        p.pages = vec![
            PageCheck {
                company: "Amazon".into(),
                requested: "Amazon".into(),
                title: Some("Amazon".into()),
                description: Some("Topics referred to by the same term".into()),
                verdict: Verdict::Disambiguation,
                fix: Some("\"Amazon\" lists several meanings: name the company's own page (often \"Amazon (company)\")".into()),
                write: Some("- {name: Amazon, wikipedia: Amazon (company)}".into()),
            },
            PageCheck {
                company: "Spotify".into(),
                requested: "Spotify".into(),
                title: Some("Spotify".into()),
                description: Some("Swedish audio streaming service".into()),
                verdict: Verdict::Ok,
                fix: None,
                write: None,
            },
        ];
        let c = plan_comment(&p, None);
        assert!(
            c.contains("> No Wikipedia text for Amazon (disambiguation)"),
            "{c}"
        );
        assert!(
            c.contains("| Spotify | Spotify (Swedish audio streaming service) | ok | |"),
            "{c}"
        );
        insta::assert_snapshot!("comment_pages", c);
    }

    #[test]
    fn template_change_with_replacement_comes_first() {
        let mut p = plan(live(&[], &[], 5), Some(cost(&FIVE, &FIVE)));
        p.basis = crate::deploy::Basis::ChangeSet;
        p.changes = vec![
            ResourceChange {
                action: "Modify".into(),
                logical_id: "CompaniesTable".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                physical_id: Some("fang-dev-companies".into()),
                replacement: Some("True".into()),
                scope: vec!["Properties".into()],
            },
            ResourceChange {
                action: "Modify".into(),
                logical_id: "SentimentFunction".into(),
                resource_type: "AWS::Lambda::Function".into(),
                physical_id: None,
                replacement: Some("False".into()),
                scope: vec!["Properties".into()],
            },
        ];
        p.parameter_changes = vec![ParameterChange {
            name: "MemoryMb".into(),
            old: Some("256".into()),
            new: "512".into(),
        }];
        p.replacements = 1;
        p.alarms.as_mut().unwrap().changes = vec![AlarmChange {
            name: "fang-dev-sentiment-duration".into(),
            action: Action::Change,
            fields: vec![FieldChange {
                field: "threshold".into(),
                old: "48000".into(),
                new: "96000".into(),
            }],
        }];
        let c = plan_comment(&p, Some("abc1234"));
        let warning = c.find("[!WARNING]").unwrap();
        assert!(warning < c.find("**Infrastructure**").unwrap());
        insta::assert_snapshot!("comment_replacement", c);
    }

    #[test]
    fn measured_usage_far_from_its_assumption_is_a_warning_in_the_comment() {
        let mut c = cost(&FIVE, &FIVE);
        let sums = crate::cost::measured::Sums::from_pairs(&[
            ("producer_invocations", 14.0),
            ("producer_duration", 14.0 * 310.0),
            ("results", 70.0),
            ("sentiment_duration", 70.0 * 2_500.0),
            ("result_bytes", 70.0 * 2_048.0),
        ]);
        c.measured = Some(crate::cost::measured::derive(&dev(&FIVE, ""), &sums, 14, 1));
        let body = plan_comment(&plan(live(&[], &[], 5), Some(c)), None);
        assert!(body.contains("measured usage (14 days)"), "{body}");
        assert!(
            body.contains("| `sentiment_ms_per_company` | 800 | 2500 | measured | :warning: more than twice the assumption |"),
            "{body}"
        );
        assert!(
            body.contains("> [!WARNING]\n> Measured usage is far from the assumption for `sentiment_ms_per_company`"),
            "{body}"
        );
    }

    #[test]
    fn cost_increase_shows_in_the_verdict() {
        let more: Vec<String> = (0..200).map(|i| format!("New Co {i:03}")).collect();
        let added: Vec<&str> = more.iter().map(String::as_str).collect();
        let head: Vec<&str> = FIVE.iter().copied().chain(added.iter().copied()).collect();
        let c = plan_comment(&plan(live(&added, &[], 5), Some(cost(&FIVE, &head))), None);
        let first = c.lines().nth(1).unwrap();
        assert!(first.contains("— 200 changes, cost +$"), "{first}");
        assert!(c.contains("| Companies | +200 −0 (5 → 205) |"), "{c}");
        insta::assert_snapshot!("comment_cost_increase", c);
    }

    #[test]
    fn blocked_mass_delete_is_the_verdict() {
        let mut companies = live(&[], &["Amazon", "Apple", "Meta"], 2);
        companies.refused = Some("the sync would delete 3 of the 5 companies in the table, 60% of it, more than the 50% allowed (sync.max_delete_percent): Amazon, Apple, Meta".into());
        let c = plan_comment(&plan(companies, None), None);
        assert!(c.lines().nth(1).unwrap().contains("— **blocked**: the sync would delete 3 of the 5 companies in the table, 60% of it, more than the 50% allowed \\(sync.max\\_delete\\_percent\\)"), "{c}");
        assert!(c.contains("> [!CAUTION]"), "{c}");
    }

    /// A protected env's plan: the zips it would deploy, by sha256, with where each ran;
    /// one that ran nowhere is a caution the deploy will act on.
    #[test]
    fn a_protected_plan_lists_its_artifacts_and_where_they_ran() {
        use crate::deploy::promotion::{Promotion, PromotionReport, RanIn};
        let mut report = plan(live(&[], &[], 5), None);
        report.env = "prod".into();
        report.stack = "fang-prod".into();
        report.promotion = Some(PromotionReport {
            artifacts: vec![
                Promotion {
                    function: "producer".into(),
                    sha256: "ab".repeat(32),
                    ran_in: vec![RanIn {
                        env: "dev".into(),
                        stack: "fang-dev".into(),
                        commit: Some("0123456789abcdef".into()),
                        deployed_at: "2026-12-01T07:00:00Z".into(),
                        running: true,
                    }],
                },
                Promotion {
                    function: "sentiment".into(),
                    sha256: "cd".repeat(32),
                    ran_in: Vec::new(),
                },
            ],
            overridden: false,
        });
        let c = plan_comment(&report, Some("abc1234"));
        assert!(
            c.contains("| Artifacts | **1 zip ran nowhere yet**: the deploy will refuse it |"),
            "{c}"
        );
        assert!(
            c.contains("> [!CAUTION]\n> sentiment ran in no other environment"),
            "{c}"
        );
        assert!(
            c.contains(&format!(
                "| producer | `{}` | dev (`fang-dev`) at `0123456`, 2026-12-01, running now |",
                "ab".repeat(32)
            )),
            "{c}"
        );
        insta::assert_snapshot!("comment_protected_plan_artifacts", c);
    }

    #[test]
    fn failed_deploy() {
        let r = crate::testing::reports::sample_report(Outcome::Failed);
        let c = deploy_comment(&r, Some("abc1234"));
        assert!(c.starts_with("<!-- fangops env=dev -->\n### fangops deploy · `dev` (stack `fang-dev`) — **failed** (UPDATE\\_ROLLBACK\\_COMPLETE)"), "{c}");
        insta::assert_snapshot!("comment_failed_deploy", c);
    }

    /// The merged pull request's comment says the deploy failed its verification, why,
    /// and where the stack went back to.
    #[test]
    fn deploy_rolled_back_after_a_failed_verification() {
        let r = crate::testing::reports::verified_report(false);
        let c = deploy_comment(&r, Some("abc1234"));
        assert!(
            c.contains("— updated (3 changes), **verification failed**, rolled back\n"),
            "{c}"
        );
        insta::assert_snapshot!("comment_deploy_rolled_back", c);
    }

    fn preview_report(
        results: Vec<crate::previews::CompanyResult>,
    ) -> crate::previews::PreviewReport {
        // The preview's own names, and no alarm e-mail to subscribe.
        let mut deploy = crate::testing::reports::verified_report(true);
        deploy.stack = "fang-dev-pr12".into();
        deploy.resources = crate::resources::Names::new("fang-dev-pr12", "123456789012");
        deploy
            .changes
            .retain(|c| c.logical_id != "AlarmEmailSubscription");
        if let Some(s) = deploy.sync.as_mut() {
            s.table = deploy.resources.table.clone();
        }
        crate::previews::PreviewReport {
            env: "dev".into(),
            pull_request: 12,
            stack: "fang-dev-pr12".into(),
            changes: Some(crate::previews::CompanyChanges {
                base: "origin/main".into(),
                added: results.iter().map(|r| r.company.clone()).collect(),
                changed: Vec::new(),
                removed: vec!["Netflix".into()],
            }),
            refused: None,
            deploy: Some(deploy),
            results,
            cost_per_day: Some(0.0312),
            duration_s: 41.0,
        }
    }

    /// The preview's comment shows each added company's result through the deployed
    /// pipeline: the page read with its link, the sentiment and scores, or why there
    /// is none (a disambiguation page, a missing page, no result at all).
    #[test]
    fn preview_comment_shows_the_added_companies_results() {
        use crate::previews::CompanyResult;
        let scores = fang_shared::SentimentScores {
            positive: 0.912,
            negative: 0.021,
            neutral: 0.06,
            mixed: 0.007,
        };
        let none = |company: &str, page: Option<&str>, reason: &str| CompanyResult {
            company: company.into(),
            page: page.map(str::to_owned),
            source_url: page
                .map(|p| format!("https://en.wikipedia.org/wiki/{}", p.replace(' ', "_"))),
            sentiment: None,
            scores: None,
            reason: Some(reason.into()),
        };
        let results = vec![
            CompanyResult {
                company: "Spotify".into(),
                page: Some("Spotify (company)".into()),
                source_url: Some("https://en.wikipedia.org/wiki/Spotify_(company)".into()),
                sentiment: Some("positive".into()),
                scores: Some(scores),
                reason: None,
            },
            none(
                "Amazon",
                Some("Amazon"),
                "\"Amazon\" is a Wikipedia disambiguation page; set `wikipedia:` to the company's own page",
            ),
            none(
                "Acme | <b>Corp</b>",
                None,
                "no Wikipedia page for \"Acme | <b>Corp</b>\"",
            ),
            none(
                "Initech",
                None,
                "no result: the pipeline failed for it (see the verification)",
            ),
        ];
        let c = preview_comment(&preview_report(results), Some("abc1234"), 0);
        assert!(
            c.starts_with("<!-- fangops env=dev -->\n### fangops preview · `dev` #12 (stack `fang-dev-pr12`) — updated (2 changes), verified\n"),
            "{c}"
        );
        // The link's parentheses are encoded so that the link and the cell hold.
        assert!(
            c.contains(
                "[Spotify \\(company\\)](https://en.wikipedia.org/wiki/Spotify_%28company%29)"
            ),
            "{c}"
        );
        assert!(!c.contains("<b>"), "{c}");
        assert!(c.contains("about $0.03 a day"), "{c}");
        insta::assert_snapshot!("comment_preview_results", c);
    }

    #[test]
    fn preview_comment_past_the_cap_names_the_holders() {
        let holder = |pr: u64, days: i64| crate::stacks::previews::Preview {
            stack: crate::config::preview::stack_name("fang-dev", pr),
            pull_request: pr,
            head: Some(format!("{pr:07}abcdef")),
            status: "UPDATE_COMPLETE".into(),
            created: Some(-days * 86_400),
            last_changed: Some(0),
        };
        let r = crate::previews::PreviewReport {
            refused: Some(crate::stacks::previews::Refusal {
                max: 2,
                holders: vec![holder(3, 2), holder(5, 9)],
            }),
            deploy: None,
            results: Vec::new(),
            ..preview_report(Vec::new())
        };
        let c = preview_comment(&r, Some("abc1234"), 0);
        assert!(c.contains("— **refused**"), "{c}");
        assert!(c.contains("| #5 | `fang-dev-pr5` | 9.0 days |"), "{c}");
        insta::assert_snapshot!("comment_preview_refused", c);
    }

    #[test]
    fn oversized_plan_drops_details_then_cuts_at_a_line_inside_the_limit() {
        let many: Vec<String> = (0..5000)
            .map(|i| format!("A company with a long name, number {i:05}"))
            .collect();
        let added: Vec<&str> = many.iter().map(String::as_str).collect();
        // 1,000 diff lines fit with the details: the diff itself says how many more.
        let c = plan_comment(&plan(live(&added, &[], 0), None), None);
        assert!(c.chars().count() <= LIMIT);
        assert!(c.contains("# … and 4000 more\n"), "{}", &c[c.len() - 500..]);
        // A head too long on its own: details dropped, then cut, the fence closed.
        let head = format!("{}\n```diff\n{}", marker("dev"), "+ x\n".repeat(20_000));
        let cut = bound(head, "details");
        assert!(cut.chars().count() <= LIMIT, "{}", cut.chars().count());
        assert!(cut.ends_with("```\n\n_…cut here to fit GitHub's 65,536-character limit; the full report is in the workflow's log and step summary._\n"), "{}", &cut[cut.len() - 300..]);
        assert!(!cut.contains("<details>"));
        let short = bound("head\n".into(), &"d".repeat(LIMIT));
        assert!(short.contains("Details were left out"), "{short}");
        // No details, no folded block (and nothing said about leaving them out).
        assert_eq!(bound("head\n".into(), "\n"), "head\n");
        let long = bound(format!("{}\n", "h".repeat(LIMIT)), "");
        assert!(!long.contains("<details>") && !long.contains("Details were left out"));
        insta::assert_snapshot!("comment_oversized_tail", &c[c.len() - 400..]);
    }
}
