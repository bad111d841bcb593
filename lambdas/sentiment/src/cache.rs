//! What the sentiment function reuses between runs, kept in the results bucket under
//! `cache/`: each Wikipedia page's last text with its validator (`ETag`), and each
//! analysis by the exact text it scored (with the analyzer and the language). S3,
//! because the function reads and writes that bucket already: a GET costs $0.0004 per
//! 1,000, against at least 3 Comprehend units ($0.0003) for one text.
//!
//! The cache never fails a company: an entry that cannot be read is a miss, one that
//! cannot be written is a warning.

use fang_shared::{AnalyzerKind, Sentiment, SentimentScores};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::store;

/// The language every text is analyzed in (Comprehend is asked for English).
pub const LANGUAGE: &str = "en";

/// How long an analysis is reused: past it, an unchanged text is analyzed again, so
/// that a change in the analyzer's model reaches the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cache {
    pub max_age: time::Duration,
}

/// A page's last text and the validator Wikipedia gave with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPage {
    pub title: String,
    pub etag: String,
    pub text: String,
    pub source_url: String,
    /// RFC 3339, UTC.
    pub fetched_at: String,
}

/// One analysis of one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAnalysis {
    pub analyzer: AnalyzerKind,
    pub language: String,
    pub sentiment: Sentiment,
    pub scores: SentimentScores,
    /// RFC 3339, UTC: when the text was sent to the analyzer.
    pub analyzed_at: String,
}

impl StoredAnalysis {
    /// Whether it may stand for an analysis made `now`.
    pub fn fresh(&self, now: time::OffsetDateTime, max_age: time::Duration) -> bool {
        time::OffsetDateTime::parse(
            &self.analyzed_at,
            &time::format_description::well_known::Rfc3339,
        )
        .is_ok_and(|at| now - at < max_age)
    }
}

/// An entry, `None` when absent or unreadable (said in a warning).
pub async fn get<T: DeserializeOwned>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Option<T> {
    match store::get_bytes(s3, bucket, key).await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes)
            .inspect_err(|e| tracing::warn!(key, error = %e, "unreadable cache entry; a miss"))
            .ok(),
        Ok(None) => None,
        // The function may list its bucket, so S3 answers a missing key with 404: a
        // 403 is a read the role is denied, which makes every text a miss (and paid
        // for) until someone fixes it. Said as a warning, with the key.
        Err(e) => {
            tracing::warn!(key, error = %e, "cache entry not read; a miss");
            None
        }
    }
}

/// Writes an entry; a failure is a warning (the next run misses it).
pub async fn put<T: Serialize>(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, value: &T) {
    let body = serde_json::to_vec(value).expect("a cache entry serializes");
    if let Err(e) = store::put_json(s3, bucket, key, body, "application/json").await {
        tracing::warn!(key, error = %e, "cache entry not written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_analysis_is_fresh_until_max_age() {
        let a = StoredAnalysis {
            analyzer: AnalyzerKind::Comprehend,
            language: LANGUAGE.into(),
            sentiment: Sentiment::Positive,
            scores: SentimentScores {
                positive: 0.9,
                negative: 0.0,
                neutral: 0.1,
                mixed: 0.0,
            },
            analyzed_at: "2026-11-24T06:00:00Z".into(),
        };
        let week = time::Duration::days(7);
        assert!(a.fresh(time::macros::datetime!(2026-11-30 06:00 UTC), week));
        assert!(!a.fresh(time::macros::datetime!(2026-12-01 06:00 UTC), week));
        let garbled = StoredAnalysis {
            analyzed_at: "yesterday".into(),
            ..a
        };
        assert!(!garbled.fresh(time::macros::datetime!(2026-11-25 06:00 UTC), week));
    }
}
