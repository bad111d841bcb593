//! `fangops results --since 30d`: each company's sentiment across the runs of a
//! window, as a table with a sparkline, JSON, or a page with one line per company. A
//! daily pipeline is read as a trend, not one run at a time.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use fang_shared::summary::Row;
use fang_shared::{RunId, keys};
use serde::Serialize;

use crate::output::{display_width, pad};
use crate::resources::Names;
use crate::results::common_prefixes;
use crate::target::Target;

/// One company in one run: the net score is positive minus negative, -1 to 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub run_id: RunId,
    /// `None`: the run had no text for the company.
    pub sentiment: Option<fang_shared::Sentiment>,
    pub net: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub env: String,
    pub since_days: u32,
    /// The runs of the window, oldest first.
    pub runs: Vec<RunId>,
    /// Each company's points, in run order (a run without the company has none).
    pub companies: BTreeMap<String, Vec<Point>>,
}

/// Reads the runs of the last `days` days: one listing a date folder, one summary
/// (`summary.csv`) a run. Runs named by hand (`undated`) have no date to place them.
pub async fn fetch(target: &Target, days: u32) -> Result<Trend> {
    let env = &target.env;
    let ctx = target.aws().await?;
    let names = Names::new(&env.stack, &ctx.identity().await?.account);
    let s3 = ctx.s3();
    let first_day = (time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days)))
        .date()
        .to_string();
    let mut dates: Vec<String> = common_prefixes(&s3, &names.bucket, keys::RESULTS_PREFIX)
        .await?
        .into_iter()
        .filter(|d| {
            let day = d
                .trim_start_matches(keys::RESULTS_PREFIX)
                .trim_end_matches('/');
            day != "undated" && day >= first_day.as_str()
        })
        .collect();
    dates.sort();
    let mut runs = Vec::new();
    for date in &dates {
        let mut in_day = common_prefixes(&s3, &names.bucket, date).await?;
        in_day.sort();
        for prefix in in_day {
            let id = prefix
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            runs.push(RunId::new(id)?);
        }
    }
    let mut trend = Trend {
        env: env.name.clone(),
        since_days: days,
        runs: Vec::new(),
        companies: BTreeMap::new(),
    };
    for run_id in runs {
        // A run without a summary has not finished (or failed): not a point yet.
        let Some(csv) = fang_sentiment::store::get_summary(&s3, &names.bucket, &run_id).await?
        else {
            continue;
        };
        trend.add(run_id, &fang_shared::summary::from_csv(&csv));
    }
    Ok(trend)
}

impl Trend {
    /// Adds one run's rows.
    pub fn add(&mut self, run_id: RunId, rows: &[Row]) {
        for r in rows {
            self.companies
                .entry(r.company.clone())
                .or_default()
                .push(Point {
                    run_id: run_id.clone(),
                    sentiment: r.sentiment,
                    net: r.scores.map(|s| s.positive - s.negative),
                });
        }
        self.runs.push(run_id);
    }

    /// Per company: runs seen, the latest label, the mean net score, its change from
    /// the first run to the last, and a sparkline of the net score.
    pub fn render_table(&self) -> String {
        let mut out = format!(
            "{} over the last {} days: {} runs, {} companies\n",
            self.env,
            self.since_days,
            self.runs.len(),
            self.companies.len()
        );
        if self.runs.is_empty() {
            out += "no finished run in the window\n";
            return out;
        }
        let width = self
            .companies
            .keys()
            .map(|c| display_width(c))
            .max()
            .unwrap_or(7)
            .max(7);
        let _ = writeln!(
            out,
            "{}  {:<9} {:>5} {:>7} {:>7}  trend (net: positive − negative)",
            pad("company", width),
            "latest",
            "runs",
            "mean",
            "change"
        );
        for (company, points) in &self.companies {
            let nets: Vec<f64> = points.iter().filter_map(|p| p.net).collect();
            let latest = points
                .last()
                .and_then(|p| p.sentiment)
                .map_or("no text", |s| s.as_str());
            let mean = (!nets.is_empty()).then(|| nets.iter().sum::<f64>() / nets.len() as f64);
            let change = match (nets.first(), nets.last()) {
                (Some(a), Some(b)) if nets.len() > 1 => format!("{:+.2}", b - a),
                _ => "-".to_owned(),
            };
            let _ = writeln!(
                out,
                "{}  {:<9} {:>5} {:>7} {:>7}  {}",
                pad(company, width),
                latest,
                points.len(),
                mean.map_or("-".to_owned(), |m| format!("{m:+.2}")),
                change,
                sparkline(&self.runs, points)
            );
        }
        out
    }

    /// A self-contained page: one line per company over the runs, net score on the
    /// vertical axis. No external requests.
    pub fn render_html(&self) -> String {
        use html_escape::encode_text as text;
        const W: f64 = 720.0;
        const H: f64 = 300.0;
        const PAD: f64 = 40.0;
        const COLORS: [&str; 8] = [
            "#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a3069", "#57606a",
        ];
        let n = self.runs.len().max(2) - 1;
        let x = |i: usize| PAD + (W - 2.0 * PAD) * i as f64 / n as f64;
        let y = |net: f64| PAD + (H - 2.0 * PAD) * (1.0 - net.clamp(-1.0, 1.0)) / 2.0;
        let index: BTreeMap<&RunId, usize> =
            self.runs.iter().enumerate().map(|(i, r)| (r, i)).collect();
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"net sentiment per company over runs\">\n\
             <line x1=\"{PAD}\" y1=\"{mid}\" x2=\"{right}\" y2=\"{mid}\" stroke=\"#d0d7de\"/>\n\
             <text x=\"4\" y=\"{top}\" font-size=\"11\">+1</text><text x=\"4\" y=\"{mid}\" font-size=\"11\">0</text><text x=\"4\" y=\"{bottom}\" font-size=\"11\">−1</text>\n",
            mid = y(0.0),
            right = W - PAD,
            top = y(1.0) + 4.0,
            bottom = y(-1.0),
        );
        let mut legend = String::new();
        for (i, (company, points)) in self.companies.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let coords: Vec<String> = points
                .iter()
                .filter_map(|p| Some(format!("{:.1},{:.1}", x(index[&p.run_id]), y(p.net?))))
                .collect();
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
                coords.join(" "),
                text(company)
            );
            let _ = write!(
                legend,
                "<span><i style=\"background:{color}\"></i>{}</span>",
                text(company)
            );
        }
        svg.push_str("</svg>");
        let title = format!(
            "fangops results · {} · the last {} days",
            self.env, self.since_days
        );
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <title>{title}</title>\n<style>\nbody {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}\n\
             .legend span {{ display: inline-block; margin-right: 1em; }}\n\
             .legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}\n</style>\n</head>\n<body>\n\
             <h1>{title}</h1>\n<p>{runs} runs, {companies} companies; net sentiment is the positive score minus the negative one.</p>\n\
             <div class=\"legend\">{legend}</div>\n{svg}\n</body>\n</html>\n",
            title = text(&title),
            runs = self.runs.len(),
            companies = self.companies.len(),
        )
    }
}

/// One character a run, so the columns line up across companies: the net score as a
/// block, low to high; `·` where the run had no text for it; a space where the company
/// was not in the run.
fn sparkline(runs: &[RunId], points: &[Point]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    runs.iter()
        .map(|run| match points.iter().find(|p| &p.run_id == run) {
            None => ' ',
            Some(Point { net: None, .. }) => '·',
            Some(Point { net: Some(net), .. }) => {
                let i = ((net.clamp(-1.0, 1.0) + 1.0) / 2.0 * 7.0).round() as usize;
                BARS[i.min(7)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use fang_shared::{ResultStatus, Sentiment, SentimentScores};

    use super::*;

    fn row(company: &str, pos: f64, neg: f64) -> Row {
        Row {
            company: company.into(),
            status: ResultStatus::Ok,
            sentiment: Some(if pos > neg {
                Sentiment::Positive
            } else {
                Sentiment::Negative
            }),
            scores: Some(SentimentScores {
                positive: pos,
                negative: neg,
                neutral: 1.0 - pos - neg,
                mixed: 0.0,
            }),
            analyzed_at: "2026-11-30T06:00:04Z".into(),
            reason: None,
        }
    }

    fn sample() -> Trend {
        let mut t = Trend {
            env: "dev".into(),
            since_days: 30,
            runs: Vec::new(),
            companies: BTreeMap::new(),
        };
        for (day, (a, b)) in [(0.8, 0.1), (0.6, 0.2), (0.2, 0.6), (0.1, 0.8)]
            .iter()
            .enumerate()
        {
            let run = RunId::new(format!("2026112{day}T060000Z-0000000{day}")).unwrap();
            let mut rows = vec![row("Netflix", *a, *b), row("トヨタ自動車", 0.5, 0.1)];
            if day == 2 {
                rows.push(Row {
                    status: ResultStatus::NoText,
                    sentiment: None,
                    scores: None,
                    reason: Some("no page".into()),
                    ..row("Amazon", 0.0, 0.0)
                });
            }
            t.add(run, &rows);
        }
        t
    }

    #[test]
    fn trend_table_snapshot() {
        let table = sample().render_table();
        assert!(table.contains("Netflix"), "{table}");
        insta::assert_snapshot!(table);
    }

    #[test]
    fn trend_page_snapshot() {
        let page = sample().render_html();
        assert_eq!(page.matches("<polyline").count(), 3);
        insta::assert_snapshot!(page);
    }

    #[test]
    fn sparklines_go_from_low_to_high() {
        let t = sample();
        assert_eq!(sparkline(&t.runs, &t.companies["Netflix"]), "▇▆▃▂");
        // Only in the third run, without text there.
        assert_eq!(sparkline(&t.runs, &t.companies["Amazon"]), "  · ");
    }
}
