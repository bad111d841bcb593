//! The per-run CSV summary: one row per company, sorted by company, so the same
//! results always give the same file (whoever writes it, however often).

use crate::SentimentRecord;

pub const HEADER: [&str; 12] = [
    "company",
    "status",
    "sentiment",
    "positive",
    "negative",
    "neutral",
    "mixed",
    "analyzer",
    "chars_analyzed",
    "source_url",
    "analyzed_at",
    "reason",
];

/// Renders the summary; the CSV writer quotes names with commas, quotes or newlines.
pub fn to_csv(records: &[SentimentRecord]) -> String {
    let mut sorted: Vec<&SentimentRecord> = records.iter().collect();
    sorted.sort_by(|a, b| a.company.cmp(&b.company));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    for r in sorted {
        // A company without a sentiment (no_text) has empty score cells, not zeros.
        let score = |f: fn(&crate::SentimentScores) -> f64| {
            r.scores
                .as_ref()
                .map(|s| format!("{:.4}", f(s)))
                .unwrap_or_default()
        };
        w.write_record([
            r.company.as_str(),
            match r.status {
                crate::ResultStatus::Ok => "ok",
                crate::ResultStatus::NoText => "no_text",
            },
            r.sentiment.map_or("", crate::Sentiment::as_str),
            &score(|s| s.positive),
            &score(|s| s.negative),
            &score(|s| s.neutral),
            &score(|s| s.mixed),
            r.analyzer.as_str(),
            &r.chars_analyzed.to_string(),
            &r.source_url,
            &r.analyzed_at,
            r.reason.as_deref().unwrap_or(""),
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 is UTF-8")
}

/// One company's row of a summary, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub company: String,
    pub status: crate::ResultStatus,
    pub sentiment: Option<crate::Sentiment>,
    pub scores: Option<crate::SentimentScores>,
    pub analyzed_at: String,
    pub reason: Option<String>,
}

/// Reads a summary written by [`to_csv`] (or by an older fangops, without `status`):
/// rows that do not parse are skipped, a summary is a report, not the source of truth.
pub fn from_csv(csv_text: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().cloned().unwrap_or_default();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let cols = [
        "company",
        "status",
        "sentiment",
        "positive",
        "negative",
        "neutral",
        "mixed",
        "analyzed_at",
        "reason",
    ]
    .map(col);
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| {
            let get = |i: usize| cols[i].and_then(|c| r.get(c)).unwrap_or_default();
            let score = |i: usize| get(i).parse::<f64>().ok();
            let sentiment: Option<crate::Sentiment> =
                serde_json::from_value(serde_json::Value::String(get(2).to_owned())).ok();
            let scores = match (score(3), score(4), score(5), score(6)) {
                (Some(positive), Some(negative), Some(neutral), Some(mixed)) => {
                    Some(crate::SentimentScores {
                        positive,
                        negative,
                        neutral,
                        mixed,
                    })
                }
                _ => None,
            };
            let company = get(0);
            (!company.is_empty()).then(|| Row {
                company: company.to_owned(),
                status: if get(1) == "no_text" {
                    crate::ResultStatus::NoText
                } else {
                    crate::ResultStatus::Ok
                },
                sentiment,
                scores,
                analyzed_at: get(7).to_owned(),
                reason: Some(get(8)).filter(|r| !r.is_empty()).map(str::to_owned),
            })
        })
        .collect()
}

/// The companies of a summary without a sentiment (`no_text`), with their reasons.
pub fn no_text(csv_text: &str) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().cloned().unwrap_or_default();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(company), Some(status), Some(reason)) =
        (col("company"), col("status"), col("reason"))
    else {
        return Vec::new();
    };
    reader
        .records()
        .filter_map(Result::ok)
        .filter(|r| r.get(status) == Some("no_text"))
        .map(|r| {
            (
                r.get(company).unwrap_or_default().to_owned(),
                r.get(reason).unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_quoted() {
        let base: SentimentRecord =
            serde_json::from_str(include_str!("../fixtures/record.json")).unwrap();
        let mut b = base.clone();
        b.company = "Berkshire \"BRK\", Inc.".into();
        let csv = to_csv(&[base, b]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert!(
            lines[1].starts_with("\"Berkshire \"\"BRK\"\", Inc.\",ok,POSITIVE,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("Netflix,ok,POSITIVE,0.9100,0.0100,0.0700,0.0100,comprehend,0,"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn a_summary_reads_back() {
        let base: SentimentRecord =
            serde_json::from_str(include_str!("../fixtures/record.json")).unwrap();
        let mut none = base.clone();
        none.company = "Amazon".into();
        none.status = crate::ResultStatus::NoText;
        none.sentiment = None;
        none.scores = None;
        none.reason = Some("no page".into());
        let rows = from_csv(&to_csv(&[base.clone(), none]));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].company, "Amazon");
        assert_eq!(rows[0].status, crate::ResultStatus::NoText);
        assert_eq!(rows[0].scores, None);
        assert_eq!(rows[0].reason.as_deref(), Some("no page"));
        assert_eq!(rows[1].sentiment, base.sentiment);
        assert!((rows[1].scores.unwrap().positive - 0.91).abs() < 1e-9);
    }

    #[test]
    fn a_company_without_text_has_a_reason_and_no_scores() {
        let mut r: SentimentRecord =
            serde_json::from_str(include_str!("../fixtures/record.json")).unwrap();
        r.status = crate::ResultStatus::NoText;
        r.sentiment = None;
        r.scores = None;
        r.reason = Some("\"Amazon\" is a Wikipedia disambiguation page".into());
        let csv = to_csv(&[r]);
        let row = csv.lines().nth(1).unwrap();
        assert!(
            row.starts_with("Netflix,no_text,,,,,,comprehend,0,"),
            "{row}"
        );
        assert!(
            row.ends_with(",\"\"\"Amazon\"\" is a Wikipedia disambiguation page\""),
            "{row}"
        );
    }
}
