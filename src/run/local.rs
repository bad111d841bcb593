//! The local runner: the pipeline on one machine, against an emulator.
//!
//! moto runs no Lambda code and its event source mappings deliver nothing, so locally
//! fangops plays the part of the Lambda service: it calls the producer's handler, then
//! receives batches from the real (emulated) queue and calls the sentiment handler on
//! each, deleting what succeeded and leaving failures to be received again and, after
//! the queue's receive limit, moved to the dead-letter queue. The handlers are the same
//! library code the Lambdas run.
//!
//! The resources come from the same template as in AWS (`fangops deploy --env local`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use fang_sentiment::analyze::Analyzer;
use fang_sentiment::handler::Failure;
use fang_sentiment::text::TextSource;
use fang_sentiment::{Deps, SqsEvent, SqsRecord, handle_batch};
use fang_shared::{CompanyMessage, RunId};

use super::{CompanyFailure, RunReport, RunRequest};
use crate::aws::AwsContext;
use crate::config::{self, EnvConfig};
use crate::resources::Names;

/// Receives before a message moves to the dead-letter queue.
pub use fang_shared::MAX_RECEIVES;
/// Locally a failed message is visible again after this, so retries take seconds.
const LOCAL_VISIBILITY_TIMEOUT_S: u32 = 2;
/// Batches handled at once, as Lambda would run several instances.
const WORKERS: usize = 4;

fn require_local(env: &EnvConfig, ctx: &AwsContext, what: &str) -> Result<()> {
    if !ctx.is_local() {
        bail!(
            "{what} is for local environments (an emulator on loopback); {} points at AWS",
            env.path.display()
        );
    }
    Ok(())
}

async fn queue_url(sqs: &aws_sdk_sqs::Client, name: &str, env: &EnvConfig) -> Result<String> {
    sqs.get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map(|o| o.queue_url.unwrap_or_default())
        .with_context(|| {
            format!(
                "finding queue {name}; deploy the environment first with `fangops deploy --env {}`",
                env.name
            )
        })
}

/// What the local runner tracks per company of its run.
#[derive(Default)]
struct Progress {
    done: HashSet<String>,
    dead: HashMap<String, String>,
}

/// Runs the pipeline once locally and waits until every company has a result or has
/// failed for good (or `timeout` passes): the producer, then batches handled as Lambda
/// would, then the run's report.
pub async fn run(
    env: &EnvConfig,
    ctx: &AwsContext,
    req: &RunRequest,
    ui: &crate::output::Ui,
) -> Result<RunReport> {
    require_local(env, ctx, "the local runner")?;
    let started = Instant::now();
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&env.stack, &account);
    let sqs = ctx.sqs();
    let queue = queue_url(&sqs, &names.queue, env).await?;
    let (run_id, companies) = produce(env, ctx, req, &names, &queue).await?;
    let deps = deps(env, ctx, req, &names).await?;
    let drain = Drain {
        sqs: &sqs,
        queue: &queue,
        deps: &deps,
        run_id: &run_id,
        function_timeout_s: env.lambda.timeout_s,
        companies,
        deadline: started + req.timeout,
    };
    let (state, last_reason) = drain.run(ui).await;
    if !state.dead.is_empty() {
        settle_dead_letters(&sqs, &queue).await;
    }
    let (records, failed) =
        outcome(ctx, req, &names, &run_id, companies, state, last_reason).await?;
    let no_text: Vec<CompanyFailure> = records
        .iter()
        .filter(|r| r.status == fang_shared::ResultStatus::NoText)
        .map(|r| CompanyFailure {
            company: r.company.clone(),
            reason: r.reason.clone().unwrap_or_default(),
        })
        .collect();
    Ok(RunReport {
        env: env.name.clone(),
        run_id,
        bucket: names.bucket,
        companies,
        succeeded: records.len() - no_text.len(),
        no_text,
        timed_out: failed.iter().any(|f| f.pending),
        failed: failed.into_iter().map(|f| f.failure).collect(),
        duration_s: started.elapsed().as_secs_f64(),
    })
}

/// Runs the producer, as the schedule would: returns the run and how many companies
/// it queued.
async fn produce(
    env: &EnvConfig,
    ctx: &AwsContext,
    req: &RunRequest,
    names: &Names,
    queue: &str,
) -> Result<(RunId, usize)> {
    let target = fang_producer::Target {
        table: names.table.clone(),
        queue_url: queue.to_owned(),
        bucket: names.bucket.clone(),
    };
    let now = time::OffsetDateTime::now_utc();
    let run_id = req.new_run_id(now, run_id_suffix());
    let invocation = format!("fangops-local-{}", std::process::id());
    let run = fang_producer::Run {
        id: &run_id,
        started_at: now,
        invocation: &invocation,
        only: req.canary.as_deref(),
    };
    let produced = fang_producer::produce(&ctx.dynamodb(), &ctx.sqs(), &ctx.s3(), &target, run)
        .await
        .context("running the producer")?;
    if !produced.already_claimed && !run_id.is_canary() {
        // As the producer Lambda does: a scheduled run arms the no-results alarm.
        fang_producer::arm_alarm(&ctx.cloudwatch(), &format!("{}-no-results", env.stack)).await;
    }
    Ok((run_id, produced.companies))
}

/// The sentiment function's dependencies, with its settings as the deployed stack has
/// them, not as the env file has them now: a verification must test what was deployed
/// (a rolled-back stack runs the parameters of an older commit).
async fn deps(env: &EnvConfig, ctx: &AwsContext, req: &RunRequest, names: &Names) -> Result<Deps> {
    let deployed = crate::deploy::stack::describe(&ctx.cloudformation(), &env.stack)
        .await?
        .map(|info| info.parameters)
        .unwrap_or_default();
    let settings = Settings::of(env, &deployed);
    Ok(Deps {
        text: text_source(settings.text_source, req.wikipedia_base.as_deref())?,
        analyzer: match settings.analyzer {
            config::Analyzer::Vader => Analyzer::Vader,
            config::Analyzer::Comprehend => {
                Analyzer::Comprehend(ctx.comprehend_at(req.comprehend_endpoint.as_ref()))
            }
        },
        s3: ctx.s3(),
        bucket: names.bucket.clone(),
        write_summary: false,
        cache: (settings.cache_max_age_days > 0).then(|| fang_sentiment::cache::Cache {
            max_age: time::Duration::days(settings.cache_max_age_days.into()),
        }),
    })
}

/// The queue drained as Lambda's poller would, `WORKERS` batches at a time, until
/// every company is done or dead (or the deadline passes).
struct Drain<'a> {
    sqs: &'a aws_sdk_sqs::Client,
    queue: &'a str,
    deps: &'a Deps,
    run_id: &'a RunId,
    function_timeout_s: u32,
    companies: usize,
    deadline: Instant,
}

impl Drain<'_> {
    /// Which companies are done and dead, and the last error of each still retried.
    async fn run(&self, ui: &crate::output::Ui) -> (Progress, HashMap<String, String>) {
        let run_id = self.run_id;
        let progress_bar = ui.progress(format!(
            "run {run_id}: {} compan{} queued",
            self.companies,
            if self.companies == 1 { "y" } else { "ies" }
        ));
        let mut state = Progress::default();
        let mut last_reason: HashMap<String, String> = HashMap::new();
        while state.done.len() + state.dead.len() < self.companies {
            if Instant::now() > self.deadline {
                break;
            }
            let batches = futures::future::join_all((0..WORKERS).map(|_| {
                receive_and_handle(
                    self.sqs,
                    self.queue,
                    self.deps,
                    run_id,
                    self.function_timeout_s,
                )
            }))
            .await;
            // A receive that failed (after the SDK's retries) is tried again on the
            // next round; the messages are still in the queue.
            let events = batches.into_iter().flat_map(|batch| {
                batch.unwrap_or_else(|e| {
                    tracing::warn!("{e:#}");
                    Vec::new()
                })
            });
            for event in events {
                match event {
                    Event::Done(company) => {
                        state.done.insert(company);
                    }
                    Event::Failed {
                        company,
                        reason,
                        final_attempt: true,
                    } => {
                        state.dead.insert(company, reason);
                    }
                    Event::Failed {
                        company, reason, ..
                    } => {
                        last_reason.insert(company, reason);
                    }
                }
            }
            progress_bar.set_message(format!(
                "run {run_id}: {} of {} done, {} failed",
                state.done.len(),
                self.companies,
                state.dead.len()
            ));
        }
        (state, last_reason)
    }
}

/// A company that failed, and whether it was still pending (no result at the timeout).
struct Failed {
    failure: CompanyFailure,
    pending: bool,
}

/// The run's results (the summary the runner writes), and the companies that failed
/// for good or were still pending at the timeout, by name.
async fn outcome(
    ctx: &AwsContext,
    req: &RunRequest,
    names: &Names,
    run_id: &RunId,
    companies: usize,
    state: Progress,
    mut last_reason: HashMap<String, String>,
) -> Result<(Vec<fang_shared::SentimentRecord>, Vec<Failed>)> {
    // The handler writes the summary when the last company succeeds; when some failed
    // for good it never does, so the runner writes what there is.
    let records = fang_sentiment::store::write_summary(&ctx.s3(), &names.bucket, run_id)
        .await
        .context("writing the run summary")?;
    let mut failed: Vec<Failed> = state
        .dead
        .into_iter()
        .map(|(company, reason)| Failed {
            failure: CompanyFailure { company, reason },
            pending: false,
        })
        .collect();
    if state.done.len() + failed.len() < companies {
        let mut all = fang_producer::scan_companies(&ctx.dynamodb(), &names.table).await?;
        if let Some(only) = &req.canary {
            all.retain(|c| only.contains(c));
        }
        for c in all {
            if !state.done.contains(&c) && !failed.iter().any(|f| f.failure.company == c) {
                let reason = last_reason.remove(&c).map_or_else(
                    || "no result before the timeout".to_owned(),
                    |r| format!("no result before the timeout; last error: {r}"),
                );
                failed.push(Failed {
                    failure: CompanyFailure { company: c, reason },
                    pending: true,
                });
            }
        }
    }
    failed.sort_by(|a, b| a.failure.company.cmp(&b.failure.company));
    Ok((records, failed))
}

/// SQS moves a message to the dead-letter queue when it is received once more after
/// its last allowed receive. Lambda keeps polling, so in AWS that happens by itself;
/// the runner stops polling when it is done, so it receives once more, after the
/// visibility timeout, without hiding anything (visibility 0).
async fn settle_dead_letters(sqs: &aws_sdk_sqs::Client, queue: &str) {
    tokio::time::sleep(Duration::from_millis(
        u64::from(LOCAL_VISIBILITY_TIMEOUT_S) * 1000 + 200,
    ))
    .await;
    let result = sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %crate::aws::error(e), "moving failed messages to the dead-letter queue");
    }
}

enum Event {
    Done(String),
    Failed {
        company: String,
        reason: String,
        final_attempt: bool,
    },
}

/// One receive, one handler call, one delete: what the Lambda service does per batch.
async fn receive_and_handle(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    deps: &Deps,
    run_id: &RunId,
    timeout_s: u32,
) -> Result<Vec<Event>> {
    let out = sqs
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        // The queue's own timeout suits Lambda (minutes); locally a failure comes back
        // in seconds.
        .visibility_timeout(LOCAL_VISIBILITY_TIMEOUT_S as i32)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .map_err(crate::aws::error)
        .context("receiving from the queue")?;
    let messages = out.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let event = SqsEvent {
        records: messages
            .iter()
            .map(|m| SqsRecord {
                message_id: m.message_id.clone().unwrap_or_default(),
                body: m.body.clone().unwrap_or_default(),
            })
            .collect(),
    };
    // The deadline Lambda would give the function.
    let deadline = std::time::Instant::now() + Duration::from_secs(timeout_s.into());
    let outcome = handle_batch(deps, &event, time::OffsetDateTime::now_utc(), deadline).await;
    delete_handled(sqs, queue, &messages, &outcome.failed).await;
    Ok(run_events(&messages, &outcome.failed, run_id))
}

/// Deletes the messages the handler did not fail, as Lambda does with a partial batch
/// response.
async fn delete_handled(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    messages: &[Message],
    failed: &[Failure],
) {
    let failed_ids: HashSet<&str> = failed.iter().map(|f| f.message_id.as_str()).collect();
    let deletes: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .filter(|m| !failed_ids.contains(m.message_id().unwrap_or_default()))
        .enumerate()
        .map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .build()
                .expect("id and handle set")
        })
        .collect();
    if !deletes.is_empty() {
        // A delete that fails only means the message comes back; processing it again
        // overwrites the same result, so nothing is duplicated.
        if let Err(e) = sqs
            .delete_message_batch()
            .queue_url(queue)
            .set_entries(Some(deletes))
            .send()
            .await
        {
            tracing::warn!(error = %crate::aws::error(e), "deleting handled messages failed; they will be handled again");
        }
    }
}

/// What became of this run's companies in the batch: done, or failed (for the last
/// time once the queue will not deliver the message again).
fn run_events(messages: &[Message], failed: &[Failure], run_id: &RunId) -> Vec<Event> {
    let mut events = Vec::new();
    for m in messages {
        let Some(msg) = m.body().and_then(|b| CompanyMessage::from_body(b).ok()) else {
            continue;
        };
        if &msg.run_id != run_id {
            continue;
        }
        let id = m.message_id().unwrap_or_default();
        match failed.iter().find(|f| f.message_id == id) {
            None => events.push(Event::Done(msg.company)),
            Some(f) => {
                let receives: u32 = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                events.push(Event::Failed {
                    company: msg.company,
                    reason: f.reason.clone(),
                    final_attempt: receives >= MAX_RECEIVES,
                });
            }
        }
    }
    events
}

/// What the functions are configured with: the stack's parameters (`TextSource`,
/// `Analyzer`, as `deploy::params` writes them), else the env file's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    text_source: config::TextSource,
    analyzer: config::Analyzer,
    /// `CacheMaxAgeDays`: 0 is no cache.
    cache_max_age_days: u32,
}

impl Settings {
    fn of(env: &EnvConfig, deployed: &std::collections::BTreeMap<String, String>) -> Self {
        let text_source = match deployed.get("TextSource").map(String::as_str) {
            Some("wikipedia") => config::TextSource::Wikipedia,
            Some("fixtures") => config::TextSource::Fixtures,
            _ => env.text_source,
        };
        let analyzer = match deployed.get("Analyzer").map(String::as_str) {
            Some("comprehend") => config::Analyzer::Comprehend,
            Some("vader") => config::Analyzer::Vader,
            _ => env.sentiment,
        };
        let cache_max_age_days = deployed
            .get("CacheMaxAgeDays")
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| env.cache.max_age_parameter());
        Self {
            text_source,
            analyzer,
            cache_max_age_days,
        }
    }
}

fn text_source(source: config::TextSource, wikipedia_base: Option<&str>) -> Result<TextSource> {
    Ok(match source {
        config::TextSource::Fixtures => TextSource::Fixtures,
        config::TextSource::Wikipedia => {
            TextSource::Wikipedia(crate::companies::check::client(wikipedia_base)?)
        }
    })
}

fn run_id_suffix() -> u32 {
    // Nanoseconds and the process id: unique enough for a run id suffix.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos ^ std::process::id().rotate_left(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployed_parameters_win_over_the_env_file() {
        let env = crate::config::parse(
            std::path::Path::new("environments/local.yaml"),
            b"stack: fang-local\nregion: us-east-1\ntext_source: fixtures\nsentiment: vader\ncompanies: [A]\n",
        )
        .unwrap();
        let none = Default::default();
        assert_eq!(
            Settings::of(&env, &none),
            Settings {
                text_source: config::TextSource::Fixtures,
                analyzer: config::Analyzer::Vader,
                cache_max_age_days: 7,
            }
        );
        let deployed = [
            ("TextSource", "wikipedia"),
            ("Analyzer", "comprehend"),
            ("CacheMaxAgeDays", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            Settings::of(&env, &deployed),
            Settings {
                text_source: config::TextSource::Wikipedia,
                analyzer: config::Analyzer::Comprehend,
                cache_max_age_days: 0,
            }
        );
    }
}
