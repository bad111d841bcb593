//! Sentiment analysis: Amazon Comprehend, or VADER embedded in the binary (offline).
//!
//! Both give a label and four scores (positive, negative, neutral, mixed), all kept:
//! the original project threw the scores away.

use aws_sdk_comprehend::types::{LanguageCode, SentimentScore, SentimentType};
use fang_shared::{AnalyzerKind, Sentiment, SentimentScores};

/// Comprehend analyzes at most 5,000 bytes of UTF-8 per document.
pub const COMPREHEND_MAX_BYTES: usize = 5_000;
/// BatchDetectSentiment takes at most 25 documents.
pub const COMPREHEND_BATCH_MAX: usize = 25;

/// Why one text has no analysis; it fails only that text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzeError {
    /// The call itself failed (throttled, denied, unreachable): every text it carried.
    #[error("Comprehend {api}: {message}")]
    Call { api: &'static str, message: String },
    /// BatchDetectSentiment's ErrorList entry for this text.
    #[error("Comprehend: {code}: {message}")]
    Document { code: String, message: String },
    #[error("Comprehend returned no result for this text")]
    NoResult,
    #[error("Comprehend returned an unknown sentiment {0}")]
    UnknownSentiment(String),
    #[error("Comprehend returned no scores")]
    NoScores,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Analysis {
    pub sentiment: Sentiment,
    pub scores: SentimentScores,
}

#[derive(Debug, Clone)]
pub enum Analyzer {
    Comprehend(aws_sdk_comprehend::Client),
    Vader,
}

impl Analyzer {
    pub fn kind(&self) -> AnalyzerKind {
        match self {
            Self::Comprehend(_) => AnalyzerKind::Comprehend,
            Self::Vader => AnalyzerKind::Vader,
        }
    }

    /// Analyzes every text; one result per text, in order. One failing text fails
    /// only itself.
    pub async fn analyze_all(&self, texts: &[&str]) -> Vec<Result<Analysis, AnalyzeError>> {
        match self {
            Self::Vader => texts.iter().map(|t| Ok(vader(t))).collect(),
            Self::Comprehend(client) => {
                let mut out = Vec::with_capacity(texts.len());
                for chunk in texts.chunks(COMPREHEND_BATCH_MAX) {
                    out.extend(comprehend(client, chunk).await);
                }
                out
            }
        }
    }
}

/// Cuts a text to at most `max` bytes without splitting a character.
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One document: DetectSentiment. Several: BatchDetectSentiment, whose per-document
/// errors (ErrorList) fail only their own document.
async fn comprehend(
    client: &aws_sdk_comprehend::Client,
    texts: &[&str],
) -> Vec<Result<Analysis, AnalyzeError>> {
    let texts: Vec<String> = texts
        .iter()
        .map(|t| truncate(t, COMPREHEND_MAX_BYTES).to_owned())
        .collect();
    if let [text] = texts.as_slice() {
        let result = client
            .detect_sentiment()
            .text(text)
            .language_code(LanguageCode::En)
            .send()
            .await
            .map_err(|e| AnalyzeError::Call {
                api: "DetectSentiment",
                message: aws_sdk_comprehend::Error::from(e).to_string(),
            })
            .and_then(|out| analysis(out.sentiment(), out.sentiment_score()));
        return vec![result];
    }
    let n = texts.len();
    let out = match client
        .batch_detect_sentiment()
        .set_text_list(Some(texts))
        .language_code(LanguageCode::En)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let error = AnalyzeError::Call {
                api: "BatchDetectSentiment",
                message: aws_sdk_comprehend::Error::from(e).to_string(),
            };
            return vec![Err(error); n];
        }
    };
    let mut results: Vec<Result<Analysis, AnalyzeError>> = vec![Err(AnalyzeError::NoResult); n];
    for item in out.result_list() {
        if let Some(slot) = item.index().and_then(|i| results.get_mut(i as usize)) {
            *slot = analysis(item.sentiment(), item.sentiment_score());
        }
    }
    for err in out.error_list() {
        if let Some(slot) = err.index().and_then(|i| results.get_mut(i as usize)) {
            *slot = Err(AnalyzeError::Document {
                code: err.error_code().unwrap_or("error").to_owned(),
                message: err.error_message().unwrap_or("").to_owned(),
            });
        }
    }
    results
}

fn analysis(
    sentiment: Option<&SentimentType>,
    score: Option<&SentimentScore>,
) -> Result<Analysis, AnalyzeError> {
    let sentiment = match sentiment {
        Some(SentimentType::Positive) => Sentiment::Positive,
        Some(SentimentType::Negative) => Sentiment::Negative,
        Some(SentimentType::Neutral) => Sentiment::Neutral,
        Some(SentimentType::Mixed) => Sentiment::Mixed,
        other => return Err(AnalyzeError::UnknownSentiment(format!("{other:?}"))),
    };
    let score = score.ok_or(AnalyzeError::NoScores)?;
    let get = |v: Option<f32>| f64::from(v.unwrap_or(0.0));
    Ok(Analysis {
        sentiment,
        scores: SentimentScores {
            positive: get(score.positive()),
            negative: get(score.negative()),
            neutral: get(score.neutral()),
            mixed: get(score.mixed()),
        },
    })
}

/// VADER's compound score decides the label with its authors' thresholds (±0.05).
/// A text with real positive and negative weight and a weak compound is MIXED, as
/// Comprehend would call it. The mixed score is twice the smaller of the two
/// polarities; the four scores are renormalized to sum to 1, like Comprehend's.
pub fn vader(text: &str) -> Analysis {
    use std::sync::OnceLock;
    static ANALYZER: OnceLock<vader_sentiment::SentimentIntensityAnalyzer<'static>> =
        OnceLock::new();
    let analyzer = ANALYZER.get_or_init(vader_sentiment::SentimentIntensityAnalyzer::new);
    let s = analyzer.polarity_scores(text);
    let get = |k: &str| s.get(k).copied().unwrap_or(0.0);
    let (pos, neg, neu, compound) = (get("pos"), get("neg"), get("neu"), get("compound"));
    let sentiment = if pos >= 0.1 && neg >= 0.1 && compound.abs() < 0.5 {
        Sentiment::Mixed
    } else if compound >= 0.05 {
        Sentiment::Positive
    } else if compound <= -0.05 {
        Sentiment::Negative
    } else {
        Sentiment::Neutral
    };
    let mixed = 2.0 * pos.min(neg);
    let total = pos + neg + neu + mixed;
    let norm = |v: f64| if total > 0.0 { v / total } else { 0.0 };
    Analysis {
        sentiment,
        scores: SentimentScores {
            positive: norm(pos),
            negative: norm(neg),
            neutral: if total > 0.0 { norm(neu) } else { 1.0 },
            mixed: norm(mixed),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_a_character_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("héllo", 2), "h");
        let long = "ト".repeat(2000); // 6000 bytes
        let cut = truncate(&long, COMPREHEND_MAX_BYTES);
        assert_eq!(cut.len(), 4998);
        assert!(cut.chars().all(|c| c == 'ト'));
    }

    #[test]
    fn vader_labels_and_scores() {
        let good = vader("This is a wonderful, excellent, delightful company.");
        assert_eq!(good.sentiment, Sentiment::Positive);
        let bad = vader("A terrible, awful scandal; customers hate it.");
        assert_eq!(bad.sentiment, Sentiment::Negative);
        let flat = vader("The company is located in Ohio.");
        assert_eq!(flat.sentiment, Sentiment::Neutral);
        let mixed = vader("Loved by customers, hated by regulators.");
        assert_eq!(mixed.sentiment, Sentiment::Mixed);
        for a in [good, bad, flat, mixed] {
            let s = a.scores;
            let sum = s.positive + s.negative + s.neutral + s.mixed;
            assert!((sum - 1.0).abs() < 1e-9, "{s:?}");
        }
    }
}
