//! A pull request's preview on a terminal, the previews listed, and a prune's
//! decisions. (The preview's comment is in `comment.rs`, with the others.)

use crate::deploy::DeployReport;
use crate::previews::{CompanyResult, PreviewReport, PreviewsReport, PruneReport};

impl PreviewReport {
    /// For a terminal: the deploy's report, then the results.
    pub fn render(&self) -> String {
        if let Some(r) = &self.refused {
            return format!("{}\n", r.message(self.pull_request));
        }
        let mut out = self
            .deploy
            .as_ref()
            .map(DeployReport::render)
            .unwrap_or_default();
        out += &format!(
            "\npreview of pull request #{} ({}){}\n",
            self.pull_request,
            self.stack,
            self.cost_per_day
                .map(|c| format!(", about ${c:.2} a day"))
                .unwrap_or_default()
        );
        out += &self.what_ran();
        out.push('\n');
        for r in &self.results {
            out += &format!("  {}: {}\n", r.company, result_text(r));
        }
        out
    }
}

impl PreviewsReport {
    pub fn render(&self) -> String {
        let mut out = format!(
            "previews of {} (stack {}): {} of at most {}{}\n",
            self.env,
            self.stack,
            self.previews.len(),
            self.max,
            self.cost_per_day
                .map(|c| format!(", about ${c:.2} a day each"))
                .unwrap_or_default()
        );
        for l in &self.previews {
            out += &format!(
                "  #{:<6} {:<32} {:<20} {:>6.1} days  {}  changed for {}\n",
                l.preview.pull_request,
                l.preview.stack,
                l.preview.status,
                l.age_days,
                l.cost_so_far
                    .map(|c| format!("${c:.2} so far"))
                    .unwrap_or_else(|| "cost unknown".to_owned()),
                l.preview
                    .head
                    .as_deref()
                    .map_or_else(|| "unknown".to_owned(), |h| h.chars().take(12).collect())
            );
        }
        out
    }
}

impl PruneReport {
    pub fn render(&self) -> String {
        let removed = self.decisions.iter().filter(|d| d.remove).count();
        let mut out = format!(
            "{} {} of {} previews of {}\n",
            if self.dry_run {
                "would prune"
            } else {
                "pruned"
            },
            removed,
            self.decisions.len(),
            self.env
        );
        for d in &self.decisions {
            out += &format!(
                "  {} #{} {}: {}{}\n",
                if d.error.is_some() {
                    "!"
                } else if d.remove {
                    "-"
                } else {
                    "="
                },
                d.pull_request,
                d.stack,
                d.why,
                d.error
                    .as_deref()
                    .map(|e| format!(" (failed: {e})"))
                    .unwrap_or_default()
            );
        }
        out
    }
}

/// "positive (0.91; negative 0.02, neutral 0.06, mixed 0.01)", or the reason.
fn result_text(r: &CompanyResult) -> String {
    match (&r.sentiment, &r.scores) {
        (Some(s), Some(sc)) => format!(
            "{s} (positive {:.2}, negative {:.2}, neutral {:.2}, mixed {:.2}){}",
            sc.positive,
            sc.negative,
            sc.neutral,
            sc.mixed,
            r.page
                .as_deref()
                .map(|p| format!(" from {p:?}"))
                .unwrap_or_default()
        ),
        _ => format!(
            "no sentiment: {}",
            r.reason.as_deref().unwrap_or("no result")
        ),
    }
}
