//! The previews of an env that exist, as CloudFormation lists them, and the cap on how
//! many may: beside the stack reader, below `deploy` and `cost`, which count them. What
//! a preview is and how it is named is `crate::config::preview`.

use anyhow::{Context, Result};
use aws_sdk_cloudformation::types::StackStatus;
use serde::Serialize;

use crate::config::EnvConfig;
use crate::config::preview::{TAG_HEAD, TAG_OF, pull_request_of};

/// One preview of an env, as CloudFormation has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    pub stack: String,
    pub pull_request: u64,
    pub head: Option<String>,
    pub status: String,
    /// Seconds since the epoch.
    pub created: Option<i64>,
    /// When the stack last changed (its creation, if never).
    pub last_changed: Option<i64>,
}

impl Preview {
    /// Days since the stack was created, at `now` (seconds since the epoch).
    pub fn age_days(&self, now: i64) -> f64 {
        self.created
            .map_or(0.0, |c| ((now - c).max(0) as f64) / 86_400.0)
    }
}

/// Every status but DELETE_COMPLETE: ListStacks keeps deleted stacks for 90 days.
fn live_statuses() -> Vec<StackStatus> {
    StackStatus::values()
        .iter()
        .map(|s| StackStatus::from(*s))
        .filter(|s| *s != StackStatus::DeleteComplete)
        .collect()
}

/// The previews of `env` (its file's stack), by pull request. ListStacks gives the names
/// (it has no resource-level permission: `"Resource": "*"`), DescribeStacks on each name
/// of a preview's shape the tags: a stack without [`TAG_OF`] naming this env's stack is
/// not one of its previews, whatever its name.
pub async fn list(cfn: &aws_sdk_cloudformation::Client, env: &EnvConfig) -> Result<Vec<Preview>> {
    let base = env.base_stack();
    let mut names = Vec::new();
    let mut pages = cfn
        .list_stacks()
        .set_stack_status_filter(Some(live_statuses()))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::error)
            .with_context(|| format!("listing the previews of stack {base} (ListStacks)"))?;
        for s in page.stack_summaries() {
            let Some(name) = s.stack_name() else { continue };
            if s.stack_status() == Some(&StackStatus::DeleteComplete) {
                continue;
            }
            if let Some(pr) = pull_request_of(base, name) {
                names.push((pr, name.to_owned()));
            }
        }
    }
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for (pr, name) in names {
        // None: deleted since the listing.
        let Some(info) = crate::stacks::describe(cfn, &name)
            .await
            .with_context(|| format!("reading preview stack {name}"))?
        else {
            continue;
        };
        if info.tags.get(TAG_OF).map(String::as_str) != Some(base) {
            continue;
        }
        out.push(Preview {
            stack: name,
            pull_request: pr,
            head: info.tags.get(TAG_HEAD).cloned(),
            status: info.status,
            created: info.created,
            last_changed: info.last_changed,
        });
    }
    Ok(out)
}

/// A preview deploy past `previews.max`: the previews holding the slots.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub max: u32,
    pub holders: Vec<Preview>,
}

impl Refusal {
    pub fn message(&self, pr: u64) -> String {
        let holders: Vec<String> = self
            .holders
            .iter()
            .map(|p| format!("#{} ({})", p.pull_request, p.stack))
            .collect();
        format!(
            "no preview for pull request #{pr}: previews.max is {} and {} hold{} the slots; close or prune one (`fangops previews prune`), or raise previews.max",
            self.max,
            holders.join(", "),
            if holders.len() == 1 { "s" } else { "" }
        )
    }
}

/// Whether pull request `pr` may have a preview beside `existing`: always when it has
/// one already (a push updates it), else while fewer than `max` exist.
/// A preview being deleted (its pull request closed) holds no slot.
pub fn check_cap(max: u32, pr: u64, existing: &[Preview]) -> Result<(), Refusal> {
    let holding: Vec<&Preview> = existing
        .iter()
        .filter(|p| p.status != "DELETE_IN_PROGRESS")
        .collect();
    if existing.iter().any(|p| p.pull_request == pr) || holding.len() < max as usize {
        return Ok(());
    }
    Err(Refusal {
        max,
        holders: holding.into_iter().cloned().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(pr: u64) -> Preview {
        Preview {
            stack: crate::config::preview::stack_name("fang-dev", pr),
            pull_request: pr,
            head: None,
            status: "CREATE_COMPLETE".into(),
            created: Some(0),
            last_changed: Some(0),
        }
    }

    #[test]
    fn the_cap_refuses_a_new_preview_and_names_the_holders() {
        let two = [preview(3), preview(5)];
        assert!(check_cap(3, 7, &two).is_ok());
        // A pull request with a preview updates it, however many there are.
        assert!(check_cap(2, 5, &two).is_ok());
        // One being deleted holds no slot.
        let closing = [
            preview(3),
            Preview {
                status: "DELETE_IN_PROGRESS".into(),
                ..preview(5)
            },
        ];
        assert!(check_cap(2, 7, &closing).is_ok());
        let refused = check_cap(2, 7, &two).unwrap_err();
        assert_eq!(
            refused.message(7),
            "no preview for pull request #7: previews.max is 2 and #3 (fang-dev-pr3), #5 (fang-dev-pr5) hold the slots; close or prune one (`fangops previews prune`), or raise previews.max"
        );
    }
}
