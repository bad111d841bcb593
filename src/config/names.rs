//! Company names: normalization, validation and the list-as-a-set.
//!
//! The env file's `companies` list is the desired content of the DynamoDB table, so a
//! name must mean one thing wherever it is compared: in the file, in the table and in a
//! pull-request diff. Normalizing once, here, is what lets "Apple", " Apple " and the
//! decomposed and composed forms of "Nestlé" count as the same company. A leaf of the
//! core: the env-file parser uses it, and `crate::config::edit` edits the list in a file.

use std::collections::HashMap;
use std::fmt;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Longest name accepted, in UTF-8 bytes after normalization. DynamoDB allows 2 KB for
/// a partition key; 256 bytes keeps S3 result keys and comment tables readable.
pub const MAX_NAME_BYTES: usize = 256;

/// Why a single name is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("company name is empty")]
    Empty,
    #[error("company name contains the control character {}", codepoint(*.0))]
    Control(char),
    #[error(
        "company name contains the invisible formatting character {}, which can make a name display as another",
        codepoint(*.0)
    )]
    Invisible(char),
    #[error("company name is {0} bytes long; at most {MAX_NAME_BYTES} bytes are allowed")]
    TooLong(usize),
}

fn codepoint(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Bidirectional overrides and isolates: they reorder how text is displayed, so a name
/// containing them can look like another in a review (the "Trojan Source" trick).
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Normalizes one raw name: trims, applies Unicode NFC, collapses runs of inner
/// whitespace to one space, then validates the result.
pub fn normalize(raw: &str) -> Result<String, NameError> {
    let trimmed = raw.trim();
    // Most names are already NFC (all ASCII ones are): skip the composing iterator then.
    if is_nfc_quick(trimmed.chars()) == IsNormalized::Yes {
        collapse(trimmed.chars(), trimmed.len())
    } else {
        collapse(trimmed.nfc(), trimmed.len())
    }
}

fn collapse(chars: impl Iterator<Item = char>, len: usize) -> Result<String, NameError> {
    let mut out = String::with_capacity(len);
    let mut pending_space = false;
    for c in chars {
        if c.is_control() {
            return Err(NameError::Control(c));
        }
        if is_invisible_format(c) {
            return Err(NameError::Invisible(c));
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    if out.is_empty() {
        return Err(NameError::Empty);
    }
    if out.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong(out.len()));
    }
    Ok(out)
}

/// The key two names are compared by: case-insensitive, after normalization. "APPLE"
/// and "Apple" are one company; the file's spelling is what gets written.
pub fn identity_key(normalized: &str) -> String {
    normalized.to_lowercase()
}

/// A validated company name and the line of the env file it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Company {
    pub name: String,
    /// The Wikipedia page to read, when the file names one (else the name's page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wikipedia: Option<String>,
    /// 1-based line in the env file; 0 when the name did not come from a file.
    pub line: u64,
}

impl Company {
    /// The Wikipedia title read for this company.
    pub fn page(&self) -> &str {
        self.wikipedia.as_deref().unwrap_or(&self.name)
    }
}

/// MediaWiki's longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 255;

/// Why a Wikipedia title is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("`wikipedia` is empty: give the page's title, or drop the key to read the name's page")]
    Empty,
    #[error("`wikipedia` contains {0:?}, which no Wikipedia title can (# < > [ ] | {{ }})")]
    Forbidden(char),
    #[error("`wikipedia` contains the control or formatting character {}", codepoint(*.0))]
    Control(char),
    #[error("`wikipedia` is {0} bytes long; Wikipedia titles have at most {MAX_TITLE_BYTES}")]
    TooLong(usize),
}

/// A title as written, checked against what MediaWiki accepts; spaces are trimmed and
/// collapsed, underscores kept (they mean spaces to Wikipedia).
pub fn normalize_title(raw: &str) -> Result<String, TitleError> {
    let title: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return Err(TitleError::Empty);
    }
    if let Some(c) = title.chars().find(|c| "#<>[]|{}".contains(*c)) {
        return Err(TitleError::Forbidden(c));
    }
    if let Some(c) = title
        .chars()
        .find(|c| c.is_control() || is_invisible_format(*c))
    {
        return Err(TitleError::Control(c));
    }
    if title.len() > MAX_TITLE_BYTES {
        return Err(TitleError::TooLong(title.len()));
    }
    Ok(title)
}

/// Which page a title means to Wikipedia: underscores are spaces and the first letter
/// is upper case; the rest is case-sensitive.
pub fn page_key(title: &str) -> String {
    let spaced = title.replace('_', " ");
    let mut chars = spaced.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A problem with one entry of a list, located by its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListProblem {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// A raw entry to validate: the text as written and where it was written.
#[derive(Debug, Clone, Copy)]
pub struct RawEntry<'a> {
    pub text: &'a str,
    pub line: u64,
    pub column: u64,
    /// The `wikipedia:` title as written, and where.
    pub wikipedia: Option<RawTitle<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub struct RawTitle<'a> {
    pub text: &'a str,
    pub line: u64,
    pub column: u64,
}

/// The companies of one environment: a set of normalized, unique names. Iteration is in
/// sorted order, so that output does not depend on the order of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyList {
    companies: Vec<Company>,
}

impl CompanyList {
    /// Validates every entry, reporting every problem found (not just the first).
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = RawEntry<'a>>,
    ) -> Result<Self, Vec<ListProblem>> {
        let entries = entries.into_iter();
        let mut problems = Vec::new();
        let mut companies = Vec::with_capacity(entries.size_hint().0);
        // identity key -> index of the first company with it
        let mut seen: HashMap<String, usize> = HashMap::with_capacity(entries.size_hint().0);
        // page key -> index of the first company that reads the page
        let mut pages: HashMap<String, usize> = HashMap::with_capacity(entries.size_hint().0);
        for entry in entries {
            let wikipedia = match entry.wikipedia.map(|t| (t, normalize_title(t.text))) {
                None => None,
                Some((_, Ok(title))) => Some(title),
                Some((t, Err(e))) => {
                    problems.push(ListProblem {
                        line: t.line,
                        column: t.column,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            match normalize(entry.text) {
                Err(e) => problems.push(ListProblem {
                    line: entry.line,
                    column: entry.column,
                    message: e.to_string(),
                }),
                Ok(name) => {
                    let key = identity_key(&name);
                    let company = Company {
                        name,
                        wikipedia,
                        line: entry.line,
                    };
                    let page = page_key(company.page());
                    if let Some(&first) = seen.get(&key) {
                        let first: &Company = &companies[first];
                        problems.push(ListProblem {
                            line: entry.line,
                            column: entry.column,
                            message: format!(
                                "duplicate company {:?}: same as {:?} on line {} (names are compared after trimming, Unicode NFC, collapsing spaces and ignoring case)",
                                entry.text, first.name, first.line
                            ),
                        });
                    } else if let Some(&first) = pages.get(&page) {
                        let first: &Company = &companies[first];
                        problems.push(ListProblem {
                            line: entry.line,
                            column: entry.column,
                            message: format!(
                                "{:?} reads the Wikipedia page {:?}, as {:?} on line {} does: two entries for one company",
                                company.name,
                                company.page(),
                                first.name,
                                first.line
                            ),
                        });
                    } else {
                        seen.insert(key, companies.len());
                        pages.insert(page, companies.len());
                        companies.push(company);
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        companies.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self { companies })
    }

    /// Builds a list from names that do not come from a file (tests, the table).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, Vec<ListProblem>> {
        Self::from_entries(names.iter().map(|n| RawEntry {
            text: n.as_ref(),
            line: 0,
            column: 0,
            wikipedia: None,
        }))
    }

    pub fn len(&self) -> usize {
        self.companies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.companies.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Company> {
        self.companies.iter()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.companies.iter().map(|c| c.name.as_str())
    }

    /// The company of that (normalized) name.
    pub fn get(&self, name: &str) -> Option<&Company> {
        self.companies
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.companies[i])
    }

    pub fn contains(&self, name: &str) -> bool {
        self.companies
            .binary_search_by(|c| c.name.as_str().cmp(name))
            .is_ok()
    }
}

impl fmt::Display for Company {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_collapses_and_composes() {
        assert_eq!(normalize("  Apple  ").unwrap(), "Apple");
        assert_eq!(normalize("Meta   Platforms").unwrap(), "Meta Platforms");
        // U+00A0 and U+3000 are whitespace too.
        assert_eq!(
            normalize("Meta\u{00A0}\u{3000}Platforms").unwrap(),
            "Meta Platforms"
        );
        // "e" + combining acute becomes the single code point "é".
        assert_eq!(normalize("Nestle\u{0301}").unwrap(), "Nestl\u{00E9}");
    }

    #[test]
    fn accepts_any_script() {
        for name in [
            "トヨタ自動車",
            "Сбербанк",
            "삼성전자",
            "טבע",
            "Ørsted",
            "上海汽车",
        ] {
            assert_eq!(normalize(name).unwrap(), name);
        }
    }

    #[test]
    fn rejects_empty_and_blank() {
        assert_eq!(normalize(""), Err(NameError::Empty));
        assert_eq!(normalize(" \u{3000} "), Err(NameError::Empty));
    }

    #[test]
    fn rejects_control_characters() {
        assert_eq!(normalize("Ap\u{0007}ple"), Err(NameError::Control('\u{7}')));
        assert_eq!(normalize("Ap\nple"), Err(NameError::Control('\n')));
        assert_eq!(
            normalize("Ap\u{0007}ple").unwrap_err().to_string(),
            "company name contains the control character U+0007"
        );
    }

    #[test]
    fn rejects_bidi_overrides() {
        assert_eq!(
            normalize("Apple\u{202E}elppA"),
            Err(NameError::Invisible('\u{202E}'))
        );
    }

    #[test]
    fn length_bound_is_in_bytes_after_normalization() {
        assert!(normalize(&"a".repeat(256)).is_ok());
        assert_eq!(normalize(&"a".repeat(257)), Err(NameError::TooLong(257)));
        // 86 three-byte characters = 258 bytes, although only 86 characters.
        assert_eq!(normalize(&"ト".repeat(86)), Err(NameError::TooLong(258)));
        // Padding that is trimmed away does not count.
        assert!(normalize(&format!("   {}   ", "a".repeat(256))).is_ok());
    }

    fn entries(names: &[&'static str]) -> Vec<RawEntry<'static>> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| RawEntry {
                text: n,
                line: i as u64 + 10,
                column: 5,
                wikipedia: None,
            })
            .collect()
    }

    #[test]
    fn duplicates_by_case_and_spacing_name_both_lines() {
        let problems =
            CompanyList::from_entries(entries(&["Apple", "Netflix", "APPLE", " net  flix"]))
                .unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 12);
        assert!(
            problems[0].message.contains("same as \"Apple\" on line 10"),
            "{}",
            problems[0].message
        );
        let problems =
            CompanyList::from_entries(entries(&["Meta Platforms", " meta   PLATFORMS "]))
                .unwrap_err();
        assert_eq!(problems[0].line, 11);
    }

    #[test]
    fn composed_and_decomposed_forms_are_duplicates() {
        let problems =
            CompanyList::from_entries(entries(&["Nestl\u{00E9}", "Nestle\u{0301}"])).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 11);
    }

    #[test]
    fn reports_every_problem() {
        let problems =
            CompanyList::from_entries(entries(&["", "ok", "bad\u{1}", "OK"])).unwrap_err();
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![10, 12, 13]);
    }

    #[test]
    fn list_is_a_set_in_sorted_order() {
        let a = CompanyList::from_names(&["Netflix", "Amazon", "Apple"]).unwrap();
        let b = CompanyList::from_names(&["Apple", "Netflix", "Amazon"]).unwrap();
        assert_eq!(
            a.names().collect::<Vec<_>>(),
            ["Amazon", "Apple", "Netflix"]
        );
        assert_eq!(a.names().collect::<Vec<_>>(), b.names().collect::<Vec<_>>());
        assert!(a.contains("Apple"));
        assert!(!a.contains("apple"));
    }

    #[test]
    fn hundred_thousand_names_validate() {
        let names: Vec<String> = (0..100_000).map(|i| format!("Company {i:06}")).collect();
        let list = CompanyList::from_names(&names).unwrap();
        assert_eq!(list.len(), 100_000);
    }
}
