//! `fangops doctor`: can fangops act on this environment? Checks the env file, the
//! endpoint, the credentials, the account guard and S3, and says which one fails.

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::aws::{AwsContext, CredentialSource};
use crate::config::EnvConfig;
use crate::output::style::{self, paint};
use crate::output::{Progress, Ui};
use crate::target::Target;

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub ok: bool,
    pub env: String,
    pub stack: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// Works, but someone should act (an alarm e-mail not confirmed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warn: bool,
    pub detail: String,
}

impl Check {
    fn from_result(name: &'static str, r: Result<String>) -> Self {
        match r {
            Ok(detail) => Self {
                name,
                ok: true,
                warn: false,
                detail,
            },
            Err(e) => Self {
                name,
                ok: false,
                warn: false,
                detail: format!("{e:#}"),
            },
        }
    }
}

/// Runs every check; a failing check is reported, not returned as an error. An
/// invalid env file is an error (exit 2), since nothing else can be checked.
pub async fn run(target: &Target, ui: &Ui) -> Result<DoctorReport> {
    let env = &target.env;
    let path = &env.path;
    let mut checks = vec![Check {
        name: "env file",
        ok: true,
        warn: false,
        detail: format!(
            "{} is valid ({} companies)",
            path.display(),
            env.companies.len()
        ),
    }];
    let ctx = target.aws().await?;
    let progress = ui.progress(format!("checking environment {}", env.name));

    if let Some(url) = ctx.endpoint() {
        progress.set_message(format!("connecting to {url}"));
        checks.push(Check::from_result("endpoint", endpoint_answers(url).await));
    }
    progress.set_message("resolving credentials");
    let creds = ctx
        .check_credentials()
        .await
        .map(|()| match ctx.credential_source() {
            CredentialSource::LocalEmulator => {
                "fixed dummy credentials for a local emulator".to_owned()
            }
            CredentialSource::DefaultChain => {
                "resolved from the default AWS credential chain".to_owned()
            }
        });
    let creds_ok = creds.is_ok();
    checks.push(Check::from_result("credentials", creds));
    if creds_ok {
        with_credentials(env, ctx, &progress, &mut checks).await?;
    }
    drop(progress);
    Ok(DoctorReport {
        ok: checks.iter().all(|c| c.ok),
        env: env.name.clone(),
        stack: env.stack.clone(),
        region: ctx.region().to_owned(),
        endpoint: ctx
            .endpoint()
            .map(|u| u.as_str().trim_end_matches('/').to_owned()),
        checks,
    })
}

/// The checks that need credentials: who they are (and the account guard), S3, and
/// the alarm e-mail's subscription.
async fn with_credentials(
    env: &EnvConfig,
    ctx: &AwsContext,
    progress: &Progress,
    checks: &mut Vec<Check>,
) -> Result<()> {
    progress.set_message("asking STS for the caller identity");
    let identity = ctx
        .identity()
        .await
        .map(|i| format!("account {}, {}", i.account, i.arn));
    let identity_ok = identity.is_ok();
    checks.push(Check::from_result("identity", identity));
    if identity_ok {
        let guard = ctx.ensure_account().await.map(|()| match &env.account {
            Some(a) => format!("account {a} matches {}", env.path.display()),
            None => "no `account` set in the env file; any account is accepted".to_owned(),
        });
        checks.push(Check::from_result("account guard", guard));
    }
    if let Ok(i) = ctx.identity().await {
        progress.set_message("looking for the env's S3 buckets");
        let s3 = own_buckets(env, ctx, &i.account).await;
        checks.push(Check::from_result("s3", s3));
    }
    if let (Some(email), true) = (&env.alarms.email, identity_ok) {
        progress.set_message("reading the alarm e-mail subscription");
        checks.push(alarm_email(env, ctx, email).await?);
    }
    Ok(())
}

/// The env's own buckets (its results, the account's artifacts), by HeadBucket: what
/// the deploy and plan roles may ask (s3:ListBucket on them), where ListBuckets, which
/// no fangops role grants, failed on a real account. A bucket not created yet is fine:
/// the first deploy creates it.
async fn own_buckets(env: &EnvConfig, ctx: &AwsContext, account: &str) -> Result<String> {
    let s3 = ctx.s3();
    let mut found = Vec::new();
    for (what, bucket) in [
        (
            "results",
            crate::resources::Names::new(&env.stack, account).bucket,
        ),
        (
            "artifacts",
            crate::deploy::artifacts::bucket_name(account, ctx.region()),
        ),
    ] {
        let head = s3
            .head_bucket()
            .bucket(&bucket)
            .expected_bucket_owner(account)
            .send()
            .await;
        found.push(match head {
            Ok(_) => format!("{what} {bucket}"),
            Err(e) => match e.raw_response().map(|r| r.status().as_u16()) {
                Some(404) => format!("{what} {bucket} not created yet"),
                // HEAD answers carry no error body: 403 is all S3 says.
                Some(403) => anyhow::bail!(
                    "{what} bucket {bucket}: HeadBucket answered 403 Forbidden: another account owns it, or these credentials lack s3:ListBucket on it (see `fangops iam`)"
                ),
                _ => {
                    return Err(crate::aws::error(e))
                        .with_context(|| format!("looking for {what} bucket {bucket}"));
                }
            },
        });
    }
    Ok(found.join("; "))
}

/// The alarm e-mail is subscribed to the stack's topic and confirmed.
async fn alarm_email(env: &EnvConfig, ctx: &AwsContext, email: &str) -> Result<Check> {
    let account = ctx.identity().await?.account.clone();
    let topic = crate::alarms::topic_arn(ctx.region(), &account, &env.stack);
    let status = crate::alarms::email::status(&ctx.sns(), &topic, email).await;
    Ok(match status {
        Ok(s) => Check {
            name: "alarm e-mail",
            ok: true,
            warn: s.warning().is_some(),
            detail: s
                .warning()
                .unwrap_or_else(|| format!("{email} is subscribed and confirmed")),
        },
        Err(e) => Check::from_result("alarm e-mail", Err(e)),
    })
}

/// The endpoint accepts a TCP connection: tells "emulator not running" apart from
/// everything that can go wrong after it.
async fn endpoint_answers(url: &url::Url) -> Result<String> {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => Ok(format!("{url} accepts connections")),
        Ok(Err(e)) => anyhow::bail!(
            "{url} does not answer ({e}); is the emulator running? (`make moto-start`)"
        ),
        Err(_) => anyhow::bail!("{url} did not answer within 3 s"),
    }
}

impl DoctorReport {
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} {} (stack {}, region {}{})\n",
            paint(style::BOLD, "fangops doctor ·"),
            self.env,
            self.stack,
            self.region,
            self.endpoint
                .as_ref()
                .map(|e| format!(", endpoint {e}"))
                .unwrap_or_default()
        );
        for c in &self.checks {
            let mark = if c.warn {
                paint(style::WARN, "!")
            } else if c.ok {
                paint(style::OK, "✓")
            } else {
                paint(style::ERROR, "✗")
            };
            out += &format!("  {mark} {:<14} {}\n", c.name, c.detail);
        }
        out
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn doctor_report_terminal_snapshot() {
        let report = DoctorReport {
            ok: false,
            env: "local".into(),
            stack: "fang-local".into(),
            region: "us-east-1".into(),
            endpoint: Some("http://127.0.0.1:4566/".into()),
            checks: vec![
                Check {
                    name: "env file",
                    ok: true,
                    warn: false,
                    detail: "environments/local.yaml is valid (5 companies)".into(),
                },
                Check {
                    name: "alarm e-mail",
                    ok: true,
                    warn: true,
                    detail: "the alarm e-mail subscription of team@example.com is pending confirmation".into(),
                },
                Check {
                    name: "endpoint",
                    ok: false,
                    warn: false,
                    detail: "http://127.0.0.1:4566/ does not answer (connection refused); is the emulator running? (`make moto-start`)".into(),
                },
            ],
        };
        insta::assert_snapshot!(crate::output::plain(&report.render()));
    }
}
