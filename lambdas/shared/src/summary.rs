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
