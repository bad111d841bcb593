//! The sentiment Lambda: for each queued company, fetch a text, score it, store the
//! result, and report partial batch failures so one bad company never fails the others.
//!
//! The handler lives here, as a library, so that `fangops run` drives the very same
//! code against the local emulator; `main.rs` only wires it to the Lambda runtime.
//!
//! - [`text`]: where texts come from (Wikipedia, or offline fixtures)
//! - [`analyze`]: Amazon Comprehend, or the embedded VADER analyzer
//! - [`store`]: result objects and the per-run summary in S3
//! - [`handler`]: one SQS batch, end to end

pub mod analyze;
pub mod cache;
pub mod handler;
pub mod store;
pub mod text;

use fang_shared::{CompanyMessage, MessageError};
use serde::{Deserialize, Serialize};

pub use handler::{BatchOutcome, Deps, handle_batch};

/// The part of an SQS event the handler reads.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SqsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SqsRecord>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SqsRecord {
    #[serde(rename = "messageId")]
    pub message_id: String,
    pub body: String,
}

/// The partial batch response Lambda expects with `ReportBatchItemFailures`: the ids of
/// the messages to retry; all others are deleted from the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// A batch split by [`parse_batch`]: (message id, message) and (message id, why).
#[derive(Debug, Default)]
pub struct ParsedBatch {
    pub ok: Vec<(String, CompanyMessage)>,
    pub failed: Vec<(String, MessageError)>,
}

/// Splits a batch into the messages to process and the failures of those that cannot
/// be read. A malformed body fails only its own message.
pub fn parse_batch(event: &SqsEvent) -> ParsedBatch {
    let mut parsed = ParsedBatch::default();
    for record in &event.records {
        match CompanyMessage::from_body(&record.body) {
            Ok(msg) => parsed.ok.push((record.message_id.clone(), msg)),
            Err(e) => parsed.failed.push((record.message_id.clone(), e)),
        }
    }
    parsed
}

impl BatchResponse {
    pub fn from_failed_ids(ids: impl IntoIterator<Item = String>) -> Self {
        Self {
            batch_item_failures: ids
                .into_iter()
                .map(|item_identifier| BatchItemFailure { item_identifier })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_malformed_message_fails_alone() {
        let event: SqsEvent =
            serde_json::from_str(include_str!("../fixtures/sqs_event.json")).unwrap();
        let ParsedBatch { ok, failed } = parse_batch(&event);
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].1.company, "Amazon");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "bad-1");
        let response = BatchResponse::from_failed_ids(failed.into_iter().map(|(id, _)| id));
        assert_eq!(
            serde_json::to_string(&response).unwrap(),
            r#"{"batchItemFailures":[{"itemIdentifier":"bad-1"}]}"#
        );
    }
}
