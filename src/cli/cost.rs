//! `fangops cost`: the monthly estimate and TCO, with actual spend beside it.

use crate::cost::CostRequest;
use crate::exit;
use crate::target::Preview;
use anyhow::Result;

use super::Ctx;
use super::common::EnvArg;

#[derive(Debug, clap::Args)]
pub struct CostArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Also estimate the env file at this git revision and show the delta; `file:PATH`
    /// compares with another env file [default in Actions: origin/$GITHUB_BASE_REF].
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Subtract the AWS free tier (per account, shared; some allowances expire).
    #[arg(long)]
    pub free_tier: bool,
    /// Do not ask Cost Explorer for the actual spend (it costs $0.01 a request).
    #[arg(long)]
    pub no_actual: bool,
    /// Read the environment's CloudWatch metrics, set what it used beside each
    /// assumption, and price with the measured usage (one GetMetricData call, $0.00001
    /// a metric).
    #[arg(long)]
    pub measured: bool,
    /// The window --measured reads, in days.
    #[arg(long, value_name = "N", requires = "measured", default_value_t = crate::cost::measured::DEFAULT_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=455))]
    pub days: u32,
    /// Store the measured usage in the env file's `cost:` section (comments and layout
    /// kept), so the next pull request's estimate starts from it.
    #[arg(long, requires = "measured")]
    pub write: bool,
    /// Print the markdown section a pull request gets instead of text.
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    #[arg(from_global)]
    pub json: bool,
}

impl CostArgs {
    pub async fn run(self, ctx: &Ctx) -> Result<u8> {
        let target = self.env.target(ctx, Preview::None)?;
        let req = CostRequest {
            base: self.base.or_else(|| ctx.process.base_revision()),
            free_tier: self.free_tier,
            actual: !self.no_actual,
            measured_days: self.measured.then_some(self.days),
            write: self.write,
        };
        let report = crate::cost::run(&target, &req).await?;
        ctx.ui.report(&report, || {
            if self.markdown {
                report.render_markdown()
            } else {
                report.render()
            }
        });
        Ok(exit::SUCCESS)
    }
}
