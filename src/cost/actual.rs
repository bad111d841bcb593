//! Actual spend from Cost Explorer: month to date by service for the stack's
//! `fangops:stack` cost-allocation tag (GetCostAndUsage), and the month's forecast
//! (GetCostForecast). Each request costs $0.01, so one of each per run; an account
//! without Cost Explorer access, or without the tag activated, gets "not available".

use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::operation::get_cost_and_usage::GetCostAndUsageOutput;
use aws_sdk_costexplorer::types::{
    DateInterval, Expression, Granularity, GroupDefinition, GroupDefinitionType, Metric, TagValues,
};
use serde::Serialize;
use time::Date;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceSpend {
    pub service: String,
    pub amount: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Spend {
    Available {
        /// First day of the month to today (exclusive), as Cost Explorer counts.
        start: String,
        end: String,
        by_service: Vec<ServiceSpend>,
        month_to_date: f64,
    },
    NotAvailable {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Forecast {
    Available { end: String, month_total: f64 },
    NotAvailable { reason: String },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Actual {
    pub tag: String,
    pub spend: Spend,
    pub forecast: Forecast,
}

const TAG: &str = "fangops:stack";

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn tag_filter(stack: &str) -> Expression {
    Expression::builder()
        .tags(TagValues::builder().key(TAG).values(stack).build())
        .build()
}

fn reason<E: std::fmt::Display + aws_sdk_costexplorer::error::ProvideErrorMetadata>(
    e: &aws_sdk_costexplorer::error::SdkError<E, aws_sdk_costexplorer::config::http::HttpResponse>,
) -> String {
    match e.as_service_error() {
        Some(s) => {
            let code = s.code().unwrap_or("error");
            match code {
                "AccessDeniedException" | "AccessDenied" => {
                    "no Cost Explorer access for these credentials (ce:GetCostAndUsage, ce:GetCostForecast)".to_owned()
                }
                "DataUnavailableException" => "Cost Explorer has no data yet (it needs about a day of history, and must be enabled)".to_owned(),
                _ => format!("{code}: {}", s.message().unwrap_or_default()),
            }
        }
        None => format!("Cost Explorer did not answer: {e}"),
    }
}

/// One GetCostAndUsage and one GetCostForecast for `stack`, as of `today` (UTC).
pub async fn fetch(ce: &Client, stack: &str, today: Date) -> Actual {
    let month_start = today.replace_day(1).expect("day 1 exists");
    let next_month = next_month(today);
    let spend = if today == month_start {
        // The end date is exclusive: on the 1st there is no month to date yet.
        Spend::Available {
            start: iso(month_start),
            end: iso(today),
            by_service: Vec::new(),
            month_to_date: 0.0,
        }
    } else {
        month_to_date(ce, stack, month_start, today).await
    };
    let so_far = match &spend {
        Spend::Available { month_to_date, .. } => *month_to_date,
        Spend::NotAvailable { .. } => 0.0,
    };
    let forecast = forecast(ce, stack, today, next_month, so_far).await;
    // Not an error, but worth saying: no spend at all usually means the tag is not
    // activated for cost allocation.
    let spend = match spend {
        Spend::Available { by_service, .. } if by_service.is_empty() && today != month_start => {
            Spend::NotAvailable {
                reason: format!(
                    "no spend found for tag {TAG}={stack}: activate it as a cost allocation tag in the Billing console (it takes up to a day)"
                ),
            }
        }
        s => s,
    };
    Actual {
        tag: format!("{TAG}={stack}"),
        spend,
        forecast,
    }
}

/// The first day of the month after `today`'s.
fn next_month(today: Date) -> Date {
    let (y, m) = if today.month() == time::Month::December {
        (today.year() + 1, time::Month::January)
    } else {
        (today.year(), today.month().next())
    };
    Date::from_calendar_date(y, m, 1).expect("day 1 exists")
}

/// The month's spend so far by service (GetCostAndUsage), from `month_start` to
/// `today` (exclusive).
async fn month_to_date(ce: &Client, stack: &str, month_start: Date, today: Date) -> Spend {
    let sent = ce
        .get_cost_and_usage()
        .time_period(
            DateInterval::builder()
                .start(iso(month_start))
                .end(iso(today))
                .build()
                .expect("both dates set"),
        )
        .granularity(Granularity::Monthly)
        .metrics("UnblendedCost")
        .filter(tag_filter(stack))
        .group_by(
            GroupDefinition::builder()
                .r#type(GroupDefinitionType::Dimension)
                .key("SERVICE")
                .build(),
        )
        .send()
        .await;
    match sent {
        Ok(out) => {
            let by_service = by_service(&out);
            let month_to_date = by_service.iter().map(|s| s.amount).sum();
            Spend::Available {
                start: iso(month_start),
                end: iso(today),
                by_service,
                month_to_date,
            }
        }
        Err(e) => Spend::NotAvailable { reason: reason(&e) },
    }
}

/// GetCostAndUsage's groups summed by service, the largest first.
fn by_service(out: &GetCostAndUsageOutput) -> Vec<ServiceSpend> {
    let mut by_service: Vec<ServiceSpend> = Vec::new();
    for period in out.results_by_time() {
        for g in period.groups() {
            let service = g.keys().first().cloned().unwrap_or_default();
            let amount = g
                .metrics()
                .and_then(|m| m.get("UnblendedCost"))
                .and_then(|v| v.amount())
                .and_then(|a| a.parse::<f64>().ok())
                .unwrap_or(0.0);
            match by_service.iter_mut().find(|s| s.service == service) {
                Some(s) => s.amount += amount,
                None => by_service.push(ServiceSpend { service, amount }),
            }
        }
    }
    by_service.sort_by(|a, b| b.amount.total_cmp(&a.amount));
    by_service
}

/// The month's total: the spend `so_far` and the rest of the month's forecast
/// (GetCostForecast from `today` to `next_month`).
async fn forecast(
    ce: &Client,
    stack: &str,
    today: Date,
    next_month: Date,
    so_far: f64,
) -> Forecast {
    let sent = ce
        .get_cost_forecast()
        .time_period(
            DateInterval::builder()
                .start(iso(today))
                .end(iso(next_month))
                .build()
                .expect("both dates set"),
        )
        .metric(Metric::UnblendedCost)
        .granularity(Granularity::Monthly)
        .filter(tag_filter(stack))
        .send()
        .await;
    match sent {
        Ok(out) => {
            let rest = out
                .total()
                .and_then(|t| t.amount())
                .and_then(|a| a.parse::<f64>().ok())
                .unwrap_or(0.0);
            Forecast::Available {
                end: iso(next_month),
                month_total: so_far + rest,
            }
        }
        Err(e) => Forecast::NotAvailable { reason: reason(&e) },
    }
}
