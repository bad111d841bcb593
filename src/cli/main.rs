//! The program: parses arguments, reads the process environment, sets up output, runs
//! one command, and maps the outcome to an exit code. Errors are printed in one place,
//! here.

use std::process::ExitCode;

use clap::Parser;

use super::process::ProcessEnv;
use super::{Cli, Ctx};
use crate::diagnostics::{InvalidInput, UsageError};
use crate::exit;
use crate::output::{self, Ui, style};

/// The whole program: what `src/main.rs` runs.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let process = ProcessEnv::read();
    let ui = Ui::new(cli.global.json, process.ci, process.no_color);
    output::init_logging(cli.global.verbose, process.log_filter.as_deref(), &ui);
    if let Some(path) = &process.record_aws_calls {
        crate::aws::record_calls_to(path.clone());
    }
    let ctx = Ctx {
        root: cli.global.project_dir,
        ui,
        process,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report_error(
                &ctx.ui,
                &anyhow::Error::new(e).context("starting the async runtime"),
            );
        }
    };
    match runtime.block_on(cli.command.run(&ctx)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => report_error(&ctx.ui, &e),
    }
}

/// Prints an error and picks its exit code: 2 for invalid input or a usage error, 1
/// otherwise.
fn report_error(ui: &Ui, e: &anyhow::Error) -> ExitCode {
    use std::io::Write;
    let invalid = e.downcast_ref::<InvalidInput>();
    let usage = e.downcast_ref::<UsageError>().is_some();
    if ui.json {
        let value = match invalid {
            Some(InvalidInput(diags)) => serde_json::json!({ "ok": false, "errors": diags }),
            None => serde_json::json!({ "ok": false, "error": format!("{e:#}") }),
        };
        println!("{value:#}");
    } else {
        let mut err = anstream::stderr();
        let label = style::paint(style::ERROR, "error:");
        let _ = match invalid {
            Some(InvalidInput(diags)) => {
                diags.iter().try_for_each(|d| writeln!(err, "{label} {d}"))
            }
            None => writeln!(err, "{label} {e:#}"),
        };
    }
    ExitCode::from(if invalid.is_some() || usage {
        exit::INVALID
    } else {
        exit::FAILURE
    })
}
