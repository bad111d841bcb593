//! Text from outside (company names, AWS reasons, parameter values) inside markdown
//! that GitHub renders: it must read as the same text, and nothing in it may format,
//! link, mention someone, inject HTML, or break out of a table cell.
//!
//! A report people read is written once, against a [`Flavor`]: GitHub markdown for a
//! comment or a step summary, plain text for a terminal. Outside text, values, fangops's
//! emphasis, call-outs and tables each say what they are, and the flavor decides how
//! they look, so that a terminal never shows a markdown escape (`&lt;`, `\|`).

/// Escapes `s` for inline markdown, including inside a table cell.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            // HTML first: no tag, entity or comment can form.
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // An `@` before a name would notify that GitHub user or team.
            '@' => out.push_str("&#64;"),
            // Inline markdown: emphasis, code, links, images, strikethrough, tables.
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '|' | '~' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `s` as an inline code span, safe in a table cell. Inside a code span nothing is
/// markdown or HTML, and backslashes are literal; only a backtick run (answered by a
/// longer fence) and GFM's cell-splitting `|` (which it lets `\|` escape) need care.
pub fn code(s: &str) -> String {
    let text: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('|', "\\|");
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// One cell of a [`Table`]: outside text is escaped, a value is a code span, and only
/// fangops's own markup goes in as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Outside text (a name, an AWS reason): escaped.
    Text(String),
    /// A value shown as code (an id, a hash, a parameter value).
    Code(String),
    /// Markdown fangops wrote itself, from escaped or code parts; taken as it is.
    Markdown(String),
}

/// Outside text, escaped.
pub fn text(s: impl AsRef<str>) -> Cell {
    Cell::Text(s.as_ref().to_owned())
}

/// A value as a code span.
pub fn value(s: impl AsRef<str>) -> Cell {
    Cell::Code(s.as_ref().to_owned())
}

/// fangops's own markup (`**total**`, a sign, a joined list of code spans).
pub fn raw(s: impl Into<String>) -> Cell {
    Cell::Markdown(s.into())
}

impl Cell {
    fn render(&self) -> String {
        match self {
            Self::Text(s) => escape(s),
            Self::Code(s) => code(s),
            Self::Markdown(s) => s.replace(['\n', '\r'], " "),
        }
    }
}

/// A GitHub table: the one way fangops writes one, so that no cell can break it.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    /// The headings as a terminal shows them.
    plain_header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// Columns with fangops's own headings (escaped all the same), left-aligned.
    pub fn new<const N: usize>(header: [&str; N]) -> Self {
        Self {
            header: header.iter().map(|h| escape(h)).collect(),
            plain_header: header.iter().map(|h| (*h).to_owned()).collect(),
            right: vec![false; N],
            rows: Vec::new(),
        }
    }

    /// Replaces heading `i` with a cell (a heading that names a revision as code).
    pub fn heading(mut self, i: usize, cell: Cell) -> Self {
        self.plain_header[i] = match &cell {
            Cell::Text(s) | Cell::Code(s) | Cell::Markdown(s) => one_line(s),
        };
        self.header[i] = cell.render();
        self
    }

    /// Right-aligns column `i` (amounts, sizes).
    pub fn right(mut self, i: usize) -> Self {
        self.right[i] = true;
        self
    }

    /// A row; missing cells are empty, extra ones an error in fangops.
    pub fn row(&mut self, cells: impl IntoIterator<Item = Cell>) -> &mut Self {
        let row: Vec<Cell> = cells.into_iter().collect();
        debug_assert!(row.len() <= self.header.len(), "more cells than columns");
        self.rows.push(row);
        self
    }

    /// The table, ending in a newline.
    pub fn render(&self) -> String {
        let line = |cells: Vec<String>| {
            let cells: Vec<String> = cells
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        " ".to_owned()
                    } else {
                        format!(" {c} ")
                    }
                })
                .collect();
            format!("|{}|\n", cells.join("|"))
        };
        let mut out = line(self.header.clone());
        out += &format!(
            "|{}|\n",
            self.right
                .iter()
                .map(|&r| if r { "---:" } else { "---" })
                .collect::<Vec<_>>()
                .join("|")
        );
        for row in &self.rows {
            let mut cells: Vec<String> = row.iter().map(Cell::render).collect();
            cells.resize(self.header.len(), String::new());
            out += &line(cells);
        }
        out
    }
}

/// Who reads a rendering: GitHub (markdown) or a terminal (plain text, coloured when
/// colour is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Markdown,
    Plain,
}

impl Flavor {
    /// Outside text: escaped for markdown; on a terminal as it is, on one line.
    pub fn text(self, s: &str) -> String {
        match self {
            Self::Markdown => escape(s),
            Self::Plain => one_line(s),
        }
    }

    /// A value (a name, an id, a flag): a code span, or as it is.
    pub fn code(self, s: &str) -> String {
        match self {
            Self::Markdown => code(s),
            Self::Plain => one_line(s),
        }
    }

    /// fangops's own words that must stand out (a failure): bold, or red.
    pub fn alarm(self, s: &str) -> String {
        match self {
            Self::Markdown => format!("**{s}**"),
            Self::Plain => paint(crate::output::style::ERROR, s),
        }
    }

    /// A report's title: a level-3 heading, or a line; then a blank line.
    pub fn title(self, s: &str) -> String {
        match self {
            Self::Markdown => format!("### {s}\n\n"),
            Self::Plain => format!("{s}\n\n"),
        }
    }

    /// A labelled paragraph ("**Verification:** …").
    pub fn labelled(self, label: &str, line: &str) -> String {
        match self {
            Self::Markdown => format!("**{label}:** {line}.\n\n"),
            Self::Plain => format!("{label}: {line}.\n\n"),
        }
    }

    /// A warning a reader must not miss: a quoted bold label, or a yellow one; then a
    /// blank line.
    pub fn warning(self, line: &str) -> String {
        self.warning_line(line) + "\n"
    }

    /// [`Self::warning`] without the blank line after it.
    pub fn warning_line(self, line: &str) -> String {
        self.callout("Warning", crate::output::style::WARN, line)
    }

    /// An error: a quoted bold label, or a red one; then a blank line.
    pub fn error(self, line: &str) -> String {
        self.callout("Error", crate::output::style::ERROR, line) + "\n"
    }

    /// Something fangops will refuse: a quoted bold label, or a red one.
    pub fn blocked(self, line: &str) -> String {
        self.callout("Blocked", crate::output::style::ERROR, line)
    }

    /// An aside: in italics, or as it is.
    pub fn aside(self, line: &str) -> String {
        match self {
            Self::Markdown => format!("_{line}._\n"),
            Self::Plain => format!("{line}.\n"),
        }
    }

    fn callout(self, label: &str, style: anstyle::Style, line: &str) -> String {
        match self {
            Self::Markdown => format!("> **{label}:** {line}.\n"),
            Self::Plain => format!("{}: {line}.\n", paint(style, label)),
        }
    }
}

/// How a section's title is written where the section is placed: a heading of a level
/// in a report of its own (`#### Cost estimate` in a plan), or a bold line inside a
/// pull-request comment, whose headings are the comment's (`**Cost estimate**`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heading {
    Level(u8),
    Bold,
}

impl Heading {
    /// The title's line, without the blank line after it; on a terminal, the title.
    pub fn line(self, f: Flavor, title: &str) -> String {
        match (f, self) {
            (Flavor::Plain, _) => title.to_owned(),
            (Flavor::Markdown, Self::Level(n)) => format!("{} {title}", "#".repeat(n.into())),
            (Flavor::Markdown, Self::Bold) => format!("**{title}**"),
        }
    }
}

fn paint(style: anstyle::Style, s: &str) -> String {
    crate::output::style::paint(style, s)
}

/// Outside text on one line, without control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

impl Table {
    /// The table for `flavor`: a GitHub table, or columns aligned on a terminal (cells
    /// as they read, fangops's own markup taken as already written for the terminal).
    pub fn render_as(&self, flavor: Flavor) -> String {
        if flavor == Flavor::Markdown {
            return self.render();
        }
        let header: Vec<String> = self.plain_header.clone();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let mut cells: Vec<String> = row
                    .iter()
                    .map(|c| match c {
                        Cell::Text(s) | Cell::Code(s) => one_line(s),
                        Cell::Markdown(s) => s.replace(['\n', '\r'], " "),
                    })
                    .collect();
                cells.resize(header.len(), String::new());
                cells
            })
            .collect();
        let width =
            |s: &str| crate::output::display_width(&anstream::adapter::strip_str(s).to_string());
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                std::iter::once(&header)
                    .chain(&rows)
                    .map(|r| width(&r[i]))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut out = String::from(" ");
            for (i, c) in cells.iter().enumerate() {
                let fill = widths[i].saturating_sub(width(c));
                let last = i + 1 == cells.len();
                out.push(' ');
                if self.right[i] {
                    out += &" ".repeat(fill);
                    out += c;
                } else {
                    out += c;
                    if !last {
                        out += &" ".repeat(fill);
                    }
                }
                if !last {
                    out.push(' ');
                }
            }
            out.trim_end().to_owned() + "\n"
        };
        let mut out = line(&header);
        for row in &rows {
            out += &line(row);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{Flavor, Table, code, escape, raw, text, value};

    #[test]
    fn a_plain_table_aligns_columns_and_shows_text_as_it_is() {
        let mut t = Table::new(["name", "size", ""]).right(1);
        t.row([text("a|b <i>"), raw("3"), value("x`y")]);
        t.row([text("short"), raw("12")]);
        assert_eq!(
            t.render_as(Flavor::Plain),
            "  name     size\n  a|b <i>     3  x`y\n  short      12\n"
        );
        assert_eq!(Flavor::Plain.text("a <= b\nc"), "a <= b c");
        assert_eq!(Flavor::Markdown.text("a <= b"), "a &lt;= b");
    }

    #[test]
    fn tables_escape_text_and_fence_values() {
        let mut t = Table::new(["name", "size", ""]).right(1);
        t.row([text("a|b <i>"), raw("**3**"), value("x`y")]);
        t.row([text("short")]);
        assert_eq!(
            t.render(),
            "| name | size | |\n|---|---:|---|\n| a\\|b &lt;i&gt; | **3** | ``x`y`` |\n| short | | |\n"
        );
    }

    #[test]
    fn code_spans_hold_anything() {
        assert_eq!(code("rate(1 day)"), "`rate(1 day)`");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x `y` z"), "``x `y` z``");
        assert_eq!(code("`"), "`` ` ``");
        assert_eq!(code("<b>@x</b>"), "`<b>@x</b>`");
    }

    #[test]
    fn nothing_formats_links_mentions_or_breaks_a_cell() {
        assert_eq!(escape("Procter & Gamble"), "Procter &amp; Gamble");
        assert_eq!(
            escape("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert\\(1\\)&gt;"
        );
        assert_eq!(escape("a|b\nc"), "a\\|b c");
        assert_eq!(
            escape("[click](https://evil)"),
            "\\[click\\]\\(https://evil\\)"
        );
        assert_eq!(
            escape("@octocat **bold** `code`"),
            "&#64;octocat \\*\\*bold\\*\\* \\`code\\`"
        );
        assert_eq!(escape("<!-- hide -->"), "&lt;\\!-- hide --&gt;");
        assert_eq!(escape("Crédit Agricole"), "Crédit Agricole");
    }
}
