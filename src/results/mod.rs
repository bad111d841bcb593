//! `fangops results`: the latest (or a given) run's results as a table, JSON, or one
//! self-contained HTML page (no external assets) with a sortable table and a chart.
//!
//! Company names and texts come from a file anyone can edit in a pull request and
//! from Wikipedia, so everything is escaped, and links are only ever http(s).

pub mod trend;

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use fang_shared::{RunId, SentimentRecord, keys};
use serde::Serialize;

use crate::output::{display_width, pad};
use crate::resources::Names;
use crate::target::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Html,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunResults {
    pub env: String,
    pub run_id: RunId,
    pub records: Vec<SentimentRecord>,
}

/// The results of run `run`, or of the latest run (a preview's, when `target` is one).
pub async fn fetch(target: &Target, run: Option<&str>) -> Result<RunResults> {
    let env = &target.env;
    let ctx = target.aws().await?;
    let names = Names::new(&env.stack, &ctx.identity().await?.account);
    let s3 = ctx.s3();
    let run_id = match run {
        Some(id) => RunId::new(id)?,
        None => latest_run(&s3, &names.bucket).await?.with_context(|| {
            format!(
                "no runs yet in s3://{}/{}; start one with `fangops run --env {}`",
                names.bucket,
                keys::RESULTS_PREFIX,
                env.name
            )
        })?,
    };
    let records = fang_sentiment::store::load_records(&s3, &names.bucket, &run_id)
        .await
        .with_context(|| format!("reading the results of run {run_id}"))?;
    if records.is_empty() && run.is_some() {
        bail!("run {run_id} has no results in s3://{}", names.bucket);
    }
    Ok(RunResults {
        env: env.name.clone(),
        run_id,
        records,
    })
}

/// The newest run: the greatest date folder, then the greatest run id in it (run ids
/// start with their UTC start time, so they sort by time).
async fn latest_run(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Option<RunId>> {
    let dates = common_prefixes(s3, bucket, keys::RESULTS_PREFIX).await?;
    let mut dates: Vec<&String> = dates.iter().filter(|d| !d.ends_with("undated/")).collect();
    dates.sort();
    for date in dates.into_iter().rev() {
        let mut runs = common_prefixes(s3, bucket, date).await?;
        runs.sort();
        if let Some(last) = runs.last() {
            let id = last
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            return Ok(Some(RunId::new(id)?));
        }
    }
    Ok(None)
}

pub(crate) async fn common_prefixes(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>> {
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.with_context(|| format!("listing s3://{bucket}/{prefix}"))?;
        out.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
    }
    Ok(out)
}

impl RunResults {
    pub fn render_table(&self) -> String {
        let width = self
            .records
            .iter()
            .map(|r| display_width(&r.company))
            .max()
            .unwrap_or(7)
            .max(7);
        let mut out = format!(
            "run {} on {} ({} companies)\n",
            self.run_id,
            self.env,
            self.records.len()
        );
        let _ = writeln!(
            out,
            "{}  {:<9} {:>8} {:>8} {:>8} {:>8}",
            pad("company", width),
            "sentiment",
            "positive",
            "negative",
            "neutral",
            "mixed"
        );
        let mut reasons = Vec::new();
        for r in &self.records {
            match (r.sentiment, r.scores) {
                (Some(sentiment), Some(scores)) => {
                    let _ = writeln!(
                        out,
                        "{}  {:<9} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                        pad(&r.company, width),
                        sentiment.as_str(),
                        scores.positive,
                        scores.negative,
                        scores.neutral,
                        scores.mixed
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "{}  {:<9} {:>8} {:>8} {:>8} {:>8}",
                        pad(&r.company, width),
                        "no text",
                        "-",
                        "-",
                        "-",
                        "-"
                    );
                    reasons.push(format!(
                        "  {}: {}",
                        r.company,
                        r.reason.as_deref().unwrap_or("no reason recorded")
                    ));
                }
            }
        }
        if !reasons.is_empty() {
            let _ = writeln!(out, "no text to analyze:\n{}", reasons.join("\n"));
        }
        out
    }

    /// One self-contained page: inline CSS, an inline SVG chart, a table sortable by
    /// a few lines of inline script. No external requests.
    pub fn render_html(&self) -> String {
        use html_escape::encode_text as text;
        let title = format!("fangops results · {} · run {}", self.env, self.run_id);
        let rows: String = self.records.iter().map(html_row).collect();
        format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ cursor: pointer; user-select: none; background: #f4f4f4; }}
td.excerpt {{ color: #555; max-width: 40em; }}
.positive {{ color: #1a7f37; }} .negative {{ color: #cf222e; }} .mixed {{ color: #9a6700; }} .neutral {{ color: #57606a; }}
.legend span {{ display: inline-block; margin-right: 1em; }}
.legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{count} companies. Click a column to sort.</p>
<div class="legend"><span><i style="background:#2da44e"></i>positive</span><span><i style="background:#cf222e"></i>negative</span><span><i style="background:#8c959f"></i>neutral</span><span><i style="background:#d4a72c"></i>mixed</span></div>
{chart}
<table id="results">
<thead><tr><th>company</th><th>sentiment</th><th>positive</th><th>negative</th><th>neutral</th><th>mixed</th><th>excerpt</th><th>source</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
<script>
document.querySelectorAll('#results th').forEach(function (th, col) {{
  th.addEventListener('click', function () {{
    var body = document.querySelector('#results tbody');
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.dataset.dir !== 'asc';
    rows.sort(function (a, b) {{
      var x = a.cells[col].textContent, y = b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    }});
    rows.forEach(function (r) {{ body.appendChild(r); }});
    th.dataset.dir = asc ? 'asc' : 'desc';
  }});
}});
</script>
</body>
</html>
"#,
            title = text(&title),
            count = self.records.len(),
            chart = self.chart_svg(),
            rows = rows,
        )
    }

    /// One stacked bar per company: positive, negative, neutral, mixed.
    fn chart_svg(&self) -> String {
        use html_escape::encode_text as text;
        const LABEL_W: f64 = 220.0;
        const BAR_W: f64 = 480.0;
        const ROW_H: f64 = 22.0;
        let height = ROW_H * self.records.len() as f64 + 10.0;
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"sentiment scores per company\">\n",
            LABEL_W + BAR_W + 10.0
        );
        for (i, r) in self.records.iter().enumerate() {
            let y = 5.0 + ROW_H * i as f64;
            let name: String = r.company.chars().take(30).collect();
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
                LABEL_W - 6.0,
                y + 14.0,
                text(&name)
            );
            let mut x = LABEL_W;
            // No text, no bar: the row keeps its label so the reader sees the gap.
            let Some(scores) = r.scores else { continue };
            for (value, color) in [
                (scores.positive, "#2da44e"),
                (scores.negative, "#cf222e"),
                (scores.neutral, "#8c959f"),
                (scores.mixed, "#d4a72c"),
            ] {
                let w = (value.clamp(0.0, 1.0) * BAR_W * 100.0).round() / 100.0;
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x:.2}\" y=\"{y}\" width=\"{w:.2}\" height=\"{}\" fill=\"{color}\"><title>{:.3}</title></rect>",
                    ROW_H - 6.0,
                    value
                );
                x += w;
            }
        }
        svg.push_str("</svg>");
        svg
    }
}

/// A result as a row of the page: the company, its sentiment and scores (or why it has
/// none), the excerpt, and a link to a web source.
fn html_row(r: &SentimentRecord) -> String {
    use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
    let source = if r.source_url.starts_with("https://") || r.source_url.starts_with("http://") {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">source</a>",
            attr(&r.source_url)
        )
    } else {
        text(&r.source_url).into_owned()
    };
    let (class, label, cells) = match (r.sentiment, r.scores) {
        (Some(sentiment), Some(sc)) => (
            sentiment.as_str().to_lowercase(),
            sentiment.as_str().to_owned(),
            format!(
                "<td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td>",
                sc.positive, sc.negative, sc.neutral, sc.mixed
            ),
        ),
        _ => (
            "no-text".to_owned(),
            "no text".to_owned(),
            "<td></td><td></td><td></td><td></td>".to_owned(),
        ),
    };
    // A company without text shows why in the excerpt's place.
    let excerpt = r.reason.as_deref().unwrap_or(&r.excerpt);
    format!(
        "<tr><td>{}</td><td class=\"{class}\">{label}</td>{cells}<td class=\"excerpt\">{}</td><td>{}</td></tr>\n",
        text(&r.company),
        text(excerpt),
        source
    )
}

#[cfg(test)]
mod tests {
    use fang_shared::{AnalyzerKind, ResultStatus, Sentiment, SentimentScores};

    use super::*;

    fn record(company: &str, sentiment: Sentiment, pos: f64, neg: f64) -> SentimentRecord {
        SentimentRecord {
            company: company.into(),
            run_id: RunId::new("20261130T060000Z-00000001").unwrap(),
            source_url: "https://en.wikipedia.org/wiki/Netflix".into(),
            excerpt: "A <b>text</b> & more".into(),
            status: ResultStatus::Ok,
            reason: None,
            page: None,
            sentiment: Some(sentiment),
            scores: Some(SentimentScores {
                positive: pos,
                negative: neg,
                neutral: 1.0 - pos - neg,
                mixed: 0.0,
            }),
            analyzer: AnalyzerKind::Vader,
            chars_analyzed: 20,
            analyzed_at: "2026-11-30T06:00:04Z".into(),
            cached: None,
        }
    }

    fn sample() -> RunResults {
        let mut evil = record("<script>alert(1)</script>", Sentiment::Negative, 0.1, 0.7);
        evil.source_url = "javascript:alert(1)".into();
        evil.excerpt = "\"><img src=x onerror=alert(1)>".into();
        RunResults {
            env: "local".into(),
            run_id: RunId::new("20261130T060000Z-00000001").unwrap(),
            records: vec![
                evil,
                record("Netflix", Sentiment::Positive, 0.8, 0.05),
                record("Société Générale", Sentiment::Mixed, 0.3, 0.3),
                record("トヨタ自動車", Sentiment::Neutral, 0.1, 0.1),
                SentimentRecord {
                    status: ResultStatus::NoText,
                    reason: Some(
                        "\"Amazon\" is a Wikipedia disambiguation page; set `wikipedia:` to the company's own page".into(),
                    ),
                    sentiment: None,
                    scores: None,
                    source_url: String::new(),
                    excerpt: String::new(),
                    chars_analyzed: 0,
                    ..record("Amazon", Sentiment::Neutral, 0.0, 0.0)
                },
            ],
        }
    }

    /// Regression: widths were counted in characters, so a CJK name (two cells a
    /// character) pushed its row's columns right.
    #[test]
    fn table_columns_line_up_with_wide_names() {
        let table = sample().render_table();
        let columns: Vec<usize> = table
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("no text to analyze"))
            .map(|l| {
                let at = [
                    "  sentiment",
                    "  POSITIVE",
                    "  NEGATIVE",
                    "  NEUTRAL",
                    "  MIXED",
                    "  no text",
                ]
                .iter()
                .find_map(|label| l.find(label))
                .unwrap();
                display_width(&l[..at])
            })
            .collect();
        assert!(columns.len() == 6, "{table}");
        assert!(
            columns.iter().all(|&c| c == columns[0]),
            "{columns:?}\n{table}"
        );
    }

    #[test]
    fn html_page_snapshot() {
        insta::assert_snapshot!(sample().render_html());
    }

    #[test]
    fn html_is_safe_against_injection() {
        let html = sample().render_html();
        assert!(!html.contains("<script>alert"), "company name not escaped");
        assert!(!html.contains("<img src=x"), "excerpt not escaped");
        assert!(
            !html.contains("href=\"javascript:"),
            "non-http link rendered"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "only the sorting script"
        );
        assert!(
            !html.contains("http://") || !html.contains("src=\"http"),
            "no external assets"
        );
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(sample().render_table());
    }
}
