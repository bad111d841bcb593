//! Text from outside (company names, AWS reasons, parameter values) inside markdown
//! that GitHub renders: it must read as the same text, and nothing in it may format,
//! link, mention someone, inject HTML, or break out of a table cell.

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

#[cfg(test)]
mod tests {
    use super::{code, escape};

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
