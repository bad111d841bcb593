//! The contract between the producer, the sentiment function and the fangops CLI: the
//! queue message, and the result record written to S3. Both sides depend on this crate,
//! so a change to the contract is a compile error on the other side, not a runtime one.

pub mod keys;
pub mod metrics;
pub mod summary;

use std::fmt;

use serde::{Deserialize, Serialize};

/// SendMessageBatch takes at most 10 entries.
pub const SQS_BATCH_MAX: usize = 10;

/// Companies a sentiment invocation gets at most (the event source mapping's batch
/// size): one BatchDetectSentiment call carries up to 25 texts.
pub const SENTIMENT_BATCH_SIZE: u32 = 25;

/// How long the event source mapping gathers messages into a batch (a batch size over
/// 10 needs a window); part of the queue's visibility timeout.
pub const BATCHING_WINDOW_S: u32 = 5;

/// Receives of a message before the queue moves it to the dead-letter queue (the
/// template's `maxReceiveCount`; AWS advises at least 5 for a Lambda consumer).
pub const MAX_RECEIVES: u32 = 5;

/// One company to analyze in one run: the body of each SQS message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyMessage {
    pub company: String,
    pub run_id: RunId,
    /// The Wikipedia page to read, when the env file names one (`wikipedia:`); the
    /// company's name otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wikipedia: Option<String>,
}

/// Why a message body was rejected. A rejected message is reported as a batch item
/// failure and, after the queue's retries, lands in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("message body is not a company message: {0}")]
    NotJson(String),
    #[error("message names no company")]
    EmptyCompany,
}

/// A string that cannot be a [`RunId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a run id: use 1 to 64 ASCII letters, digits, `-` or `_`")]
pub struct InvalidRunId(pub String);

/// A setting the Lambda's template must provide is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingEnv(pub String);

impl CompanyMessage {
    /// The Wikipedia title to fetch: the one the env file gives, else the name.
    pub fn page(&self) -> &str {
        self.wikipedia.as_deref().unwrap_or(&self.company)
    }

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

/// How a canary run's id starts.
pub const CANARY_RUN_PREFIX: &str = "canary-";

/// Identifies one run of the pipeline. Appears in S3 keys, so it is restricted to
/// characters that are safe there: ASCII letters, digits, `-` and `_`, at most 64.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidRunId> {
        let s = s.into();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s))
        } else {
            Err(InvalidRunId(s))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The run id of a triggering event: the event's time and a hash of its id, so that
    /// a retried or repeated delivery of one event is the same run (EventBridge delivers
    /// at least once; Lambda retries a failed asynchronous invocation twice).
    pub fn for_event(time: time::OffsetDateTime, event_id: &str) -> Self {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(event_id.as_bytes());
        Self::generate(
            time,
            u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]),
        )
    }

    /// A new run id: the UTC start time, then a random suffix, so ids sort by time
    /// and two runs started in the same second do not collide.
    /// Example: `20261130T060000Z-3f9a2c1b`.
    pub fn generate(now: time::OffsetDateTime, random: u32) -> Self {
        let now = now.to_offset(time::UtcOffset::UTC);
        let stamp = now
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .expect("a UTC date always formats");
        Self(format!("{stamp}-{random:08x}"))
    }

    /// A canary run's id: a generated id behind [`CANARY_RUN_PREFIX`]. Its results go
    /// under their own prefix (`canary/`), which `results` and the trend never read, and
    /// they are not counted as results written by a scheduled run.
    /// Example: `canary-20261130T060000Z-3f9a2c1b`.
    pub fn canary(now: time::OffsetDateTime, random: u32) -> Self {
        Self(format!(
            "{CANARY_RUN_PREFIX}{}",
            Self::generate(now, random).0
        ))
    }

    /// Whether this is a canary run (fangops's verification), not a scheduled one.
    pub fn is_canary(&self) -> bool {
        self.0.starts_with(CANARY_RUN_PREFIX)
    }

    /// The run's date (`YYYY-MM-DD`) for generated ids, used in S3 keys; `undated`
    /// for ids given by hand.
    pub fn date(&self) -> String {
        let id = self.0.strip_prefix(CANARY_RUN_PREFIX).unwrap_or(&self.0);
        let b = id.as_bytes();
        if b.len() >= 9 && b[..8].iter().all(u8::is_ascii_digit) && b[8] == b'T' {
            format!("{}-{}-{}", &id[..4], &id[4..6], &id[6..8])
        } else {
            "undated".to_owned()
        }
    }
}

impl TryFrom<String> for RunId {
    type Error = InvalidRunId;
    fn try_from(s: String) -> Result<Self, InvalidRunId> {
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

impl Sentiment {
    /// The label as Comprehend spells it (and as it is serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "POSITIVE",
            Self::Negative => "NEGATIVE",
            Self::Neutral => "NEUTRAL",
            Self::Mixed => "MIXED",
        }
    }
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

impl AnalyzerKind {
    /// The name as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Comprehend => "comprehend",
            Self::Vader => "vader",
        }
    }
}

/// Whether a company has a sentiment in a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// Analyzed: `sentiment` and `scores` are set.
    #[default]
    Ok,
    /// No text to analyze, for a reason trying again will not change (no page, a
    /// disambiguation page): recorded, not retried, and `reason` says what to fix.
    NoText,
}

/// One company's result in one run: one JSON object in S3. Records written before a
/// field existed read with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentRecord {
    pub company: String,
    pub run_id: RunId,
    #[serde(default)]
    pub status: ResultStatus,
    /// Why there is no sentiment (`no_text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The Wikipedia title read (the env file's `wikipedia:`, else the name); absent
    /// for the offline texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    pub source_url: String,
    pub excerpt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<SentimentScores>,
    pub analyzer: AnalyzerKind,
    /// The characters sent to the analyzer (Comprehend reads at most 500).
    #[serde(default)]
    pub chars_analyzed: usize,
    /// RFC 3339, UTC.
    pub analyzed_at: String,
    /// The scores came from the analysis cache: when that text was analyzed (RFC 3339).
    /// Nothing was sent to the analyzer for this result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<String>,
}

/// What the producer records at the start of a run, so that whoever sees the last
/// result can tell the run is complete and write its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunManifest {
    pub run_id: RunId,
    pub companies: usize,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// The invocation that claimed the run (Lambda's request id, which its own retries
    /// of an asynchronous event keep): another invocation finding the claim made by
    /// someone else queues nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
}

/// What the sentiment function leaves when a canary's message fails and goes back to
/// the queue (`keys::failure_key`): the reason the deploy's verification reports, at
/// once, instead of waiting out its timeout for a result that is not coming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureNote {
    pub company: String,
    pub reason: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A setting the Lambda's template must provide, read from the environment. Only the
/// Lambdas' `main.rs` call it: they are the functions' edge, as `src/cli` is fangops's.
#[allow(clippy::disallowed_methods)]
pub fn required_env(name: &str) -> Result<String, MissingEnv> {
    std::env::var(name).map_err(|_| MissingEnv(name.to_owned()))
}

/// Lowercase hex of bytes (a sha256 digest): the one spelling of hashes in keys,
/// fingerprints and reports.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// RFC 3339 in UTC, second precision: the timestamps in records and manifests.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("0 ns is valid")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC date always formats")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time_and_carry_their_date() {
        let t = time::macros::datetime!(2026-11-30 06:00:00 UTC);
        let a = RunId::generate(t, 0xdead_beef);
        assert_eq!(a.as_str(), "20261130T060000Z-deadbeef");
        assert_eq!(a.date(), "2026-11-30");
        let b = RunId::generate(t + time::Duration::seconds(1), 0);
        assert!(b > a);
        assert_eq!(RunId::new("manual-1").unwrap().date(), "undated");
        assert_eq!(rfc3339(t), "2026-11-30T06:00:00Z");
    }

    #[test]
    fn one_event_is_one_run_id() {
        let t = time::macros::datetime!(2026-11-30 06:00:00 UTC);
        let id = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa";
        assert_eq!(RunId::for_event(t, id), RunId::for_event(t, id));
        assert_ne!(
            RunId::for_event(t, id),
            RunId::for_event(t, "another-event")
        );
        assert!(
            RunId::for_event(t, id)
                .as_str()
                .starts_with("20261130T060000Z-")
        );
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn message_round_trips_in_the_documented_shape() {
        let msg = CompanyMessage {
            company: "Société Générale".into(),
            run_id: RunId::new("20261130-abc").unwrap(),
            wikipedia: None,
        };
        let body = msg.to_body();
        assert_eq!(
            body,
            r#"{"company":"Société Générale","run_id":"20261130-abc"}"#
        );
        assert_eq!(CompanyMessage::from_body(&body).unwrap(), msg);
        assert_eq!(msg.page(), "Société Générale");
        let apple = CompanyMessage {
            company: "Apple".into(),
            run_id: RunId::new("r1").unwrap(),
            wikipedia: Some("Apple Inc.".into()),
        };
        let body = apple.to_body();
        assert_eq!(
            body,
            r#"{"company":"Apple","run_id":"r1","wikipedia":"Apple Inc."}"#
        );
        assert_eq!(
            CompanyMessage::from_body(&body).unwrap().page(),
            "Apple Inc."
        );
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
    fn labels_match_their_serialized_form() {
        for s in [
            Sentiment::Positive,
            Sentiment::Negative,
            Sentiment::Neutral,
            Sentiment::Mixed,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for a in [AnalyzerKind::Comprehend, AnalyzerKind::Vader] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
    }

    #[test]
    fn record_fixture_round_trips() {
        let fixture = include_str!("../fixtures/record.json");
        let record: SentimentRecord = serde_json::from_str(fixture).unwrap();
        assert_eq!(record.sentiment, Some(Sentiment::Positive));
        assert_eq!(record.status, ResultStatus::Ok);
        assert_eq!(
            record.chars_analyzed, 0,
            "records from before the field read as 0"
        );
        assert_eq!(record.analyzer, AnalyzerKind::Comprehend);
        let again: SentimentRecord =
            serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(again, record);
    }
}
