//! `fangops sync`: makes the companies table hold exactly the env file's companies.
//!
//! The file is the desired state. The table is read whole (a paginated scan of the key
//! only), the difference computed, and the writes and deletes sent as BatchWriteItem
//! calls of 25, several at once. Throttling, 5xx answers, dropped connections and
//! UnprocessedItems are retried with jittered backoff until done or the deadline.
//!
//! Every write is idempotent (a put of a missing key, a delete of a present one), so a
//! sync killed midway, or two syncs racing, still end with the table equal to the file:
//! the next run computes the difference from what is there. The sync owns the set of
//! keys, nothing else: an item that is in the file is never rewritten, so attributes
//! written out of band survive.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use futures::StreamExt;
use serde::Serialize;

use crate::config::{self, EnvConfig};
use crate::diagnostics::{Diagnostic, InvalidInput};
use crate::output::Ui;
use crate::resources::Names;
use crate::retry::{Backoff, is_transient};
use crate::target::Target;

/// DynamoDB's limit on the requests of one BatchWriteItem call.
const BATCH: usize = 25;
/// BatchWriteItem calls in flight at once. Eight keep an on-demand table (and moto)
/// busy without tripping its per-partition limits on a fresh table.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Names listed in a refusal or a human report before "and N more".
const LIST_LIMIT: usize = 20;

#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    pub dry_run: bool,
    /// Go ahead even when the sync would delete more than the env file allows.
    pub allow_mass_delete: bool,
    pub concurrency: usize,
    /// The whole sync (scan and writes) gives up after this long.
    pub timeout: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            allow_mass_delete: false,
            concurrency: DEFAULT_CONCURRENCY,
            timeout: Duration::from_secs(600),
        }
    }
}

/// What the calls took; retries are what made a faulty network invisible.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WriteStats {
    pub scan_pages: u64,
    pub batch_calls: u64,
    /// Items DynamoDB returned as UnprocessedItems and that were sent again.
    pub unprocessed_resent: u64,
    /// Calls that failed with a transient error and were made again.
    pub errors_retried: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub env: String,
    pub table: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// Companies whose Wikipedia page changed (UpdateItem, other attributes kept).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retitled: Vec<Retitle>,
    pub dry_run: bool,
    /// Dry run only: why the real sync would refuse (a mass delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    pub stats: WriteStats,
    pub duration_s: f64,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty() || !self.retitled.is_empty()
    }

    pub fn summary(&self) -> String {
        format!(
            "{}{} added, {} removed, {}{} unchanged",
            if self.dry_run { "would be: " } else { "" },
            self.added.len(),
            self.removed.len(),
            if self.retitled.is_empty() {
                String::new()
            } else {
                format!("{} with a new Wikipedia page, ", self.retitled.len())
            },
            self.unchanged
        )
    }

    /// For a terminal: the counts, then the names (the first few of each side).
    pub fn render(&self) -> String {
        let mut out = format!(
            "Companies in {} ({}): {}{}\n",
            self.table,
            self.env,
            self.summary(),
            if self.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        );
        for (sign, names) in [("+", &self.added), ("-", &self.removed)] {
            for n in names.iter().take(LIST_LIMIT) {
                out += &format!("  {sign} {n}\n");
            }
            if names.len() > LIST_LIMIT {
                out += &format!("  {sign} … and {} more\n", names.len() - LIST_LIMIT);
            }
        }
        for r in &self.retitled {
            out += &format!("  ~ {r}\n");
        }
        if let Some(why) = &self.blocked {
            out += &format!(
                "The sync would refuse: {why}. Pass --allow-mass-delete if that is intended.\n"
            );
        }
        if !self.dry_run && self.changed() {
            out += &format!(
                "{} BatchWriteItem calls in {:.1} s",
                self.stats.batch_calls, self.duration_s
            );
            let retried = self.stats.errors_retried + self.stats.unprocessed_resent;
            if retried > 0 {
                out += &format!(
                    "; {} failed calls and {} unprocessed items retried",
                    self.stats.errors_retried, self.stats.unprocessed_resent
                );
            }
            out += ".\n";
        }
        out
    }
}

/// The companies table as read: every name, and the Wikipedia title of those that
/// have one (the `wikipedia` attribute the producer puts in each message).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveTable {
    pub names: BTreeSet<String>,
    pub titles: BTreeMap<String, String>,
}

impl LiveTable {
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// The table as the file would make it (a base revision's file, a new table).
    pub fn from_list(list: &crate::config::names::CompanyList) -> Self {
        Self {
            names: list.names().map(str::to_owned).collect(),
            titles: list
                .iter()
                .filter_map(|c| Some((c.name.clone(), c.wikipedia.clone()?)))
                .collect(),
        }
    }
}

/// A company in both the table and the file whose Wikipedia page differs: a change,
/// written with UpdateItem so the item's other attributes stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retitle {
    pub name: String,
    /// The table's title (`None`: the name's page).
    pub from: Option<String>,
    pub to: Option<String>,
}

impl std::fmt::Display for Retitle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let page = |t: &Option<String>| t.clone().unwrap_or_else(|| self.name.clone());
        write!(
            f,
            "{}: page {} → {}",
            self.name,
            page(&self.from),
            page(&self.to)
        )
    }
}

/// The difference between the live table and the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// In both, with another Wikipedia page in the file (counted apart from unchanged).
    pub retitled: Vec<Retitle>,
}

/// [`diff`] of the names, and the companies in both whose Wikipedia page differs.
pub fn diff_table(live: &LiveTable, wanted: &crate::config::names::CompanyList) -> Diff {
    let mut d = diff(&live.names, wanted.names());
    d.retitled = wanted
        .iter()
        .filter(|c| live.names.contains(&c.name))
        .filter(|c| live.titles.get(&c.name) != c.wikipedia.as_ref())
        .map(|c| Retitle {
            name: c.name.clone(),
            from: live.titles.get(&c.name).cloned(),
            to: c.wikipedia.clone(),
        })
        .collect();
    d.unchanged -= d.retitled.len();
    d
}

/// Keys compare exactly: the file's spelling is what the producer reads, so a live
/// "APPLE" against a file's "Apple" is one removal and one addition.
pub fn diff<'a>(live: &BTreeSet<String>, wanted: impl Iterator<Item = &'a str>) -> Diff {
    let wanted: BTreeSet<&str> = wanted.collect();
    Diff {
        added: wanted
            .iter()
            .filter(|w| !live.contains(**w))
            .map(|w| (*w).to_owned())
            .collect(),
        removed: live
            .iter()
            .filter(|l| !wanted.contains(l.as_str()))
            .cloned()
            .collect(),
        unchanged: live.iter().filter(|l| wanted.contains(l.as_str())).count(),
        retitled: Vec::new(),
    }
}

/// Why a sync deleting `diff.removed` from a table of `live` names would be a mass
/// delete: more than `sync.max_delete_percent` of a non-empty table, or all of it
/// because the file lists none. A truncated list from a bad merge must not silently
/// empty prod.
pub fn mass_delete(env: &EnvConfig, diff: &Diff, live: usize) -> Option<String> {
    let removing = diff.removed.len();
    if removing == 0 {
        return None;
    }
    let max = env.sync.max_delete_percent as usize;
    let empties = env.companies.is_empty();
    // Integer comparison: removing / live > max / 100.
    if !empties && removing * 100 <= max * live {
        return None;
    }
    let why = if empties {
        "every company in it, as the file lists none".to_owned()
    } else {
        format!(
            "{}% of it, more than the {max}% allowed (sync.max_delete_percent)",
            removing * 100 / live
        )
    };
    let names: Vec<&str> = diff
        .removed
        .iter()
        .take(LIST_LIMIT)
        .map(String::as_str)
        .collect();
    let more = removing.saturating_sub(LIST_LIMIT);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(format!(
        "the sync would delete {removing} of the {live} companies in the table, {why}: {}{more}",
        names.join(", ")
    ))
}

/// [`mass_delete`] as an input error, unless the user allowed it.
pub fn check_mass_delete(
    env: &EnvConfig,
    diff: &Diff,
    live: usize,
    allow: bool,
) -> Result<(), InvalidInput> {
    match mass_delete(env, diff, live) {
        Some(why) if !allow => Err(InvalidInput(vec![
            Diagnostic::whole_file(
                &env.path,
                format!("{why}. If that is intended, pass --allow-mass-delete"),
            )
            .with_key("companies"),
        ])),
        _ => Ok(()),
    }
}

/// The table's companies, or None when the table does not exist (yet).
pub async fn read_live(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    deadline: Instant,
    stats: &mut WriteStats,
) -> Result<Option<LiveTable>> {
    let mut live = LiveTable::default();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    let mut backoff = Backoff::new(deadline);
    loop {
        let page = ddb
            .scan()
            .table_name(table)
            .projection_expression("#c, #w")
            .expression_attribute_names("#c", fang_producer::COMPANY_ATTRIBUTE)
            .expression_attribute_names("#w", fang_producer::WIKIPEDIA_ATTRIBUTE)
            .set_exclusive_start_key(start.clone())
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) if is_transient(&e) => {
                stats.errors_retried += 1;
                tracing::debug!("scan of {table} failed, retrying: {e}");
                if backoff.wait().await {
                    continue;
                }
                return Err(crate::aws::error(e))
                    .with_context(|| format!("reading the companies in table {table}"))
                    .context("gave up at the deadline");
            }
            Err(e) => {
                return Err(crate::aws::error(e))
                    .with_context(|| format!("reading the companies in table {table}"));
            }
        };
        stats.scan_pages += 1;
        // Waits grow with consecutive failures, not with failures over a long scan.
        backoff = Backoff::new(deadline);
        for item in page.items() {
            let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
            let Some(name) = s(fang_producer::COMPANY_ATTRIBUTE) else {
                continue;
            };
            if let Some(title) = s(fang_producer::WIKIPEDIA_ATTRIBUTE).filter(|t| !t.is_empty()) {
                live.titles.insert(name.clone(), title);
            }
            live.names.insert(name);
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(Some(live)),
        }
    }
}

/// What a companies plan compared the env file with. JSON keeps the spelling it had:
/// `live table`, `new table`, the revision, or `unknown`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(into = "String")]
pub enum Against {
    /// The live companies table.
    LiveTable,
    /// No table yet: the stack does not exist, so every company is new.
    NewTable,
    /// The same env file at a git revision (the base branch), or `file:PATH`.
    Revision(String),
    /// Nothing could be read: not compared.
    #[default]
    Unknown,
}

impl std::fmt::Display for Against {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::LiveTable => "live table",
            Self::NewTable => "new table",
            Self::Revision(rev) => rev,
            Self::Unknown => "unknown",
        })
    }
}

impl From<Against> for String {
    fn from(a: Against) -> String {
        a.to_string()
    }
}

/// The companies part of a plan: what the sync after a deploy would do.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CompaniesPlan {
    pub against: Against,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// Companies whose Wikipedia page the file changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retitled: Vec<Retitle>,
    /// Why the sync would refuse (a mass delete), when it would.
    pub refused: Option<String>,
    /// Why the live table was not the basis, when it was not.
    pub note: Option<String>,
}

impl CompaniesPlan {
    pub fn changed(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty() || !self.retitled.is_empty()
    }
}

/// Compares the env's companies with the live table when it can be read, else with
/// the same env file at `base` (a pull request's base branch).
pub async fn plan(
    env: &EnvConfig,
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    base: Option<&str>,
    timeout: Duration,
) -> CompaniesPlan {
    let mut stats = WriteStats::default();
    let deadline = Instant::now() + timeout;
    let (against, live, note) = match read_live(ddb, table, deadline, &mut stats).await {
        Ok(Some(live)) => (Against::LiveTable, Some(live), None),
        Ok(None) => (Against::NewTable, Some(LiveTable::default()), None),
        Err(e) => {
            let note = format!("the live table could not be read: {e:#}");
            match base.map(|rev| (rev, config::load_at_rev(&env.path, rev))) {
                Some((rev, Ok(base_env))) => {
                    let base = base_env
                        .map(|b| LiveTable::from_list(&b.companies))
                        .unwrap_or_default();
                    (Against::Revision(rev.to_owned()), Some(base), Some(note))
                }
                Some((rev, Err(e))) => (
                    Against::Unknown,
                    None,
                    Some(format!("{note}; and the file at {rev}: {e:#}")),
                ),
                None => (Against::Unknown, None, Some(note)),
            }
        }
    };
    let Some(live) = live else {
        return CompaniesPlan {
            against,
            note,
            ..Default::default()
        };
    };
    let d = diff_table(&live, &env.companies);
    let refused = check_mass_delete(env, &d, live.len(), false)
        .err()
        .map(|e| {
            e.0.into_iter()
                .map(|d| d.message)
                .collect::<Vec<_>>()
                .join("; ")
        });
    CompaniesPlan {
        against,
        added: d.added,
        removed: d.removed,
        unchanged: d.unchanged,
        retitled: d.retitled,
        refused,
        note,
    }
}

/// `fangops sync --env E`: checks the account, syncs.
pub async fn run(target: &Target, options: SyncOptions, ui: &Ui) -> Result<SyncReport> {
    let ctx = target.aws().await?;
    ctx.ensure_account().await?;
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&target.env.stack, &account);
    sync(&target.env, &ctx.dynamodb(), &names.table, options, ui).await
}

/// Makes `table` hold exactly the env's companies (or, dry, says what that would take).
pub async fn sync(
    env: &EnvConfig,
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    opts: SyncOptions,
    ui: &Ui,
) -> Result<SyncReport> {
    let started = Instant::now();
    let mut stats = WriteStats::default();
    let live = read_existing(env, ddb, table, started + opts.timeout, &mut stats).await?;
    apply(env, ddb, table, live, stats, opts, started, ui).await
}

/// The live names of a table that must exist (a sync has nothing to write into
/// otherwise).
pub async fn read_existing(
    env: &EnvConfig,
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    deadline: Instant,
    stats: &mut WriteStats,
) -> Result<LiveTable> {
    read_live(ddb, table, deadline, stats).await?.ok_or_else(|| {
        anyhow!(
            "table {table} does not exist; deploy the environment first with `fangops deploy --env {}`",
            env.name
        )
    })
}

/// Makes the table equal the file, given its live names as read (by [`sync`], or by a
/// deploy's pre-check, which hands on what it read rather than scanning again).
/// `stats` holds the reads already made; `started` is when the sync began.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    env: &EnvConfig,
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    live: LiveTable,
    stats: WriteStats,
    opts: SyncOptions,
    started: Instant,
    ui: &Ui,
) -> Result<SyncReport> {
    let deadline = started + opts.timeout;
    let d = diff_table(&live, &env.companies);
    // A dry run shows the refusal a real sync would meet, beside the diff.
    let blocked = mass_delete(env, &d, live.len()).filter(|_| !opts.allow_mass_delete);
    if !opts.dry_run {
        check_mass_delete(env, &d, live.len(), opts.allow_mass_delete)?;
    }
    let mut report = SyncReport {
        env: env.name.clone(),
        table: table.to_owned(),
        added: d.added,
        removed: d.removed,
        unchanged: d.unchanged,
        retitled: d.retitled,
        dry_run: opts.dry_run,
        blocked,
        stats,
        duration_s: 0.0,
    };
    if !opts.dry_run && report.changed() {
        write(
            ddb,
            table,
            &env.companies,
            &report.added,
            &report.removed,
            opts,
            deadline,
            ui,
            &mut report.stats,
        )
        .await?;
        for r in &report.retitled {
            retitle(ddb, table, r, deadline, &mut report.stats).await?;
        }
    }
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}

fn key(name: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([(
        fang_producer::COMPANY_ATTRIBUTE.to_owned(),
        AttributeValue::S(name.to_owned()),
    )])
}

/// A new item: the name, and the Wikipedia title when the file gives one.
fn item(name: &str, wikipedia: Option<&str>) -> HashMap<String, AttributeValue> {
    let mut item = key(name);
    if let Some(title) = wikipedia {
        item.insert(
            fang_producer::WIKIPEDIA_ATTRIBUTE.to_owned(),
            AttributeValue::S(title.to_owned()),
        );
    }
    item
}

/// Sets (or removes) one company's Wikipedia title in place: UpdateItem keeps the
/// attributes others wrote, and the condition never creates an item a concurrent
/// sync deleted.
async fn retitle(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    r: &Retitle,
    deadline: Instant,
    stats: &mut WriteStats,
) -> Result<()> {
    let mut backoff = Backoff::new(deadline);
    loop {
        let mut update = ddb
            .update_item()
            .table_name(table)
            .set_key(Some(key(&r.name)))
            .condition_expression("attribute_exists(#c)")
            .expression_attribute_names("#c", fang_producer::COMPANY_ATTRIBUTE)
            .expression_attribute_names("#w", fang_producer::WIKIPEDIA_ATTRIBUTE);
        update = match &r.to {
            Some(title) => update
                .update_expression("SET #w = :w")
                .expression_attribute_values(":w", AttributeValue::S(title.clone())),
            None => update.update_expression("REMOVE #w"),
        };
        stats.batch_calls += 1;
        match update.send().await {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                return Ok(());
            }
            Err(e) if is_transient(&e) && backoff.wait().await => stats.errors_retried += 1,
            Err(e) => {
                return Err(crate::aws::error(e)).with_context(|| {
                    format!("setting the Wikipedia page of {} in table {table}", r.name)
                });
            }
        }
    }
}

/// Puts then deletes, in batches of 25 with `concurrency` calls in flight. Puts go
/// first so that a sync stopped midway leaves a superset, never a hole, for a run.
#[allow(clippy::too_many_arguments)]
async fn write(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    companies: &crate::config::names::CompanyList,
    added: &[String],
    removed: &[String],
    opts: SyncOptions,
    deadline: Instant,
    ui: &Ui,
    stats: &mut WriteStats,
) -> Result<()> {
    let puts = added.chunks(BATCH).map(|chunk| {
        chunk
            .iter()
            .map(|n| put_request(n, companies))
            .collect::<Vec<_>>()
    });
    let deletes = removed
        .chunks(BATCH)
        .map(|chunk| chunk.iter().map(|n| delete_request(n)).collect::<Vec<_>>());
    let total = added.len().div_ceil(BATCH) + removed.len().div_ceil(BATCH);
    let progress = ui.progress(format!(
        "syncing {table}: {} to add, {} to remove",
        added.len(),
        removed.len()
    ));
    let mut done = 0;
    let mut results = futures::stream::iter(puts.chain(deletes))
        .map(|batch| write_batch(ddb, table, batch, deadline))
        .buffer_unordered(opts.concurrency.max(1));
    let mut failed = None;
    while let Some(result) = results.next().await {
        let batch_stats = match result {
            Ok(s) => s,
            Err((e, s)) => {
                failed = Some(e);
                s
            }
        };
        stats.batch_calls += batch_stats.batch_calls;
        stats.unprocessed_resent += batch_stats.unprocessed_resent;
        stats.errors_retried += batch_stats.errors_retried;
        if failed.is_some() {
            // Stop here: the writes are idempotent, so the next sync resumes from
            // whatever the batches still in flight did or did not write.
            break;
        }
        done += 1;
        progress.tick(format!("syncing {table}: batch {done} of {total}"));
    }
    drop(progress);
    match failed {
        None => Ok(()),
        Some(e) => Err(e.context(format!(
            "syncing the companies of table {table} stopped after {done} of {total} batches; \
             run the sync again, it picks up where this one stopped"
        ))),
    }
}

/// The put of a company's item, with its Wikipedia title when the file gives one.
fn put_request(name: &str, companies: &crate::config::names::CompanyList) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(item(
                    name,
                    companies.get(name).and_then(|c| c.wikipedia.as_deref()),
                )))
                .build()
                .expect("item is set"),
        )
        .build()
}

/// The delete of a company's item.
fn delete_request(name: &str) -> WriteRequest {
    WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(key(name)))
                .build()
                .expect("key is set"),
        )
        .build()
}

/// One batch, until every item is processed, a non-transient error, or the deadline.
async fn write_batch(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    batch: Vec<WriteRequest>,
    deadline: Instant,
) -> Result<WriteStats, (anyhow::Error, WriteStats)> {
    let mut stats = WriteStats::default();
    let mut pending = batch;
    let mut backoff = Backoff::new(deadline);
    loop {
        stats.batch_calls += 1;
        let sent = ddb
            .batch_write_item()
            .request_items(table, pending.clone())
            .send()
            .await;
        match sent {
            Ok(out) => {
                let left = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(table))
                    .unwrap_or_default();
                if left.is_empty() {
                    return Ok(stats);
                }
                tracing::debug!(
                    "{} of {} items unprocessed in {table}",
                    left.len(),
                    pending.len()
                );
                stats.unprocessed_resent += left.len() as u64;
                pending = left;
            }
            Err(e) if is_transient(&e) => {
                tracing::debug!("BatchWriteItem on {table} failed, retrying: {e}");
                stats.errors_retried += 1;
            }
            Err(e) => {
                let e = anyhow::Error::from(crate::aws::error(e))
                    .context(format!("writing companies to table {table}"));
                return Err((e, stats));
            }
        }
        if !backoff.wait().await {
            let e = anyhow!(
                "gave up at the deadline with {} items of a batch still unwritten to table {table}",
                pending.len()
            );
            return Err((e, stats));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::env::dev;

    #[test]
    fn sync_report_terminal_snapshot() {
        let report = SyncReport {
            env: "dev".into(),
            table: "fang-dev-companies".into(),
            added: vec!["Spotify".into(), "トヨタ自動車".into()],
            removed: vec!["Netflix".into()],
            unchanged: 4,
            retitled: vec![Retitle {
                name: "Apple".into(),
                from: None,
                to: Some("Apple Inc.".into()),
            }],
            dry_run: false,
            blocked: None,
            stats: WriteStats {
                scan_pages: 1,
                batch_calls: 2,
                unprocessed_resent: 3,
                errors_retried: 1,
            },
            duration_s: 0.42,
        };
        insta::assert_snapshot!("sync_written", report.render());
        let dry = SyncReport {
            dry_run: true,
            added: Vec::new(),
            retitled: Vec::new(),
            removed: (0..25).map(|i| format!("Company {i:02}")).collect(),
            blocked: Some("it would delete 25 of 29 companies (86%), more than 50%".into()),
            ..report
        };
        insta::assert_snapshot!("sync_dry_run_blocked", dry.render());
    }

    fn live(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn mass_delete_guard_counts_the_share_of_the_live_table() {
        let table = live(&["A", "B", "C", "D"]);
        // Two of four is 50%: allowed by default.
        let env = dev(&["A", "B"], "");
        let d = diff(&table, env.companies.names());
        assert!(check_mass_delete(&env, &d, 4, false).is_ok());
        // Three of four is 75%: refused, with the count, the share and the names.
        let env = dev(&["A"], "");
        let d = diff(&table, env.companies.names());
        let err = check_mass_delete(&env, &d, 4, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("environments/dev.yaml"), "{err}");
        assert!(err.contains("companies"), "{err}");
        assert!(err.contains("delete 3 of the 4 companies"), "{err}");
        assert!(
            err.contains("75% of it, more than the 50% allowed"),
            "{err}"
        );
        assert!(err.contains("B, C, D"), "{err}");
        assert!(err.contains("--allow-mass-delete"), "{err}");
        assert!(check_mass_delete(&env, &d, 4, true).is_ok());
        // A stricter env refuses what the default allows.
        let env = dev(&["A", "B"], "sync: {max_delete_percent: 25}\n");
        let d = diff(&table, env.companies.names());
        assert!(check_mass_delete(&env, &d, 4, false).is_err());
    }

    #[test]
    fn emptying_the_table_is_always_refused() {
        let env = dev(&[], "sync: {max_delete_percent: 100}\n");
        let d = diff(&live(&["A"]), env.companies.names());
        let err = check_mass_delete(&env, &d, 1, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("every company in it"), "{err}");
        // An empty table and an empty file: nothing to delete, nothing to refuse.
        assert!(check_mass_delete(&env, &Diff::default(), 0, false).is_ok());
    }

    #[test]
    fn a_long_refusal_lists_twenty_names_and_a_count() {
        let names: Vec<String> = (0..100).map(|i| format!("Company {i:03}")).collect();
        let table: BTreeSet<String> = names.iter().cloned().collect();
        let env = dev(&["Company 000"], "");
        let d = diff(&table, env.companies.names());
        let err = check_mass_delete(&env, &d, 100, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Company 020 and 79 more"), "{err}");
        assert!(!err.contains("Company 021"), "{err}");
    }

    #[test]
    fn diff_is_a_set_difference() {
        let live: BTreeSet<String> = ["A", "B", "C"].iter().map(|s| (*s).to_owned()).collect();
        let d = diff(&live, ["B", "C", "D"].into_iter());
        assert_eq!(d.added, ["D"]);
        assert_eq!(d.removed, ["A"]);
        assert_eq!(d.unchanged, 2);
    }

    /// What AWS does and moto does not: UnprocessedItems, throttled writes and scans, a
    /// table that never drains before the deadline. Bodies are DynamoDB's JSON as sent.
    mod replay {
        use std::time::Duration;

        use aws_smithy_http_client::test_util::StaticReplayClient;

        use super::*;

        const TABLE: &str = "fang-dev-companies";

        fn ddb(responses: Vec<(u16, String)>) -> (StaticReplayClient, aws_sdk_dynamodb::Client) {
            let replay = crate::testing::replay::replay(
                "https://dynamodb.us-east-1.amazonaws.com/",
                "application/x-amz-json-1.0",
                responses,
            );
            let client = crate::testing::replay::client!(aws_sdk_dynamodb, &replay);
            (replay, client)
        }

        fn scan(names: &[&str], last: Option<&str>) -> (u16, String) {
            let items: Vec<_> = names
                .iter()
                .map(|n| serde_json::json!({ "company": { "S": n } }))
                .collect();
            let mut body = serde_json::json!({
                "Count": names.len(), "ScannedCount": names.len(), "Items": items
            });
            if let Some(l) = last {
                body["LastEvaluatedKey"] = serde_json::json!({ "company": { "S": l } });
            }
            (200, body.to_string())
        }

        fn unprocessed(puts: &[&str]) -> (u16, String) {
            let reqs: Vec<_> = puts
                .iter()
                .map(|n| serde_json::json!({ "PutRequest": { "Item": { "company": { "S": n } } } }))
                .collect();
            let mut body = serde_json::json!({ "UnprocessedItems": {} });
            if !reqs.is_empty() {
                body["UnprocessedItems"][TABLE] = serde_json::json!(reqs);
            }
            (200, body.to_string())
        }

        fn error(code: &str, message: &str) -> (u16, String) {
            (
                400,
                serde_json::json!({
                    "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
                    "message": message
                })
                .to_string(),
            )
        }

        const THROTTLED: &str = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.";

        /// The companies each BatchWriteItem request put, in order.
        fn puts_sent(replay: &StaticReplayClient) -> Vec<Vec<String>> {
            replay
                .actual_requests()
                .filter(|r| {
                    r.headers()
                        .get("x-amz-target")
                        .is_some_and(|t| t.ends_with("BatchWriteItem"))
                })
                .map(|r| {
                    let body: serde_json::Value =
                        serde_json::from_slice(r.body().bytes().unwrap()).unwrap();
                    body["RequestItems"][TABLE]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|w| {
                            w["PutRequest"]["Item"]["company"]["S"]
                                .as_str()
                                .unwrap()
                                .to_owned()
                        })
                        .collect()
                })
                .collect()
        }

        fn opts() -> SyncOptions {
            SyncOptions {
                concurrency: 1,
                timeout: Duration::from_secs(30),
                ..Default::default()
            }
        }

        fn ui() -> Ui {
            Ui {
                json: false,
                ci: true,
                interactive: false,
                color: false,
            }
        }

        #[tokio::test]
        async fn unprocessed_items_are_sent_again_until_none_are_left() {
            let (replay, ddb) = ddb(vec![
                scan(&[], None),
                unprocessed(&["Apple", "Nvidia"]),
                unprocessed(&["Nvidia"]),
                unprocessed(&[]),
            ]);
            let report = sync(
                &dev(&["Apple", "Meta", "Nvidia"], ""),
                &ddb,
                TABLE,
                opts(),
                &ui(),
            )
            .await
            .unwrap();
            assert_eq!(report.added, ["Apple", "Meta", "Nvidia"]);
            assert_eq!(
                puts_sent(&replay),
                [
                    vec!["Apple", "Meta", "Nvidia"],
                    vec!["Apple", "Nvidia"],
                    vec!["Nvidia"]
                ]
            );
            assert_eq!(report.stats.batch_calls, 3);
            assert_eq!(report.stats.unprocessed_resent, 3);
            assert_eq!(report.stats.errors_retried, 0);
        }

        #[tokio::test]
        async fn throttled_scans_and_writes_are_retried() {
            let (replay, ddb) = ddb(vec![
                scan(&["Apple"], Some("Apple")),
                error(
                    "ThrottlingException",
                    "Rate of requests exceeds the allowed throughput.",
                ),
                scan(&["Meta"], None),
                error("ProvisionedThroughputExceededException", THROTTLED),
                (
                    500,
                    r#"{"__type":"com.amazon.coral.service#InternalFailure"}"#.to_owned(),
                ),
                unprocessed(&[]),
                unprocessed(&[]),
            ]);
            let report = sync(
                &dev(&["Apple", "Nvidia"], ""),
                &ddb,
                TABLE,
                SyncOptions {
                    allow_mass_delete: true,
                    ..opts()
                },
                &ui(),
            )
            .await
            .unwrap();
            assert_eq!(report.added, ["Nvidia"]);
            assert_eq!(report.removed, ["Meta"]);
            assert_eq!(report.unchanged, 1);
            assert_eq!(report.stats.scan_pages, 2);
            assert_eq!(report.stats.errors_retried, 3);
            assert_eq!(report.stats.batch_calls, 4);
            assert_eq!(replay.actual_requests().count(), 7);
            // The retried scan page asked for the same start key again.
            let second_scan: serde_json::Value = serde_json::from_slice(
                replay
                    .actual_requests()
                    .nth(2)
                    .unwrap()
                    .body()
                    .bytes()
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(second_scan["ExclusiveStartKey"]["company"]["S"], "Apple");
        }

        #[tokio::test]
        async fn a_permanent_error_fails_at_once_and_names_the_table() {
            let (replay, ddb) = ddb(vec![
                scan(&[], None),
                error(
                    "AccessDeniedException",
                    "User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to perform: dynamodb:BatchWriteItem",
                ),
            ]);
            let err = sync(&dev(&["Apple"], ""), &ddb, TABLE, opts(), &ui())
                .await
                .unwrap_err();
            let text = format!("{err:#}");
            assert!(
                text.contains("writing companies to table fang-dev-companies"),
                "{text}"
            );
            assert!(text.contains("not authorized"), "{text}");
            assert!(text.contains("run the sync again"), "{text}");
            assert_eq!(replay.actual_requests().count(), 2);
        }

        #[tokio::test]
        async fn a_table_that_never_drains_stops_at_the_deadline() {
            let mut responses = vec![scan(&[], None)];
            responses.extend((0..200).map(|_| unprocessed(&["Apple"])));
            let (_replay, ddb) = ddb(responses);
            let err = sync(
                &dev(&["Apple"], ""),
                &ddb,
                TABLE,
                SyncOptions {
                    timeout: Duration::from_millis(400),
                    ..opts()
                },
                &ui(),
            )
            .await
            .unwrap_err();
            let text = format!("{err:#}");
            assert!(
                text.contains("gave up at the deadline with 1 items"),
                "{text}"
            );
        }

        #[tokio::test]
        async fn a_missing_table_says_to_deploy_first() {
            let (_replay, ddb) = ddb(vec![error(
                "ResourceNotFoundException",
                "Requested resource not found",
            )]);
            let err = sync(&dev(&["Apple"], ""), &ddb, TABLE, opts(), &ui())
                .await
                .unwrap_err();
            assert!(
                format!("{err:#}")
                    .contains("deploy the environment first with `fangops deploy --env dev`"),
                "{err:#}"
            );
        }
    }
}
