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
        Command::Plan(args) => {
            let comment = args.comment.target();
            let (req, detailed, out) = args.into_request(&root);
            let report = fangops::plan::plan(&req, ui).await?;
            let markdown = report.render_markdown();
            write_out(out.as_deref(), &markdown)?;
            match comment {
                Some((target, out)) => {
                    let body = fangops::comment::plan_comment(&report, target.sha.as_deref());
                    post(&target, &report.env, &body, out.as_deref(), ui).await?;
                    if ui.json {
                        ui.report(&report, String::new);
                    }
                }
                None => ui.report(&report, || markdown),
            }
            Ok(if detailed && report.has_changes() {
                exit::CHANGES
            } else {
                exit::SUCCESS
            })
        }
        Command::Deploy(args) => {
            let comment = args.comment.target();
            let (req, out) = args.into_request(&root);
            let report = fangops::deploy::deploy(&req, ui).await?;
            write_out(out.as_deref(), &report.render_markdown())?;
            // The report first: a comment GitHub refuses must not hide what the deploy did.
            ui.report(&report, || report.render());
            if let Some((target, out)) = comment {
                let body = fangops::comment::deploy_comment(&report, target.sha.as_deref());
                post(&target, &report.env, &body, out.as_deref(), ui)
                    .await
                    .with_context(|| {
                        format!(
                            "the deploy of {} ended {:?}, but its report could not be posted",
                            report.stack, report.outcome
                        )
                    })?;
            }
            Ok(if report.ok() {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
        Command::Sync(args) => {
            let report = fangops::sync::run(&args.into_request(&root), ui).await?;
            ui.report(&report, || report.render());
            Ok(exit::SUCCESS)
        }
        Command::Comment(args) => {
            let (env, body, target, out) = args.into_parts(&root)?;
            post(&target, &env, &body, out.as_deref(), ui).await?;
            Ok(exit::SUCCESS)
        }
        Command::Cost(args) => {
            let (req, markdown) = args.into_request(&root);
            let report = fangops::cost::run(&req).await?;
            ui.report(&report, || {
                if markdown {
                    report.render_markdown()
                } else {
                    report.render()
                }
            });
            Ok(exit::SUCCESS)
        }
        Command::Alarms(args) => {
            let report = fangops::alarms::run(&args.into_request(&root), ui).await?;
            ui.report(&report, || report.render());
            Ok(exit::SUCCESS)
        }
        Command::Drift(args) => {
            let report = fangops::drift::drift(&args.into_request(&root), ui).await?;
            ui.report(&report, || report.render());
            Ok(if report.drifted {
                exit::CHANGES
            } else {
                exit::SUCCESS
            })
        }
        Command::Companies(args) => {
            let report = fangops::companies::edit::run(&args.into_request(&root)?)?;
            ui.report(&report, || report.render());
            Ok(exit::SUCCESS)
        }
        Command::Teardown(args) => {
            let report = fangops::teardown::teardown(&args.into_request(&root), ui).await?;
            ui.report(&report, || report.render());
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

/// Posts (or, without a token, prints) an environment's pull-request comment.
async fn post(
    target: &fangops::github::Target,
    env: &str,
    body: &str,
    out: Option<&std::path::Path>,
    ui: &Ui,
) -> Result<()> {
    let marker = fangops::comment::marker(env);
    // With --json, stdout is the report: a comment without a token goes to stderr.
    let outcome = if ui.json && out.is_none() && target.token.is_none() {
        use std::io::Write;
        let _ = writeln!(anstream::stderr(), "{body}");
        fangops::github::CommentOutcome {
            posted: fangops::github::Posted::NotPosted,
            pr: target.pr,
            url: None,
        }
    } else {
        fangops::github::deliver(target, &marker, body, out).await?
    };
    match outcome.posted {
        fangops::github::Posted::NotPosted => {
            tracing::info!("no GITHUB_TOKEN (or repository): the comment was not posted")
        }
        posted => tracing::info!(
            "comment {} on pull request #{}{}",
            if posted == fangops::github::Posted::Created {
                "created"
            } else {
                "updated"
            },
            outcome.pr.unwrap_or_default(),
            outcome.url.map(|u| format!(": {u}")).unwrap_or_default()
        ),
    }
    Ok(())
}

/// Writes a rendered report to a file when asked to.
fn write_out(path: Option<&std::path::Path>, text: &str) -> Result<()> {
    if let Some(path) = path {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        tracing::info!("wrote {}", path.display());
    }
    Ok(())
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
