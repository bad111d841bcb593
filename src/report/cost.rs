//! The cost estimate: a terminal's table, and the section of a plan, a deploy report
//! or a comment, its assumptions apart (a comment folds them, and drops them first when
//! it must be shorter).

use crate::cost::{CostReport, actual, measured, model, usd};
use crate::markdown::{Flavor, Heading, Table, escape as md, raw, text, value};

impl CostReport {
    /// The markdown section of plans, deploy reports and `fangops cost --markdown`.
    pub fn render_markdown(&self) -> String {
        let (main, assumptions) = self.render_markdown_parts();
        format!("{main}\n{}", folded_assumptions(&assumptions))
    }

    /// The estimate and the delta, and apart the assumptions table (which a pull-request
    /// comment folds, and drops first when it must be shorter).
    pub fn render_markdown_parts(&self) -> (String, String) {
        self.render_markdown_parts_under(Heading::Level(4))
    }

    /// [`Self::render_markdown_parts`], titled as `heading` says (a comment's
    /// `**Cost estimate**`).
    pub fn render_markdown_parts_under(&self, heading: Heading) -> (String, String) {
        let e = &self.estimate;
        let mut out = format!(
            "{}\n\n**{}/month**, {} a year, {} per company per month ({} companies, {:.1} runs a month, each about {}; {}, prices checked {}{}).\n\n",
            heading.line(Flavor::Markdown, "Cost estimate"),
            usd(e.monthly),
            usd(e.yearly),
            usd(e.per_company_monthly),
            e.companies,
            e.runs_per_month,
            model::duration(e.run_duration_s),
            md(&e.region),
            md(&e.prices_checked),
            if e.free_tier {
                ", free tier applied"
            } else {
                ""
            }
        );
        if let Some(without) = e.monthly_without_cache {
            out += &format!(
                "The analysis cache saves about {}/month: {} without it.\n\n",
                usd(without - e.monthly),
                usd(without)
            );
        }
        out += &self.services_markdown();
        if let Some(a) = &self.actual {
            out += &actual_markdown(a);
        }
        if let Some(p) = &self.previews {
            out += &format!("\nPreviews: {}.\n", md(&p.line()));
        }
        if let Some(m) = &self.measured {
            out += &measured_markdown(m);
        }
        let mut assumptions = Table::new(["assumption", "value", "from"]);
        for a in &e.assumptions {
            assumptions.row([text(&a.name), text(&a.value), text(&a.source)]);
        }
        (out, assumptions.render())
    }

    /// The services a month: against the base with each delta, or alone.
    fn services_markdown(&self) -> String {
        let e = &self.estimate;
        let Some(b) = &self.base else {
            let mut t = Table::new(["service", "monthly"]).right(1);
            for s in &e.services {
                t.row([text(&s.service), text(usd(s.monthly))]);
            }
            t.row([raw("**total**"), raw(format!("**{}**", usd(e.monthly)))]);
            return t.render();
        };
        let mut t = Table::new(["service", "", "this change", "delta"])
            .heading(1, value(&b.rev))
            .right(1)
            .right(2)
            .right(3);
        for d in &b.deltas {
            t.row([
                text(&d.service),
                text(usd(d.base)),
                text(usd(d.head)),
                text(signed(d.delta)),
            ]);
        }
        let base_total = b.estimate.as_ref().map_or(0.0, |b| b.monthly);
        t.row([
            raw("**total**"),
            raw(format!("**{}**", usd(base_total))),
            raw(format!("**{}**", usd(e.monthly))),
            raw(format!("**{}**", signed(b.monthly_delta))),
        ]);
        let mut out = t.render();
        if b.estimate.is_none() {
            out += &format!(
                "\nThe env file is new: it did not exist at {}.\n",
                crate::markdown::code(&b.rev)
            );
        }
        out
    }

    /// For a terminal: the table and the assumptions, plain.
    pub fn render(&self) -> String {
        let e = &self.estimate;
        let mut out = format!(
            "Cost of {} ({}, prices checked {}{}):\n",
            e.env,
            e.region,
            e.prices_checked,
            if e.free_tier {
                ", free tier applied"
            } else {
                ""
            }
        );
        out += &self.services_text();
        out += &format!(
            "  yearly TCO {}, per company per month {} ({} companies, {:.1} runs a month)\n",
            usd(e.yearly),
            usd(e.per_company_monthly),
            e.companies,
            e.runs_per_month
        );
        if let Some(without) = e.monthly_without_cache {
            out += &format!(
                "  without the analysis cache {} a month (the cache saves {})\n",
                usd(without),
                usd(without - e.monthly)
            );
        }
        let batches = e
            .companies
            .div_ceil(fang_shared::SENTIMENT_BATCH_SIZE as usize);
        out += &format!(
            "  one run takes about {} ({batches} {} of up to {}, at most {} at once)\n",
            model::duration(e.run_duration_s),
            if batches == 1 { "batch" } else { "batches" },
            fang_shared::SENTIMENT_BATCH_SIZE,
            e.max_concurrency
        );
        if let Some(a) = &self.actual {
            out += &actual_text(a);
        }
        if let Some(p) = &self.previews {
            out += &format!("  previews: {}\n", p.line());
        }
        if let Some(m) = &self.measured {
            out += &measured_text(m);
        }
        if let Some(path) = &self.written {
            out += &format!("  measured usage written to {}\n", path.display());
        }
        out += "Assumptions:\n";
        for a in &e.assumptions {
            out += &format!("  {}: {} ({})\n", a.name, a.value, a.source);
        }
        out
    }

    /// The services a month in aligned columns: against the base, or alone.
    fn services_text(&self) -> String {
        let e = &self.estimate;
        let width = e
            .services
            .iter()
            .map(|s| s.service.len())
            .chain(
                self.base
                    .iter()
                    .flat_map(|b| b.deltas.iter().map(|d| d.service.len())),
            )
            .max()
            .unwrap_or(10)
            .max(10);
        let mut out = String::new();
        let Some(b) = &self.base else {
            for s in &e.services {
                out += &format!("  {:width$}  {:>10}\n", s.service, usd(s.monthly));
            }
            out += &format!("  {:width$}  {:>10}\n", "total a month", usd(e.monthly));
            return out;
        };
        let mut row = |cells: [&str; 4]| {
            out += &format!(
                "  {:width$}  {:>10}  {:>10}  {:>10}\n",
                cells[0], cells[1], cells[2], cells[3]
            );
        };
        row(["service", &b.rev, "this", "delta"]);
        for d in &b.deltas {
            row([&d.service, &usd(d.base), &usd(d.head), &signed(d.delta)]);
        }
        row([
            "total",
            &usd(b.estimate.as_ref().map_or(0.0, |b| b.monthly)),
            &usd(e.monthly),
            &signed(b.monthly_delta),
        ]);
        out
    }
}

/// What Cost Explorer says: the month to date and the forecast, or why not.
fn actual_markdown(a: &actual::Actual) -> String {
    let mut out = format!(
        "\nActual spend (Cost Explorer, tag {}): ",
        crate::markdown::code(&a.tag)
    );
    match &a.spend {
        actual::Spend::Available {
            month_to_date,
            start,
            ..
        } => {
            out += &format!("{} month to date (since {start})", usd(*month_to_date));
        }
        actual::Spend::NotAvailable { reason } => {
            out += &format!("not available ({})", md(reason));
        }
    }
    match &a.forecast {
        actual::Forecast::Available { month_total, .. } => {
            out += &format!("; forecast for the month {}.\n", usd(*month_total));
        }
        actual::Forecast::NotAvailable { reason } => {
            out += &format!("; forecast not available ({}).\n", md(reason));
        }
    }
    out
}

/// [`actual_markdown`] for a terminal, with the month's spend by service.
fn actual_text(a: &actual::Actual) -> String {
    let mut out = String::new();
    match &a.spend {
        actual::Spend::Available {
            month_to_date,
            by_service,
            ..
        } => {
            out += &format!("  actual, month to date: {}\n", usd(*month_to_date));
            for s in by_service {
                out += &format!("    {}  {}\n", s.service, usd(s.amount));
            }
        }
        actual::Spend::NotAvailable { reason } => {
            out += &format!("  actual spend: not available ({reason})\n");
        }
    }
    match &a.forecast {
        actual::Forecast::Available { month_total, .. } => {
            out += &format!("  forecast for the month: {}\n", usd(*month_total));
        }
        actual::Forecast::NotAvailable { reason } => {
            out += &format!("  forecast: not available ({reason})\n");
        }
    }
    out
}

pub fn signed(v: f64) -> String {
    let cents = (v * 100.0).round() / 100.0;
    if cents > 0.0 {
        format!("+{}", usd(cents))
    } else {
        usd(cents)
    }
}

fn far_off_note(c: &measured::Comparison) -> &'static str {
    if !c.far_off() {
        ""
    } else if c.measured > c.assumed {
        "more than twice the assumption"
    } else {
        "less than half the assumption"
    }
}

/// Which figure priced the estimate.
fn priced(c: &measured::Comparison) -> &'static str {
    if c.used { "measured" } else { "env file" }
}

fn measured_header(m: &measured::Measured) -> String {
    format!(
        "{} runs and {} results in the last {} days, about {:.1} runs a month",
        m.runs,
        m.results,
        m.days,
        m.runs / f64::from(m.days.max(1)) * 365.25 / 12.0
    )
}

/// Assumed against measured, far-off figures flagged where a reviewer sees them.
fn measured_markdown(m: &measured::Measured) -> String {
    if !m.usable() {
        return format!(
            "\nMeasured usage: {}.\n",
            md(m.not_enough.as_deref().unwrap_or_default())
        );
    }
    let mut out = format!(
        "\nMeasured usage ({}, from CloudWatch); a value the env file sets is priced as written:\n\n",
        measured_header(m)
    );
    let mut t = Table::new(["key", "assumed", "measured", "priced", ""])
        .heading(0, raw("`cost:` key"))
        .right(1)
        .right(2);
    for c in &m.comparisons {
        t.row([
            raw(crate::markdown::code(c.key)),
            text(c.assumed.to_string()),
            text(c.measured.to_string()),
            text(priced(c)),
            if c.far_off() {
                raw(format!(":warning: {}", far_off_note(c)))
            } else {
                text("")
            },
        ]);
    }
    out += &t.render();
    let far: Vec<&str> = m
        .comparisons
        .iter()
        .filter(|c| c.far_off())
        .map(|c| c.key)
        .collect();
    if !far.is_empty() {
        out += &format!(
            "\n> [!WARNING]\n> Measured usage is far from the assumption for {}: `fangops cost --measured --write` stores the measured values in the env file.\n",
            far.iter()
                .map(|k| crate::markdown::code(k))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}

fn measured_text(m: &measured::Measured) -> String {
    if !m.usable() {
        return format!(
            "  measured: {}\n",
            m.not_enough.as_deref().unwrap_or_default()
        );
    }
    let mut out = format!(
        "  measured usage ({}; {} CloudWatch {}):\n",
        measured_header(m),
        m.requests,
        if m.requests == 1 {
            "request"
        } else {
            "requests"
        }
    );
    let q = |k: &str| m.per_run.get(k).copied().unwrap_or(0.0);
    out += &format!(
        "    a run: {} messages sent, {} received, {} deleted, {} empty receives\n",
        q("sent"),
        q("received"),
        q("deleted"),
        q("empty_receives")
    );
    let width = m.comparisons.iter().map(|c| c.key.len()).max().unwrap_or(0);
    for c in &m.comparisons {
        let note = far_off_note(c);
        out += &format!(
            "    {:width$}  assumed {:>8}  measured {:>8}  priced {:8}{}{note}\n",
            c.key,
            c.assumed,
            c.measured,
            priced(c),
            if note.is_empty() { "" } else { "  ! " }
        );
    }
    out
}

/// The assumptions table, folded as a comment and a report show it.
pub fn folded_assumptions(table: &str) -> String {
    format!("<details><summary>Assumptions</summary>\n\n{table}\n</details>\n")
}
