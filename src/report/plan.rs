//! The plan: what a deploy would change. Markdown for `plan --out` and a step summary,
//! plain text for a terminal. (The pull-request comment is `comment.rs`'s, from the same
//! report.)

use crate::companies::check::{PageCheck, verdict_name};
use crate::companies::sync::{Against, CompaniesPlan};
use crate::deploy::promotion::PromotionReport;
use crate::markdown::{Flavor, Heading, Table, raw, text};
use crate::plan::{PlanReport, action_counts};
use crate::report::deploy::{render_changes, render_parameter_changes};

impl PlanReport {
    pub fn render_markdown(&self) -> String {
        self.render_as(Flavor::Markdown)
    }

    /// For a terminal: the same plan as plain text.
    pub fn render(&self) -> String {
        self.render_as(Flavor::Plain)
    }

    fn render_as(&self, f: Flavor) -> String {
        let mut out = f.title(&format!("Plan for {} ({})", f.code(&self.stack), self.env));
        out += &self.stack_section(f);
        out.push('\n');
        if let Some(promotion) = &self.promotion {
            out += &promotion_section(promotion, f);
            out.push('\n');
        }
        out += &companies_section(&self.companies, f);
        if !self.pages.is_empty() {
            out.push('\n');
            out += &pages_section(&self.pages, f);
        }
        if let Some(alarms) = &self.alarms {
            out.push('\n');
            out += &match f {
                Flavor::Markdown => alarms.render_markdown(),
                Flavor::Plain => alarms.render(),
            };
        }
        if let Some(cost) = &self.cost {
            out.push('\n');
            out += &match f {
                Flavor::Markdown => cost.render_markdown(),
                Flavor::Plain => cost.render(),
            };
        }
        out
    }

    fn stack_section(&self, f: Flavor) -> String {
        let mut out = String::new();
        if !self.stack_changes() {
            out += "No changes to the stack.\n";
            return out;
        }
        let (add, modify, remove) = action_counts(&self.changes);
        let params = self.parameter_changes.len();
        out += &format!(
            "{} resource change{}: {add} to add, {modify} to modify, {remove} to remove{}{}.\n\n",
            self.changes.len(),
            if self.changes.len() == 1 { "" } else { "s" },
            if self.new_stack { " (new stack)" } else { "" },
            match params {
                0 => String::new(),
                1 => "; 1 parameter changes".to_owned(),
                n => format!("; {n} parameters change"),
            }
        );
        if self.replacements > 0 {
            out += &f.warning(&format!(
                "{} resource{} may be replaced (deleted and created again); data in {} can be lost",
                self.replacements,
                if self.replacements == 1 { "" } else { "s" },
                if self.replacements == 1 { "it" } else { "them" }
            ));
        }
        if !self.changes.is_empty() {
            out += &render_changes(&self.changes, f);
        }
        if !self.parameter_changes.is_empty() {
            if !self.changes.is_empty() {
                out.push('\n');
            }
            out += &render_parameter_changes(&self.parameter_changes, f);
        }
        out
    }
}

/// Companies listed in a plan before "and N more": enough to review, bounded.
const COMPANY_ROWS: usize = 50;

/// What a companies diff was taken against: "the live table", "the file at `main`".
pub fn against(a: &Against, f: Flavor) -> String {
    match a {
        Against::LiveTable => "the live table".to_owned(),
        Against::NewTable => "a new, empty table".to_owned(),
        Against::Revision(rev) => format!("the file at {}", f.code(rev)),
        Against::Unknown => "nothing".to_owned(),
    }
}

/// The page checks as a table: what a reviewer needs before the merge.
pub fn pages_section(pages: &[PageCheck], f: Flavor) -> String {
    if pages.is_empty() {
        return String::new();
    }
    let mut t = Table::new(["Company", "Wikipedia page", "", "what to do"]);
    for c in pages {
        let page = match (&c.title, &c.description) {
            (Some(title), Some(d)) => format!("{} ({})", f.text(title), f.text(d)),
            (Some(title), None) => f.text(title),
            (None, _) => f.text(&c.requested),
        };
        let todo = [
            c.fix.as_deref().map(|fix| f.text(fix)),
            c.write.as_deref().map(|w| format!("write {}", f.code(w))),
        ];
        t.row([
            text(&c.company),
            raw(page),
            text(verdict_name(c.verdict)),
            raw(todo.into_iter().flatten().collect::<Vec<_>>().join("; ")),
        ]);
    }
    format!(
        "{} of the companies added or changed\n\n{}",
        Heading::Bold.line(f, "Wikipedia pages"),
        t.render_as(f)
    )
}

/// The companies the plan adds, removes and gives another page, against what.
pub fn companies_section(c: &CompaniesPlan, f: Flavor) -> String {
    let mut out = format!("{}\n\n", Heading::Level(4).line(f, "Companies"));
    if c.against == Against::Unknown {
        out += &format!(
            "Not compared: {}.\n",
            f.text(c.note.as_deref().unwrap_or("no basis"))
        );
        return out;
    }
    let against = against(&c.against, f);
    if !c.changed() {
        out += &format!(
            "No changes against {against} ({} companies).\n",
            c.unchanged
        );
    } else {
        out += &format!(
            "{} to add, {} to remove, {}{} unchanged (against {against}).\n\n",
            c.added.len(),
            c.removed.len(),
            if c.retitled.is_empty() {
                String::new()
            } else {
                format!("{} with another Wikipedia page, ", c.retitled.len())
            },
            c.unchanged
        );
        let mut t = Table::new(["", "Company"]);
        let rows = c
            .added
            .iter()
            .map(|n| ("+", n.clone()))
            .chain(c.removed.iter().map(|n| ("−", n.clone())))
            .chain(c.retitled.iter().map(|r| ("~", r.to_string())));
        let total = c.added.len() + c.removed.len() + c.retitled.len();
        for (sign, name) in rows.take(COMPANY_ROWS) {
            t.row([raw(sign), text(name)]);
        }
        if total > COMPANY_ROWS {
            t.row([
                raw(""),
                text(format!("… and {} more", total - COMPANY_ROWS)),
            ]);
        }
        out += &t.render_as(f);
    }
    if let Some(why) = &c.refused {
        out += "\n";
        out += &f.blocked(&format!(
            "{}. The sync after the deploy refuses this unless the deploy is given {}",
            f.text(why),
            f.code("--allow-mass-delete")
        ));
    }
    if let (Some(note), false) = (&c.note, c.against == Against::Unknown) {
        out += "\n";
        out += &f.aside(&f.text(note));
    }
    out
}

/// The artifacts a protected env's deploy would take, and whether it would take them.
fn promotion_section(p: &PromotionReport, f: Flavor) -> String {
    let mut out = "The artifacts this deploy would run, and where each ran before:\n\n".to_owned();
    out += &p.render_as(f);
    let unpromoted: Vec<&str> = p
        .artifacts
        .iter()
        .filter(|a| !a.promoted())
        .map(|a| a.function.as_str())
        .collect();
    if !unpromoted.is_empty() {
        out += "\n";
        out += &f.warning_line(&format!(
            "{} ran in no other environment: this protected environment's deploy will refuse {} (a deploy of this commit to dev promotes {})",
            unpromoted.join(" and "),
            if unpromoted.len() == 1 { "it" } else { "them" },
            if unpromoted.len() == 1 { "it" } else { "them" },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::deploy::ParameterChange;
    use crate::testing::reports::{cost_report, live_companies, plan_report, resource_change};

    /// A plan with something in every section: a replaced table, a parameter, a sync
    /// the deploy would refuse, a company name that is markdown, a cost delta.
    fn busy_plan() -> crate::plan::PlanReport {
        let mut companies = live_companies(&["Spotify", "A|B <i>x</i> `y`"], &["Netflix"], 4);
        companies.refused = Some("2 of 5 companies removed (40%), over the limit of 25%".into());
        let mut p = plan_report(
            companies,
            Some(cost_report(
                &["Amazon", "Apple", "Meta", "Netflix", "Nvidia"],
                &["Amazon", "Apple", "Meta", "Nvidia", "Spotify", "A|B"],
            )),
        );
        p.changes = vec![
            resource_change(
                "Modify",
                "CompaniesTable",
                "AWS::DynamoDB::Table",
                Some("True"),
            ),
            resource_change(
                "Add",
                "AlarmEmailSubscription",
                "AWS::SNS::Subscription",
                None,
            ),
        ];
        p.replacements = 1;
        p.parameter_changes = vec![ParameterChange {
            name: "MemoryMb".into(),
            old: Some("256".into()),
            new: "512".into(),
        }];
        p
    }

    /// The terminal gets the plan as plain text: the same sections, no markdown.
    #[test]
    fn a_terminal_reads_the_plan_without_markdown() {
        let p = busy_plan();
        let text = crate::output::plain(&p.render());
        for markdown in [
            "**",
            "`fang-dev`",
            "`--allow",
            "&lt;",
            "\\|",
            "|---",
            "####",
            "\n> ",
            "<details>",
        ] {
            assert!(!text.contains(markdown), "{markdown:?} in:\n{text}");
        }
        // The same facts as the markdown: the name as written, the refusal, the cost.
        assert!(text.contains("A|B <i>x</i> `y`"), "{text}");
        assert!(text.contains("Blocked: 2 of 5 companies removed"), "{text}");
        assert!(text.contains("--allow-mass-delete"), "{text}");
        assert!(p.render_markdown().contains("#### Cost estimate"));
        insta::assert_snapshot!("plan_terminal", text);
    }
}
