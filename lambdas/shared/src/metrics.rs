//! The pipeline's own metric: results written, published by the sentiment function in
//! CloudWatch's embedded metric format (a JSON line on stdout that CloudWatch Logs
//! turns into a metric: no PutMetricData call, no extra permission). fangops's
//! "no results" alarm watches it.

/// The CloudWatch namespace of fangops's metrics.
pub const NAMESPACE: &str = "fangops";
/// Results written to S3, per batch; dimension `Stack`.
pub const RESULTS_WRITTEN: &str = "ResultsWritten";

/// One embedded-metric-format line: `results` written for `stack` at `timestamp_ms`.
pub fn results_written_line(stack: &str, results: usize, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stack"]],
                "Metrics": [{ "Name": RESULTS_WRITTEN, "Unit": "Count" }]
            }]
        },
        "Stack": stack,
        RESULTS_WRITTEN: results
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_follows_the_embedded_metric_format() {
        let line = super::results_written_line("fang-dev", 7, 1_764_500_000_000);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(v["_aws"]["Timestamp"], 1_764_500_000_000_i64);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "fangops");
        assert_eq!(directive["Dimensions"][0][0], "Stack");
        assert_eq!(directive["Metrics"][0]["Name"], "ResultsWritten");
        // Every dimension and metric named in the directive is a top-level member.
        assert_eq!(v["Stack"], "fang-dev");
        assert_eq!(v["ResultsWritten"], 7);
    }
}
