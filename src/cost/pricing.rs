//! The pricing table: `infra/pricing/REGION.yaml`, one price per key the cost model
//! uses, each with its unit, AWS Price List service code, source and date checked;
//! free-tier allowances apart. Read strictly: a missing or unknown key, a negative
//! price or an unknown unit is an error at its line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostics::{Diagnostic, InvalidInput};

/// Where the tables live, relative to the project root.
pub const PRICING_DIR: &str = "infra/pricing";

/// Every price the model uses. A table must have each, and nothing else.
pub const KEYS: &[&str] = &[
    "lambda_requests",
    "lambda_gb_seconds_x86_64",
    "lambda_gb_seconds_arm64",
    "sqs_requests",
    "dynamodb_read_request_units",
    "dynamodb_write_request_units",
    "dynamodb_storage",
    "s3_put_requests",
    "s3_get_requests",
    "s3_storage",
    "comprehend_sentiment_units",
    "cloudwatch_alarms",
    "cloudwatch_custom_metrics",
    "cloudwatch_dashboards",
    "cloudwatch_logs_ingestion",
    "cloudwatch_logs_storage",
    "sns_email_notifications",
    "eventbridge_scheduled_invocations",
    "cost_explorer_api_requests",
];

/// What a price buys: a number of base quantities (requests, GB-seconds, ...).
const UNITS: &[(&str, f64)] = &[
    ("request", 1.0),
    ("1K requests", 1e3),
    ("1M requests", 1e6),
    ("1M invocations", 1e6),
    ("100K notifications", 1e5),
    ("GB-second", 1.0),
    ("GB", 1.0),
    ("GB-month", 1.0),
    ("alarm-month", 1.0),
    ("metric-month", 1.0),
    ("dashboard-month", 1.0),
    ("unit", 1.0),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    region: Spanned<String>,
    currency: Spanned<String>,
    prices: Spanned<BTreeMap<String, Spanned<RawPrice>>>,
    #[serde(default)]
    free_tier: BTreeMap<String, Spanned<RawFree>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    service_code: String,
    price: Spanned<f64>,
    unit: Spanned<String>,
    source: String,
    checked: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFree {
    quantity: Spanned<f64>,
    expires: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub key: String,
    pub service_code: String,
    /// USD per `scale` base quantities.
    pub price: f64,
    pub unit: String,
    pub scale: f64,
    pub source: String,
    pub checked: String,
    /// Free allowance per month, in base quantities, and whether it ends after the
    /// account's first 12 months.
    pub free: Option<(f64, bool)>,
}

#[derive(Debug, Clone)]
pub struct PricingTable {
    pub region: String,
    pub prices: BTreeMap<String, Price>,
}

impl PricingTable {
    pub fn get(&self, key: &str) -> &Price {
        &self.prices[key]
    }

    /// The oldest `checked` date: how fresh the whole table is.
    pub fn checked(&self) -> &str {
        self.prices
            .values()
            .map(|p| p.checked.as_str())
            .min()
            .unwrap_or("")
    }
}

pub fn path(root: &Path, region: &str) -> PathBuf {
    crate::config::project_path(root, &format!("{PRICING_DIR}/{region}.yaml"))
}

pub fn load(root: &Path, region: &str) -> Result<PricingTable, InvalidInput> {
    let path = path(root, region);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        InvalidInput(vec![Diagnostic::whole_file(
            &path,
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("no pricing table for region {region}: add {PRICING_DIR}/{region}.yaml (copy us-east-1.yaml and check each price)")
            } else {
                format!("cannot read the pricing table: {e}")
            },
        )])
    })?;
    parse(&path, &text)
}

fn at<T>(path: &Path, s: &Spanned<T>, key: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(path, s.referenced.line(), s.referenced.column(), message).with_key(key)
}

pub fn parse(path: &Path, text: &str) -> Result<PricingTable, InvalidInput> {
    let raw: RawTable = serde_saphyr::from_str(text).map_err(|e| {
        InvalidInput(vec![crate::config::raw::yaml_diagnostic(
            path,
            e,
            String::new(),
        )])
    })?;
    let mut problems = Vec::new();
    if raw.currency.value != "USD" {
        problems.push(at(
            path,
            &raw.currency,
            "currency",
            "only USD prices are supported",
        ));
    }
    let mut prices = BTreeMap::new();
    for (key, p) in &raw.prices.value {
        let k = format!("prices.{key}");
        if !KEYS.contains(&key.as_str()) {
            problems.push(at(
                path,
                p,
                &k,
                format!("unknown price {key:?}; the model uses: {}", KEYS.join(", ")),
            ));
            continue;
        }
        let v = &p.value;
        if !(v.price.value.is_finite() && v.price.value >= 0.0) {
            problems.push(at(
                path,
                &v.price,
                &format!("{k}.price"),
                format!(
                    "{} is not a price: use a number of at least 0",
                    v.price.value
                ),
            ));
        }
        let Some(scale) = UNITS
            .iter()
            .find(|(u, _)| *u == v.unit.value)
            .map(|(_, s)| *s)
        else {
            problems.push(at(
                path,
                &v.unit,
                &format!("{k}.unit"),
                format!(
                    "unknown unit {:?}; use one of: {}",
                    v.unit.value,
                    UNITS.iter().map(|(u, _)| *u).collect::<Vec<_>>().join(", ")
                ),
            ));
            continue;
        };
        let free = raw
            .free_tier
            .get(key)
            .map(|f| (f.value.quantity.value * scale, f.value.expires));
        prices.insert(
            key.clone(),
            Price {
                key: key.clone(),
                service_code: v.service_code.clone(),
                price: v.price.value,
                unit: v.unit.value.clone(),
                scale,
                source: v.source.clone(),
                checked: v.checked.clone(),
                free,
            },
        );
    }
    let missing: Vec<&str> = KEYS
        .iter()
        .filter(|k| !raw.prices.value.contains_key(**k))
        .copied()
        .collect();
    if !missing.is_empty() {
        problems.push(at(
            path,
            &raw.prices,
            "prices",
            format!(
                "missing price{}: {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        ));
    }
    for (key, f) in &raw.free_tier {
        if !KEYS.contains(&key.as_str()) {
            problems.push(at(
                path,
                f,
                &format!("free_tier.{key}"),
                format!("unknown price {key:?}"),
            ));
        } else if !(f.value.quantity.value.is_finite() && f.value.quantity.value >= 0.0) {
            problems.push(at(
                path,
                &f.value.quantity,
                &format!("free_tier.{key}.quantity"),
                "a free allowance is a number of at least 0",
            ));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|d| (d.line, d.column));
        return Err(InvalidInput(problems));
    }
    Ok(PricingTable {
        region: raw.region.value,
        prices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/pricing/us-east-1.yaml"),
        )
        .unwrap()
    }

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("infra/pricing/us-east-1.yaml"), text)
            .unwrap_err()
            .0
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_shipped_table_is_complete() {
        let t = parse(Path::new("x.yaml"), &shipped()).unwrap();
        assert_eq!(t.prices.len(), KEYS.len());
        let lambda = t.get("lambda_requests");
        assert_eq!((lambda.price, lambda.scale), (0.20, 1e6));
        assert_eq!(lambda.free, Some((1e6, false)));
        assert_eq!(
            t.get("comprehend_sentiment_units").free,
            Some((50_000.0, true))
        );
        assert!(
            t.prices
                .values()
                .all(|p| p.source.starts_with("https://aws.amazon.com/"))
        );
        assert_eq!(t.checked(), "2026-11-30");
    }

    #[test]
    fn a_negative_price_an_unknown_unit_and_a_missing_key_are_located() {
        let text = shipped()
            .replace("    price: 0.20\n", "    price: -0.20\n")
            .replace("    unit: GB-second\n    source: https://aws.amazon.com/lambda/pricing/\n    checked: 2026-11-30\n  lambda_gb_seconds_arm64:", "    unit: GB-seconds\n    source: https://aws.amazon.com/lambda/pricing/\n    checked: 2026-11-30\n  lambda_gb_seconds_arm64:")
            .replace("  cost_explorer_api_requests:\n    service_code: AWSCostExplorer\n    price: 0.01\n    unit: request\n    source: https://aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing/\n    checked: 2026-11-30\n", "");
        let errs = errors(&text);
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert!(errs.iter().any(|e| e.starts_with("infra/pricing/us-east-1.yaml:15:3: `prices`: missing price: cost_explorer_api_requests")), "{errs:#?}");
        assert!(errs.iter().any(|e| e.starts_with("infra/pricing/us-east-1.yaml:17:12: `prices.lambda_requests.price`: -0.2 is not a price")), "{errs:#?}");
        assert!(
            errs.iter().any(|e| e.contains(
                ":24:11: `prices.lambda_gb_seconds_x86_64.unit`: unknown unit \"GB-seconds\""
            )),
            "{errs:#?}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = shipped().replace("  sqs_requests:\n", "  sqs_request:\n");
        let errs = errors(&text);
        assert!(
            errs.iter()
                .any(|e| e.contains("unknown price \"sqs_request\"")),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("missing price: sqs_requests")),
            "{errs:#?}"
        );
        let text = shipped().replace(
            "    checked: 2026-11-30\n  lambda_gb_seconds_x86_64",
            "    checked: 2026-11-30\n    note: hi\n  lambda_gb_seconds_x86_64",
        );
        let errs = errors(&text);
        assert!(errs[0].contains("unknown field `note`"), "{errs:#?}");
    }
}
