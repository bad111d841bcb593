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
    /// The six fields: minutes, hours, day-of-month, month, day-of-week, year.
    Cron(Box<[String; 6]>),
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
    Ok(Schedule::Cron(Box::new(fields.map(str::to_owned))))
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rate { value, unit } => write!(f, "rate({value} {})", unit.word(*value != 1)),
            Self::Cron(fields) => write!(f, "cron({})", fields.join(" ")),
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
}
