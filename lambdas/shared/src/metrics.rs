//! The pipeline's own metrics, published by the sentiment function once a batch in
//! CloudWatch's embedded metric format (a JSON line on stdout that CloudWatch Logs
//! turns into metrics: no PutMetricData call, no extra permission). fangops's "no
//! results" alarm watches ResultsWritten; `fangops cost --measured` reads the rest,
//! what the batch was billed for, to price an environment from what it did.

/// The CloudWatch namespace of fangops's metrics.
pub const NAMESPACE: &str = "fangops";
/// Results written to S3, per batch; dimension `Stack`.
pub const RESULTS_WRITTEN: &str = "ResultsWritten";

/// Texts sent to the analyzer.
pub const TEXTS_ANALYZED: &str = "TextsAnalyzed";
/// Comprehend's billing units sent (100 characters each, 3 at least a text).
pub const COMPREHEND_UNITS: &str = "ComprehendUnits";
/// Characters sent to the analyzer.
pub const CHARS_ANALYZED: &str = "CharactersAnalyzed";
/// Requests made to Wikipedia (retries included).
pub const WIKIPEDIA_REQUESTS: &str = "WikipediaRequests";
/// Bytes of result objects written to S3.
pub const RESULT_BYTES: &str = "ResultBytes";
/// Texts sent to no analyzer: their analysis was in the cache, or another company of
/// the batch had the same text (so hits + misses = texts, and misses = calls' texts).
pub const CACHE_HITS: &str = "AnalysisCacheHits";
/// Texts the cache did not hold (or held past `cache.max_age_days`): analyzed.
pub const CACHE_MISSES: &str = "AnalysisCacheMisses";
/// Wikipedia answers 304 Not Modified: the stored text reused, nothing downloaded.
pub const WIKIPEDIA_NOT_MODIFIED: &str = "WikipediaNotModified";

/// What one sentiment batch did and was billed for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchMetrics {
    pub results_written: u64,
    pub texts_analyzed: u64,
    pub comprehend_units: u64,
    pub chars_analyzed: u64,
    pub wikipedia_requests: u64,
    pub result_bytes: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub wikipedia_not_modified: u64,
}

/// Comprehend's billing units for a text of `chars` characters.
pub fn comprehend_units(chars: usize) -> u64 {
    (chars.div_ceil(100) as u64).max(3)
}

/// One embedded-metric-format line of a batch's metrics for `stack` at `timestamp_ms`.
/// Typed rather than built with `json!`, so that the line is the same bytes whatever
/// serde_json's features (its map order differs with `preserve_order`).
pub fn batch_line(stack: &str, m: &BatchMetrics, timestamp_ms: i64) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        #[serde(rename = "_aws")]
        aws: Aws<'a>,
        #[serde(rename = "Stack")]
        stack: &'a str,
        #[serde(flatten)]
        values: std::collections::BTreeMap<&'a str, u64>,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Aws<'a> {
        timestamp: i64,
        cloud_watch_metrics: [Directive<'a>; 1],
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Directive<'a> {
        namespace: &'a str,
        dimensions: [[&'a str; 1]; 1],
        metrics: Vec<Metric<'a>>,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Metric<'a> {
        name: &'a str,
        unit: &'a str,
    }
    let metrics = entries(m);
    let line = Line {
        aws: Aws {
            timestamp: timestamp_ms,
            cloud_watch_metrics: [Directive {
                namespace: NAMESPACE,
                dimensions: [["Stack"]],
                metrics: metrics
                    .iter()
                    .map(|(name, unit, _)| Metric { name, unit })
                    .collect(),
            }],
        },
        stack,
        values: metrics.iter().map(|(name, _, v)| (*name, *v)).collect(),
    };
    serde_json::to_string(&line).expect("a metric line serializes")
}

/// Each metric of a batch line: name, unit, value.
fn entries(m: &BatchMetrics) -> [(&'static str, &'static str, u64); 9] {
    [
        (RESULTS_WRITTEN, "Count", m.results_written),
        (TEXTS_ANALYZED, "Count", m.texts_analyzed),
        (COMPREHEND_UNITS, "Count", m.comprehend_units),
        (CHARS_ANALYZED, "Count", m.chars_analyzed),
        (WIKIPEDIA_REQUESTS, "Count", m.wikipedia_requests),
        (RESULT_BYTES, "Bytes", m.result_bytes),
        (CACHE_HITS, "Count", m.cache_hits),
        (CACHE_MISSES, "Count", m.cache_misses),
        (WIKIPEDIA_NOT_MODIFIED, "Count", m.wikipedia_not_modified),
    ]
}

/// The metrics a batch line publishes, each with the `Stack` dimension: CloudWatch
/// bills each as a custom metric (metrics from the embedded metric format are).
pub fn published() -> Vec<&'static str> {
    entries(&BatchMetrics::default())
        .iter()
        .map(|(name, _, _)| *name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_follows_the_embedded_metric_format() {
        let m = BatchMetrics {
            results_written: 7,
            texts_analyzed: 6,
            comprehend_units: 30,
            chars_analyzed: 2_900,
            wikipedia_requests: 8,
            result_bytes: 4_096,
            cache_hits: 1,
            cache_misses: 6,
            wikipedia_not_modified: 1,
        };
        let line = batch_line("fang-dev", &m, 1_764_500_000_000);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        // One line, a root `_aws` member with a millisecond timestamp.
        assert!(!line.contains('\n'));
        assert_eq!(v["_aws"]["Timestamp"], 1_764_500_000_000_i64);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "fangops");
        assert_eq!(directive["Dimensions"][0][0], "Stack");
        // Every dimension and metric named in the directive is a top-level member with
        // a number; at most 100 metrics a directive.
        assert_eq!(v["Stack"], "fang-dev");
        let names = directive["Metrics"].as_array().unwrap();
        assert!(names.len() <= 100);
        for metric in names {
            let name = metric["Name"].as_str().unwrap();
            assert!(v[name].is_u64(), "{name}");
            assert!(matches!(metric["Unit"].as_str(), Some("Count" | "Bytes")));
        }
        assert_eq!(v["ResultsWritten"], 7);
        assert_eq!(v["ComprehendUnits"], 30);
        insta::assert_snapshot!(line);
    }

    #[test]
    fn units_are_hundreds_of_characters_three_at_least() {
        assert_eq!(comprehend_units(0), 3);
        assert_eq!(comprehend_units(250), 3);
        assert_eq!(comprehend_units(301), 4);
        assert_eq!(comprehend_units(500), 5);
    }
}
