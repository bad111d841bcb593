//! AWS client setup, in one place, for every command.
//!
//! Region and endpoint come from the env file (the target's endpoint override, which
//! the command line takes from `AWS_ENDPOINT_URL`, wins over the file's
//! `endpoint_url`), credentials from the SDK's default chain (environment, profile,
//! web identity for GitHub's OIDC, container and instance roles). Against an emulator
//! on loopback fangops uses fixed dummy credentials, so real keys are never sent to it.
//! S3 uses path-style addressing when an endpoint is set (`bucket.localhost` does not
//! resolve). The optional `account` guard is checked with STS before any write.

use anyhow::{Context, Result, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
// The same types in every SDK crate; DynamoDB's re-exports spare direct dependencies.
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use tokio::sync::OnceCell;

use crate::config::{EnvConfig, is_loopback};

/// A client of one SDK crate from the shared configuration, with the call recorder
/// when one is installed, and an optional adjustment of the builder.
macro_rules! client {
    ($sdk:ident, $conf:expr) => {
        client!($sdk, $conf, |b| b)
    };
    ($sdk:ident, $conf:expr, $adjust:expr) => {{
        let mut builder = $sdk::config::Builder::from($conf);
        if let Some(recorder) = RECORDER.get() {
            builder = builder.interceptor(recorder.clone());
        }
        $sdk::Client::from_conf($adjust(builder).build())
    }};
}

/// Where every AWS operation of this process is recorded, one `Service:Operation` line
/// each (`FANGOPS_RECORD_AWS_CALLS`): what `fangops iam`'s policies are tested against,
/// and how a user audits what a command calls.
static RECORDER: std::sync::OnceLock<CallRecorder> = std::sync::OnceLock::new();

tokio::task_local! {
    /// Set while the local runner plays the Lambda service: its calls are the functions'
    /// (their roles in AWS), not the command's, and are recorded as such.
    static AS_LAMBDA: ();
}

/// Runs `f` as the Lambda service would: the calls it makes are recorded with a
/// `lambda ` prefix, apart from the command's own.
pub async fn as_lambda<F: std::future::Future>(f: F) -> F::Output {
    AS_LAMBDA.scope((), f).await
}

/// Installs the recorder for the rest of the process (the command line does, once).
pub fn record_calls_to(path: std::path::PathBuf) {
    let _ = RECORDER.set(CallRecorder { path });
}

#[derive(Debug, Clone)]
struct CallRecorder {
    path: std::path::PathBuf,
}

impl aws_sdk_s3::config::Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "fangops call recorder"
    }

    // Not `read_before_execution`: a client's interceptors run that before the
    // operation's configuration (which holds its name) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _components: &aws_sdk_s3::config::RuntimeComponents,
        cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        use std::io::Write;
        if let Some(op) = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>() {
            // One short append per call: lines from concurrent calls do not interleave.
            let by = if AS_LAMBDA.try_with(|()| ()).is_ok() {
                "lambda "
            } else {
                ""
            };
            let line = format!("{by}{}:{}\n", op.service(), op.name());
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            file.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

/// Who the credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// Where credentials come from, without ever holding or showing the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    /// Fixed dummy credentials, used only against an emulator on loopback.
    LocalEmulator,
    /// The SDK's default provider chain.
    DefaultChain,
}

/// The SDK configuration of one environment, shared by every client fangops builds.
#[derive(Debug)]
pub struct AwsContext {
    sdk: SdkConfig,
    endpoint: Option<url::Url>,
    credential_source: CredentialSource,
    env_file: std::path::PathBuf,
    expected_account: Option<String>,
    identity: OnceCell<Identity>,
}

impl AwsContext {
    /// `endpoint_override` (from `AWS_ENDPOINT_URL` at the edge) wins over the file's
    /// `endpoint_url`.
    pub async fn new(env: &EnvConfig, endpoint_override: Option<&url::Url>) -> Result<Self> {
        let endpoint = endpoint_override.or(env.endpoint_url.as_ref()).cloned();
        let local = endpoint.as_ref().is_some_and(is_loopback);
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(env.region.clone()));
        if let Some(url) = &endpoint {
            // `Url` adds a trailing slash to bare hosts; the SDK joins paths itself.
            loader = loader.endpoint_url(url.as_str().trim_end_matches('/'));
        }
        let credential_source = if local {
            loader = loader.credentials_provider(Credentials::new(
                "fangops-local",
                "fangops-local",
                None,
                None,
                "fangops-local-emulator",
            ));
            CredentialSource::LocalEmulator
        } else {
            CredentialSource::DefaultChain
        };
        let sdk = loader.load().await;
        tracing::debug!(
            region = %env.region,
            endpoint = endpoint.as_ref().map(url::Url::as_str),
            "AWS configuration loaded"
        );
        Ok(Self {
            sdk,
            endpoint,
            credential_source,
            env_file: env.path.clone(),
            expected_account: env.account.clone(),
            identity: OnceCell::new(),
        })
    }

    /// A context of account `account` whose every call `http` answers (scripted or
    /// recorded responses), for tests of what moto cannot do. One attempt per call.
    #[cfg(test)]
    pub(crate) fn answered_by(
        env: &EnvConfig,
        http: aws_smithy_runtime_api::client::http::SharedHttpClient,
        account: &str,
    ) -> Self {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(env.region.clone()))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    crate::testing::replay::credentials(),
                ),
            )
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .http_client(http)
            .build();
        Self {
            sdk,
            endpoint: None,
            credential_source: CredentialSource::DefaultChain,
            env_file: env.path.clone(),
            expected_account: None,
            identity: OnceCell::new_with(Some(Identity {
                account: account.to_owned(),
                arn: format!("arn:aws:sts::{account}:assumed-role/fangops-deploy/ci"),
            })),
        }
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    pub fn endpoint(&self) -> Option<&url::Url> {
        self.endpoint.as_ref()
    }

    pub fn credential_source(&self) -> CredentialSource {
        self.credential_source
    }

    pub fn region(&self) -> &str {
        self.sdk.region().map_or("", Region::as_ref)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        client!(aws_sdk_sts, &self.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        client!(aws_sdk_s3, &self.sdk, |b: aws_sdk_s3::config::Builder| b
            .force_path_style(self.endpoint.is_some()))
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        client!(aws_sdk_dynamodb, &self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        client!(aws_sdk_sqs, &self.sdk)
    }

    pub fn comprehend(&self) -> aws_sdk_comprehend::Client {
        client!(aws_sdk_comprehend, &self.sdk)
    }

    /// Comprehend at its own endpoint (`AWS_ENDPOINT_URL_COMPREHEND`, the SDK's
    /// service-specific variable, which fangops's own endpoint would otherwise win
    /// over): moto has no BatchDetectSentiment, so a stand-in can answer instead.
    pub fn comprehend_at(&self, endpoint: Option<&url::Url>) -> aws_sdk_comprehend::Client {
        match endpoint {
            None => self.comprehend(),
            Some(url) => {
                client!(
                    aws_sdk_comprehend,
                    &self.sdk,
                    |b: aws_sdk_comprehend::config::Builder| b
                        .endpoint_url(url.as_str().trim_end_matches('/'))
                )
            }
        }
    }

    pub fn cloudformation(&self) -> aws_sdk_cloudformation::Client {
        client!(aws_sdk_cloudformation, &self.sdk)
    }

    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        client!(aws_sdk_cloudwatch, &self.sdk)
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        client!(aws_sdk_cloudwatchlogs, &self.sdk)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        client!(aws_sdk_sns, &self.sdk)
    }

    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        client!(aws_sdk_lambda, &self.sdk)
    }

    /// Whether this context talks to an emulator on this machine.
    pub fn is_local(&self) -> bool {
        self.credential_source == CredentialSource::LocalEmulator
    }

    /// Resolves credentials without returning them: proves the chain works.
    pub async fn check_credentials(&self) -> Result<()> {
        let provider = self
            .sdk
            .credentials_provider()
            .context("no credentials provider is configured")?;
        provider.provide_credentials().await.context(
            "resolving AWS credentials (environment, profile, web identity, instance role)",
        )?;
        Ok(())
    }

    /// The caller's identity, asked of STS once per process.
    pub async fn identity(&self) -> Result<&Identity> {
        self.identity
            .get_or_try_init(|| async {
                let out = self
                    .sts()
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(crate::aws::error)
                    .context("asking STS who the credentials belong to (GetCallerIdentity)")?;
                Ok(Identity {
                    account: out.account.unwrap_or_default(),
                    arn: out.arn.unwrap_or_default(),
                })
            })
            .await
    }

    /// The account guard: call before any write. Without `account` in the env file it
    /// only checks that the credentials work.
    pub async fn ensure_account(&self) -> Result<()> {
        let identity = self.identity().await?;
        check_account(
            &identity.account,
            self.expected_account.as_deref(),
            &self.env_file,
        )
    }
}

/// An AWS error as fangops shows it: the service's code and message when AWS answered
/// (the SDK's own `Display` says "unhandled error (Code)" and drops the message that
/// says what is wrong), else the transport failure with its causes. Callers add the
/// action and the resource with `.context(...)`, and match on [`AwsError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct AwsError {
    code: Option<String>,
    text: String,
}

impl AwsError {
    /// The service's error code (`ValidationError`, `AccessDenied`, `Throttling`).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

/// Turns any SDK call's error into an [`AwsError`]; the one formatter fangops uses.
pub fn error<E, R>(e: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match e.as_service_error() {
        Some(s) => {
            let code = s.code().map(str::to_owned);
            let text = match (s.code(), s.message()) {
                (Some(c), Some(m)) if !m.is_empty() => format!("{c}: {m}"),
                (Some(c), _) => c.to_owned(),
                (None, Some(m)) if !m.is_empty() => m.to_owned(),
                (None, _) => DisplayErrorContext(&e).to_string(),
            };
            AwsError { code, text }
        }
        None => AwsError {
            code: None,
            text: DisplayErrorContext(&e).to_string(),
        },
    }
}

fn check_account(actual: &str, expected: Option<&str>, file: &std::path::Path) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => bail!(
            "refusing to act: credentials are for account {actual}, {} expects {expected}",
            file.display()
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_guard_message() {
        let err = check_account(
            "111111111111",
            Some("222222222222"),
            std::path::Path::new("environments/prod.yaml"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing to act: credentials are for account 111111111111, environments/prod.yaml expects 222222222222"
        );
        assert!(check_account("1", None, std::path::Path::new("x")).is_ok());
        assert!(check_account("1", Some("1"), std::path::Path::new("x")).is_ok());
    }
}
