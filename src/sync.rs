//! `fangops sync`: makes the companies table hold exactly the env file's companies.
//!
//! The file is the desired state. The table is read whole (paginated scan), the
//! difference computed, and the writes and deletes sent in BatchWriteItem calls of
//! 25, with UnprocessedItems sent again until none are left.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use serde::Serialize;

use crate::config::EnvConfig;

/// DynamoDB's limit on the requests of one BatchWriteItem call.
const BATCH: usize = 25;
/// Attempts per batch while DynamoDB keeps returning UnprocessedItems.
const ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub table: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    pub dry_run: bool,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty()
    }

    pub fn summary(&self) -> String {
        format!(
            "{}{} added, {} removed, {} unchanged",
            if self.dry_run { "would be: " } else { "" },
            self.added.len(),
            self.removed.len(),
            self.unchanged
        )
    }
}

/// The difference between the live table and the file: what to add and remove.
pub fn diff<'a>(
    live: &'a BTreeSet<String>,
    wanted: impl Iterator<Item = &'a str>,
) -> (Vec<String>, Vec<String>, usize) {
    let wanted: BTreeSet<&str> = wanted.collect();
    let added = wanted
        .iter()
        .filter(|w| !live.contains(**w))
        .map(|w| (*w).to_owned())
        .collect();
    let removed = live
        .iter()
        .filter(|l| !wanted.contains(l.as_str()))
        .cloned()
        .collect();
    let unchanged = live.iter().filter(|l| wanted.contains(l.as_str())).count();
    (added, removed, unchanged)
}

pub async fn sync(
    env: &EnvConfig,
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    dry_run: bool,
) -> Result<SyncReport> {
    let live: BTreeSet<String> = fang_producer::scan_companies(ddb, table)
        .await
        .with_context(|| format!("reading the companies in table {table}"))?
        .into_iter()
        .collect();
    let (added, removed, unchanged) = diff(&live, env.companies.names());
    let report = SyncReport {
        table: table.to_owned(),
        added,
        removed,
        unchanged,
        dry_run,
    };
    if dry_run || !report.changed() {
        return Ok(report);
    }
    let key = |name: &str| {
        HashMap::from([(
            fang_producer::COMPANY_ATTRIBUTE.to_owned(),
            AttributeValue::S(name.to_owned()),
        )])
    };
    let mut requests = Vec::with_capacity(report.added.len() + report.removed.len());
    for name in &report.added {
        requests.push(
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(key(name))).build()?)
                .build(),
        );
    }
    for name in &report.removed {
        requests.push(
            WriteRequest::builder()
                .delete_request(DeleteRequest::builder().set_key(Some(key(name))).build()?)
                .build(),
        );
    }
    for chunk in requests.chunks(BATCH) {
        write_batch(ddb, table, chunk.to_vec()).await?;
    }
    Ok(report)
}

async fn write_batch(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    batch: Vec<WriteRequest>,
) -> Result<()> {
    let mut pending = HashMap::from([(table.to_owned(), batch)]);
    for attempt in 0..ATTEMPTS {
        let out = ddb
            .batch_write_item()
            .set_request_items(Some(pending))
            .send()
            .await
            .map_err(aws_sdk_dynamodb::Error::from)
            .with_context(|| format!("writing companies to table {table}"))?;
        pending = out.unprocessed_items.unwrap_or_default();
        pending.retain(|_, v| !v.is_empty());
        if pending.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
    }
    bail!("DynamoDB left items unprocessed in table {table} after {ATTEMPTS} attempts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_is_a_set_difference() {
        let live: BTreeSet<String> = ["A", "B", "C"].iter().map(|s| (*s).to_owned()).collect();
        let (added, removed, unchanged) = diff(&live, ["B", "C", "D"].into_iter());
        assert_eq!(added, ["D"]);
        assert_eq!(removed, ["A"]);
        assert_eq!(unchanged, 2);
    }
}
