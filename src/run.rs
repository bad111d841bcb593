//! `fangops run`: runs the pipeline once and waits for the run's results. Locally the
//! local runner drives the handlers; in AWS fangops invokes the deployed producer with
//! a run id and watches S3 until the run's summary appears.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fang_shared::{RunId, keys};
use serde::Serialize;

use crate::aws::AwsContext;
use crate::config::{self, EnvRef};
use crate::output::Ui;
use crate::output::style::{self, paint};
use crate::resources::Names;

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub root: PathBuf,
    pub env: EnvRef,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub env: String,
    pub run_id: RunId,
    pub bucket: String,
    pub companies: usize,
    pub succeeded: usize,
    pub failed: Vec<CompanyFailure>,
    pub timed_out: bool,
    pub duration_s: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyFailure {
    pub company: String,
    pub reason: String,
}

impl RunReport {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && !self.timed_out && self.succeeded == self.companies
    }

    pub fn render(&self) -> String {
        let verdict = if self.ok() {
            paint(style::OK, "succeeded")
        } else {
            paint(style::ERROR, "finished with failures")
        };
        let mut out = format!(
            "run {} on {} {verdict}: {} companies, {} succeeded, {} failed, {:.1} s\n",
            self.run_id,
            self.env,
            self.companies,
            self.succeeded,
            self.failed.len(),
            self.duration_s
        );
        for f in &self.failed {
            out += &format!(
                "  {} {}: {}\n",
                paint(style::ERROR, "✗"),
                f.company,
                f.reason
            );
        }
        out += &format!(
            "results: s3://{}/{}\n",
            self.bucket,
            keys::run_prefix(&self.run_id)
        );
        out
    }
}

pub async fn run(req: &RunRequest, ui: &Ui) -> Result<RunReport> {
    let env = config::load(&req.env.path(&req.root))?;
    let ctx = AwsContext::new(&env).await?;
    ctx.ensure_account().await?;
    if ctx.is_local() {
        return crate::local::run(&env, &ctx, req.timeout, ui).await;
    }
    run_in_aws(&env, &ctx, req.timeout, ui).await
}

/// Invokes the deployed producer with a run id, then polls S3 for the run's summary.
async fn run_in_aws(
    env: &config::EnvConfig,
    ctx: &AwsContext,
    timeout: Duration,
    ui: &Ui,
) -> Result<RunReport> {
    let started = Instant::now();
    let names = Names::new(&env.stack, &ctx.identity().await?.account);
    let run_id = RunId::generate(time::OffsetDateTime::now_utc(), std::process::id());
    let payload = serde_json::json!({ "run_id": run_id }).to_string();
    let out = ctx
        .lambda()
        .invoke()
        .function_name(&names.producer_function)
        .payload(aws_sdk_lambda::primitives::Blob::new(payload))
        .send()
        .await
        .with_context(|| format!("invoking function {}", names.producer_function))?;
    if let Some(err) = out.function_error() {
        let body = out
            .payload()
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
            .unwrap_or_default();
        anyhow::bail!(
            "function {} failed ({err}): {body}",
            names.producer_function
        );
    }
    let s3 = ctx.s3();
    let progress = ui.progress(format!("run {run_id}: waiting for results"));
    let summary_key = keys::summary_key(&run_id);
    let mut companies = 0;
    let done = loop {
        if let Some(m) = fang_sentiment::store::get_manifest(&s3, &names.bucket, &run_id)
            .await
            .map_err(anyhow::Error::msg)?
        {
            companies = m.companies;
        }
        let keys = fang_sentiment::store::list_keys(&s3, &names.bucket, &keys::run_prefix(&run_id))
            .await
            .map_err(anyhow::Error::msg)?;
        let done = keys.iter().filter(|k| keys::is_result_key(k)).count();
        let finished = keys.contains(&summary_key);
        progress.set_message(format!("run {run_id}: {done} of {companies} results"));
        if finished || started.elapsed() > timeout {
            break done;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    drop(progress);
    let missing = companies.saturating_sub(done);
    let failed = if missing > 0 {
        vec![CompanyFailure {
            company: format!("{missing} companies"),
            reason: format!(
                "no result yet; failed messages end in the dead-letter queue {}",
                names.dlq
            ),
        }]
    } else {
        Vec::new()
    };
    Ok(RunReport {
        env: env.name.clone(),
        run_id,
        bucket: names.bucket,
        companies,
        succeeded: done,
        timed_out: missing > 0,
        failed,
        duration_s: started.elapsed().as_secs_f64(),
    })
}
