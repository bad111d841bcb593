//! The per-run CSV summary: one row per company, sorted by company, so the same
//! results always give the same file (whoever writes it, however often).

use crate::SentimentRecord;

pub const HEADER: [&str; 9] = [
    "company",
    "sentiment",
    "positive",
    "negative",
    "neutral",
    "mixed",
    "analyzer",
    "source_url",
    "analyzed_at",
];

/// Renders the summary; the CSV writer quotes names with commas, quotes or newlines.
pub fn to_csv(records: &[SentimentRecord]) -> String {
    let mut sorted: Vec<&SentimentRecord> = records.iter().collect();
    sorted.sort_by(|a, b| a.company.cmp(&b.company));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).expect("writing to memory");
    for r in sorted {
        w.write_record([
            r.company.as_str(),
            r.sentiment.as_str(),
            &format!("{:.4}", r.scores.positive),
            &format!("{:.4}", r.scores.negative),
            &format!("{:.4}", r.scores.neutral),
            &format!("{:.4}", r.scores.mixed),
            r.analyzer.as_str(),
            &r.source_url,
            &r.analyzed_at,
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flushing to memory")).expect("CSV of UTF-8 is UTF-8")
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
            lines[1].starts_with("\"Berkshire \"\"BRK\"\", Inc.\",POSITIVE,"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("Netflix,POSITIVE,0.9100,0.0100,0.0700,0.0100,comprehend,"));
    }
}
