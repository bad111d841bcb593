//! How fangops talks to people and machines.
//!
//! Results go to stdout: human-readable by default, one JSON document with `--json`.
//! Logs go to stderr through `tracing`: one plain line per event in CI (`CI=true`) or
//! when stderr is not a terminal, so CI logs stay readable; a spinner only on a
//! terminal. `NO_COLOR` turns colour off everywhere.

use std::io::IsTerminal;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use serde::Serialize;
use tracing_subscriber::EnvFilter;

/// What the process knows about where its output goes.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub json: bool,
    pub ci: bool,
    /// stderr is a terminal, so a progress display makes sense there.
    pub interactive: bool,
    pub color: bool,
}

impl Ui {
    /// `ci` and `no_color` as the command line read them (`CI`, `NO_COLOR`); whether
    /// stderr is a terminal is asked here.
    pub fn new(json: bool, ci: bool, no_color: bool) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        Self {
            json,
            ci,
            interactive: stderr_tty && !ci && !json,
            color: stderr_tty && !no_color && !ci,
        }
    }

    /// Prints a report: its JSON form with `--json`, otherwise its human rendering.
    pub fn report<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        use std::io::Write;
        let mut out = anstream::stdout();
        let text = if self.json {
            serde_json::to_string_pretty(value).expect("reports always serialize") + "\n"
        } else {
            human()
        };
        // A closed pipe (`fangops ... | head`) is not an error worth a panic.
        let _ = out.write_all(text.as_bytes());
    }

    /// A line on stderr that is not a log event (a comment printed beside `--json`).
    pub fn eprintln(&self, text: &str) {
        use std::io::Write;
        let _ = writeln!(anstream::stderr(), "{text}");
    }

    /// A progress display for one long step: a spinner on a terminal, one log line
    /// otherwise.
    pub fn progress(&self, message: impl Into<String>) -> Progress {
        let message = message.into();
        if self.interactive {
            let bar = indicatif::ProgressBar::new_spinner().with_message(message);
            bar.enable_steady_tick(Duration::from_millis(100));
            Progress { bar: Some(bar) }
        } else {
            tracing::info!("{message}");
            Progress { bar: None }
        }
    }
}

/// A running step; dropping it clears the spinner.
#[derive(Debug)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn set_message(&self, message: impl Into<String>) {
        let message = message.into();
        match &self.bar {
            Some(bar) => bar.set_message(message),
            None => tracing::info!("{message}"),
        }
    }
}

impl Progress {
    /// Progress worth a glance but not a log line: updates the spinner on a terminal,
    /// prints nothing otherwise (a CI log of 400 "batch N" lines helps no one).
    pub fn tick(&self, message: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.into());
        }
    }

    /// A line that stays (an event), printed above the spinner on a terminal and as a
    /// log line otherwise.
    pub fn println(&self, line: impl Into<String>) {
        let line = line.into();
        match &self.bar {
            Some(bar) => bar.println(line),
            None => tracing::info!("{line}"),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Installs the stderr logger. `-v` shows debug events of fangops, `-vv` everything;
/// `filter` (`RUST_LOG` syntax, from `FANGOPS_LOG`) overrides both.
/// A GitHub Actions warning annotation (`::warning::`), shown on the run's page. The
/// text's line breaks and `%` are escaped as the workflow-command syntax asks.
pub fn annotate_warning(text: &str) {
    use std::io::Write;
    let escaped = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    let _ = writeln!(anstream::stderr(), "::warning title=fangops::{escaped}");
}

pub fn init_logging(verbosity: u8, filter: Option<&str>, ui: &Ui) {
    let default = match verbosity {
        0 => "fangops=info,warn",
        1 => "fangops=debug,info",
        _ => "trace",
    };
    let filter = filter
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ui.color)
        .with_target(verbosity > 0);
    // On a terminal, time stamps are noise; CI logs keep them.
    let result = if ui.ci || !ui.interactive {
        builder.try_init()
    } else {
        builder.without_time().try_init()
    };
    if let Err(e) = result {
        tracing::debug!("logger already installed: {e}");
    }
}

/// How many terminal cells `s` takes: a CJK character two, a combining mark none.
pub fn display_width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` padded with spaces to `width` terminal cells (left-aligned).
pub fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// A rendering without its colour codes, as a terminal with `NO_COLOR` shows it: what
/// the snapshot tests of terminal renderings hold.
#[cfg(test)]
pub(crate) fn plain(s: &str) -> String {
    anstream::adapter::strip_str(s).to_string()
}

/// Styles for human output; `anstream` drops them when colour is off.
pub mod style {
    use super::*;

    pub const OK: Style = AnsiColor::Green.on_default().bold();
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
    pub const DIM: Style = Style::new().dimmed();
    pub const BOLD: Style = Style::new().bold();

    /// `text` wrapped in `style`'s escape codes.
    pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
        format!("{style}{text}{style:#}")
    }
}
