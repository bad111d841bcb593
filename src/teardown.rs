//! `fangops teardown`: removes an environment without a prompt. The stack's buckets
//! are emptied first (every object version: CloudFormation cannot delete a bucket
//! that holds anything), then the stack is deleted and waited for, then its log
//! groups (Lambda recreates a function's log group on its own, so the stack's copy may
//! not be the only one). The artifact bucket, shared by every stack of the account and
//! region, stays unless asked for.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use serde::Serialize;

use crate::config::{self};
use crate::deploy::{artifacts, stack};
use crate::diagnostics::{Diagnostic, InvalidInput, UsageError};
use crate::output::{Progress, Ui};
use crate::resources::Names;
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct TeardownRequest {
    pub yes: bool,
    /// A protected env also needs its stack's name here.
    pub confirm: Option<String>,
    /// Also empty and delete the artifact bucket.
    pub artifacts: bool,
    pub artifact_bucket: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeardownReport {
    pub env: String,
    pub stack: String,
    /// False when there was no stack: nothing to do.
    pub stack_deleted: bool,
    pub objects_deleted: u64,
    pub log_groups_deleted: Vec<String>,
    /// fangops's alarms of the stack (they live outside it).
    pub alarms_deleted: usize,
    pub artifact_bucket_deleted: Option<String>,
    pub duration_s: f64,
}

impl TeardownReport {
    pub fn render(&self) -> String {
        if !self.stack_deleted
            && self.log_groups_deleted.is_empty()
            && self.alarms_deleted == 0
            && self.objects_deleted == 0
            && self.artifact_bucket_deleted.is_none()
        {
            return format!(
                "stack {} ({}) does not exist: nothing to tear down\n",
                self.stack, self.env
            );
        }
        let mut out = format!(
            "tore down {} ({}) in {:.1} s: {}{} objects deleted, {} log groups deleted, {} alarms deleted\n",
            self.stack,
            self.env,
            self.duration_s,
            if self.stack_deleted {
                "stack deleted, "
            } else {
                ""
            },
            self.objects_deleted,
            self.log_groups_deleted.len(),
            self.alarms_deleted
        );
        if let Some(b) = &self.artifact_bucket_deleted {
            out += &format!("artifact bucket {b} deleted\n");
        }
        out
    }
}

/// Refuses before touching anything unless the request says yes (a usage error: the
/// flag is missing, the file is fine) and names a protected env's stack (located at
/// the file's `protected` key, which is why the name is asked for).
pub fn check_consent(env: &config::EnvConfig, req: &TeardownRequest) -> Result<()> {
    if !req.yes {
        return Err(UsageError(format!(
            "teardown deletes stack {} and every result in it; it never prompts, so pass --yes",
            env.stack
        ))
        .into());
    }
    if env.protected && req.confirm.as_deref() != Some(env.stack.as_str()) {
        return Err(InvalidInput(vec![
            Diagnostic::whole_file(
                &env.path,
                format!(
                    "environment {} is protected: also pass --confirm {}",
                    env.name, env.stack
                ),
            )
            .with_key("protected"),
        ])
        .into());
    }
    Ok(())
}

/// Tears down `target`: the env's stack, or the preview's when `target` is one.
pub async fn teardown(target: &Target, req: &TeardownRequest, ui: &Ui) -> Result<TeardownReport> {
    let started = Instant::now();
    let env = &target.env;
    check_consent(env, req)?;
    let ctx = target.aws().await?;
    ctx.ensure_account().await?;
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&env.stack, &account);
    let cfn = ctx.cloudformation();
    let s3 = ctx.s3();
    let timing = stack::Timing::new(ctx.is_local(), req.timeout);
    let progress = ui.progress(format!("tearing down {}", env.stack));
    let mut report = TeardownReport {
        env: env.name.clone(),
        stack: env.stack.clone(),
        stack_deleted: false,
        objects_deleted: 0,
        log_groups_deleted: Vec::new(),
        alarms_deleted: 0,
        artifact_bucket_deleted: None,
        duration_s: 0.0,
    };
    let existing =
        stack::wait_until_idle(&cfn, &env.stack, timing, |l| progress.println(l)).await?;
    refuse_unless_preview(env, existing.as_ref())?;
    if existing.is_some() {
        report.objects_deleted +=
            delete_stack(&cfn, &s3, &env.stack, &names.bucket, timing, &progress).await?;
        report.stack_deleted = true;
    }
    report.log_groups_deleted = delete_log_groups(&ctx.logs(), &env.stack).await?;
    report.alarms_deleted = crate::alarms::remove_all(&ctx.cloudwatch(), &env.stack).await?;
    if req.artifacts {
        let bucket = req
            .artifact_bucket
            .clone()
            .unwrap_or_else(|| artifacts::bucket_name(&account, ctx.region()));
        progress.set_message(format!("deleting artifact bucket {bucket}"));
        report.objects_deleted += empty_bucket(&s3, &bucket).await?;
        if delete_bucket(&s3, &bucket).await? {
            report.artifact_bucket_deleted = Some(bucket);
        }
    }
    drop(progress);
    report.duration_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// A stack that merely bears a preview's name is not deleted as one: only a stack
/// tagged as this env's preview is.
fn refuse_unless_preview(
    env: &config::EnvConfig,
    existing: Option<&stack::StackInfo>,
) -> Result<()> {
    if let (Some(p), Some(info)) = (&env.preview, existing) {
        let of = info.tags.get(crate::config::preview::TAG_OF);
        if of != Some(&p.stack) {
            anyhow::bail!(
                "stack {} is not a preview of {} (its tag {} is {}): not tearing it down",
                env.stack,
                p.stack,
                crate::config::preview::TAG_OF,
                of.map_or("missing".to_owned(), |t| format!("{t:?}"))
            );
        }
    }
    Ok(())
}

/// Empties the stack's bucket and deletes the stack, a second time if the first delete
/// fails; returns the objects deleted.
async fn delete_stack(
    cfn: &aws_sdk_cloudformation::Client,
    s3: &aws_sdk_s3::Client,
    stack_name: &str,
    bucket: &str,
    timing: stack::Timing,
    progress: &Progress,
) -> Result<u64> {
    progress.set_message(format!("emptying bucket {bucket}"));
    let mut objects_deleted = empty_bucket(s3, bucket).await?;
    progress.set_message(format!("deleting stack {stack_name}"));
    let on_event =
        |e: &aws_sdk_cloudformation::types::StackEvent| progress.println(stack::event_line(e));
    let mut finished = stack::delete(cfn, stack_name, timing, &on_event).await?;
    if !finished.ok {
        // A run still writing results can refill the bucket between the emptying
        // and the delete; empty it again and try once more.
        objects_deleted += empty_bucket(s3, bucket).await?;
        finished = stack::delete(cfn, stack_name, timing, &on_event).await?;
    }
    if !finished.ok {
        let reasons: Vec<String> = finished
            .failures
            .iter()
            .map(|f| format!("{} ({}): {}", f.logical_id, f.resource_type, f.reason))
            .collect();
        anyhow::bail!(
            "deleting stack {} ended in {}: {}",
            stack_name,
            finished.status,
            reasons.join("; ")
        );
    }
    Ok(objects_deleted)
}

/// DeleteBucket; false when there was no such bucket.
async fn delete_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<bool> {
    match s3.delete_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(e) => {
            Err(crate::aws::error(e)).with_context(|| format!("deleting artifact bucket {bucket}"))
        }
    }
}

/// Deletes every object version and delete marker; a missing bucket is empty.
pub async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<u64> {
    let mut deleted = 0;
    loop {
        let out = match s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                return Ok(deleted);
            }
            Err(e) => {
                return Err(crate::aws::error(e))
                    .with_context(|| format!("listing the objects of bucket {bucket}"));
            }
        };
        let ids: Vec<ObjectIdentifier> = out
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                out.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if ids.is_empty() {
            return Ok(deleted);
        }
        let count = ids.len() as u64;
        let result = s3
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("deleting objects in bucket {bucket}"))?;
        if let Some(err) = result.errors().first() {
            anyhow::bail!(
                "deleting {} in bucket {bucket}: {}",
                err.key().unwrap_or("an object"),
                err.message().unwrap_or("no reason given")
            );
        }
        deleted += count;
    }
}

/// Deletes the log groups of the stack's functions (`/aws/lambda/STACK-*`).
async fn delete_log_groups(
    logs: &aws_sdk_cloudwatchlogs::Client,
    stack: &str,
) -> Result<Vec<String>> {
    let prefix = format!("/aws/lambda/{stack}-");
    // The stack's two functions' groups only: `fang-dev-` also starts the groups of the
    // env's previews (`fang-dev-pr12-producer`), which are theirs to remove.
    let own = [format!("{prefix}producer"), format!("{prefix}sentiment")];
    let mut names = Vec::new();
    let mut token = None;
    loop {
        let out = logs
            .describe_log_groups()
            .log_group_name_prefix(&prefix)
            .set_next_token(token)
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("listing log groups {prefix}*"))?;
        names.extend(
            out.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name())
                .filter(|n| own.iter().any(|o| o == n))
                .map(str::to_owned),
        );
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    for name in &names {
        match logs.delete_log_group().log_group_name(name).send().await {
            Ok(_) => {}
            Err(e) => {
                let e = crate::aws::error(e);
                if e.code() != Some("ResourceNotFoundException") {
                    return Err(e).with_context(|| format!("deleting log group {name}"));
                }
            }
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn teardown_report_terminal_snapshot() {
        let report = TeardownReport {
            env: "dev".into(),
            stack: "fang-dev".into(),
            stack_deleted: true,
            objects_deleted: 42,
            log_groups_deleted: vec![
                "/aws/lambda/fang-dev-producer".into(),
                "/aws/lambda/fang-dev-sentiment".into(),
            ],
            alarms_deleted: 8,
            artifact_bucket_deleted: Some("fangops-artifacts-123456789012-us-east-1".into()),
            duration_s: 61.5,
        };
        insta::assert_snapshot!("teardown_done", report.render());
        let nothing = TeardownReport {
            stack_deleted: false,
            objects_deleted: 0,
            log_groups_deleted: Vec::new(),
            alarms_deleted: 0,
            artifact_bucket_deleted: None,
            ..report
        };
        insta::assert_snapshot!("teardown_nothing", nothing.render());
    }
}
