//! What a pull request's preview is: the env file deployed as a stack of its own,
//! named from the env's stack and the pull request's number, beside the shared stack
//! and never in place of it. It keeps its own table, queues, bucket and alarms, but no
//! schedule (it runs only when fangops asks), no dashboard and no alarm e-mail.
//!
//! Names are held to the env's limit ([`config::MAX_STACK_LEN`], so that the bucket and
//! function names derived from them fit S3's 63 and Lambda's 64 characters): a stack
//! short enough keeps its whole name (`fang-dev-pr12`), a longer one is cut and keeps a
//! hash of the whole, so that two long stacks sharing a start never share previews.
//! Every preview of an env starts with the same [`prefix`], which the IAM policies
//! grant as `PREFIX-pr*`.
//!
//! This module names previews and derives a preview's env from the file's; the
//! previews that exist are listed from CloudFormation by `crate::stacks::previews`, and
//! the commands on previews (deploy with results, prune) are in `crate::previews`.

use sha2::{Digest, Sha256};

use crate::config::{self, EnvConfig, PreviewOf};
use crate::diagnostics::{Diagnostic, InvalidInput};

/// The stack tags that make a stack a preview, and of which env and pull request.
pub const TAG_OF: &str = "fangops:preview-of";
pub const TAG_PULL_REQUEST: &str = "fangops:pull-request";
/// The pull request's head commit the stack was last changed for.
pub const TAG_HEAD: &str = "fangops:head";

/// The room kept for the number: GitHub's pull requests stay under ten million.
pub const MAX_PULL_REQUEST: u64 = 9_999_999;
const NUMBER_ROOM: usize = "-pr".len() + 7;

/// The start every preview of `stack` shares: the stack itself when a preview's name
/// fits, else its first characters and 4 hex digits of its sha256.
pub fn prefix(stack: &str) -> String {
    let room = config::MAX_STACK_LEN - NUMBER_ROOM;
    if stack.len() <= room {
        return stack.to_owned();
    }
    let hash = hex(&Sha256::digest(stack.as_bytes())[..2]);
    let keep = room - 1 - hash.len();
    // Stack names are ASCII; a cut that ends on a hyphen would make a double one.
    format!("{}-{hash}", stack[..keep].trim_end_matches('-'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The preview stack of pull request `pr`.
pub fn stack_name(stack: &str, pr: u64) -> String {
    format!("{}-pr{pr}", prefix(stack))
}

/// The pattern an IAM policy grants for every preview of `stack`.
pub fn iam_pattern(stack: &str) -> String {
    format!("{}-pr*", prefix(stack))
}

/// The start that `stack` and every one of its previews share: one pattern (`START*`)
/// grants them all where naming each twice would not fit (the CloudFormation role's
/// policy, at IAM's 10,240 characters). Any other stack that starts so would be granted
/// too: `fangops validate` refuses an env whose stack does.
pub fn family_start(stack: &str) -> &str {
    let p = prefix(stack);
    let shared = stack
        .bytes()
        .zip(p.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    &stack[..shared]
}

/// The pull request a stack name is the preview of, if it is named as one of `stack`'s.
pub fn pull_request_of(stack: &str, name: &str) -> Option<u64> {
    let digits = name.strip_prefix(&prefix(stack))?.strip_prefix("-pr")?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n <= MAX_PULL_REQUEST)
}

/// What a preview deploy is asked for: the pull request, its head commit, and the
/// companies whose results its comment shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spec {
    pub pull_request: u64,
    pub head: Option<String>,
    /// Run with the deploy's canaries, their results reported (a missing page is a
    /// result here, not a failed verification): the companies the pull request adds
    /// or changes.
    pub companies: Vec<String>,
}

/// `env` as pull request `t`'s preview. A protected env has none, nor one whose file
/// sets `previews.max: 0`: both are errors at the file's key.
pub fn of(env: EnvConfig, t: &Spec) -> Result<EnvConfig, InvalidInput> {
    // A protected env's max is 0 too; its error ([`existing`]'s) says why.
    if env.previews.max == 0 && !env.protected {
        return Err(InvalidInput(vec![
            Diagnostic::whole_file(
                &env.path,
                format!(
                    "environment {} has previews turned off (previews.max: 0)",
                    env.name
                ),
            )
            .with_key("previews.max"),
        ]));
    }
    existing(env, t)
}

/// `env` as pull request `t`'s preview, to tear down or find: what an env whose file
/// has since turned previews off (`previews.max: 0`) still needs, to remove the ones it
/// has. A protected env never had any.
pub fn existing(mut env: EnvConfig, t: &Spec) -> Result<EnvConfig, InvalidInput> {
    refuse_protected(&env)?;
    if t.pull_request == 0 || t.pull_request > MAX_PULL_REQUEST {
        return Err(InvalidInput(vec![Diagnostic::whole_file(
            &env.path,
            format!(
                "{} is not a pull request number (1 to {MAX_PULL_REQUEST})",
                t.pull_request
            ),
        )]));
    }
    let base = env.stack.clone();
    env.stack = stack_name(&base, t.pull_request);
    env.preview = Some(PreviewOf {
        stack: base,
        pull_request: t.pull_request,
        head: t.head.clone(),
    });
    env.alarms.email = None;
    env.alarms.dashboard = false;
    // `fangops cost` asks Cost Explorer about the env, not about each preview.
    env.cost.cost_explorer_requests_per_month = 0.0;
    // A preview proves itself on every push: its canaries, and the companies asked for.
    env.verify.enabled = true;
    report_on(&mut env, &t.companies);
    Ok(env)
}

/// Adds `companies` to a preview's canaries, their results reported (a missing page is
/// a result here, not a failed verification).
pub fn report_on(env: &mut EnvConfig, companies: &[String]) {
    for c in companies {
        if !env.verify.companies.contains(c) {
            env.verify.companies.push(c.clone());
            env.verify.reported.push(c.clone());
        }
    }
}

/// A protected env has no previews: an error at the file's `protected` key.
pub fn refuse_protected(env: &EnvConfig) -> Result<(), InvalidInput> {
    if !env.protected {
        return Ok(());
    }
    Err(InvalidInput(vec![
        Diagnostic::whole_file(
            &env.path,
            format!(
                "environment {} is protected: it has no previews (a pull request previews the env prod promotes from, such as dev)",
                env.name
            ),
        )
        .with_key("protected"),
    ]))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_stack_keeps_its_name() {
        assert_eq!(stack_name("fang-dev", 12), "fang-dev-pr12");
        assert_eq!(pull_request_of("fang-dev", "fang-dev-pr12"), Some(12));
        assert_eq!(iam_pattern("fang-dev"), "fang-dev-pr*");
    }

    #[test]
    fn a_stack_at_the_length_limit_is_shortened_predictably() {
        let stack = "a-very-long-stack-name-at-32-chr";
        assert_eq!(stack.len(), config::MAX_STACK_LEN);
        let name = stack_name(stack, 9_999_999);
        // The same every time, within the limit, and naming the pull request.
        assert_eq!(name, stack_name(stack, 9_999_999));
        assert!(name.len() <= config::MAX_STACK_LEN, "{name}");
        // Pinned: a name that changed would strand every preview made before.
        assert_eq!(name, "a-very-long-stack-8292-pr9999999");
        assert_eq!(pull_request_of(stack, &name), Some(9_999_999));
        // Two long stacks that share their first characters never share previews.
        let other = "a-very-long-stack-name-at-32-chx";
        assert_ne!(prefix(stack), prefix(other));
        assert_eq!(pull_request_of(other, &name), None);
        // A cut ending on a hyphen makes no double hyphen (stack names have none).
        let hyphen = "abcdefghijklmnop-rstuvwxyz";
        assert!(
            !stack_name(hyphen, 1).contains("--"),
            "{}",
            stack_name(hyphen, 1)
        );
    }

    #[test]
    fn a_stack_and_its_previews_share_their_family_start() {
        for stack in [
            "fang-dev",
            "a-very-long-stack-name-at-32-chr",
            &"x".repeat(23),
        ] {
            let start = family_start(stack);
            assert!(stack.starts_with(start), "{stack}");
            assert!(stack_name(stack, 42).starts_with(start), "{stack}");
        }
        assert_eq!(family_start("fang-dev"), "fang-dev");
        assert_eq!(
            family_start("a-very-long-stack-name-at-32-chr"),
            "a-very-long-stack-"
        );
    }

    #[test]
    fn every_preview_name_is_a_valid_stack_name() {
        for stack in [
            "f",
            "fang-dev",
            "abcdefghijklmnopqrstuv",
            "abcdefghijklmnopqrstuvw",
            &"x".repeat(32),
        ] {
            for pr in [1, 42, 9_999_999] {
                let name = stack_name(stack, pr);
                assert!(config::check_stack_name(&name).is_ok(), "{name}");
                assert_eq!(pull_request_of(stack, &name), Some(pr), "{name}");
            }
        }
    }

    #[test]
    fn only_a_preview_shaped_name_is_read_as_one() {
        for name in [
            "fang-dev",
            "fang-dev-pr",
            "fang-dev-pr0",
            "fang-dev-pr01",
            "fang-dev-prx",
            "fang-dev-pr12-x",
            "fang-devx-pr1",
        ] {
            assert_eq!(pull_request_of("fang-dev", name), None, "{name}");
        }
    }
}
