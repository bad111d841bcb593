//! CloudFormation, the parts fangops needs: read a stack's state, wait while another
//! operation is busy with it, create and describe change sets, execute one while
//! streaming the stack's events, delete a stack. Every function takes the client, so
//! tests drive them with recorded AWS responses (moto has no rollback and answers an
//! empty change set differently from AWS).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, ExecutionStatus, Parameter, StackEvent, Tag,
};
use serde::Serialize;

use crate::retry::is_transient;
pub use crate::stacks::{StackInfo, describe};

/// How often to look and how long to wait at most.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub poll: Duration,
    pub timeout: Duration,
}

impl Timing {
    /// Against an emulator every operation finishes at once, so look often; against AWS
    /// every 2 s keeps well under DescribeStackEvents' rate limit.
    pub fn new(local: bool, timeout: Duration) -> Self {
        let poll = if local {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(2)
        };
        Self { poll, timeout }
    }
}

/// The longest pause between two looks after throttling.
const MAX_POLL: Duration = Duration::from_secs(30);

/// What a change set does to a resource, spelled as CloudFormation spells it (and so
/// in JSON). A value a newer CloudFormation adds is kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ChangeAction {
    Add,
    Modify,
    Remove,
    Import,
    Dynamic,
    #[serde(untagged)]
    Other(String),
}

impl From<&str> for ChangeAction {
    fn from(s: &str) -> Self {
        match s {
            "Add" => Self::Add,
            "Modify" => Self::Modify,
            "Remove" => Self::Remove,
            "Import" => Self::Import,
            "Dynamic" => Self::Dynamic,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for ChangeAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Add => "Add",
            Self::Modify => "Modify",
            Self::Remove => "Remove",
            Self::Import => "Import",
            Self::Dynamic => "Dynamic",
            Self::Other(s) => s,
        })
    }
}

/// Whether a Modify deletes the resource and creates it anew (CloudFormation's
/// `Replacement`; `Conditional` when it depends on other changes' outcomes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Replacement {
    True,
    False,
    Conditional,
    #[serde(untagged)]
    Other(String),
}

impl From<&str> for Replacement {
    fn from(s: &str) -> Self {
        match s {
            "True" => Self::True,
            "False" => Self::False,
            "Conditional" => Self::Conditional,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One line of a change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    pub action: ChangeAction,
    pub logical_id: String,
    pub resource_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physical_id: Option<String>,
    /// For a Modify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Replacement>,
    /// What about the resource changes: Properties, Tags, ...
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
}

impl ResourceChange {
    /// The resource may be deleted and created anew: data in it can be lost.
    pub fn may_replace(&self) -> bool {
        matches!(
            self.replacement,
            Some(Replacement::True | Replacement::Conditional)
        )
    }
}

/// A resource that failed, and why, from the stack's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedResource {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

/// Describes the stack, retrying transient errors with growing pauses until `deadline`.
async fn describe_patiently(
    cfn: &Client,
    stack: &str,
    poll: &mut Duration,
    deadline: Instant,
) -> Result<Option<StackInfo>> {
    loop {
        match describe(cfn, stack).await {
            Ok(info) => return Ok(info),
            Err(e) => {
                let transient = e.downcast_ref::<crate::aws::AwsError>().is_some_and(|e| {
                    matches!(
                        e.code(),
                        Some("Throttling" | "ThrottlingException" | "RequestLimitExceeded")
                    )
                });
                if !transient || Instant::now() >= deadline {
                    return Err(e);
                }
                *poll = (*poll * 2).min(MAX_POLL);
                tracing::debug!("throttled reading stack {stack}; next look in {poll:?}");
                tokio::time::sleep(*poll).await;
            }
        }
    }
}

/// Waits while another operation runs on the stack (never races it), up to the timeout.
pub async fn wait_until_idle(
    cfn: &Client,
    stack: &str,
    timing: Timing,
    on_wait: impl Fn(&str),
) -> Result<Option<StackInfo>> {
    let started = Instant::now();
    let deadline = started + timing.timeout;
    let mut poll = timing.poll;
    let mut said = String::new();
    loop {
        let info = describe_patiently(cfn, stack, &mut poll, deadline).await?;
        match info {
            Some(i) if i.is_busy() => {
                if Instant::now() >= deadline {
                    bail!(
                        "stack {stack} has been busy ({}) for {} s; giving up so as not to race that operation; run again when it finishes",
                        i.status,
                        started.elapsed().as_secs()
                    );
                }
                if said != i.status {
                    on_wait(&format!(
                        "stack {stack} is busy ({}); waiting for it to finish",
                        i.status
                    ));
                    said.clone_from(&i.status);
                }
                tokio::time::sleep(poll).await;
            }
            other => return Ok(other),
        }
    }
}

/// A stack ready for a change set, and whether getting it there took a delete.
#[derive(Debug, Clone)]
pub struct Settled {
    pub existing: Option<StackInfo>,
    /// The stack was in ROLLBACK_COMPLETE and has been deleted.
    pub recreated: bool,
}

/// Gets the stack into a state a change set can act on: waits out another operation,
/// deletes a stack left in ROLLBACK_COMPLETE by a failed first create (it can be
/// neither updated nor used), and refuses the states that need a person.
pub async fn settle(
    cfn: &Client,
    stack: &str,
    timing: Timing,
    say: &impl Fn(&str),
) -> Result<Settled> {
    let existing = wait_until_idle(cfn, stack, timing, say).await?;
    let Some(info) = existing else {
        return Ok(Settled {
            existing: None,
            recreated: false,
        });
    };
    // Two states no change set can move forward: delete the stack and start afresh.
    let why = match info.status.as_str() {
        "ROLLBACK_COMPLETE" => Some(
            "is in ROLLBACK_COMPLETE: its first create failed and it cannot be updated; deleting it and creating it again",
        ),
        // A deploy stopped between creating its change set and executing it: the stack
        // holds nothing but change sets. Another CREATE change set on it is what AWS
        // allows, but emulators answer it with a second stack of the same name.
        "REVIEW_IN_PROGRESS" => Some(
            "holds only change sets (an earlier deploy stopped before executing one); deleting it and creating it afresh",
        ),
        _ => None,
    };
    if let Some(why) = why {
        say(&format!("stack {stack} {why}"));
        let deleted = delete(cfn, stack, timing, &|e| say(&event_line(e))).await?;
        if !deleted.ok {
            bail!(
                "deleting stack {stack} (left in {}) ended in {}",
                info.status,
                deleted.status
            );
        }
        return Ok(Settled {
            existing: None,
            recreated: info.status == "ROLLBACK_COMPLETE",
        });
    }
    match info.status.as_str() {
        s @ ("ROLLBACK_FAILED"
        | "DELETE_FAILED"
        | "UPDATE_ROLLBACK_FAILED"
        | "IMPORT_ROLLBACK_FAILED") => bail!(
            "stack {stack} is in {s}{}; CloudFormation needs a hand first (continue the rollback, or delete the stack with `fangops teardown`), then deploy again",
            info.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        _ => Ok(Settled {
            existing: Some(info),
            recreated: false,
        }),
    }
}

/// What a change set should do.
#[derive(Debug, Clone)]
pub struct ChangeSetSpec<'a> {
    pub stack: &'a str,
    pub name: &'a str,
    /// True when the stack does not exist yet (or holds only change sets).
    pub create: bool,
    pub template_body: &'a str,
    pub parameters: &'a [(String, String)],
    pub tags: &'a [(String, String)],
    /// The CloudFormation service role that makes the changes (`RoleARN`), if any.
    pub role_arn: Option<&'a str>,
}

/// The outcome of creating a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetResult {
    /// Ready to execute, with its changes.
    Ready(Vec<ResourceChange>),
    /// AWS found nothing to change (it marks such a change set FAILED).
    NoChanges,
}

/// AWS's two wordings of "this change set is empty".
fn means_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Creates a change set and waits until it is ready, then lists its changes.
pub async fn create_change_set(
    cfn: &Client,
    spec: &ChangeSetSpec<'_>,
    timing: Timing,
) -> Result<ChangeSetResult> {
    send_change_set(cfn, spec).await?;
    if !wait_until_ready(cfn, spec, timing).await? {
        return Ok(ChangeSetResult::NoChanges);
    }
    Ok(ChangeSetResult::Ready(
        list_changes(cfn, spec.stack, spec.name).await?,
    ))
}

/// CreateChangeSet of `spec`, with the IAM capability the template's roles need.
async fn send_change_set(cfn: &Client, spec: &ChangeSetSpec<'_>) -> Result<()> {
    let stack = spec.stack;
    cfn.create_change_set()
        .stack_name(stack)
        .change_set_name(spec.name)
        .change_set_type(if spec.create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .template_body(spec.template_body)
        .set_parameters(Some(
            spec.parameters
                .iter()
                .map(|(k, v)| {
                    Parameter::builder()
                        .parameter_key(k)
                        .parameter_value(v)
                        .build()
                })
                .collect(),
        ))
        .set_role_arn(spec.role_arn.map(str::to_owned))
        .set_tags(Some(
            spec.tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .capabilities(Capability::CapabilityIam)
        .description("created by fangops")
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("creating change set {} for stack {stack}", spec.name))?;
    Ok(())
}

/// Polls the change set until it is ready (true) or AWS found nothing to change
/// (false); a failed change set, or one not ready in time, is an error.
async fn wait_until_ready(cfn: &Client, spec: &ChangeSetSpec<'_>, timing: Timing) -> Result<bool> {
    let stack = spec.stack;
    let deadline = Instant::now() + timing.timeout;
    let mut poll = timing.poll;
    loop {
        let out = match cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(spec.name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if is_transient(&e) && Instant::now() < deadline => {
                poll = (poll * 2).min(MAX_POLL);
                tokio::time::sleep(poll).await;
                continue;
            }
            Err(e) => {
                return Err(crate::aws::error(e))
                    .with_context(|| format!("reading change set {} of stack {stack}", spec.name));
            }
        };
        match out.status() {
            Some(ChangeSetStatus::CreateComplete) => return Ok(true),
            Some(ChangeSetStatus::Failed) => {
                let reason = out.status_reason().unwrap_or("no reason given");
                if means_no_changes(reason) {
                    return Ok(false);
                }
                bail!(
                    "change set {} for stack {stack} failed: {reason}",
                    spec.name
                );
            }
            _ if Instant::now() >= deadline => bail!(
                "change set {} for stack {stack} was not ready after {} s",
                spec.name,
                timing.timeout.as_secs()
            ),
            _ => tokio::time::sleep(poll).await,
        }
    }
}

/// Every change of a ready change set, across pages.
pub async fn list_changes(cfn: &Client, stack: &str, name: &str) -> Result<Vec<ResourceChange>> {
    let mut changes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("reading change set {name} of stack {stack}"))?;
        changes.extend(
            out.changes()
                .iter()
                .filter_map(|c| c.resource_change())
                .map(|rc| ResourceChange {
                    action: rc.action().map_or("", |a| a.as_str()).into(),
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                    physical_id: rc.physical_resource_id().map(str::to_owned),
                    replacement: rc.replacement().map(|r| r.as_str().into()),
                    scope: rc.scope().iter().map(|s| s.as_str().to_owned()).collect(),
                }),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(changes),
        }
    }
}

pub async fn delete_change_set(cfn: &Client, stack: &str, name: &str) -> Result<()> {
    cfn.delete_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("deleting change set {name} of stack {stack}"))?;
    Ok(())
}

/// Deletes change sets an interrupted fangops run left behind (named `prefix*`, never
/// executed), so they do not pile up.
/// Deletes the unexecuted change sets named with `prefix` that an interrupted run left,
/// except those named with `recent.0` that are younger than `recent.1`: a plan may
/// still be reading one.
pub async fn delete_stale_change_sets(
    cfn: &Client,
    stack: &str,
    prefix: &str,
    recent: (&str, std::time::Duration),
) -> Result<usize> {
    let now = std::time::SystemTime::now();
    let stale: Vec<String> = change_sets(cfn, stack)
        .await?
        .into_iter()
        .filter(|s| s.name.starts_with(prefix) && s.unexecuted)
        .filter(|s| {
            let young = s.age(now).is_some_and(|a| a < recent.1);
            !(s.name.starts_with(recent.0) && young)
        })
        .map(|s| s.name)
        .collect();
    for name in &stale {
        delete_change_set(cfn, stack, name).await?;
    }
    Ok(stale.len())
}

/// One change set of a stack, as ListChangeSets gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetSummary {
    pub name: String,
    /// Not executed (or executing).
    pub unexecuted: bool,
    pub created: Option<std::time::SystemTime>,
}

impl ChangeSetSummary {
    /// How old it is at `now` (None when ListChangeSets gave no creation time).
    pub fn age(&self, now: std::time::SystemTime) -> Option<std::time::Duration> {
        self.created
            .map(|c| now.duration_since(c).unwrap_or_default())
    }
}

/// The change sets of a stack.
pub async fn change_sets(cfn: &Client, stack: &str) -> Result<Vec<ChangeSetSummary>> {
    let mut sets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cfn
            .list_change_sets()
            .stack_name(stack)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("listing change sets of stack {stack}"))?;
        for s in out.summaries() {
            let unexecuted = !matches!(
                s.execution_status(),
                Some(ExecutionStatus::ExecuteInProgress | ExecutionStatus::ExecuteComplete)
            );
            // moto lists other stacks' change sets too.
            if s.stack_name().is_none_or(|n| n == stack) {
                sets.push(ChangeSetSummary {
                    name: s.change_set_name().unwrap_or_default().to_owned(),
                    unexecuted,
                    created: s
                        .creation_time()
                        .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
                });
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(sets)
}

/// Follows a stack's events: remembers what it has seen and returns only new ones,
/// oldest first.
#[derive(Debug, Default)]
pub struct EventCursor {
    seen: HashSet<String>,
}

impl EventCursor {
    /// Marks every event the stack has now as seen, so only later ones are reported.
    pub async fn start(cfn: &Client, stack: &str) -> Self {
        let mut cursor = Self::default();
        // The stack may not exist yet, and a failed look only means older events show.
        let _ = cursor.poll(cfn, stack).await;
        cursor
    }

    /// New events since the last call. Stops paging at the first page that holds an
    /// event already seen (events come newest first).
    pub async fn poll(
        &mut self,
        cfn: &Client,
        stack: &str,
    ) -> Result<Vec<StackEvent>, crate::aws::AwsError> {
        let mut fresh = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = cfn
                .describe_stack_events()
                .stack_name(stack)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(crate::aws::error)?;
            let mut reached_seen = false;
            for e in out.stack_events() {
                let id = e.event_id().unwrap_or_default();
                if self.seen.contains(id) {
                    reached_seen = true;
                } else {
                    fresh.push(e.clone());
                }
            }
            match out.next_token() {
                Some(t) if !reached_seen && !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        for e in &fresh {
            self.seen
                .insert(e.event_id().unwrap_or_default().to_owned());
        }
        fresh.reverse();
        Ok(fresh)
    }
}

/// One line for one event: time, resource, type, status, reason.
pub fn event_line(e: &StackEvent) -> String {
    let time = e
        .timestamp()
        .and_then(|t| {
            t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime)
                .ok()
        })
        .map(|t| t.get(11..19).unwrap_or(&t).to_owned())
        .unwrap_or_default();
    let mut line = format!(
        "{time} {} {} {}",
        e.logical_resource_id().unwrap_or("-"),
        e.resource_type().unwrap_or("-"),
        e.resource_status().map_or("-", |s| s.as_str())
    );
    if let Some(reason) = e.resource_status_reason().filter(|r| !r.is_empty()) {
        line.push_str(": ");
        line.push_str(reason);
    }
    line
}

/// How an operation on a stack ended.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    pub status: String,
    pub ok: bool,
    pub failures: Vec<FailedResource>,
}

fn failures_from(events: &[StackEvent]) -> Vec<FailedResource> {
    let failed: Vec<FailedResource> = events
        .iter()
        .filter(|e| {
            e.resource_status()
                .is_some_and(|s| s.as_str().ends_with("_FAILED"))
        })
        .map(|e| FailedResource {
            logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
            resource_type: e.resource_type().unwrap_or_default().to_owned(),
            status: e
                .resource_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            reason: e.resource_status_reason().unwrap_or_default().to_owned(),
        })
        .collect();
    // The stack's own event only repeats which resources failed; keep it when it is all
    // there is.
    let resources: Vec<FailedResource> = failed
        .iter()
        .filter(|f| f.resource_type != "AWS::CloudFormation::Stack")
        .cloned()
        .collect();
    if resources.is_empty() {
        failed
    } else {
        resources
    }
}

/// Polls the stack until its operation ends, reporting each new event as it happens.
pub async fn follow(
    cfn: &Client,
    stack: &str,
    cursor: &mut EventCursor,
    timing: Timing,
    on_event: &impl Fn(&StackEvent),
) -> Result<Finished> {
    let deadline = Instant::now() + timing.timeout;
    let mut poll = timing.poll;
    let mut all = Vec::new();
    let mut warned = false;
    loop {
        // Events are for people; a throttled or failed look is retried next time, with
        // a longer pause, and never fails the deploy.
        match cursor.poll(cfn, stack).await {
            Ok(events) => {
                for e in &events {
                    on_event(e);
                }
                all.extend(events);
            }
            // A deleted stack has no events to read by name any more.
            Err(e) if e.to_string().contains("does not exist") => {}
            Err(e) => {
                poll = (poll * 2).min(MAX_POLL);
                if !warned {
                    tracing::warn!(
                        "reading events of stack {stack}: {e}; slowing down to one look every {} s",
                        poll.as_secs_f32()
                    );
                    warned = true;
                }
            }
        }
        let info = describe_patiently(cfn, stack, &mut poll, deadline).await?;
        let status = match &info {
            None => "DELETE_COMPLETE".to_owned(),
            Some(i) if i.is_busy() => {
                if Instant::now() >= deadline {
                    bail!(
                        "stack {stack} is still {} after {} s; it goes on in AWS, look at it in the console",
                        i.status,
                        timing.timeout.as_secs()
                    );
                }
                tokio::time::sleep(poll).await;
                continue;
            }
            Some(i) => i.status.clone(),
        };
        // The last events may have arrived after the last look.
        if let Ok(events) = cursor.poll(cfn, stack).await {
            for e in &events {
                on_event(e);
            }
            all.extend(events);
        }
        let ok = info.as_ref().is_none_or(StackInfo::is_complete);
        return Ok(Finished {
            failures: if ok { Vec::new() } else { failures_from(&all) },
            ok,
            status,
        });
    }
}

/// Executes a ready change set and follows the stack until the operation ends.
pub async fn execute(
    cfn: &Client,
    stack: &str,
    name: &str,
    timing: Timing,
    on_event: &impl Fn(&StackEvent),
) -> Result<Finished> {
    let mut cursor = EventCursor::start(cfn, stack).await;
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("executing change set {name} of stack {stack}"))?;
    follow(cfn, stack, &mut cursor, timing, on_event).await
}

/// Deletes the stack and waits until it is gone.
pub async fn delete(
    cfn: &Client,
    stack: &str,
    timing: Timing,
    on_event: &impl Fn(&StackEvent),
) -> Result<Finished> {
    let mut cursor = EventCursor::start(cfn, stack).await;
    cfn.delete_stack()
        .stack_name(stack)
        .send()
        .await
        .map_err(crate::aws::error)
        .with_context(|| format!("deleting stack {stack}"))?;
    let mut finished = follow(cfn, stack, &mut cursor, timing, on_event).await?;
    finished.ok = finished.status == "DELETE_COMPLETE";
    Ok(finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_no_change_wordings_are_recognised() {
        assert!(means_no_changes(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(means_no_changes("No updates are to be performed."));
        assert!(!means_no_changes(
            "Template format error: unresolved resource"
        ));
    }

    #[test]
    fn busy_and_unborn() {
        let info = |s: &str| StackInfo {
            status: s.to_owned(),
            reason: None,
            ..StackInfo::default()
        };
        assert!(info("UPDATE_IN_PROGRESS").is_busy());
        assert!(info("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS").is_busy());
        assert!(!info("REVIEW_IN_PROGRESS").is_busy());
        assert!(info("REVIEW_IN_PROGRESS").is_unborn());
        assert!(!info("UPDATE_ROLLBACK_COMPLETE").is_complete());
        assert!(info("UPDATE_COMPLETE").is_complete());
    }
}
