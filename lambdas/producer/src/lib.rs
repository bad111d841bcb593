//! The producer Lambda: scans the companies table and queues one message per company.
//!
//! This crate holds the handler logic as plain functions so it can be tested and reused
//! by `fangops run` locally; the Lambda entry point comes with the pipeline itself.

use fang_shared::{CompanyMessage, RunId, SQS_BATCH_MAX};

/// One SendMessageBatch entry: an id unique within its batch, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub body: String,
}

/// Splits the companies of a run into SendMessageBatch calls of at most 10 entries.
pub fn batches<'a>(
    companies: impl IntoIterator<Item = &'a str>,
    run_id: &RunId,
) -> Vec<Vec<Entry>> {
    let entries: Vec<Entry> = companies
        .into_iter()
        .enumerate()
        .map(|(i, company)| Entry {
            id: format!("m{i}"),
            body: CompanyMessage {
                company: company.to_owned(),
                run_id: run_id.clone(),
            }
            .to_body(),
        })
        .collect();
    entries
        .chunks(SQS_BATCH_MAX)
        .map(<[Entry]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_of_ten_cover_every_company_once() {
        let names: Vec<String> = (0..23).map(|i| format!("Company {i}")).collect();
        let run = RunId::new("r1").unwrap();
        let batches = batches(names.iter().map(String::as_str), &run);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 10, 3]
        );
        let companies: Vec<String> = batches
            .iter()
            .flatten()
            .map(|e| CompanyMessage::from_body(&e.body).unwrap().company)
            .collect();
        assert_eq!(companies, names);
        let ids: std::collections::HashSet<_> = batches.iter().flatten().map(|e| &e.id).collect();
        assert_eq!(ids.len(), 23);
    }

    #[test]
    fn no_companies_no_batches() {
        assert!(batches([], &RunId::new("r1").unwrap()).is_empty());
    }
}
