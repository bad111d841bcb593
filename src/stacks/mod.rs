//! A stack as CloudFormation describes it (DescribeStacks): what a deploy, a
//! teardown, a verification and the previews read. Its own module, below `deploy`
//! (which uses `preview`, and `cost`, which counts previews), so that all of them read a
//! stack one way.

pub mod previews;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use serde::Serialize;

/// What fangops needs to know about an existing stack.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StackInfo {
    pub status: String,
    pub reason: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// Seconds since the epoch.
    pub created: Option<i64>,
    /// When the stack last changed (its creation, if never), seconds since the epoch.
    pub last_changed: Option<i64>,
}

impl StackInfo {
    /// Another operation is running on the stack. REVIEW_IN_PROGRESS is a stack that
    /// only has change sets (a create that was never executed): nothing runs there.
    pub fn is_busy(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS") && self.status != "REVIEW_IN_PROGRESS"
    }

    /// A stack that holds no resources yet: a change set for it must be a CREATE.
    pub fn is_unborn(&self) -> bool {
        self.status == "REVIEW_IN_PROGRESS"
    }

    pub fn is_complete(&self) -> bool {
        matches!(
            self.status.as_str(),
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
        )
    }
}

/// The code and message of a service error, when AWS answered with one.
fn service_error<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> (&str, &str) {
    match e.as_service_error() {
        Some(s) => (s.code().unwrap_or(""), s.message().unwrap_or("")),
        None => ("", ""),
    }
}

/// Reads the stack; `None` when it does not exist (or was deleted).
pub async fn describe(cfn: &Client, stack: &str) -> Result<Option<StackInfo>> {
    let out = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(out) => out,
        Err(e) => {
            let (code, message) = service_error(&e);
            if code == "ValidationError" && message.contains("does not exist") {
                return Ok(None);
            }
            return Err(crate::aws::error(e))
                .with_context(|| format!("reading stack {stack} (DescribeStacks)"));
        }
    };
    let Some(s) = out.stacks().first() else {
        return Ok(None);
    };
    let status = s
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    Ok(Some(StackInfo {
        status,
        reason: s.stack_status_reason().map(str::to_owned),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value()?.to_owned(),
                ))
            })
            .collect(),
        outputs: s
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        created: s.creation_time().map(|t| t.secs()),
        last_changed: s
            .last_updated_time()
            .or(s.creation_time())
            .map(|t| t.secs()),
    }))
}
