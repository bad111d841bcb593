//! `fangops companies add|remove|rename`: edits the `companies` list of an env file in
//! place, the GitOps form of the original CLI's add/remove/update.
//!
//! The edit is textual, anchored on the byte spans the YAML parser reports for each
//! entry, so everything else in the file (comments, key order, indentation, quoting,
//! line endings) stays byte for byte. New names go where a reviewer expects them: at
//! their alphabetical place when the list is sorted, at the end otherwise. The result
//! is parsed and validated again, and must hold exactly the intended names, before it
//! replaces the file atomically (a temporary file renamed over it).
//!
//! A general lossless YAML editor (yaml-edit) exists, but it is young and this edit is
//! narrow: one top-level sequence of scalars, whose spans serde-saphyr already gives.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::config::names::{identity_key, normalize};
use crate::config::{self, EnvRef, raw};
use crate::diagnostics::{Diagnostic, InvalidInput};

/// What to do to the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Add(Vec<String>),
    /// One company with the Wikipedia page to read for it (`companies add --wikipedia`);
    /// for a listed company, sets or replaces its page.
    AddPage {
        name: String,
        wikipedia: String,
    },
    Remove(Vec<String>),
    Rename {
        from: String,
        to: String,
    },
}

#[derive(Debug, Clone)]
pub struct EditRequest {
    pub root: PathBuf,
    pub env: EnvRef,
    pub edit: Edit,
    /// More names for an add or remove, one a line (`-` for stdin).
    pub names_file: Option<PathBuf>,
    /// Show the change; leave the file alone.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct EditReport {
    pub file: PathBuf,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub renamed: Vec<Renamed>,
    /// Names asked to be added that the list already has (with the file's spelling).
    pub already_listed: Vec<String>,
    /// Listed companies whose Wikipedia page was set: (name, title).
    pub repaged: Vec<Renamed>,
    pub companies: usize,
    pub written: bool,
}

impl EditReport {
    pub fn changed(&self) -> bool {
        !self.added.is_empty()
            || !self.removed.is_empty()
            || !self.renamed.is_empty()
            || !self.repaged.is_empty()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for n in &self.added {
            out += &format!("+ {n}\n");
        }
        for n in &self.removed {
            out += &format!("- {n}\n");
        }
        for Renamed { from, to } in &self.renamed {
            out += &format!("~ {from} → {to}\n");
        }
        for Renamed { from, to } in &self.repaged {
            out += &format!("~ {from}: Wikipedia page {to}\n");
        }
        for n in &self.already_listed {
            out += &format!("= {n} (already listed)\n");
        }
        let what = if !self.changed() {
            "unchanged".to_owned()
        } else if self.written {
            "updated".to_owned()
        } else {
            "would be updated (dry run)".to_owned()
        };
        out += &format!(
            "{}: {what}, {} companies\n",
            self.file.display(),
            self.companies
        );
        out
    }
}

/// Reads names from a file, one per line; blank lines and `#` comments are skipped.
/// `-` reads standard input.
pub fn read_names(path: &Path) -> Result<Vec<String>> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading names from standard input")?
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("reading names from {}", path.display()))?
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// Reads the env file, edits it, validates the result and (unless dry) writes it.
pub fn run(req: &EditRequest) -> Result<EditReport> {
    let path = req.env.path(&req.root);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        // config::load gives the located error.
        config::parse(&path, &bytes)?;
        bail!("{} is not UTF-8", path.display());
    };
    let mut edit = req.edit.clone();
    if let (Some(file), Edit::Add(names) | Edit::Remove(names)) = (&req.names_file, &mut edit) {
        names.extend(read_names(file)?);
    }
    let (new_text, mut report) = apply(&path, text, &edit)?;
    report.file = path.clone();
    if report.changed() && !req.dry_run {
        write_atomically(&path, new_text.as_bytes())?;
        report.written = true;
    }
    Ok(report)
}

/// Replaces `path` with `contents` so that a crash leaves the old file or the new one,
/// never half of either: a temporary file in the same folder, synced, renamed over.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".fangops-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        // Keep the file's mode; tempfile creates 0600.
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// One entry of the list as written: its value and the bytes of its scalar.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    key: String,
    /// The whole item: a scalar, or a `{name: …, wikipedia: …}` mapping.
    start: usize,
    end: usize,
    /// The name's scalar inside the item (the item itself for a plain name).
    name_start: usize,
    name_end: usize,
    wikipedia: Option<String>,
}

impl Entry {
    /// The item's text with the name replaced (a rename keeps the page).
    fn renamed(&self, body: &str, to: &str) -> String {
        format!(
            "{}{}{}",
            &body[self.start..self.name_start],
            scalar(to),
            &body[self.name_end..self.end]
        )
    }
}

/// An entry of the list as fangops writes it: a name, or a one-line mapping.
fn item(name: &str, wikipedia: Option<&str>) -> String {
    match wikipedia {
        None => scalar(name),
        Some(w) => format!("{{name: {}, wikipedia: {}}}", scalar(name), scalar(w)),
    }
}

/// A value's byte range in the text.
fn span_of<T>(s: &serde_saphyr::Spanned<T>) -> (usize, usize) {
    let span = s.referenced.span();
    let start = span.byte_offset().unwrap_or(0) as usize;
    (start, start + span.byte_len().unwrap_or(0) as usize)
}

/// Where a flow mapping that opens at `open` closes (after its `}`), quotes respected.
fn flow_mapping_end(body: &str, open: usize) -> Option<usize> {
    let mut quote = None;
    for (i, c) in body[open..].char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '}') => return Some(open + i + 1),
            (None, '\n') => return None,
            _ => {}
        }
    }
    None
}

/// A change to the text: replace `start..end` with `text`.
#[derive(Debug)]
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

fn invalid(path: &Path, message: impl Into<String>) -> InvalidInput {
    InvalidInput(vec![
        Diagnostic::whole_file(path, message).with_key("companies"),
    ])
}

/// The edit itself, on text: returns the new text and what changed. Pure, so every
/// layout case is a unit test. The file must be valid before (an edit is no way to hide
/// a problem in it), and the result must list exactly the intended names.
pub fn apply(path: &Path, text: &str, edit: &Edit) -> Result<(String, EditReport), InvalidInput> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    config::parse(path, body.as_bytes())?;
    let raw = raw::from_str(path, body).map_err(|d| InvalidInput(vec![d]))?;
    let entries = raw
        .companies
        .iter()
        .map(|c| entry_of(path, body, c))
        .collect::<Result<Vec<_>, _>>()?;
    let mut report = EditReport {
        file: path.to_path_buf(),
        ..Default::default()
    };
    let plan = plan_edit(path, &entries, edit, &mut report)?;
    let splices = splices_for(path, body, &entries, &plan, &mut report)?;
    let mut out = String::with_capacity(body.len() + 64 * plan.to_add.len());
    out.push_str(bom);
    let mut at = 0;
    for s in &splices {
        out.push_str(&body[at..s.start]);
        out.push_str(&s.text);
        at = s.end;
    }
    out.push_str(&body[at..]);
    report.companies = check_result(path, &out, &entries, &plan)?;
    Ok((out, report))
}

/// One entry of the list as the file has it: where it is, its name and page.
fn entry_of(
    path: &Path,
    body: &str,
    c: &serde_saphyr::Spanned<raw::RawCompany>,
) -> Result<Entry, InvalidInput> {
    let (item_start, item_end) = span_of(c);
    let (name, wikipedia) = match &c.value {
        raw::RawCompany::Name(text) => {
            let name = normalize(text).unwrap_or_else(|_| text.clone());
            return Ok(Entry {
                key: identity_key(&name),
                name,
                start: item_start,
                end: item_end,
                name_start: item_start,
                name_end: item_end,
                wikipedia: None,
            });
        }
        raw::RawCompany::Entry { name, wikipedia } => (name, wikipedia),
    };
    let (name_start, name_end) = span_of(name);
    let value_end = wikipedia
        .as_ref()
        .map_or(name_end, |w| span_of(w).1.max(name_end));
    // A flow mapping ends at its brace; a block mapping at its last value. The brace
    // that opens this entry: the last one before the name on its line, with no brace
    // closed in between.
    let open = body[..name_start]
        .rfind('{')
        .filter(|&b| !body[b..name_start].contains(['}', '\n']));
    let (start, end) = match open {
        Some(open) => (
            open,
            flow_mapping_end(body, open)
                .ok_or_else(|| invalid(path, "cannot locate an entry of the companies list"))?,
        ),
        None => (item_start.min(name_start), value_end),
    };
    let normalized = normalize(&name.value).unwrap_or_else(|_| name.value.clone());
    Ok(Entry {
        key: identity_key(&normalized),
        name: normalized,
        start,
        end,
        name_start,
        name_end,
        wikipedia: wikipedia.as_ref().map(|w| w.value.trim().to_owned()),
    })
}

/// What an edit does to the listed entries.
#[derive(Debug, Default)]
struct Plan<'e> {
    to_add: Vec<String>,
    /// Pages of added names.
    pages: HashMap<String, String>,
    /// Listed entries whose page an `AddPage` sets.
    repaged: Vec<(&'e Entry, String)>,
    to_remove: Vec<&'e Entry>,
    renames: Vec<(&'e Entry, String)>,
}

/// Which entries the edit adds, removes, renames or gives a page; names already
/// listed go to the report.
fn plan_edit<'e>(
    path: &Path,
    entries: &'e [Entry],
    edit: &Edit,
    report: &mut EditReport,
) -> Result<Plan<'e>, InvalidInput> {
    let by_key: HashMap<&str, &Entry> = entries.iter().map(|e| (e.key.as_str(), e)).collect();
    let find = |key: &str| by_key.get(key).copied();
    let mut plan = Plan::default();
    match edit {
        Edit::AddPage { name, wikipedia } => {
            let name = normalize_arg(path, name)?;
            let title = crate::config::names::normalize_title(wikipedia)
                .map_err(|e| invalid(path, e.to_string()))?;
            match find(&identity_key(&name)) {
                Some(e) if e.wikipedia.as_deref() == Some(title.as_str()) => {
                    report.already_listed.push(e.name.clone());
                }
                Some(e) => plan.repaged.push((e, title)),
                None => {
                    plan.pages.insert(name.clone(), title);
                    plan.to_add.push(name);
                }
            }
        }
        Edit::Add(names) => {
            let mut seen = BTreeSet::new();
            for raw_name in names {
                let name = normalize_arg(path, raw_name)?;
                let key = identity_key(&name);
                if let Some(e) = find(&key) {
                    report.already_listed.push(e.name.clone());
                } else if seen.insert(key) {
                    plan.to_add.push(name);
                }
            }
        }
        Edit::Remove(names) => plan.to_remove = to_remove(path, names, find)?,
        Edit::Rename { from, to } => {
            let from = normalize_arg(path, from)?;
            let to = normalize_arg(path, to)?;
            let Some(old) = find(&identity_key(&from)) else {
                return Err(invalid(path, format!("{from} is not in the list")));
            };
            if let Some(other) = find(&identity_key(&to))
                && other.start != old.start
            {
                return Err(invalid(
                    path,
                    format!("{to} is already in the list (as {})", other.name),
                ));
            }
            if old.name != to {
                plan.renames.push((old, to));
            }
        }
    }
    Ok(plan)
}

/// The entries `names` name, each once; a name not in the list refuses the whole edit.
fn to_remove<'e>(
    path: &Path,
    names: &[String],
    find: impl Fn(&str) -> Option<&'e Entry>,
) -> Result<Vec<&'e Entry>, InvalidInput> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut seen = BTreeSet::new();
    for raw_name in names {
        let name = normalize_arg(path, raw_name)?;
        let key = identity_key(&name);
        match find(&key) {
            Some(e) if seen.insert(key) => out.push(e),
            Some(_) => {}
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        return Err(invalid(
            path,
            format!(
                "not in the list, so not removed: {}; nothing was changed",
                missing.join(", ")
            ),
        ));
    }
    Ok(out)
}

/// The text changes that carry out `plan`, in order and not overlapping; what they do
/// goes to the report.
fn splices_for(
    path: &Path,
    body: &str,
    entries: &[Entry],
    plan: &Plan,
    report: &mut EditReport,
) -> Result<Vec<Splice>, InvalidInput> {
    let flow = entries
        .first()
        .is_some_and(|e| prev_non_space(body, e.start).is_some_and(|c| c == '[' || c == ','));
    let newline = if body.contains("\r\n") { "\r\n" } else { "\n" };
    let mut splices = Vec::new();
    for (e, to) in &plan.renames {
        splices.push(Splice {
            start: e.name_start,
            end: e.name_end,
            text: scalar(to),
        });
        report.renamed.push(Renamed {
            from: e.name.clone(),
            to: to.clone(),
        });
    }
    for (e, title) in &plan.repaged {
        if body[e.start..e.end].contains('\n') {
            return Err(invalid(
                path,
                format!(
                    "{} is a mapping over several lines; set its `wikipedia:` by hand",
                    e.name
                ),
            ));
        }
        splices.push(Splice {
            start: e.start,
            end: e.end,
            text: item(&e.name, Some(title)),
        });
        report.repaged.push(Renamed {
            from: e.name.clone(),
            to: title.clone(),
        });
    }
    let remaining = entries.len() - plan.to_remove.len();
    if flow {
        flow_edits(
            path,
            body,
            entries,
            &plan.to_remove,
            &plan.to_add,
            &plan.pages,
            &plan.renames,
            &plan.repaged,
            &mut splices,
        )?;
    } else if !plan.to_remove.is_empty() || !plan.to_add.is_empty() {
        block_edits(
            path,
            body,
            entries,
            &plan.to_remove,
            &plan.to_add,
            &plan.pages,
            remaining,
            newline,
            &mut splices,
        )?;
    }
    report.added = plan.to_add.clone();
    report.removed = plan.to_remove.iter().map(|e| e.name.clone()).collect();
    splices.sort_by_key(|s| (s.start, s.end));
    if splices.windows(2).any(|w| w[0].end > w[1].start) {
        return Err(invalid(path, "cannot edit this list layout safely"));
    }
    Ok(splices)
}

/// The edited text must parse, validate, and list exactly the intended names with the
/// intended pages; returns how many it lists.
fn check_result(
    path: &Path,
    out: &str,
    entries: &[Entry],
    plan: &Plan,
) -> Result<usize, InvalidInput> {
    let after = config::parse(path, out.as_bytes())?;
    let mut expected: BTreeSet<String> = entries.iter().map(|e| e.name.clone()).collect();
    for e in &plan.to_remove {
        expected.remove(&e.name);
    }
    for (e, to) in &plan.renames {
        expected.remove(&e.name);
        expected.insert(to.clone());
    }
    expected.extend(plan.to_add.iter().cloned());
    let got: BTreeSet<String> = after.companies.names().map(str::to_owned).collect();
    let pages_as_meant = plan
        .pages
        .iter()
        .chain(plan.repaged.iter().map(|(e, t)| (&e.name, t)))
        .all(|(name, title)| {
            after.companies.get(name).and_then(|c| c.wikipedia.as_ref()) == Some(title)
        });
    if got != expected || !pages_as_meant {
        return Err(invalid(
            path,
            "this list's layout cannot be edited safely; nothing was changed (edit it by hand)",
        ));
    }
    Ok(got.len())
}

fn normalize_arg(path: &Path, raw_name: &str) -> Result<String, InvalidInput> {
    normalize(raw_name).map_err(|e| invalid(path, format!("{raw_name:?}: {e}")))
}

fn prev_non_space(text: &str, at: usize) -> Option<char> {
    text[..at].chars().rev().find(|c| !c.is_whitespace())
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Just past the newline ending the line that holds `at` (or the end of the text).
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// A name as YAML: plain when that reads back as the same string in any context
/// (block or flow), double-quoted (JSON escapes are valid YAML) otherwise.
pub fn scalar(name: &str) -> String {
    let plain_chars = name.chars().enumerate().all(|(i, c)| {
        c.is_alphanumeric()
            || (i > 0 && matches!(c, ' ' | '.' | '&' | '\'' | '-' | '(' | ')' | '/' | '+'))
    });
    let lower = name.to_ascii_lowercase();
    let special = matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "nan" | "inf"
    ) || name.parse::<f64>().is_ok()
        || name.starts_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_digit() || "._-:+eE".contains(c));
    if plain_chars && !special && !name.is_empty() {
        name.to_owned()
    } else {
        serde_json::to_string(name).expect("a string serializes")
    }
}

/// Block lists: one line per entry. Removal drops the entry's lines (with a trailing
/// comment on them); additions copy the indentation and dash of their neighbour.
#[allow(clippy::too_many_arguments)]
fn block_edits(
    path: &Path,
    body: &str,
    entries: &[Entry],
    to_remove: &[&Entry],
    to_add: &[String],
    pages: &std::collections::HashMap<String, String>,
    remaining: usize,
    newline: &str,
    splices: &mut Vec<Splice>,
) -> Result<(), InvalidInput> {
    for e in to_remove {
        splices.push(removed_line(path, body, e)?);
    }
    if remaining == 0 && to_add.is_empty() {
        // `companies:` with nothing under it would be null: say `[]`.
        let key_end = companies_key_end(path, body)?;
        splices.push(Splice {
            start: key_end,
            end: key_end,
            text: " []".to_owned(),
        });
        return Ok(());
    }
    if to_add.is_empty() {
        return Ok(());
    }
    let Some(last) = entries.last() else {
        return add_to_empty(path, body, to_add, pages, newline, splices);
    };
    for (at, text) in block_inserts(body, entries, last, to_add, pages, newline) {
        // An insertion point where a removed line starts goes into that splice.
        match splices
            .iter_mut()
            .find(|s| s.start == at && s.end > s.start)
        {
            Some(s) => s.text.insert_str(0, &text),
            None => splices.push(Splice {
                start: at,
                end: at,
                text,
            }),
        }
    }
    Ok(())
}

/// The removal of a block entry's lines (with a trailing comment on them).
fn removed_line(path: &Path, body: &str, e: &Entry) -> Result<Splice, InvalidInput> {
    let start = line_start(body, e.start);
    if !body[start..e.start].trim_start().starts_with('-') {
        return Err(invalid(path, "cannot locate an entry's line in the list"));
    }
    Ok(Splice {
        start,
        end: line_end(body, e.end),
        text: String::new(),
    })
}

/// The lines that add `to_add` to a block list, by insertion point: each new name goes
/// before the first entry that sorts after it (when the list is sorted), else after
/// the `last` entry. One text per insertion point.
fn block_inserts(
    body: &str,
    entries: &[Entry],
    last: &Entry,
    to_add: &[String],
    pages: &HashMap<String, String>,
    newline: &str,
) -> Vec<(usize, String)> {
    let sorted = entries.windows(2).all(|w| w[0].key <= w[1].key);
    let mut ordered = to_add.to_vec();
    ordered.sort_by_key(|n| identity_key(n));
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for name in &ordered {
        let key = identity_key(name);
        let before = sorted
            .then(|| entries.get(entries.partition_point(|e| e.key <= key)))
            .flatten();
        let (at, p) = match before {
            Some(e) => (line_start(body, e.start), dash_prefix(body, e)),
            None => (line_end(body, last.end), dash_prefix(body, last)),
        };
        let mut line = format!(
            "{p}{}{newline}",
            item(name, pages.get(name).map(String::as_str))
        );
        if at == body.len() && !body.ends_with('\n') {
            line.insert_str(0, newline);
        }
        match inserts.iter_mut().find(|(a, _)| *a == at) {
            Some((_, text)) => text.push_str(&line),
            None => inserts.push((at, line)),
        }
    }
    inserts
}

/// The indentation and dash of a block entry's line, which an addition copies.
fn dash_prefix(body: &str, e: &Entry) -> String {
    let line = &body[line_start(body, e.start)..e.start];
    let indent: String = line.chars().take_while(|c| *c == ' ').collect();
    format!("{indent}- ")
}

/// Where the top-level `companies:` key's colon ends.
fn companies_key_end(path: &Path, body: &str) -> Result<usize, InvalidInput> {
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("companies") {
            let trimmed = rest.trim_start_matches([' ', '\t']);
            if trimmed.starts_with(':') {
                return Ok(offset + "companies".len() + (rest.len() - trimmed.len()) + 1);
            }
        }
        offset += line.len();
    }
    Err(invalid(path, "cannot find the top-level `companies:` key"))
}

/// `companies: []` (or `[ ]`) becomes a block list under the key.
fn add_to_empty(
    path: &Path,
    body: &str,
    to_add: &[String],
    pages: &std::collections::HashMap<String, String>,
    newline: &str,
    splices: &mut Vec<Splice>,
) -> Result<(), InvalidInput> {
    let key_end = companies_key_end(path, body)?;
    let open = key_end
        + body[key_end..]
            .find(|c: char| !c.is_whitespace())
            .ok_or_else(|| invalid(path, "cannot find the companies list"))?;
    let close = body[open..]
        .find(']')
        .map(|i| open + i + 1)
        .filter(|_| body[open..].starts_with('['))
        .ok_or_else(|| invalid(path, "cannot find the companies list"))?;
    if !body[open + 1..close - 1].trim().is_empty() {
        return Err(invalid(path, "cannot edit this list layout safely"));
    }
    let mut sorted = to_add.to_vec();
    sorted.sort_by_key(|n| identity_key(n));
    let mut text = String::new();
    for n in &sorted {
        text += &format!("{newline}  - {}", item(n, pages.get(n).map(String::as_str)));
    }
    // Whatever followed `[]` on its line (a comment) stays after the key's line.
    let rest_of_line = &body[close..line_end(body, close)];
    let rest = rest_of_line.trim_end_matches(['\r', '\n']);
    let eol = &rest_of_line[rest.len()..];
    splices.push(Splice {
        start: key_end,
        end: close + rest.len(),
        text: format!("{rest}{text}"),
    });
    if eol.is_empty() {
        splices
            .last_mut()
            .expect("just pushed")
            .text
            .push_str(newline);
    }
    Ok(())
}

/// Flow lists (`[A, B]`): the entries between the brackets are written out again, in
/// their order, with additions at the end. Refused when a comment sits inside them,
/// which rewriting would lose.
#[allow(clippy::too_many_arguments)]
fn flow_edits(
    path: &Path,
    body: &str,
    entries: &[Entry],
    to_remove: &[&Entry],
    to_add: &[String],
    pages: &std::collections::HashMap<String, String>,
    renames: &[(&Entry, String)],
    repaged: &[(&Entry, String)],
    splices: &mut Vec<Splice>,
) -> Result<(), InvalidInput> {
    if to_remove.is_empty() && to_add.is_empty() {
        return Ok(()); // a rename or a new page alone is a splice of its own
    }
    splices.clear();
    let first = &entries[0];
    let last = entries.last().expect("flow lists here are not empty");
    let open = body[..first.start]
        .rfind('[')
        .ok_or_else(|| invalid(path, "cannot find the companies list"))?;
    let close = body[last.end..]
        .find(']')
        .map(|i| last.end + i)
        .ok_or_else(|| invalid(path, "cannot find the companies list"))?;
    let mut between = vec![&body[open + 1..first.start], &body[last.end..close]];
    between.extend(entries.windows(2).map(|w| &body[w[0].end..w[1].start]));
    if between.iter().any(|b| b.contains('#')) {
        return Err(invalid(
            path,
            "the companies list is a flow list ([...]) with comments inside; make it a block list (one `- name` per line) to edit it with fangops",
        ));
    }
    let mut items: Vec<String> = Vec::new();
    for e in entries {
        if to_remove.iter().any(|r| r.start == e.start) {
            continue;
        }
        if let Some((_, title)) = repaged.iter().find(|(r, _)| r.start == e.start) {
            items.push(item(&e.name, Some(title)));
            continue;
        }
        match renames.iter().find(|(r, _)| r.start == e.start) {
            Some((_, to)) => items.push(e.renamed(body, to)),
            None => items.push(body[e.start..e.end].to_owned()),
        }
    }
    items.extend(
        to_add
            .iter()
            .map(|n| item(n, pages.get(n).map(String::as_str))),
    );
    splices.push(Splice {
        start: open,
        end: close + 1,
        text: format!("[{}]", items.join(", ")),
    });
    Ok(())
}

/// `fangops cost --measured --write`: sets keys of the env file's `cost:` section, in
/// place like the companies edit: a value already written is replaced in its span
/// (its comment stays), a missing key goes first under a block `cost:`, and a file
/// without the section gets one at its end. The result is validated and must hold
/// the values before it replaces the file.
pub fn set_cost(path: &Path, values: &[(&str, f64)]) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let new = set_cost_text(path, &text, values)?;
    if new != text {
        write_atomically(path, new.as_bytes())?;
    }
    Ok(())
}

/// A number as the env file gets it: at most 2 decimals, no trailing zeros.
fn number(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    format!("{r}")
}

/// [`set_cost`] on text; pure.
pub fn set_cost_text(
    path: &Path,
    text: &str,
    values: &[(&str, f64)],
) -> Result<String, InvalidInput> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let before = config::parse(path, body.as_bytes())?;
    let raw = raw::from_str(path, body).map_err(|d| InvalidInput(vec![d]))?;
    let mut splices: Vec<Splice> = Vec::new();
    let mut missing: Vec<(&str, f64)> = Vec::new();
    for &(key, v) in values {
        match written_cost(raw.cost.as_ref(), key) {
            Some(s) => {
                let (start, end) = span_of(s);
                splices.push(Splice {
                    start,
                    end,
                    text: number(v),
                });
            }
            None => missing.push((key, v)),
        }
    }
    if !missing.is_empty() {
        splices.push(missing_cost_keys(path, body, &missing)?);
    }
    // Back to front, so earlier offsets hold (no two splices share a start).
    splices.sort_by_key(|s| std::cmp::Reverse(s.start));
    let mut out = body.to_owned();
    for s in &splices {
        out.replace_range(s.start..s.end, &s.text);
    }
    check_cost_written(path, before, values, &out)?;
    Ok(format!("{bom}{out}"))
}

/// A problem with the env file's `cost:` section.
fn invalid_cost(path: &Path, message: &str) -> InvalidInput {
    InvalidInput(vec![Diagnostic::whole_file(path, message).with_key("cost")])
}

/// The value of the `cost:` key as written in the file, if it is.
fn written_cost<'r>(
    cost: Option<&'r raw::RawCost>,
    key: &str,
) -> Option<&'r serde_saphyr::Spanned<f64>> {
    cost.and_then(|c| match key {
        "sentiment_ms_per_company" => c.sentiment_ms_per_company.as_ref(),
        "producer_ms_per_run" => c.producer_ms_per_run.as_ref(),
        "producer_ms_per_company" => c.producer_ms_per_company.as_ref(),
        "text_chars_per_company" => c.text_chars_per_company.as_ref(),
        "result_kb" => c.result_kb.as_ref(),
        "text_change_rate" => c.text_change_rate.as_ref(),
        "log_kb_per_company" => c.log_kb_per_company.as_ref(),
        _ => None,
    })
}

/// The keys the file does not write yet: first under a block `cost:`, or in a new
/// `cost:` section at the file's end.
fn missing_cost_keys(
    path: &Path,
    body: &str,
    missing: &[(&str, f64)],
) -> Result<Splice, InvalidInput> {
    let newline = if body.contains("\r\n") { "\r\n" } else { "\n" };
    // The top-level `cost:` line, if any, and what follows the colon.
    let mut offset = 0;
    let mut section = None;
    for line in body.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("cost:") {
            section = Some((offset + line.len(), rest.trim()));
            break;
        }
        offset += line.len();
    }
    let lines = |indent: &str| -> String {
        missing
            .iter()
            .map(|(k, v)| format!("{indent}{k}: {}{newline}", number(*v)))
            .collect()
    };
    match section {
        Some((_, rest)) if !(rest.is_empty() || rest.starts_with('#')) => Err(invalid_cost(
            path,
            "the cost section is not a block mapping: write the measured values by hand (fangops cost --measured shows them)",
        )),
        Some((after, _)) => {
            // `cost:` on the file's last line, without a newline, gets one first.
            let lead = if body[..after].ends_with('\n') {
                ""
            } else {
                newline
            };
            Ok(Splice {
                start: after,
                end: after,
                text: format!("{lead}{}", lines(&section_indent(&body[after..]))),
            })
        }
        None => {
            let lead = if body.is_empty() || body.ends_with('\n') {
                ""
            } else {
                newline
            };
            Ok(Splice {
                start: body.len(),
                end: body.len(),
                text: format!("{lead}cost:{newline}{}", lines("  ")),
            })
        }
    }
}

/// The indentation of a section's first key, two spaces if it has none.
fn section_indent(section: &str) -> String {
    section
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .filter(|l| l.starts_with([' ', '\t']))
        .map(|l| l[..l.len() - l.trim_start().len()].to_owned())
        .unwrap_or_else(|| "  ".to_owned())
}

/// The file must now say what it said, but for these values: an anchor shared with
/// another key, or a merge, would change more than asked.
fn check_cost_written(
    path: &Path,
    before: config::EnvConfig,
    values: &[(&str, f64)],
    out: &str,
) -> Result<(), InvalidInput> {
    let mut expected = before;
    for &(key, v) in values {
        let Some(slot) = expected.cost.value_mut(key) else {
            return Err(invalid_cost(path, &format!("cost.{key} cannot be written")));
        };
        *slot = number(v).parse().expect("a number reads back");
    }
    let after = config::parse(path, out.as_bytes())?;
    let json = |e: &config::EnvConfig| serde_json::to_value(e).expect("a config serializes");
    if json(&after) != json(&expected) {
        return Err(invalid_cost(
            path,
            "writing the measured values in place would change more than them (an anchor or a merge?): nothing was written; set them by hand",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(text: &str, values: &[(&str, f64)]) -> Result<String, InvalidInput> {
        set_cost_text(Path::new("environments/dev.yaml"), text, values)
    }

    const COST_HEAD: &str = "stack: fang-dev # dev\nregion: us-east-1\ncompanies: [A]\n";

    #[test]
    fn measured_cost_values_replace_in_place_and_missing_keys_are_added() {
        // A file without the section gets one at its end.
        let out = cost(
            COST_HEAD,
            &[("sentiment_ms_per_company", 1234.567), ("result_kb", 1.0)],
        )
        .unwrap();
        assert_eq!(
            out,
            format!("{COST_HEAD}cost:\n  sentiment_ms_per_company: 1234.57\n  result_kb: 1\n")
        );
        // Values written are replaced in their span, comments and other keys kept;
        // missing ones go first under the section, at its indentation.
        let text = format!(
            "{COST_HEAD}cost:   # tuned\n    result_kb: 2.0   # S3\n    log_kb_per_company: 0.5\nresults:\n  retention_days: 30\n"
        );
        let out = cost(&text, &[("result_kb", 1.5), ("producer_ms_per_run", 306.0)]).unwrap();
        assert_eq!(
            out,
            format!(
                "{COST_HEAD}cost:   # tuned\n    producer_ms_per_run: 306\n    result_kb: 1.5   # S3\n    log_kb_per_company: 0.5\nresults:\n  retention_days: 30\n"
            )
        );
        // CRLF files stay CRLF; a last line without a newline gets one.
        let crlf = "stack: fang-dev\r\nregion: us-east-1\r\ncompanies: [A]\r\ncost:";
        let out = cost(crlf, &[("result_kb", 1.5)]).unwrap();
        assert_eq!(
            out,
            "stack: fang-dev\r\nregion: us-east-1\r\ncompanies: [A]\r\ncost:\r\n  result_kb: 1.5\r\n"
        );
        // The same values again: the same text.
        assert_eq!(cost(&out, &[("result_kb", 1.5)]).unwrap(), out);
    }

    /// Regression: `text_change_rate`, which `cost --measured --write` stores, was not
    /// found when written, so a second `--write` added the key again.
    #[test]
    fn every_cost_key_written_once_is_replaced_in_place_the_next_time() {
        for key in config::CostAssumptions::KEYS {
            let once = cost(COST_HEAD, &[(key, 0.5)]).unwrap();
            let twice = cost(&once, &[(key, 0.25)]);
            assert_eq!(
                twice.map_err(|e| format!("{e:#}")),
                Ok(once.replace(": 0.5\n", ": 0.25\n")),
                "{key}"
            );
        }
        // Every key the file can hold is one the model reads.
        let mut a = crate::testing::env::dev(&["A"], "").cost;
        assert!(
            config::CostAssumptions::KEYS
                .iter()
                .all(|k| a.value_mut(k).is_some())
        );
    }

    #[test]
    fn a_flow_cost_section_or_an_invalid_file_is_refused() {
        let flow = format!("{COST_HEAD}cost: {{result_kb: 2}}\n");
        // A key it already has is replaced in place…
        assert_eq!(
            cost(&flow, &[("result_kb", 1.5)]).unwrap(),
            format!("{COST_HEAD}cost: {{result_kb: 1.5}}\n")
        );
        // …a new one cannot be placed, and nothing is written.
        let e = cost(&flow, &[("producer_ms_per_run", 306.0)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a block mapping"), "{e}");
        assert!(e.contains("cost"), "{e}");
        // An anchor shared with another key: writing one would change both.
        let anchored = format!("{COST_HEAD}cost:\n  result_kb: &kb 2\n  log_kb_per_company: *kb\n");
        let e = cost(&anchored, &[("result_kb", 1.5)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("would change more than them"), "{e}");
        let e = cost("stack: fang-dev\nregion: nowhere\n", &[("result_kb", 1.5)]).unwrap_err();
        assert!(!e.to_string().is_empty());
    }

    #[test]
    fn edit_report_terminal_snapshot() {
        let report = EditReport {
            file: "environments/dev.yaml".into(),
            added: vec!["Spotify".into()],
            removed: vec!["Netflix".into()],
            renamed: vec![Renamed {
                from: "Facebook".into(),
                to: "Meta".into(),
            }],
            already_listed: vec!["Apple".into()],
            repaged: vec![Renamed {
                from: "Alphabet".into(),
                to: "Alphabet Inc.".into(),
            }],
            companies: 5,
            written: false,
        };
        insta::assert_snapshot!(report.render());
    }

    const HEAD: &str = "# The dev environment.\nstack: fang-dev   # the stack\nregion: us-east-1\n";

    fn edit(text: &str, e: Edit) -> (String, EditReport) {
        apply(Path::new("environments/dev.yaml"), text, &e).unwrap_or_else(|e| panic!("{e}"))
    }

    fn edit_err(text: &str, e: Edit) -> String {
        apply(Path::new("environments/dev.yaml"), text, &e)
            .unwrap_err()
            .to_string()
    }

    fn add(names: &[&str]) -> Edit {
        Edit::Add(names.iter().map(|s| (*s).to_owned()).collect())
    }

    fn remove(names: &[&str]) -> Edit {
        Edit::Remove(names.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn add_to_a_sorted_list_goes_in_order_and_keeps_everything_else() {
        let text = format!(
            "{HEAD}companies:\n  # big tech\n  - Apple     # since 2020\n  - Meta\n  - Nvidia\nalarms:\n  dlq_messages: {{ threshold: 1 }}\n"
        );
        let (out, report) = edit(&text, add(&["Microsoft", "Adobe", "Zoom"]));
        assert_eq!(
            out,
            format!(
                "{HEAD}companies:\n  # big tech\n  - Adobe\n  - Apple     # since 2020\n  - Meta\n  - Microsoft\n  - Nvidia\n  - Zoom\nalarms:\n  dlq_messages: {{ threshold: 1 }}\n"
            )
        );
        assert_eq!(report.added, ["Microsoft", "Adobe", "Zoom"]);
        assert_eq!(report.companies, 6);
    }

    #[test]
    fn add_to_an_unsorted_list_appends_with_its_indentation() {
        let text = format!("{HEAD}companies:\n    - Nvidia\n    - Apple\n");
        let (out, _) = edit(&text, add(&["Meta"]));
        assert_eq!(
            out,
            format!("{HEAD}companies:\n    - Nvidia\n    - Apple\n    - Meta\n")
        );
    }

    #[test]
    fn add_at_the_end_of_a_file_without_a_final_newline() {
        let text = format!("{HEAD}companies:\n- Apple");
        let (out, _) = edit(&text, add(&["Meta"]));
        assert_eq!(out, format!("{HEAD}companies:\n- Apple\n- Meta\n"));
    }

    #[test]
    fn already_listed_names_are_reported_not_added() {
        let text = format!("{HEAD}companies:\n  - Apple\n");
        let (out, report) = edit(&text, add(&["  apple ", "Meta", "META"]));
        assert_eq!(out, format!("{HEAD}companies:\n  - Apple\n  - Meta\n"));
        assert_eq!(report.already_listed, ["Apple"]);
        assert_eq!(report.added, ["Meta"]);
        let (same, report) = edit(&text, add(&["APPLE"]));
        assert_eq!(same, text);
        assert!(!report.changed());
    }

    #[test]
    fn names_that_need_quotes_get_them() {
        let text = format!("{HEAD}companies:\n  - Apple\n");
        let (out, _) = edit(
            &text,
            add(&[
                "Yes",
                "3M",
                "AT&T",
                "Foo: Bar",
                "#hash",
                "Procter & Gamble",
                "Crédit Agricole",
                "a, b",
            ]),
        );
        let after = config::parse(Path::new("x.yaml"), out.as_bytes()).unwrap();
        let names: Vec<_> = after.companies.names().collect();
        for n in [
            "Yes",
            "3M",
            "AT&T",
            "Foo: Bar",
            "#hash",
            "Procter & Gamble",
            "Crédit Agricole",
            "a, b",
        ] {
            assert!(names.contains(&n), "{n} missing from {names:?}\n{out}");
        }
        assert!(out.contains("  - \"Yes\"\n"), "{out}");
        assert!(out.contains("  - AT&T\n"), "{out}");
        assert!(out.contains("  - Crédit Agricole\n"), "{out}");
    }

    #[test]
    fn remove_drops_the_line_and_its_comment_only() {
        let text = format!(
            "{HEAD}companies:\n  - Apple\n  - \"Meta\"  # renamed from Facebook\n  - Nvidia\n# trailing comment\n"
        );
        let (out, report) = edit(&text, remove(&["meta"]));
        assert_eq!(
            out,
            format!("{HEAD}companies:\n  - Apple\n  - Nvidia\n# trailing comment\n")
        );
        assert_eq!(report.removed, ["Meta"]);
    }

    #[test]
    fn removing_a_missing_name_changes_nothing() {
        let text = format!("{HEAD}companies:\n  - Apple\n");
        let err = edit_err(&text, remove(&["Apple", "Appel"]));
        assert!(
            err.contains("not in the list, so not removed: Appel"),
            "{err}"
        );
        assert!(err.contains("environments/dev.yaml"), "{err}");
    }

    #[test]
    fn removing_every_name_leaves_an_empty_list() {
        let text = format!("{HEAD}companies:   # watched\n  - Apple\n  - Meta\nalarms: {{}}\n");
        let (out, _) = edit(&text, remove(&["Apple", "Meta"]));
        assert_eq!(
            out,
            format!("{HEAD}companies: []   # watched\nalarms: {{}}\n")
        );
    }

    #[test]
    fn add_and_remove_at_the_same_place() {
        let text = format!("{HEAD}companies:\n  - Apple\n  - Meta\n  - Nvidia\n");
        let (out, _) = edit(&text, remove(&["Meta"]));
        let (out, _) = edit(&out, add(&["Microsoft"]));
        assert_eq!(
            out,
            format!("{HEAD}companies:\n  - Apple\n  - Microsoft\n  - Nvidia\n")
        );
    }

    fn page(name: &str, title: &str) -> Edit {
        Edit::AddPage {
            name: name.into(),
            wikipedia: title.into(),
        }
    }

    #[test]
    fn add_with_a_page_writes_a_one_line_mapping_in_order() {
        let text = format!("{HEAD}companies:\n  - Amazon\n  - Netflix\n");
        let (out, report) = edit(&text, page("Apple", "Apple Inc."));
        assert_eq!(
            out,
            format!(
                "{HEAD}companies:\n  - Amazon\n  - {{name: Apple, wikipedia: Apple Inc.}}\n  - Netflix\n"
            )
        );
        assert_eq!(report.added, ["Apple"]);
        let cfg = config::parse(Path::new("x.yaml"), out.as_bytes()).unwrap();
        assert_eq!(cfg.companies.get("Apple").unwrap().page(), "Apple Inc.");
    }

    #[test]
    fn a_page_for_a_listed_company_replaces_its_entry_and_keeps_its_comment() {
        let text = format!("{HEAD}companies:\n  - Alphabet   # Google\n  - Netflix\n");
        let (out, report) = edit(&text, page("alphabet", "Alphabet Inc."));
        assert_eq!(
            out,
            format!(
                "{HEAD}companies:\n  - {{name: Alphabet, wikipedia: Alphabet Inc.}}   # Google\n  - Netflix\n"
            )
        );
        assert_eq!(
            report.repaged,
            [Renamed {
                from: "Alphabet".into(),
                to: "Alphabet Inc.".into()
            }]
        );
        // The same page again: nothing to do.
        let (again, report) = edit(&out, page("Alphabet", "Alphabet Inc."));
        assert_eq!(again, out);
        assert!(!report.changed());
    }

    #[test]
    fn mapping_entries_are_removed_and_renamed_whole() {
        let text = format!(
            "{HEAD}companies:\n  - {{name: Apple, wikipedia: \"Apple Inc.\"}}  # not the fruit\n  - name: Alphabet\n    wikipedia: Alphabet Inc.\n  - Netflix\n"
        );
        let (out, _) = edit(&text, remove(&["Apple", "Alphabet"]));
        assert_eq!(out, format!("{HEAD}companies:\n  - Netflix\n"));
        let (out, report) = edit(
            &text,
            Edit::Rename {
                from: "Apple".into(),
                to: "Apple Computer".into(),
            },
        );
        assert!(
            out.contains(
                "  - {name: Apple Computer, wikipedia: \"Apple Inc.\"}  # not the fruit\n"
            ),
            "{out}"
        );
        assert_eq!(report.renamed.len(), 1);
        let cfg = config::parse(Path::new("x.yaml"), out.as_bytes()).unwrap();
        assert_eq!(
            cfg.companies.get("Apple Computer").unwrap().page(),
            "Apple Inc."
        );
    }

    #[test]
    fn flow_lists_keep_their_mappings() {
        let text = format!("{HEAD}companies: [Amazon, {{name: Apple, wikipedia: Apple Inc.}}]\n");
        let (out, _) = edit(&text, add(&["Netflix"]));
        assert_eq!(
            out,
            format!("{HEAD}companies: [Amazon, {{name: Apple, wikipedia: Apple Inc.}}, Netflix]\n")
        );
        let (out, _) = edit(&out, remove(&["Apple"]));
        assert_eq!(out, format!("{HEAD}companies: [Amazon, Netflix]\n"));
    }

    #[test]
    fn a_bad_title_changes_nothing() {
        let text = format!("{HEAD}companies:\n  - Amazon\n");
        let err = apply(
            Path::new("environments/dev.yaml"),
            &text,
            &page("Apple", "Apple [fruit]"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no Wikipedia title can"), "{err}");
    }

    #[test]
    fn add_to_an_empty_flow_list_makes_a_block_list() {
        let text = format!("{HEAD}companies: []  # none yet\nalarms: {{}}\n");
        let (out, _) = edit(&text, add(&["Meta", "Apple"]));
        assert_eq!(
            out,
            format!("{HEAD}companies:  # none yet\n  - Apple\n  - Meta\nalarms: {{}}\n")
        );
    }

    #[test]
    fn rename_keeps_position_comment_and_quoting_rules() {
        let text = format!("{HEAD}companies:\n  - Apple\n  - Facebook   # FB\n  - Nvidia\n");
        let (out, report) = edit(
            &text,
            Edit::Rename {
                from: "facebook".into(),
                to: "Meta Platforms".into(),
            },
        );
        assert_eq!(
            out,
            format!("{HEAD}companies:\n  - Apple\n  - Meta Platforms   # FB\n  - Nvidia\n")
        );
        assert_eq!(
            report.renamed,
            [Renamed {
                from: "Facebook".into(),
                to: "Meta Platforms".into()
            }]
        );
        let err = edit_err(
            &text,
            Edit::Rename {
                from: "Facebook".into(),
                to: "APPLE".into(),
            },
        );
        assert!(
            err.contains("APPLE is already in the list (as Apple)"),
            "{err}"
        );
        let err = edit_err(
            &text,
            Edit::Rename {
                from: "Twitter".into(),
                to: "X".into(),
            },
        );
        assert!(err.contains("Twitter is not in the list"), "{err}");
    }

    #[test]
    fn flow_lists_are_rewritten_in_place() {
        let text = format!("{HEAD}companies: [Apple, \"Meta\", Nvidia]  # short list\n");
        let (out, _) = edit(&text, remove(&["Meta"]));
        assert_eq!(
            out,
            format!("{HEAD}companies: [Apple, Nvidia]  # short list\n")
        );
        let (out, _) = edit(&out, add(&["Zoom"]));
        assert_eq!(
            out,
            format!("{HEAD}companies: [Apple, Nvidia, Zoom]  # short list\n")
        );
        let (out, _) = edit(
            &out,
            Edit::Rename {
                from: "Zoom".into(),
                to: "Zoom Video".into(),
            },
        );
        assert_eq!(
            out,
            format!("{HEAD}companies: [Apple, Nvidia, Zoom Video]  # short list\n")
        );
        let commented = format!("{HEAD}companies: [\n  Apple,  # one\n  Meta\n]\n");
        let err = edit_err(&commented, add(&["Zoom"]));
        assert!(err.contains("make it a block list"), "{err}");
    }

    #[test]
    fn crlf_and_bom_are_kept() {
        let text = format!(
            "\u{feff}{}companies:\r\n  - Apple\r\n",
            HEAD.replace('\n', "\r\n")
        );
        let (out, _) = edit(&text, add(&["Meta"]));
        assert_eq!(
            out,
            format!(
                "\u{feff}{}companies:\r\n  - Apple\r\n  - Meta\r\n",
                HEAD.replace('\n', "\r\n")
            )
        );
    }

    #[test]
    fn invalid_names_and_invalid_files_change_nothing() {
        let text = format!("{HEAD}companies:\n  - Apple\n");
        let err = edit_err(&text, add(&["Evil\u{202E}Corp"]));
        assert!(err.contains("U+202E"), "{err}");
        let err = edit_err(&text, add(&["   "]));
        assert!(err.contains("empty"), "{err}");
        let broken = format!("{HEAD}region: eu-west-1\ncompanies:\n  - Apple\n");
        let err = edit_err(&broken, add(&["Meta"]));
        assert!(err.contains("environments/dev.yaml:"), "{err}");
    }

    #[test]
    fn the_shipped_env_files_round_trip_every_edit() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in ["local", "dev", "prod"] {
            let path = root.join(format!("environments/{name}.yaml"));
            let text = std::fs::read_to_string(&path).unwrap();
            let (added, _) = edit(&text, add(&["Zeta Test Co"]));
            let (back, _) = edit(&added, remove(&["Zeta Test Co"]));
            assert_eq!(back, text, "{name}.yaml did not round-trip");
        }
    }
}
