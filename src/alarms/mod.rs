//! `fangops alarms`: the CloudWatch alarms (and dashboard) that tell people when the
//! pipeline breaks, from the env file's `alarms` section.
//!
//! Alarms live outside the stack, so that changing a threshold is a quick, reviewable
//! PutMetricAlarm rather than a stack update. fangops owns the alarms whose names
//! start with the stack's and whose description carries its marker: it creates them,
//! rewrites one only when it differs from the file, deletes the ones the file no
//! longer wants, and never touches anyone else's. Every alarm notifies the stack's SNS
//! topic when it fires and when it recovers.

//!
//! [`desired`] is what the file wants (pure); [`cloudwatch`] makes CloudWatch hold it.

pub mod cloudwatch;
pub mod desired;
pub mod email;

use anyhow::Result;
use serde::Serialize;

use crate::aws::AwsContext;
use crate::config::EnvConfig;
use crate::resources::Names;
use crate::target::Target;
pub use cloudwatch::{install, remove_all};
pub use desired::{Action, AlarmChange, topic_arn};

#[derive(Debug, Clone, Default, Serialize)]
pub struct AlarmsReport {
    pub env: String,
    pub topic: String,
    pub changes: Vec<AlarmChange>,
    pub unchanged: usize,
    pub dashboard: Option<String>,
    /// The dashboard was created or rewritten (false when it already matched).
    pub dashboard_changed: bool,
    /// Whether the no-results alarm notifies yet: not before the stack's first run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_results_armed: Option<bool>,
    pub dry_run: bool,
}

impl AlarmsReport {
    pub fn changed(&self) -> bool {
        !self.changes.is_empty() || self.dashboard_changed
    }

    pub fn summary(&self) -> String {
        format!(
            "{}{}",
            if self.dry_run { "would be: " } else { "" },
            self.counts()
        )
    }

    pub fn counts(&self) -> String {
        let count = |a: Action| self.changes.iter().filter(|c| c.action == a).count();
        format!(
            "{} to add, {} to change, {} to remove, {} unchanged",
            count(Action::Add),
            count(Action::Change),
            count(Action::Remove),
            self.unchanged
        )
    }
}

/// [`install`] with the region, account and client of an AWS context.
pub async fn install_in(
    ctx: &AwsContext,
    env: &EnvConfig,
    names: &Names,
    dry_run: bool,
) -> Result<AlarmsReport> {
    let account = ctx.identity().await?.account.clone();
    let has_run = has_run(&ctx.s3(), &names.bucket).await;
    install(
        env,
        &ctx.cloudwatch(),
        names,
        ctx.region(),
        &account,
        has_run,
        dry_run,
    )
    .await
}

/// Whether the stack has had a run: any object under `results/` (one listing of one
/// key). An unreadable or missing bucket counts as no run yet.
pub async fn has_run(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.list_objects_v2()
        .bucket(bucket)
        .prefix(fang_shared::keys::RESULTS_PREFIX)
        .max_keys(1)
        .send()
        .await
        .is_ok_and(|out| out.key_count().unwrap_or(0) > 0 || !out.contents().is_empty())
}

/// `fangops alarms --env E [--dry-run]`.
pub async fn run(target: &Target, dry_run: bool) -> Result<AlarmsReport> {
    let ctx = target.aws().await?;
    ctx.ensure_account().await?;
    let account = ctx.identity().await?.account.clone();
    let names = Names::new(&target.env.stack, &account);
    install_in(ctx, &target.env, &names, dry_run).await
}

#[cfg(test)]
mod tests {
    use super::desired::{AlarmSpec, FieldChange, desired, diff};
    use super::*;
    use crate::testing::env::dev;

    #[test]
    fn alarms_report_terminal_snapshot() {
        let report = AlarmsReport {
            env: "dev".into(),
            topic: "arn:aws:sns:us-east-1:123456789012:fang-dev-alarms".into(),
            changes: vec![
                AlarmChange {
                    name: "fang-dev-sentiment-errors".into(),
                    action: Action::Change,
                    fields: vec![FieldChange {
                        field: "threshold".into(),
                        old: "> 0".into(),
                        new: "> 2".into(),
                    }],
                },
                AlarmChange {
                    name: "fang-dev-old-alarm".into(),
                    action: Action::Remove,
                    fields: Vec::new(),
                },
            ],
            unchanged: 6,
            dashboard: Some("fang-dev-pipeline".into()),
            dashboard_changed: true,
            no_results_armed: Some(false),
            dry_run: true,
        };
        insta::assert_snapshot!(report.render());
    }

    fn names() -> Names {
        Names::new("fang-dev", "123456789012")
    }

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:fang-dev-alarms";

    #[test]
    fn defaults_make_nine_alarms_on_the_right_metrics() {
        let want = desired(&dev(&["A"], "lambda: { timeout_s: 60 }\n"), &names(), TOPIC);
        let got: Vec<(&str, &str, f64, &str)> = want
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.metric.as_str(),
                    a.threshold,
                    a.comparison.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "fang-dev-producer-errors",
                    "Errors",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-producer-throttles",
                    "Throttles",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-sentiment-errors",
                    "Errors",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-sentiment-throttles",
                    "Throttles",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-dlq-messages",
                    "ApproximateNumberOfMessagesVisible",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-producer-failures",
                    "ApproximateNumberOfMessagesVisible",
                    1.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-oldest-message-age",
                    "ApproximateAgeOfOldestMessage",
                    3600.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                // 80% of a 60 s timeout, in milliseconds.
                (
                    "fang-dev-sentiment-duration",
                    "Duration",
                    48_000.0,
                    "GreaterThanOrEqualToThreshold"
                ),
                (
                    "fang-dev-no-results",
                    "ResultsWritten",
                    1.0,
                    "LessThanThreshold"
                ),
            ]
        );
        let no_results = want.last().unwrap();
        assert_eq!(no_results.treat_missing_data, "breaching");
        assert_eq!(no_results.period_s, 90_000);
        assert_eq!(
            no_results.dimensions,
            [("Stack".to_owned(), "fang-dev".to_owned())]
        );
        assert!(
            want.iter()
                .all(|a| a.alarm_actions == [TOPIC] && a.ok_actions == [TOPIC])
        );
        assert!(want.iter().all(|a| {
            a.description
                .ends_with("[managed by fangops for stack fang-dev]")
        }));
        assert!(want.iter().all(|a| a.description.len() <= 1024));
        let dlq = &want[4];
        assert_eq!(
            dlq.dimensions,
            [("QueueName".to_owned(), "fang-dev-companies-dlq".to_owned())]
        );
    }

    #[test]
    fn disabled_alarms_are_not_wanted() {
        let want = desired(
            &dev(
                &["A"],
                "lambda: { timeout_s: 60 }\nalarms:\n  throttles: { enabled: false }\n  no_results: { enabled: false }\n",
            ),
            &names(),
            TOPIC,
        );
        assert_eq!(want.len(), 6);
        assert!(
            want.iter()
                .all(|a| !a.name.ends_with("throttles") && !a.name.ends_with("no-results"))
        );
    }

    #[test]
    fn diff_shows_adds_changes_with_old_and_new_and_removes() {
        let want = desired(
            &dev(
                &["A"],
                "lambda: { timeout_s: 60 }\nalarms:\n  dlq_messages: { threshold: 5, evaluation_periods: 2 }\n",
            ),
            &names(),
            TOPIC,
        );
        let mut have = desired(&dev(&["A"], "lambda: { timeout_s: 60 }\n"), &names(), TOPIC);
        have.retain(|a| !a.name.ends_with("no-results"));
        have.push(AlarmSpec {
            name: "fang-dev-old-alarm".into(),
            ..have[0].clone()
        });
        let (changes, unchanged) = diff(&want, &have);
        assert_eq!(unchanged, 6);
        let find = |n: &str| changes.iter().find(|c| c.name == n).unwrap();
        assert_eq!(find("fang-dev-no-results").action, Action::Add);
        assert_eq!(find("fang-dev-old-alarm").action, Action::Remove);
        let dlq = find("fang-dev-dlq-messages");
        assert_eq!(dlq.action, Action::Change);
        assert_eq!(
            dlq.fields,
            [
                FieldChange {
                    field: "threshold".into(),
                    old: "1".into(),
                    new: "5".into()
                },
                FieldChange {
                    field: "evaluation_periods".into(),
                    old: "1".into(),
                    new: "2".into()
                },
            ]
        );
        let report = AlarmsReport {
            env: "dev".into(),
            topic: TOPIC.into(),
            changes,
            unchanged,
            dry_run: true,
            ..Default::default()
        };
        insta::assert_snapshot!("alarms_plan", report.render_markdown());
        assert!(
            report
                .render()
                .contains("~ fang-dev-dlq-messages (threshold 1 → 5, evaluation_periods 1 → 2)")
        );
    }

    #[test]
    fn topic_arn_follows_the_partition() {
        assert_eq!(
            topic_arn("cn-north-1", "1", "s"),
            "arn:aws-cn:sns:cn-north-1:1:s-alarms"
        );
        assert_eq!(
            topic_arn("eu-west-1", "1", "s"),
            "arn:aws:sns:eu-west-1:1:s-alarms"
        );
    }
}
