//! The deploy report (a deploy's, a rollback's, a verification's, the promotion
//! table): a terminal's plain text and the markdown of a comment or a step summary,
//! written once for both.

use crate::deploy::artifacts::{self, Artifact};
use crate::deploy::promotion::{Promotion, PromotionReport};
use crate::deploy::stack::{Replacement, ResourceChange};
use crate::deploy::verdict::{RollbackOutcome, RollbackReport, Verification};
use crate::deploy::{AfterFailure, DeployReport, Outcome, ParameterChange};
use crate::markdown::{Flavor, Table, raw, text, value};
use crate::output::style::{self, paint};

/// A report in the pieces a comment places apart.
pub struct Parts {
    /// The title line and its blank line.
    pub title: String,
    pub body: String,
    /// What a comment folds, and drops first when it must be shorter: the cost's
    /// assumptions.
    pub folded: String,
}

impl DeployReport {
    /// What follows the stack's outcome in the verdict: ", then failed" when the sync
    /// or the alarms did, then ", verified", or the failure and whether the stack went
    /// back.
    pub fn verdict_suffix(&self) -> String {
        self.verdict_suffix_as(Flavor::Markdown)
    }

    fn verdict_suffix_as(&self, f: Flavor) -> String {
        let after = if self.errors.is_empty() {
            String::new()
        } else {
            format!(", {}", f.alarm("then failed"))
        };
        let verified = match (&self.verification, &self.rollback) {
            (None, _) => String::new(),
            (Some(v), _) if v.passed => ", verified".to_owned(),
            (Some(_), Some(AfterFailure::RolledBack(r))) if r.ok() => {
                format!(", {}, rolled back", f.alarm("verification failed"))
            }
            (Some(_), _) => format!(", {}", f.alarm("verification failed")),
        };
        format!("{after}{verified}")
    }

    /// The verification's line, and the rollback's: "verified in 38 s: ..." or
    /// "verification failed: ...; rolled back to `0123456` (verified 2026-12-01)".
    fn verification_line_as(&self, f: Flavor) -> Option<String> {
        let v = self.verification.as_ref()?;
        let mut line = f.text(&v.summary());
        match &self.rollback {
            None => {}
            Some(AfterFailure::Kept) => {
                line += &format!(
                    "; not rolled back ({}, or a preview): the stack keeps the failed state",
                    f.code("--no-rollback")
                );
            }
            Some(AfterFailure::NothingToUndo) => {
                line += "; this deploy changed nothing to roll back";
            }
            Some(AfterFailure::RolledBack(r)) => line += &format!("; {}", r.summary_as(f)),
        }
        Some(line)
    }

    /// The report as markdown: what a pull-request comment or a step summary shows.
    pub fn render_markdown(&self) -> String {
        self.render_as(Flavor::Markdown)
    }

    /// Terminal rendering: the same report as plain text, the failures coloured.
    pub fn render(&self) -> String {
        self.render_as(Flavor::Plain)
    }

    fn render_as(&self, f: Flavor) -> String {
        let Parts {
            title,
            body,
            folded,
        } = self.parts_as(f);
        title + &body + &folded
    }

    /// The markdown in the pieces a comment places apart: the title (which a comment
    /// writes its own way), the body, and what a comment folds.
    pub fn markdown_parts(&self) -> Parts {
        self.parts_as(Flavor::Markdown)
    }

    fn parts_as(&self, f: Flavor) -> Parts {
        let verdict = match self.outcome {
            Outcome::Created => format!("created ({} resources)", self.changes.len()),
            Outcome::Updated => format!("updated ({} changes)", self.changes.len()),
            Outcome::Unchanged => "unchanged".to_owned(),
            Outcome::Failed => format!(
                "{} ({})",
                f.alarm("failed"),
                self.final_status.as_deref().unwrap_or("no status")
            ),
        };
        let title = f.title(&format!(
            "Deploy of {} ({}): {verdict}{}",
            f.code(&self.stack),
            self.env,
            self.verdict_suffix_as(f)
        ));
        let mut out = format!(
            "Region {}, {:.1} s{}.\n\n",
            self.region,
            self.duration_s,
            if self.recreated {
                "; the stack was left in ROLLBACK_COMPLETE by a failed create, so it was deleted and created again"
            } else {
                ""
            }
        );
        if let Some(line) = self.verification_line_as(f) {
            let passed = self.verification.as_ref().is_some_and(|v| v.passed);
            out += &if passed {
                f.labelled("Verification", &line)
            } else {
                f.warning(&line)
            };
        }
        for e in &self.errors {
            out += &f.error(&f.text(e.trim_end_matches('.')));
        }
        out += &self.tables_as(f);
        if let Some(sync) = &self.sync {
            out += &format!(
                "Companies in {}: {}.\n\n",
                f.code(&sync.table),
                sync.summary()
            );
        }
        if let Some(alarms) = &self.alarms {
            out += &format!("Alarms: {}.\n\n", alarms.summary());
        }
        for w in &self.warnings {
            out += &f.warning(&f.text(w));
        }
        if !self.outputs.is_empty() {
            let mut t = Table::new(["output", "value"]);
            for (k, v) in &self.outputs {
                t.row([text(k), value(v)]);
            }
            out += &t.render_as(f);
            out.push('\n');
        }
        let mut folded = String::new();
        if let Some(cost) = &self.cost {
            match f {
                Flavor::Markdown => {
                    let (main, assumptions) = cost.render_markdown_parts();
                    out += &format!("{main}\n");
                    folded = super::cost::folded_assumptions(&assumptions);
                }
                Flavor::Plain => out += &cost.render(),
            }
        }
        Parts {
            title,
            body: out,
            folded,
        }
    }

    /// The failed resources, the changes, the parameters, the artifacts and where they
    /// ran before: the report's tables.
    fn tables_as(&self, f: Flavor) -> String {
        let mut out = String::new();
        if !self.failures.is_empty() {
            let mut t = Table::new(["failed resource", "type", "status", "reason"]);
            for r in &self.failures {
                t.row([
                    value(&r.logical_id),
                    text(&r.resource_type),
                    value(&r.status),
                    text(&r.reason),
                ]);
            }
            out += &t.render_as(f);
            out.push('\n');
        }
        if !self.changes.is_empty() {
            out += &render_changes(&self.changes, f);
            out.push('\n');
        }
        if !self.parameter_changes.is_empty() {
            out += &render_parameter_changes(&self.parameter_changes, f);
            out.push('\n');
        }
        let mut t = Table::new(["artifact", "size", "sha256", ""]).right(1);
        for a in &self.artifacts {
            t.row([
                text(&a.function),
                text(human_size(a.size)),
                value(&a.sha256),
                text(artifact_note(a)),
            ]);
        }
        out += &t.render_as(f);
        out.push('\n');
        if let Some(promotion) = &self.promotion {
            out += "Promotion: where each artifact ran before this protected environment.\n\n";
            out += &promotion.render_as(f);
            out.push('\n');
        }
        out
    }
}

/// Where a deploy's zip came from, and whether it was uploaded.
pub fn artifact_note(a: &Artifact) -> String {
    use artifacts::Origin;
    match (a.origin, a.uploaded) {
        (Origin::Reused, _) => "reused: built before from the same sources".to_owned(),
        (Origin::Built, true) => "built, uploaded".to_owned(),
        (Origin::Built, false) => "built, already there".to_owned(),
        (Origin::Dir, true) => "uploaded".to_owned(),
        (Origin::Dir, false) => "already there".to_owned(),
    }
}

pub fn render_parameter_changes(changes: &[ParameterChange], f: Flavor) -> String {
    let mut t = Table::new(["parameter", "from", "to"]);
    for c in changes {
        t.row([
            text(&c.name),
            c.old.as_deref().map_or(text("(unset)"), value),
            value(&c.new),
        ]);
    }
    t.render_as(f)
}

pub fn render_changes(changes: &[ResourceChange], f: Flavor) -> String {
    let mut t = Table::new(["action", "resource", "type", "replacement"]);
    for c in changes {
        let replacement = match &c.replacement {
            Some(Replacement::True) => f.alarm("yes: replaced, data may be lost"),
            Some(Replacement::Conditional) => {
                format!("{} (depends on other changes)", f.alarm("maybe"))
            }
            Some(Replacement::False) => "no".to_owned(),
            Some(Replacement::Other(_)) | None => String::new(),
        };
        t.row([
            text(c.action.to_string()),
            value(&c.logical_id),
            text(&c.resource_type),
            raw(replacement),
        ]);
    }
    t.render_as(f)
}

pub fn human_size(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b >= 1_000_000.0 {
        format!("{:.2} MB", b / 1_000_000.0)
    } else if b >= 1_000.0 {
        format!("{:.1} kB", b / 1_000.0)
    } else {
        format!("{bytes} B")
    }
}

impl Verification {
    pub fn render(&self) -> String {
        let verdict = if self.passed {
            paint(style::OK, "passed")
        } else {
            paint(style::ERROR, "failed")
        };
        let mut out = format!(
            "verification of {} (stack {}) {verdict} in {:.1} s\n",
            self.env, self.stack, self.duration_s
        );
        for c in &self.checks {
            let mark = if c.passed {
                paint(style::OK, "✓")
            } else {
                paint(style::ERROR, "✗")
            };
            out += &format!(
                "  {mark} {} ({:.1} s): {}\n",
                c.name, c.duration_s, c.detail
            );
        }
        for a in &self.already_alarming {
            out += &format!(
                "  {} {a} was in ALARM before the deploy: not blamed on it\n",
                paint(style::WARN, "!")
            );
        }
        if let Some(run) = &self.canary_run {
            out += &format!("canary run: {run}\n");
        }
        out
    }
}

impl RollbackReport {
    /// "rolled back to `0123456` (verified 2026-12-01)", or why not: the end of a
    /// deploy report's verification line, written for `f`.
    pub fn summary_as(&self, f: Flavor) -> String {
        let to = self.to.as_ref().map_or(String::new(), |t| {
            let (what, at) = match &t.verified_at {
                Some(v) => ("verified", v),
                None => ("deployed", &t.deployed_at),
            };
            let commit = t.commit.as_deref().map_or_else(
                || "an unknown commit".to_owned(),
                |c| f.code(c.get(..7).unwrap_or(c)),
            );
            format!("{commit} ({what} {})", at.get(..10).unwrap_or(at))
        });
        let reason = f.text(self.reason.as_deref().unwrap_or("no reason given"));
        match self.outcome {
            RollbackOutcome::RolledBack => format!("rolled back to {to}"),
            RollbackOutcome::RolledBackUnverified => format!(
                "rolled back to {to}, which failed its verification too: {}",
                self.verification
                    .as_ref()
                    .map_or(String::new(), |v| f.text(&v.summary()))
            ),
            RollbackOutcome::NoTarget => format!("not rolled back: {reason}"),
            RollbackOutcome::AlreadyRunning => {
                format!("not rolled back: the stack already runs {to}")
            }
            RollbackOutcome::Failed => format!("the rollback failed: {reason}"),
        }
    }

    pub fn render(&self) -> String {
        let line = self.summary_as(Flavor::Plain);
        let mut out = match self.outcome {
            RollbackOutcome::RolledBack => paint(style::OK, &line),
            RollbackOutcome::NoTarget | RollbackOutcome::AlreadyRunning => {
                paint(style::WARN, &line)
            }
            _ => paint(style::ERROR, &line),
        };
        out = format!("{} (stack {}): {out}\n", self.env, self.stack);
        if let Some(status) = &self.final_status {
            out += &format!("stack status: {status}\n");
        }
        if let Some(v) = &self.verification {
            out += &v.render();
        }
        out
    }
}

impl PromotionReport {
    pub fn render_markdown(&self) -> String {
        self.render_as(Flavor::Markdown)
    }

    /// Each artifact and where it ran before, for `f`.
    pub fn render_as(&self, f: Flavor) -> String {
        let mut t = crate::markdown::Table::new(["artifact", "sha256", "ran in"]);
        for p in &self.artifacts {
            t.row([
                crate::markdown::text(&p.function),
                crate::markdown::value(&p.sha256),
                crate::markdown::raw(ran_in(p, f)),
            ]);
        }
        let mut out = t.render_as(f);
        if self.overridden {
            out += &format!(
                "\n{}",
                f.warning(&format!(
                    "deployed with {}: an artifact above ran in no other environment first",
                    f.code("--allow-unpromoted")
                ))
                .trim_end_matches('\n')
            );
            out.push('\n');
        }
        out
    }
}

fn ran_in(p: &Promotion, f: Flavor) -> String {
    if p.ran_in.is_empty() {
        return f.alarm("nowhere yet");
    }
    p.ran_in
        .iter()
        .map(|r| {
            let commit = r.commit.as_deref().map_or(String::new(), |c| {
                format!(" at {}", f.code(c.get(..7).unwrap_or(c)))
            });
            format!(
                "{} ({}){commit}, {}{}",
                f.text(&r.env),
                f.code(&r.stack),
                r.deployed_at.get(..10).unwrap_or(&r.deployed_at),
                if r.running {
                    ", running now"
                } else {
                    ", since replaced"
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
