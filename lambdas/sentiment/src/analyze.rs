//! Sentiment analysis: Amazon Comprehend, or VADER embedded in the binary (offline).
//!
//! Both give a label and four scores (positive, negative, neutral, mixed), all kept:
//! the original project threw the scores away.
//!
//! Comprehend's DetectSentiment and BatchDetectSentiment analyze "the first 500
//! characters of the input text and ignore any additional text", yet bill every 100
//! characters sent (3 units at least): so at most 500 characters are sent, cut at a
//! sentence or a word. Throttling and server errors are tried again, per document,
//! while the function has time left; the rest of a batch is not held up by them.

use std::time::{Duration, Instant};

use aws_sdk_comprehend::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_comprehend::types::{LanguageCode, SentimentScore, SentimentType};
use fang_shared::{AnalyzerKind, Sentiment, SentimentScores};

/// Comprehend analyzes at most 5,000 bytes of UTF-8 per document.
pub const COMPREHEND_MAX_BYTES: usize = 5_000;
/// Comprehend's sentiment reads the first 500 characters and ignores the rest.
pub const COMPREHEND_ANALYZED_CHARS: usize = 500;
/// BatchDetectSentiment takes at most 25 documents.
pub const COMPREHEND_BATCH_MAX: usize = 25;
/// Calls of one batch's texts at most (the first and the retries).
const ATTEMPTS: u32 = 5;
/// The first pause after throttling; doubled each time, with jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Time kept free before the deadline: a retry that cannot finish is not started.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// Why one text has no analysis; it fails only that text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzeError {
    /// The call itself failed (throttled, denied, unreachable): every text it carried.
    #[error("Comprehend {api}: {message}")]
    Call {
        api: &'static str,
        message: String,
        /// Throttling, a server error, a timeout: may pass if tried again.
        transient: bool,
    },
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

impl AnalyzeError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Call { transient, .. } => *transient,
            // BatchItemError's code is an undocumented string: the service's own
            // failure, as observed, is worth a retry; anything else about the text is
            // not.
            Self::Document { code, .. } => code == "INTERNAL_SERVER_ERROR",
            Self::NoResult => true,
            Self::UnknownSentiment(_) | Self::NoScores => false,
        }
    }

    fn call<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
        api: &'static str,
        e: SdkError<E, aws_sdk_comprehend::config::http::HttpResponse>,
    ) -> Self {
        // Throttling by its codes; Comprehend's ServiceUnavailable (503) and
        // InternalFailure (500) by status, as for any 429 or 5xx answer.
        let transient = match &e {
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(s) => {
                let status = s.raw().status().as_u16();
                status == 429
                    || status >= 500
                    || matches!(
                        s.err().code(),
                        Some(
                            "ThrottlingException"
                                | "TooManyRequestsException"
                                | "InternalServerException"
                        )
                    )
            }
            _ => false,
        };
        let message = match e.as_service_error() {
            Some(s) => format!(
                "{}: {}",
                s.code().unwrap_or("error"),
                s.message().unwrap_or_default()
            ),
            None => aws_sdk_comprehend::error::DisplayErrorContext(&e).to_string(),
        };
        Self::Call {
            api,
            message,
            transient,
        }
    }
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

    /// The part of a text this analyzer reads, and so what is sent and billed:
    /// Comprehend's first 500 characters, cut at a sentence or a word; all of it for
    /// the embedded analyzer.
    pub fn prepare<'t>(&self, text: &'t str) -> &'t str {
        match self {
            Self::Comprehend(_) => cut_for_comprehend(text),
            Self::Vader => text,
        }
    }

    /// Analyzes every text (as [`prepare`](Self::prepare) cuts it); one result per
    /// text, in order. One failing text fails only itself; transient failures are
    /// tried again while `deadline` leaves time.
    pub async fn analyze_all(
        &self,
        texts: &[&str],
        deadline: Instant,
    ) -> Vec<Result<Analysis, AnalyzeError>> {
        match self {
            Self::Vader => texts.iter().map(|t| Ok(vader(t))).collect(),
            Self::Comprehend(client) => {
                let texts: Vec<&str> = texts.iter().map(|t| cut_for_comprehend(t)).collect();
                let mut out: Vec<Result<Analysis, AnalyzeError>> =
                    vec![Err(AnalyzeError::NoResult); texts.len()];
                let mut pending: Vec<usize> = (0..texts.len()).collect();
                let mut backoff = FIRST_BACKOFF;
                for attempt in 1..=ATTEMPTS {
                    for chunk in pending.chunks(COMPREHEND_BATCH_MAX) {
                        let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
                        for (&i, r) in chunk.iter().zip(comprehend(client, &batch).await) {
                            out[i] = r;
                        }
                    }
                    pending.retain(|&i| out[i].as_ref().is_err_and(AnalyzeError::is_transient));
                    // Jitter spreads the retries of concurrent batches apart.
                    let pause = backoff.mul_f64(0.5 + fastrand::f64());
                    if pending.is_empty()
                        || attempt == ATTEMPTS
                        || Instant::now() + pause + DEADLINE_MARGIN >= deadline
                    {
                        break;
                    }
                    tracing::info!(
                        texts = pending.len(),
                        wait_ms = pause.as_millis() as u64,
                        "Comprehend throttled or failed; trying those texts again"
                    );
                    tokio::time::sleep(pause).await;
                    backoff *= 2;
                }
                out
            }
        }
    }
}

/// At most [`COMPREHEND_ANALYZED_CHARS`] characters: up to the last sentence end that
/// keeps at least half of them, else the last space, else a hard cut.
pub fn cut_for_comprehend(text: &str) -> &str {
    let text = text.trim();
    let Some((end, _)) = text.char_indices().nth(COMPREHEND_ANALYZED_CHARS) else {
        return text;
    };
    let head = &text[..end];
    let half = head.len() / 2;
    let sentence = head
        .rmatch_indices(['.', '!', '?'])
        .map(|(i, m)| i + m.len())
        .find(|&i| i >= half && head[i..].starts_with(char::is_whitespace));
    if let Some(i) = sentence {
        return &head[..i];
    }
    match head.rfind(char::is_whitespace) {
        Some(i) if i > 0 => head[..i].trim_end(),
        _ => head,
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
    debug_assert!(
        texts
            .iter()
            .all(|t| t.chars().count() <= COMPREHEND_ANALYZED_CHARS)
    );
    if let [text] = texts.as_slice() {
        let result = client
            .detect_sentiment()
            .text(text)
            .language_code(LanguageCode::En)
            .send()
            .await
            .map_err(|e| AnalyzeError::call("DetectSentiment", e))
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
        Err(e) => return vec![Err(AnalyzeError::call("BatchDetectSentiment", e)); n],
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
    fn comprehend_gets_at_most_500_characters_cut_at_a_sentence_or_word() {
        let short = "A short text.";
        assert_eq!(cut_for_comprehend(short), short);
        // Sentences: cut after the last one that ends within 500 characters.
        let sentence = "Word word word word word word word word word. "; // 46 chars
        let text = sentence.repeat(20);
        let cut = cut_for_comprehend(&text);
        assert!(cut.chars().count() <= COMPREHEND_ANALYZED_CHARS);
        assert!(cut.ends_with("word."), "{cut:?}");
        assert_eq!(cut.chars().count(), 45 + 46 * 9);
        // No sentence end late enough: cut at a word.
        let words = "wörd ".repeat(200);
        let cut = cut_for_comprehend(&words);
        assert!(cut.chars().count() <= COMPREHEND_ANALYZED_CHARS);
        assert!(cut.ends_with("wörd"), "{cut:?}");
        // One long token: a hard cut on a character boundary.
        let token = "ト".repeat(800);
        assert_eq!(cut_for_comprehend(&token).chars().count(), 500);
        // The embedded analyzer reads everything.
        assert_eq!(Analyzer::Vader.prepare(&token).chars().count(), 800);
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
