//! The contract between the producer, the sentiment function and the fangops CLI: the
//! queue message, and the result record written to S3. Both sides depend on this crate,
//! so a change to the contract is a compile error on the other side, not a runtime one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// SendMessageBatch takes at most 10 entries.
pub const SQS_BATCH_MAX: usize = 10;

/// One company to analyze in one run: the body of each SQS message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyMessage {
    pub company: String,
    pub run_id: RunId,
}

/// Why a message body was rejected. A rejected message is reported as a batch item
/// failure and, after the queue's retries, lands in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    NotJson(String),
    EmptyCompany,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson(e) => write!(f, "message body is not a company message: {e}"),
            Self::EmptyCompany => f.write_str("message names no company"),
        }
    }
}

impl std::error::Error for MessageError {}

impl CompanyMessage {
    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a company message always serializes")
    }

    pub fn from_body(body: &str) -> Result<Self, MessageError> {
        let msg: Self =
            serde_json::from_str(body).map_err(|e| MessageError::NotJson(e.to_string()))?;
        if msg.company.trim().is_empty() {
            return Err(MessageError::EmptyCompany);
        }
        Ok(msg)
    }
}

/// Identifies one run of the pipeline. Appears in S3 keys, so it is restricted to
/// characters that are safe there: ASCII letters, digits, `-` and `_`, at most 64.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s))
        } else {
            Err(format!("{s:?} is not a run id"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RunId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::new(s)
    }
}

impl From<RunId> for String {
    fn from(r: RunId) -> String {
        r.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Comprehend's four labels, spelled as Comprehend spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Sentiment {
    Positive,
    Negative,
    Neutral,
    Mixed,
}

/// All four scores, each 0.0 to 1.0. The original project kept only the label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentScores {
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
    pub mixed: f64,
}

/// Which analyzer produced a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalyzerKind {
    Comprehend,
    Vader,
}

/// One company's result in one run: one JSON object in S3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentRecord {
    pub company: String,
    pub run_id: RunId,
    pub source_url: String,
    pub excerpt: String,
    pub sentiment: Sentiment,
    pub scores: SentimentScores,
    pub analyzer: AnalyzerKind,
    /// RFC 3339, UTC.
    pub analyzed_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_round_trips_in_the_documented_shape() {
        let msg = CompanyMessage {
            company: "Société Générale".into(),
            run_id: RunId::new("20261130-abc").unwrap(),
        };
        let body = msg.to_body();
        assert_eq!(
            body,
            r#"{"company":"Société Générale","run_id":"20261130-abc"}"#
        );
        assert_eq!(CompanyMessage::from_body(&body).unwrap(), msg);
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        assert!(matches!(
            CompanyMessage::from_body("not json"),
            Err(MessageError::NotJson(_))
        ));
        assert!(matches!(
            CompanyMessage::from_body(r#"{"company":"A"}"#),
            Err(MessageError::NotJson(_))
        ));
        assert!(matches!(
            CompanyMessage::from_body(r#"{"company":"A","run_id":"r1","extra":1}"#),
            Err(MessageError::NotJson(_))
        ));
        assert!(matches!(
            CompanyMessage::from_body(r#"{"company":"A","run_id":"../../etc"}"#),
            Err(MessageError::NotJson(_))
        ));
        assert_eq!(
            CompanyMessage::from_body(r#"{"company":"  ","run_id":"r1"}"#),
            Err(MessageError::EmptyCompany)
        );
    }

    #[test]
    fn record_fixture_round_trips() {
        let fixture = include_str!("../fixtures/record.json");
        let record: SentimentRecord = serde_json::from_str(fixture).unwrap();
        assert_eq!(record.sentiment, Sentiment::Positive);
        assert_eq!(record.analyzer, AnalyzerKind::Comprehend);
        let again: SentimentRecord =
            serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(again, record);
    }
}
