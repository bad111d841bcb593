//! Whether the alarm e-mail reaches anyone. SNS sends a confirmation mail to a new
//! e-mail subscription, and until someone clicks it the subscription's ARN reads
//! `PendingConfirmation` and no alarm is delivered: nothing else says so.

use anyhow::{Context, Result};
use serde::Serialize;

/// What SNS says of the env's alarm e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EmailStatus {
    Confirmed {
        email: String,
    },
    /// Subscribed, but the confirmation mail has not been acted on.
    Pending {
        email: String,
    },
    /// No subscription of that address on the topic (unconfirmed for 48 hours, or
    /// deleted by hand).
    Missing {
        email: String,
        topic: String,
    },
}

impl EmailStatus {
    /// A warning for reports, with what to do; `None` when alarms reach the address.
    pub fn warning(&self) -> Option<String> {
        match self {
            Self::Confirmed { .. } => None,
            Self::Pending { email } => Some(format!(
                "the alarm e-mail subscription of {email} is pending confirmation: no alarm reaches anyone until the link in AWS's mail \"AWS Notification - Subscription Confirmation\" is followed (SNS deletes an unconfirmed subscription after 48 hours)"
            )),
            // SNS deleted it (unconfirmed for 48 hours, or by hand): CloudFormation still
            // lists the subscription, so a deploy does not make it again.
            Self::Missing { email, topic } => Some(format!(
                "{email} is not subscribed to the alarm topic (SNS deletes a subscription unconfirmed for 48 hours): subscribe it again with `aws sns subscribe --protocol email --notification-endpoint {email} --topic-arn {topic}`"
            )),
        }
    }
}

/// The subscription of `email` on `topic`, read with ListSubscriptionsByTopic (every
/// page). Addresses compare ignoring case, as SNS keeps them as given.
pub async fn status(sns: &aws_sdk_sns::Client, topic: &str, email: &str) -> Result<EmailStatus> {
    let mut token = None;
    loop {
        let out = sns
            .list_subscriptions_by_topic()
            .topic_arn(topic)
            .set_next_token(token)
            .send()
            .await
            .map_err(crate::aws::error)
            .with_context(|| format!("listing the subscriptions of {topic}"))?;
        if let Some(sub) = out.subscriptions().iter().find(|s| {
            s.protocol() == Some("email")
                && s.endpoint().is_some_and(|e| e.eq_ignore_ascii_case(email))
        }) {
            let email = email.to_owned();
            return Ok(match sub.subscription_arn() {
                Some("PendingConfirmation") | None => EmailStatus::Pending { email },
                Some(_) => EmailStatus::Confirmed { email },
            });
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(EmailStatus::Missing {
                email: email.to_owned(),
                topic: topic.to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";
    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:fang-dev-alarms";

    fn page(members: &str, next: Option<&str>) -> (u16, String) {
        (
            200,
            format!(
                "<ListSubscriptionsByTopicResponse xmlns=\"{NS}\"><ListSubscriptionsByTopicResult><Subscriptions>{members}</Subscriptions>{}</ListSubscriptionsByTopicResult><ResponseMetadata><RequestId>7a3c1f2e-0b4d-4c5e-9f6a-1b2c3d4e5f60</RequestId></ResponseMetadata></ListSubscriptionsByTopicResponse>",
                next.map(|n| format!("<NextToken>{n}</NextToken>"))
                    .unwrap_or_default()
            ),
        )
    }

    fn member(protocol: &str, endpoint: &str, arn: &str) -> String {
        format!(
            "<member><TopicArn>{TOPIC}</TopicArn><Protocol>{protocol}</Protocol><SubscriptionArn>{arn}</SubscriptionArn><Owner>123456789012</Owner><Endpoint>{endpoint}</Endpoint></member>"
        )
    }

    async fn status_of(responses: Vec<(u16, String)>, email: &str) -> EmailStatus {
        let replay = crate::testing::replay::replay(
            "https://sns.us-east-1.amazonaws.com/",
            "text/xml",
            responses,
        );
        let sns = crate::testing::replay::client!(aws_sdk_sns, replay);
        status(&sns, TOPIC, email).await.unwrap()
    }

    #[tokio::test]
    async fn a_pending_subscription_is_found_on_a_later_page_and_warned_about() {
        let s = status_of(
            vec![
                page(
                    &member("sqs", "arn:aws:sqs:us-east-1:1:q", &format!("{TOPIC}:1")),
                    Some("p2"),
                ),
                page(
                    &member("email", "Team@Example.com", "PendingConfirmation"),
                    None,
                ),
            ],
            "team@example.com",
        )
        .await;
        assert_eq!(
            s,
            EmailStatus::Pending {
                email: "team@example.com".into()
            }
        );
        assert!(s.warning().unwrap().contains("pending confirmation"));
    }

    #[tokio::test]
    async fn confirmed_and_missing() {
        let confirmed = status_of(
            vec![page(
                &member("email", "team@example.com", &format!("{TOPIC}:5f1e")),
                None,
            )],
            "team@example.com",
        )
        .await;
        assert_eq!(confirmed.warning(), None);
        let missing = status_of(vec![page("", None)], "team@example.com").await;
        assert!(matches!(missing, EmailStatus::Missing { .. }));
        assert!(
            missing
                .warning()
                .unwrap()
                .contains(&format!("--topic-arn {TOPIC}")),
            "{missing:?}"
        );
    }
}
