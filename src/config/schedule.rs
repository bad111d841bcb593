//! EventBridge schedule expressions: `rate(...)` and `cron(...)`.
//!
//! Checked here, at validation time, because EventBridge itself only rejects a bad
//! expression in the middle of a stack update.

use std::fmt;

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Rate {
        value: u32,
        unit: RateUnit,
    },
    /// The six fields (minutes, hours, day-of-month, month, day-of-week, year) as
    /// written, and what they mean.
    Cron(Box<Cron>),
}

/// A parsed EventBridge cron expression. EventBridge's dialect is Quartz's without
/// seconds: day-of-week 1-7 is SUN-SAT, one of the two day fields is `?`, `L`, `W`
/// and `#` are allowed, and there is a year field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    pub fields: [String; 6],
    minutes: u64,
    hours: u32,
    dom: DayOfMonth,
    months: u16,
    dow: DayOfWeek,
    /// Years 1970-2199 as a bit set indexed from 1970.
    years: [u64; 4],
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    Any,
    /// Bit d set: day d (1-31).
    Days(u32),
    /// `L` (offset 0) or `L-3`: the last day, or N days before it.
    Last(u8),
    /// `LW`: the last weekday of the month.
    LastWeekday,
    /// `15W`: the weekday nearest day 15, within the month.
    NearestWeekday(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfWeek {
    Any,
    /// Bit d set: weekday d (1 = Sunday ... 7 = Saturday).
    Days(u8),
    /// `6L`: the last such weekday of the month.
    Last(u8),
    /// `6#3`: the third such weekday of the month.
    Nth(u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    Minute,
    Hour,
    Day,
}

impl RateUnit {
    fn word(self, plural: bool) -> &'static str {
        match (self, plural) {
            (Self::Minute, false) => "minute",
            (Self::Minute, true) => "minutes",
            (Self::Hour, false) => "hour",
            (Self::Hour, true) => "hours",
            (Self::Day, false) => "day",
            (Self::Day, true) => "days",
        }
    }
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            return parse_rate(inner.trim());
        }
        if let Some(inner) = s.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            return parse_cron(inner.trim());
        }
        Err(format!(
            "{s:?} is not a schedule expression: use rate(1 day), rate(6 hours) or cron(0 12 * * ? *)"
        ))
    }
}

fn parse_rate(inner: &str) -> Result<Schedule, String> {
    let (n, unit_text) = inner
        .split_once(' ')
        .ok_or_else(|| format!("rate({inner}) needs a number and a unit, e.g. rate(1 day)"))?;
    let value: u32 = n
        .parse()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("rate({inner}): {n:?} is not a positive whole number"))?;
    let unit_text = unit_text.trim();
    let unit = match unit_text {
        "minute" | "minutes" => RateUnit::Minute,
        "hour" | "hours" => RateUnit::Hour,
        "day" | "days" => RateUnit::Day,
        other => {
            return Err(format!(
                "rate({inner}): unknown unit {other:?}; use minute(s), hour(s) or day(s)"
            ));
        }
    };
    // EventBridge insists on the singular for 1 and the plural otherwise.
    let expected = unit.word(value != 1);
    if unit_text != expected {
        return Err(format!(
            "rate({inner}): EventBridge requires rate({value} {expected})"
        ));
    }
    Ok(Schedule::Rate { value, unit })
}

fn parse_cron(inner: &str) -> Result<Schedule, String> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let fields: [&str; 6] = fields.as_slice().try_into().map_err(|_| {
        format!(
            "cron({inner}) has {} fields; EventBridge cron has 6: minutes hours day-of-month month day-of-week year",
            fields.len()
        )
    })?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || ",-*?/LW#".contains(c);
    if let Some(bad) = fields.iter().find(|f| !f.chars().all(allowed)) {
        return Err(format!(
            "cron({inner}): field {bad:?} has characters cron does not allow"
        ));
    }
    // EventBridge requires exactly one of day-of-month and day-of-week to be `?`.
    if (fields[2] == "?") == (fields[4] == "?") {
        return Err(format!(
            "cron({inner}): exactly one of day-of-month and day-of-week must be `?`"
        ));
    }
    let err = |field: &str, m: String| format!("cron({inner}): {field}: {m}");
    let bits = |v: Vec<u32>| v.into_iter().fold(0u64, |acc, x| acc | (1 << x));
    let minutes = bits(values(fields[0], 0, 59, &[]).map_err(|m| err("minutes", m))?);
    let hours = bits(values(fields[1], 0, 23, &[]).map_err(|m| err("hours", m))?) as u32;
    let dom = parse_dom(fields[2]).map_err(|m| err("day-of-month", m))?;
    let months = bits(values(fields[3], 1, 12, &MONTHS).map_err(|m| err("month", m))?) as u16;
    let dow = parse_dow(fields[4]).map_err(|m| err("day-of-week", m))?;
    let mut years = [0u64; 4];
    for y in values(fields[5], 1970, 2199, &[]).map_err(|m| err("year", m))? {
        let i = (y - 1970) as usize;
        years[i / 64] |= 1 << (i % 64);
    }
    Ok(Schedule::Cron(Box::new(Cron {
        fields: fields.map(str::to_owned),
        minutes,
        hours,
        dom,
        months,
        dow,
        years,
    })))
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One value: a number in `lo..=hi`, or a name (`names[0]` is `lo`).
fn value(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = names.iter().position(|n| *n == upper) {
        return Ok(lo + i as u32);
    }
    let v: u32 = text.parse().map_err(|_| {
        format!(
            "{text:?} is not a number{}",
            if names.is_empty() {
                String::new()
            } else {
                format!(" or one of {}", names.join(","))
            }
        )
    })?;
    if !(lo..=hi).contains(&v) {
        return Err(format!("{v} is outside {lo}-{hi}"));
    }
    Ok(v)
}

/// The values of a field of lists, ranges and steps: `*`, `5`, `1-5`, `MON-FRI`,
/// `0/15`, `*/5`, `10-50/10`, `1,15,30`.
fn values(field: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("step {s:?} is not a positive number"))?;
                (r, step)
            }
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (value(a, lo, hi, names)?, value(b, lo, hi, names)?);
                    if a > b {
                        return Err(format!("range {r} runs backwards"));
                    }
                    (a, b)
                }
                // `5/15` means from 5 to the end, every 15.
                None if step > 1 => (value(r, lo, hi, names)?, hi),
                None => {
                    let v = value(r, lo, hi, names)?;
                    (v, v)
                }
            },
        };
        out.extend((from..=to).step_by(step as usize));
    }
    Ok(out)
}

fn parse_dom(field: &str) -> Result<DayOfMonth, String> {
    match field {
        "?" | "*" => Ok(DayOfMonth::Any),
        "L" => Ok(DayOfMonth::Last(0)),
        "LW" => Ok(DayOfMonth::LastWeekday),
        f => {
            if let Some(n) = f.strip_prefix("L-") {
                let n = value(n, 0, 30, &[])?;
                return Ok(DayOfMonth::Last(n as u8));
            }
            if let Some(d) = f.strip_suffix('W') {
                return Ok(DayOfMonth::NearestWeekday(value(d, 1, 31, &[])? as u8));
            }
            let days = values(f, 1, 31, &[])?;
            Ok(DayOfMonth::Days(
                days.into_iter().fold(0, |a, d| a | (1 << d)),
            ))
        }
    }
}

fn parse_dow(field: &str) -> Result<DayOfWeek, String> {
    match field {
        "?" | "*" => Ok(DayOfWeek::Any),
        // A bare `L` in day-of-week is the last day of the week: Saturday.
        "L" => Ok(DayOfWeek::Days(1 << 7)),
        f => {
            if let Some((d, n)) = f.split_once('#') {
                let d = value(d, 1, 7, &DAYS)? as u8;
                let n = value(n, 1, 5, &[])? as u8;
                return Ok(DayOfWeek::Nth(d, n));
            }
            if let Some(d) = f.strip_suffix('L') {
                return Ok(DayOfWeek::Last(value(d, 1, 7, &DAYS)? as u8));
            }
            let days = values(f, 1, 7, &DAYS)?;
            Ok(DayOfWeek::Days(
                days.into_iter().fold(0, |a, d| a | (1 << d)),
            ))
        }
    }
}

impl Cron {
    /// Whether the schedule fires on this (UTC) date, at any time of day.
    pub fn matches_date(&self, date: time::Date) -> bool {
        let y = date.year();
        if !(1970..=2199).contains(&y) {
            return false;
        }
        let i = (y - 1970) as usize;
        if self.years[i / 64] & (1 << (i % 64)) == 0 {
            return false;
        }
        let month = u8::from(date.month());
        if self.months & (1 << month) == 0 {
            return false;
        }
        let day = date.day();
        let last = date.month().length(y);
        let weekday = date.weekday().number_from_sunday(); // 1 = Sunday
        let is_weekday = (2..=6).contains(&weekday);
        let dom_ok = match &self.dom {
            DayOfMonth::Any => true,
            DayOfMonth::Days(bits) => bits & (1 << day) != 0,
            DayOfMonth::Last(offset) => last.checked_sub(*offset) == Some(day),
            DayOfMonth::LastWeekday => is_weekday && (day + 1..=last).all(|d| !weekday_of(date, d)),
            DayOfMonth::NearestWeekday(target) => {
                let target = (*target).min(last);
                nearest_weekday(date, target, last) == day
            }
        };
        let dow_ok = match &self.dow {
            DayOfWeek::Any => true,
            DayOfWeek::Days(bits) => bits & (1 << weekday) != 0,
            DayOfWeek::Last(d) => weekday == *d && day + 7 > last,
            DayOfWeek::Nth(d, n) => weekday == *d && (day - 1) / 7 + 1 == *n,
        };
        dom_ok && dow_ok
    }

    /// The times of day it fires, in minutes after midnight, in order.
    pub fn times_of_day(&self) -> Vec<u32> {
        (0..24)
            .filter(|h| self.hours & (1 << h) != 0)
            .flat_map(|h| {
                (0..60)
                    .filter(|m| self.minutes & (1 << m) != 0)
                    .map(move |m| h * 60 + m)
            })
            .collect()
    }
}

fn weekday_of(date: time::Date, day: u8) -> bool {
    time::Date::from_calendar_date(date.year(), date.month(), day)
        .map(|d| (2..=6).contains(&d.weekday().number_from_sunday()))
        .unwrap_or(false)
}

/// EventBridge's `W`: the weekday nearest `target` without leaving the month.
fn nearest_weekday(date: time::Date, target: u8, last: u8) -> u8 {
    let wd = time::Date::from_calendar_date(date.year(), date.month(), target)
        .map(|d| d.weekday().number_from_sunday())
        .unwrap_or(2);
    match wd {
        7 if target == 1 => 3,             // Saturday the 1st: Monday the 3rd
        7 => target - 1,                   // Saturday: Friday
        1 if target == last => target - 2, // Sunday the last: Friday
        1 => target + 1,                   // Sunday: Monday
        _ => target,
    }
}

impl Schedule {
    /// Runs over the given span of days (UTC), starting at `from`.
    pub fn runs_between(&self, from: time::Date, days: u32) -> u64 {
        match self {
            Self::Rate { .. } => {
                let minutes = u64::from(days) * 24 * 60;
                minutes / self.rate_minutes().max(1)
            }
            Self::Cron(c) => {
                let per_day = c.times_of_day().len() as u64;
                (0..days)
                    .filter_map(|i| from.checked_add(time::Duration::days(i64::from(i))))
                    .filter(|d| c.matches_date(*d))
                    .count() as u64
                    * per_day
            }
        }
    }

    fn rate_minutes(&self) -> u64 {
        match self {
            Self::Rate { value, unit } => {
                u64::from(*value)
                    * match unit {
                        RateUnit::Minute => 1,
                        RateUnit::Hour => 60,
                        RateUnit::Day => 1440,
                    }
            }
            Self::Cron(_) => 0,
        }
    }

    /// The longest time between two consecutive runs, in seconds, over the year from
    /// `from`; `None` when it runs fewer than twice in that year.
    pub fn longest_gap_s(&self, from: time::Date) -> Option<u64> {
        let Self::Cron(c) = self else {
            return Some(self.rate_minutes() * 60);
        };
        let times = c.times_of_day();
        let inner = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        let (first, last) = (*times.first()?, *times.last()?);
        let mut prev_day: Option<i64> = None;
        let mut gap: u64 = 0;
        let mut runs = 0u64;
        for i in 0..366i64 {
            let Some(d) = from.checked_add(time::Duration::days(i)) else {
                break;
            };
            if !c.matches_date(d) {
                continue;
            }
            runs += times.len() as u64;
            gap = gap.max(u64::from(inner));
            if let Some(p) = prev_day {
                let between = (i - p) as u64 * 1440 + u64::from(first) - u64::from(last);
                gap = gap.max(between);
            }
            prev_day = Some(i);
        }
        (runs >= 2).then_some(gap * 60)
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rate { value, unit } => write!(f, "rate({value} {})", unit.word(*value != 1)),
            Self::Cron(c) => write!(f, "cron({})", c.fields.join(" ")),
        }
    }
}

impl Serialize for Schedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(
            Schedule::parse("rate(1 day)").unwrap(),
            Schedule::Rate {
                value: 1,
                unit: RateUnit::Day
            }
        );
        assert_eq!(
            Schedule::parse("rate(6 hours)").unwrap().to_string(),
            "rate(6 hours)"
        );
        assert!(
            Schedule::parse("rate(1 days)")
                .unwrap_err()
                .contains("rate(1 day)")
        );
        assert!(
            Schedule::parse("rate(5 minute)")
                .unwrap_err()
                .contains("rate(5 minutes)")
        );
        assert!(Schedule::parse("rate(0 days)").is_err());
        assert!(Schedule::parse("rate(-1 days)").is_err());
        assert!(
            Schedule::parse("rate(2 weeks)")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(Schedule::parse("daily").is_err());
    }

    #[test]
    fn crons() {
        assert_eq!(
            Schedule::parse("cron(0 12 * * ? *)").unwrap().to_string(),
            "cron(0 12 * * ? *)"
        );
        assert!(
            Schedule::parse("cron(0 12 * * *)")
                .unwrap_err()
                .contains("5 fields")
        );
        assert!(
            Schedule::parse("cron(0 12 * * * *)")
                .unwrap_err()
                .contains("`?`")
        );
        assert!(Schedule::parse("cron(0 12 $ * ? *)").is_err());
    }

    fn jan_2026() -> time::Date {
        time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap()
    }

    fn cron_dates(expr: &str, days: u32) -> Vec<u8> {
        let Schedule::Cron(c) = Schedule::parse(expr).unwrap() else {
            panic!()
        };
        (0..days)
            .map(|i| jan_2026() + time::Duration::days(i64::from(i)))
            .filter(|d| c.matches_date(*d))
            .map(|d| d.day())
            .collect()
    }

    #[test]
    fn cron_days_follow_eventbridge() {
        // January 2026 starts on a Thursday.
        assert_eq!(cron_dates("cron(0 6 ? * MON-FRI *)", 7), [1, 2, 5, 6, 7]);
        assert_eq!(cron_dates("cron(0 6 ? * 2,4 *)", 10), [5, 7]);
        assert_eq!(cron_dates("cron(0 9 ? * 6#3 *)", 31), [16]); // third Friday
        assert_eq!(cron_dates("cron(0 9 ? * FRIL *)", 31), [30]); // last Friday
        assert_eq!(cron_dates("cron(0 9 L * ? *)", 59), [31, 28]);
        assert_eq!(cron_dates("cron(0 9 L-2 * ? *)", 31), [29]);
        assert_eq!(cron_dates("cron(0 9 LW * ? *)", 31), [30]); // Sat 31st: Friday
        // 15 Feb 2026 is a Sunday: the nearest weekday is Monday the 16th.
        assert_eq!(cron_dates("cron(0 9 15W * ? *)", 59), [15, 16]);
        assert_eq!(cron_dates("cron(0 9 1/10 * ? *)", 31), [1, 11, 21, 31]);
        assert_eq!(cron_dates("cron(0 9 1 FEB-MAR ? *)", 90), [1, 1]);
        assert!(cron_dates("cron(0 9 * * ? 2027)", 31).is_empty());
    }

    #[test]
    fn runs_and_gaps() {
        let p = |s: &str| Schedule::parse(s).unwrap();
        assert_eq!(p("rate(5 minutes)").runs_between(jan_2026(), 1), 288);
        assert_eq!(p("rate(1 day)").runs_between(jan_2026(), 31), 31);
        assert_eq!(p("rate(6 hours)").longest_gap_s(jan_2026()), Some(21_600));
        assert_eq!(p("cron(0/15 * * * ? *)").runs_between(jan_2026(), 1), 96);
        assert_eq!(
            p("cron(0 6 ? * MON-FRI *)").runs_between(jan_2026(), 31),
            22
        );
        assert_eq!(p("cron(0 6,18 * * ? *)").runs_between(jan_2026(), 31), 62);
        assert_eq!(
            p("cron(0 6 ? * MON-FRI *)").longest_gap_s(jan_2026()),
            Some(3 * 86_400)
        );
        assert_eq!(
            p("cron(0 6,18 * * ? *)").longest_gap_s(jan_2026()),
            Some(12 * 3600)
        );
        assert_eq!(
            p("cron(0 9 L * ? *)").longest_gap_s(jan_2026()),
            Some(31 * 86_400)
        );
        assert_eq!(p("cron(0 9 * * ? 2020)").longest_gap_s(jan_2026()), None);
    }

    #[test]
    fn bad_cron_values_are_named() {
        let e = |s: &str| Schedule::parse(s).unwrap_err();
        assert!(
            e("cron(61 * * * ? *)").contains("minutes: 61 is outside 0-59"),
            "{}",
            e("cron(61 * * * ? *)")
        );
        assert!(e("cron(0 24 * * ? *)").contains("hours: 24 is outside 0-23"));
        assert!(
            e("cron(0 0 * JANUARY ? *)")
                .contains("month: \"JANUARY\" is not a number or one of JAN")
        );
        assert!(e("cron(0/0 0 * * ? *)").contains("step \"0\""));
        assert!(e("cron(0 0 5-1 * ? *)").contains("range 5-1 runs backwards"));
        assert!(e("cron(0 0 ? * 8 *)").contains("day-of-week: 8 is outside 1-7"));
        assert!(e("cron(0 0 ? * 6#6 *)").contains("6 is outside 1-5"));
        assert!(e("cron(0 0 * * ? 1969)").contains("year: 1969 is outside 1970-2199"));
    }
}
