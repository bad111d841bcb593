//! `fangops cost`: a total-cost-of-ownership estimate for an environment, from its env
//! file and a pricing table, with the delta against the same file at a git revision
//! (as infracost shows on a pull request), and actual spend from Cost Explorer.

pub mod actual;
pub mod measured;
pub mod model;
pub mod pricing;

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::aws::AwsContext;
use crate::config::{self, EnvConfig};
use crate::target::Target;

pub use model::Estimate;

#[derive(Debug, Clone)]
pub struct CostRequest {
    /// Compare with the env file at this git revision.
    pub base: Option<String>,
    pub free_tier: bool,
    /// Ask Cost Explorer for the actual spend (2 requests, $0.02).
    pub actual: bool,
    /// Read this many days of CloudWatch metrics and price with the measured usage.
    pub measured_days: Option<u32>,
    /// Store the measured usage in the env file's `cost:` section.
    pub write: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceDelta {
    pub service: String,
    pub base: f64,
    pub head: f64,
    pub delta: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub estimate: Estimate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseEstimate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<actual::Actual>,
    /// What CloudWatch measured, set beside the assumptions (and used in their place
    /// when there was enough of it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<measured::Measured>,
    /// The env file the measured usage was written to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<PathBuf>,
    /// The env's pull-request previews that exist now, and what they cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previews: Option<PreviewsCost>,
}

/// The previews of an env (`deploy --preview N`), each a stack of its own.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PreviewsCost {
    pub pull_requests: Vec<u64>,
    /// The model's figure for one preview: no schedule, no dashboard, its alarms.
    pub per_day_each: f64,
    pub per_day: f64,
    /// What they would cost in a month if they all stayed.
    pub monthly: f64,
}

/// What one preview of `env` costs a day, by the model: its alarms and the little its
/// idle table, queues and bucket cost (it has no schedule and no dashboard). `None` for
/// an env without previews (protected, or `previews.max: 0`).
pub fn preview_per_day(table: &pricing::PricingTable, env: &EnvConfig) -> Option<f64> {
    let t = crate::config::preview::Spec {
        pull_request: 1,
        ..Default::default()
    };
    let preview = crate::config::preview::of(env.clone(), &t).ok()?;
    Some(model::estimate(&preview, table, false).monthly / model::DAYS_PER_MONTH)
}

/// The same, reading the region's pricing table under `root`.
pub fn preview_per_day_at(root: &std::path::Path, env: &EnvConfig) -> Result<Option<f64>> {
    Ok(preview_per_day(&pricing::load(root, &env.region)?, env))
}

impl PreviewsCost {
    pub fn new(pull_requests: Vec<u64>, per_day_each: f64) -> Self {
        let per_day = per_day_each * pull_requests.len() as f64;
        Self {
            pull_requests,
            per_day_each,
            per_day,
            monthly: per_day * model::DAYS_PER_MONTH,
        }
    }

    /// One line: "2 previews (#3, #5): about $0.02 a day each, ...".
    pub fn line(&self) -> String {
        let n = self.pull_requests.len();
        if n == 0 {
            return format!(
                "no previews open (one would cost about {} a day)",
                usd(self.per_day_each)
            );
        }
        let prs: Vec<String> = self.pull_requests.iter().map(|p| format!("#{p}")).collect();
        format!(
            "{n} preview{} open ({}): about {} a day each, {} a day together ({} a month if they stay), not in the estimate above",
            if n == 1 { "" } else { "s" },
            prs.join(", "),
            usd(self.per_day_each),
            usd(self.per_day),
            usd(self.monthly)
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BaseEstimate {
    pub rev: String,
    /// None when the env file did not exist at that revision (a new environment).
    pub estimate: Option<Estimate>,
    pub deltas: Vec<ServiceDelta>,
    pub monthly_delta: f64,
}

/// Dollars and cents, as every cost figure is written.
pub fn usd(v: f64) -> String {
    // Cents, and a sign that never says "-0.00".
    let cents = (v * 100.0).round() / 100.0;
    if cents == 0.0 {
        "$0.00".to_owned()
    } else if cents < 0.0 {
        format!("-${:.2}", -cents)
    } else {
        format!("${cents:.2}")
    }
}

/// The estimate of `env`, and of the same file at `base`, with per-service deltas.
pub fn estimate_with_base(
    env: &EnvConfig,
    table: &pricing::PricingTable,
    base: Option<(&str, Option<&EnvConfig>)>,
    free_tier: bool,
) -> (Estimate, Option<BaseEstimate>) {
    let head = model::estimate(env, table, free_tier);
    let base = base.map(|(rev, base_env)| {
        let b = base_env.map(|e| model::estimate(e, table, free_tier));
        let mut services: Vec<String> = head.services.iter().map(|s| s.service.clone()).collect();
        if let Some(b) = &b {
            for s in &b.services {
                if !services.contains(&s.service) {
                    services.push(s.service.clone());
                }
            }
        }
        let get = |e: Option<&Estimate>, name: &str| {
            e.and_then(|e| e.services.iter().find(|s| s.service == name))
                .map_or(0.0, |s| s.monthly)
        };
        let deltas = services
            .iter()
            .map(|s| {
                let (bv, hv) = (get(b.as_ref(), s), get(Some(&head), s));
                ServiceDelta {
                    service: s.clone(),
                    base: bv,
                    head: hv,
                    delta: hv - bv,
                }
            })
            .collect();
        BaseEstimate {
            rev: rev.to_owned(),
            monthly_delta: head.monthly - b.as_ref().map_or(0.0, |b| b.monthly),
            estimate: b,
            deltas,
        }
    });
    (head, base)
}

/// The cost section for a plan or a deploy report: the estimate, and the delta
/// against `base` when given, priced with `measured` usage when there is enough of
/// it. No Cost Explorer calls (they cost money).
pub fn section(
    root: &std::path::Path,
    env: &EnvConfig,
    base: Option<&str>,
    measured: Option<measured::Measured>,
) -> Result<CostReport> {
    let table = pricing::load(root, &env.region)?;
    let (estimate, base) = measured_estimate(env, &table, base, measured.as_ref(), false)?;
    Ok(CostReport {
        estimate,
        base,
        actual: None,
        measured,
        written: None,
        previews: None,
    })
}

/// The estimate of `env`, and of the same file at `base`, both priced with the
/// measured usage (so that the delta is the change's), its assumptions saying which
/// figures were measured.
fn measured_estimate(
    env: &EnvConfig,
    table: &pricing::PricingTable,
    base: Option<&str>,
    measured: Option<&measured::Measured>,
    free_tier: bool,
) -> Result<(Estimate, Option<BaseEstimate>)> {
    let base_env = match base {
        Some(rev) => Some((
            rev,
            config::load_at_rev(&env.path, rev)?.map(|e| priced_with(&e, measured)),
        )),
        None => None,
    };
    let (estimate, base) = estimate_with_base(
        &priced_with(env, measured),
        table,
        base_env.as_ref().map(|(r, e)| (*r, e.as_ref())),
        free_tier,
    );
    Ok((measured::label(estimate, measured), base))
}

/// The cost section of a plan or a deploy report, priced with the environment's
/// measured usage when CloudWatch has it. A report without the section (no pricing
/// table for the region, a base revision git cannot read) is still a report, and
/// unreadable metrics only mean the assumptions are used: problems are warnings here.
pub async fn section_or_warn(
    root: &std::path::Path,
    ctx: &AwsContext,
    env: &EnvConfig,
    base: Option<&str>,
) -> Option<CostReport> {
    let measured = match measured::measure(ctx, env, measured::DEFAULT_DAYS).await {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!("cost estimated from the assumptions only: {e:#}");
            None
        }
    };
    match section(root, env, base, measured) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("no cost estimate: {e:#}");
            None
        }
    }
}

pub async fn run(target: &Target, req: &CostRequest) -> Result<CostReport> {
    let env = &target.env;
    let table = pricing::load(&target.root, &env.region)?;
    // Without --actual or --measured the estimate needs no AWS, nor credentials.
    let ctx = if req.actual || req.measured_days.is_some() {
        Some(target.aws().await?)
    } else {
        None
    };
    let measured = match (req.measured_days, ctx) {
        (Some(days), Some(ctx)) => Some(measured::measure(ctx, env, days).await?),
        _ => None,
    };
    // --write makes every measured value the file's: the estimate printed is the one
    // the next run will give.
    let measured = measured.map(|mut m| {
        if req.write && m.usable() {
            m.comparisons.iter_mut().for_each(|c| c.used = true);
        }
        m
    });
    let (estimate, base) = measured_estimate(
        env,
        &table,
        req.base.as_deref(),
        measured.as_ref(),
        req.free_tier,
    )?;
    let actual = if let (true, Some(ctx)) = (req.actual, ctx) {
        // Cost Explorer answers in one region per partition, whatever the stack's.
        let conf = aws_sdk_costexplorer::config::Builder::from(ctx.sdk_config())
            .region(aws_sdk_costexplorer::config::Region::new(
                config::regions::cost_explorer_region(&env.region),
            ))
            .build();
        let ce = aws_sdk_costexplorer::Client::from_conf(conf);
        let today = time::OffsetDateTime::now_utc().date();
        Some(actual::fetch(&ce, &env.stack, today).await)
    } else {
        None
    };
    // The previews are stacks of their own, tagged as theirs: counted beside the env's.
    let previews = match (ctx, preview_per_day(&table, env)) {
        (Some(ctx), Some(each)) if req.actual => {
            match crate::stacks::previews::list(&ctx.cloudformation(), env).await {
                Ok(list) => Some(PreviewsCost::new(
                    list.iter().map(|p| p.pull_request).collect(),
                    each,
                )),
                Err(e) => {
                    tracing::warn!("previews not counted: {e:#}");
                    None
                }
            }
        }
        _ => None,
    };
    // Written last, so that a command that fails leaves the file as it was.
    let written = match &measured {
        Some(m) if req.write && m.usable() => {
            let values: Vec<(&str, f64)> =
                m.comparisons.iter().map(|c| (c.key, c.measured)).collect();
            crate::config::edit::set_cost(&env.path, &values)?;
            Some(env.path.clone())
        }
        Some(m) if req.write => anyhow::bail!(
            "not writing {}: {}",
            env.path.display(),
            m.not_enough.as_deref().unwrap_or_default()
        ),
        _ => None,
    };
    Ok(CostReport {
        estimate,
        base,
        actual,
        measured,
        written,
        previews,
    })
}

/// `env` with its measured usage in place of the assumptions, when there is enough.
pub fn priced_with(env: &EnvConfig, measured: Option<&measured::Measured>) -> EnvConfig {
    let mut env = env.clone();
    if let Some(m) = measured.filter(|m| m.usable()) {
        env.cost = m.apply(&env.cost);
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::cost::signed;
    use crate::testing::env::dev;
    use crate::testing::reports::pricing_table;

    #[test]
    fn cost_report_terminal_snapshot() {
        let base = dev(&["Amazon", "Apple"], "");
        let head = dev(&["Amazon", "Apple", "Netflix"], "");
        let (estimate, base) = estimate_with_base(
            &head,
            &pricing_table(),
            Some(("origin/main", Some(&base))),
            false,
        );
        let report = CostReport {
            estimate,
            base,
            actual: None,
            measured: None,
            written: None,
            previews: None,
        };
        insta::assert_snapshot!("cost_delta_terminal", report.render());
        let (estimate, _) = estimate_with_base(&head, &pricing_table(), None, true);
        let alone = CostReport {
            estimate,
            base: None,
            actual: None,
            measured: None,
            written: None,
            previews: None,
        };
        insta::assert_snapshot!("cost_free_tier_terminal", alone.render());
    }

    #[test]
    fn the_estimate_says_what_the_cache_saves_and_only_when_it_saves() {
        let companies = crate::testing::env::numbered(1000);
        let names: Vec<&str> = companies.iter().map(String::as_str).collect();
        let hourly = "schedule: rate(1 hour)\nsentiment: comprehend\n";
        let with = model::estimate(&dev(&names, hourly), &pricing_table(), false);
        let without = model::estimate(
            &dev(&names, &format!("{hourly}cache: {{enabled: false}}\n")),
            &pricing_table(),
            false,
        );
        assert_eq!(
            without.monthly_without_cache, None,
            "no cache, nothing saved"
        );
        assert_eq!(with.monthly_without_cache, Some(without.monthly));
        // 5% of the texts a run (cost.text_change_rate): most of Comprehend is saved.
        assert!(
            without.monthly - with.monthly > 300.0,
            "{} {}",
            without.monthly,
            with.monthly
        );
        let vader = model::estimate(
            &dev(&names, "schedule: rate(1 hour)\nsentiment: vader\n"),
            &pricing_table(),
            false,
        );
        assert_eq!(
            vader.monthly_without_cache, None,
            "no Comprehend, nothing to save"
        );
    }

    #[test]
    fn markdown_with_a_delta_against_the_base_branch() {
        // Without the cache, whose floor (every text once a week) is per run.
        let base = dev(&["Amazon", "Apple"], "cache: {enabled: false}\n");
        let head = dev(
            &["Amazon", "Apple", "Netflix", "Nvidia"],
            "schedule: rate(12 hours)\ncache: {enabled: false}\n",
        );
        let (estimate, base) = estimate_with_base(
            &head,
            &pricing_table(),
            Some(("origin/main", Some(&base))),
            false,
        );
        let b = base.as_ref().unwrap();
        assert!(b.monthly_delta > 0.0);
        let comprehend = b
            .deltas
            .iter()
            .find(|d| d.service == "Amazon Comprehend")
            .unwrap();
        // Twice the companies, twice the runs: four times the units.
        assert!((comprehend.head - 4.0 * comprehend.base).abs() < 1e-9);
        let report = CostReport {
            estimate,
            base,
            actual: None,
            measured: None,
            written: None,
            previews: None,
        };
        insta::assert_snapshot!("cost_delta", report.render_markdown());
    }

    #[test]
    fn a_new_env_file_is_all_delta_and_actual_spend_is_shown() {
        let head = dev(&["Amazon"], "");
        let (estimate, base) =
            estimate_with_base(&head, &pricing_table(), Some(("origin/main", None)), false);
        assert!((base.as_ref().unwrap().monthly_delta - estimate.monthly).abs() < 1e-12);
        let report = CostReport {
            estimate,
            base,
            actual: Some(actual::Actual {
                tag: "fangops:stack=fang-dev".into(),
                spend: actual::Spend::Available {
                    start: "2026-11-01".into(),
                    end: "2026-11-30".into(),
                    by_service: vec![actual::ServiceSpend {
                        service: "Amazon CloudWatch".into(),
                        amount: 3.91,
                    }],
                    month_to_date: 3.91,
                },
                forecast: actual::Forecast::NotAvailable {
                    reason: "Cost Explorer has no data yet".into(),
                },
            }),
            measured: None,
            written: None,
            previews: None,
        };
        let text = report.render_markdown();
        assert!(
            text.contains("The env file is new: it did not exist at `origin/main`."),
            "{text}"
        );
        assert!(text.contains("$3.91 month to date (since 2026-11-01); forecast not available (Cost Explorer has no data yet)."), "{text}");
        assert!(report.render().contains("actual, month to date: $3.91"));
    }

    #[test]
    fn measured_usage_beside_the_assumptions_snapshot() {
        let e = dev(&["Amazon", "Apple"], "");
        // 14 days of hourly runs of 2 companies.
        let sums = measured::Sums::from_pairs(&[
            ("producer_invocations", 336.0),
            ("producer_duration", 336.0 * 304.0),
            ("results", 672.0),
            ("sentiment_duration", 672.0 * 2_000.0),
            ("texts", 672.0),
            ("chars", 672.0 * 480.0),
            ("result_bytes", 672.0 * 1_024.0),
            ("sent", 672.0),
            ("received", 672.0),
            ("deleted", 672.0),
            ("empty_receives", 336.0 * 40.0),
        ]);
        let m = measured::derive(&e, &sums, 14, 1);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("infra/pricing")).unwrap();
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/pricing/us-east-1.yaml"),
            dir.path().join("infra/pricing/us-east-1.yaml"),
        )
        .unwrap();
        let assumed = section(dir.path(), &e, None, None).unwrap();
        let report = section(dir.path(), &e, None, Some(m)).unwrap();
        assert!(
            report.estimate.monthly > assumed.estimate.monthly,
            "2,000 ms a company costs more than the 800 assumed"
        );
        insta::assert_snapshot!("cost_measured_terminal", report.render());
        insta::assert_snapshot!("cost_measured_markdown", report.render_markdown());

        let none = measured::derive(&e, &measured::Sums::default(), 14, 1);
        let report = section(dir.path(), &e, None, Some(none)).unwrap();
        assert_eq!(report.estimate.monthly, assumed.estimate.monthly);
        assert!(
            report
                .render_markdown()
                .contains("Measured usage: 0 runs and 0 results in the last 14 days: too little to measure; the estimate uses the assumptions."),
            "{}",
            report.render_markdown()
        );
    }

    #[test]
    fn money_reads_well() {
        assert_eq!(usd(0.004), "$0.00");
        assert_eq!(usd(-0.004), "$0.00");
        assert_eq!(usd(1234.5), "$1234.50");
        assert_eq!(signed(0.5), "+$0.50");
        assert_eq!(signed(-0.5), "-$0.50");
        assert_eq!(signed(0.001), "$0.00");
    }

    /// Cost Explorer's forecast and its refusals, on recorded responses (moto has no
    /// GetCostForecast). Bodies are Cost Explorer's JSON as AWS sends it.
    mod replay {
        use super::actual::{self, Forecast, Spend};

        fn ce(
            responses: Vec<(u16, String)>,
        ) -> (
            aws_smithy_http_client::test_util::StaticReplayClient,
            aws_sdk_costexplorer::Client,
        ) {
            let replay = crate::testing::replay::replay(
                "https://ce.us-east-1.amazonaws.com/",
                "application/x-amz-json-1.1",
                responses,
            );
            let client = crate::testing::replay::client!(aws_sdk_costexplorer, &replay);
            (replay, client)
        }

        fn day(d: u8) -> time::Date {
            time::Date::from_calendar_date(2026, time::Month::November, d).unwrap()
        }

        const USAGE: &str = r#"{"GroupDefinitions":[{"Key":"SERVICE","Type":"DIMENSION"}],"ResultsByTime":[{"TimePeriod":{"Start":"2026-11-01","End":"2026-11-30"},"Total":{},"Groups":[{"Keys":["Amazon CloudWatch"],"Metrics":{"UnblendedCost":{"Amount":"3.9133","Unit":"USD"}}},{"Keys":["Amazon Simple Queue Service"],"Metrics":{"UnblendedCost":{"Amount":"0.2411","Unit":"USD"}}}],"Estimated":true}],"DimensionValueAttributes":[]}"#;

        #[tokio::test]
        async fn spend_by_service_and_the_forecast_for_the_rest_of_the_month() {
            let (replay, ce) = ce(vec![
            (200, USAGE.into()),
            (200, r#"{"Total":{"Amount":"0.1450","Unit":"USD"},"ForecastResultsByTime":[{"TimePeriod":{"Start":"2026-11-30","End":"2026-12-01"},"MeanValue":"0.1450"}]}"#.into()),
        ]);
            let a = actual::fetch(&ce, "fang-dev", day(30)).await;
            let Spend::Available {
                by_service,
                month_to_date,
                start,
                end,
            } = &a.spend
            else {
                panic!("{a:?}")
            };
            assert_eq!((start.as_str(), end.as_str()), ("2026-11-01", "2026-11-30"));
            assert_eq!(by_service[0].service, "Amazon CloudWatch");
            assert!((month_to_date - 4.1544).abs() < 1e-9);
            let Forecast::Available { month_total, end } = &a.forecast else {
                panic!("{a:?}")
            };
            assert_eq!(end, "2026-12-01");
            assert!((month_total - 4.2994).abs() < 1e-9);
            // One request each, both filtered on the stack's tag.
            let bodies: Vec<serde_json::Value> = replay
                .actual_requests()
                .map(|r| serde_json::from_slice(r.body().bytes().unwrap()).unwrap())
                .collect();
            assert_eq!(bodies.len(), 2);
            for b in &bodies {
                assert_eq!(b["Filter"]["Tags"]["Key"], "fangops:stack");
                assert_eq!(b["Filter"]["Tags"]["Values"][0], "fang-dev");
            }
            assert_eq!(bodies[0]["GroupBy"][0]["Key"], "SERVICE");
        }

        #[tokio::test]
        async fn no_access_and_no_history_are_not_available_not_errors() {
            let (_r, ce) = ce(vec![
            (400, r#"{"__type":"AccessDeniedException","Message":"User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to perform: ce:GetCostAndUsage"}"#.into()),
            (400, r#"{"__type":"DataUnavailableException","Message":"Insufficient amount of historical data to generate forecast."}"#.into()),
        ]);
            let a = actual::fetch(&ce, "fang-dev", day(15)).await;
            assert_eq!(
            a.spend,
            Spend::NotAvailable {
                reason: "no Cost Explorer access for these credentials (ce:GetCostAndUsage, ce:GetCostForecast)".into()
            }
        );
            let Forecast::NotAvailable { reason } = &a.forecast else {
                panic!()
            };
            assert!(reason.contains("no data yet"), "{reason}");
        }

        #[tokio::test]
        async fn an_untagged_account_says_to_activate_the_tag() {
            let (_r, ce) = ce(vec![
            (200, r#"{"ResultsByTime":[{"TimePeriod":{"Start":"2026-11-01","End":"2026-11-15"},"Total":{},"Groups":[],"Estimated":true}]}"#.into()),
            (200, r#"{"Total":{"Amount":"0","Unit":"USD"},"ForecastResultsByTime":[]}"#.into()),
        ]);
            let a = actual::fetch(&ce, "fang-dev", day(15)).await;
            let Spend::NotAvailable { reason } = &a.spend else {
                panic!("{a:?}")
            };
            assert!(
                reason.contains("activate it as a cost allocation tag"),
                "{reason}"
            );
        }

        #[tokio::test]
        async fn on_the_first_of_the_month_only_the_forecast_is_asked() {
            let (replay, ce) = ce(vec![(
                200,
                r#"{"Total":{"Amount":"5.00","Unit":"USD"},"ForecastResultsByTime":[]}"#.into(),
            )]);
            let a = actual::fetch(&ce, "fang-dev", day(1)).await;
            assert_eq!(replay.actual_requests().count(), 1);
            let Forecast::Available { month_total, .. } = a.forecast else {
                panic!()
            };
            assert!((month_total - 5.0).abs() < 1e-9);
        }
    }
}
