//! The alarms' changes: a terminal's list, and the section of a plan or a comment.

use crate::alarms::{Action, AlarmsReport};
use crate::markdown::{Flavor, Heading, Table, code, escape as md, raw, value};

impl AlarmsReport {
    pub fn render(&self) -> String {
        let mut out = format!("Alarms of {} ({}):\n", self.env, self.summary());
        for c in &self.changes {
            let sign = match c.action {
                Action::Add => "+",
                Action::Change => "~",
                Action::Remove => "-",
            };
            out += &format!("  {sign} {}", c.name);
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| match c.action {
                    Action::Add => format!("{} {}", f.field, f.new),
                    _ => format!("{} {} → {}", f.field, f.old, f.new),
                })
                .collect();
            if !fields.is_empty() {
                out += &format!(" ({})", fields.join(", "));
            }
            out.push('\n');
        }
        out += &format!("  notifications go to {}\n", self.topic);
        if self.no_results_armed == Some(false) {
            out += "  no-results waits for the stack's first run: the producer arms it when a run starts\n";
        }
        if let Some(d) = &self.dashboard {
            out += &format!(
                "  dashboard {d}{}\n",
                if self.dashboard_changed {
                    if self.dry_run {
                        " would be written"
                    } else {
                        " written"
                    }
                } else {
                    " unchanged"
                }
            );
        }
        out
    }

    pub fn render_markdown(&self) -> String {
        self.render_markdown_under(Heading::Level(4))
    }

    /// The section, titled as `heading` says (a plan's `#### Alarms`, a comment's
    /// `**Alarms**`).
    pub fn render_markdown_under(&self, heading: Heading) -> String {
        let mut out = format!("{}\n\n", heading.line(Flavor::Markdown, "Alarms"));
        if self.changes.is_empty() {
            out += &format!("No changes ({} alarms unchanged).\n", self.unchanged);
            return out;
        }
        out += &format!("{}.\n\n", self.counts());
        let mut t = Table::new(["", "alarm", "what changes"]);
        for c in &self.changes {
            let sign = match c.action {
                Action::Add => "+",
                Action::Change => "~",
                Action::Remove => "−",
            };
            let what: Vec<String> = c
                .fields
                .iter()
                .map(|f| match c.action {
                    Action::Add => format!("{} {}", md(&f.field), code(&f.new)),
                    _ => format!("{} {} → {}", md(&f.field), code(&f.old), code(&f.new)),
                })
                .collect();
            t.row([raw(sign), value(&c.name), raw(what.join("; "))]);
        }
        out + &t.render()
    }
}
