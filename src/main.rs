//! The `fangops` binary: parses arguments, sets up output, runs one command, and maps
//! the outcome to an exit code. Errors are printed in one place, here.

mod cli;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use fangops::diagnostics::InvalidInput;
use fangops::exit;
use fangops::output::{self, Ui, style};

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::detect(cli.global.json);
    output::init_logging(cli.global.verbose, &ui);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report_error(
                &ui,
                &anyhow::Error::new(e).context("starting the async runtime"),
            );
        }
    };
    match runtime.block_on(run(cli, &ui)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => report_error(&ui, &e),
    }
}

async fn run(cli: Cli, ui: &Ui) -> Result<u8> {
    let root = cli.global.project_dir;
    match cli.command {
        Command::Validate(args) => {
            let report = fangops::validate::run(&args.into_request(&root));
            ui.report(&report, || report.render());
            Ok(if report.ok {
                exit::SUCCESS
            } else {
                exit::INVALID
            })
        }
        Command::Doctor(args) => {
            let report = fangops::doctor::run(&args.into_request(&root), ui).await?;
            ui.report(&report, || report.render());
            Ok(if report.ok {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
        Command::Build(args) => {
            let report = fangops::build::build(&args.into_request(&root)?)?;
            ui.report(&report, || report.render());
            Ok(exit::SUCCESS)
        }
        Command::Bootstrap(args) => {
            let path = fangops::config::EnvRef::parse(&args.env).path(&root);
            let env = fangops::config::load(&path)?;
            let ctx = fangops::aws::AwsContext::new(&env).await?;
            let report = fangops::local::bootstrap(&env, &ctx).await?;
            ui.report(&report, || {
                format!(
                    "bootstrapped {}: table {} ({} companies, {} removed), queue {}, bucket {}\n",
                    env.name,
                    report.names.table,
                    report.companies,
                    report.removed,
                    report.names.queue,
                    report.names.bucket
                )
            });
            Ok(exit::SUCCESS)
        }
        Command::Run(args) => {
            let report = fangops::run::run(&args.into_request(&root), ui).await?;
            ui.report(&report, || report.render());
            Ok(if report.ok() {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
        Command::Results(args) => {
            let (req, out) = args.into_request(&root, ui.json);
            let results = fangops::results::fetch(&req).await?;
            let text = match req.format {
                fangops::results::Format::Json => serde_json::to_string_pretty(&results)? + "\n",
                fangops::results::Format::Html => results.render_html(),
                fangops::results::Format::Table => results.render_table(),
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    tracing::info!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
            Ok(exit::SUCCESS)
        }
        Command::Schema(args) => {
            let schema = fangops::config::schema::render();
            match args.out {
                Some(path) => std::fs::write(&path, schema)
                    .with_context(|| format!("writing the schema to {}", path.display()))?,
                None => print!("{schema}"),
            }
            Ok(exit::SUCCESS)
        }
    }
}

/// Prints an error and picks its exit code: 2 for invalid input, 1 otherwise.
fn report_error(ui: &Ui, e: &anyhow::Error) -> ExitCode {
    use std::io::Write;
    let invalid = e.downcast_ref::<InvalidInput>();
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
    ExitCode::from(if invalid.is_some() {
        exit::INVALID
    } else {
        exit::FAILURE
    })
}
