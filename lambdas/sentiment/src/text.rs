//! Where a company's text comes from: the Wikipedia REST summary endpoint, or texts
//! shipped in the repository (offline, deterministic).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Wikipedia's REST API root; the summary endpoint is `{base}/page/summary/{title}`.
pub const WIKIPEDIA_BASE_URL: &str = "https://en.wikipedia.org/api/rest_v1";

/// Wikimedia asks API clients for a User-Agent that names the tool and a contact.
pub const USER_AGENT: &str = concat!(
    "fangops/",
    env!("CARGO_PKG_VERSION"),
    " (company sentiment pipeline; https://github.com/fangops/fangops)"
);

/// How many times a rate-limited or unavailable request is tried.
const ATTEMPTS: u32 = 4;
/// The longest wait honoured from a Retry-After header: a Lambda has a timeout.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// One request's limit (less when the function's deadline is nearer).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Time kept free before the function's deadline: a request or a wait that cannot
/// end before it is not started, so the batch can still report what it has.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// What a conditional fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The text, and the validator to send next time (Wikipedia's `ETag`).
    Text { text: Text, etag: Option<String> },
    /// 304: the text is the one the validator names; nothing was downloaded.
    NotModified,
}

/// A lookup's answer.
enum Lookup {
    Found { page: Page, etag: Option<String> },
    NotModified,
}

/// A company's text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub source_url: String,
}

/// What Wikipedia says a title is: the page it lands on (after redirects), its
/// short description and its kind (`standard`, `disambiguation`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The title as asked for.
    pub requested: String,
    /// The page's normalized title, after any redirect.
    pub title: String,
    pub description: Option<String>,
    pub kind: String,
    pub extract: String,
    pub source_url: String,
}

impl Page {
    /// Whether Wikipedia led from the requested title to another page (a redirect
    /// page, not just underscores or a lowercase first letter).
    pub fn redirected(&self) -> bool {
        normalize_title(&self.requested) != normalize_title(&self.title)
    }
}

/// A title as MediaWiki compares titles: underscores are spaces, runs of spaces one,
/// the first letter upper case.
pub fn normalize_title(title: &str) -> String {
    let spaced = title.replace('_', " ");
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Why no text was found: reported per company, never a crash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("no Wikipedia page for {0:?}")]
    NotFound(String),
    #[error("no time left to fetch the Wikipedia summary of {0:?} before the function's deadline")]
    OutOfTime(String),
    #[error("{0:?} is a Wikipedia disambiguation page; set `wikipedia:` to the company's own page")]
    Disambiguation(String),
    #[error("the Wikipedia page for {0:?} has no summary text")]
    Empty(String),
    #[error("Wikipedia kept answering {status} for {company:?} after {ATTEMPTS} attempts")]
    Unavailable { company: String, status: u16 },
    #[error("fetching the Wikipedia summary of {company:?}: {message}")]
    Http { company: String, message: String },
}

impl TextError {
    /// Whether trying again later may succeed. The handler sends a transient error's
    /// message back to the queue; a permanent one (no page, a disambiguation page, an
    /// empty summary) becomes a `no_text` result with this error as its reason, since
    /// no retry would change it.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. } | Self::Http { .. } | Self::OutOfTime(_)
        )
    }
}

/// The Wikipedia client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url:?} is not a URL: {source}")]
    BaseUrl {
        url: String,
        source: url::ParseError,
    },
    #[error("building the HTTP client: {0}")]
    Build(reqwest::Error),
}

#[derive(Debug, Clone)]
pub enum TextSource {
    Wikipedia(Wikipedia),
    Fixtures,
}

impl TextSource {
    /// A company's text: Wikipedia's summary of `page` (the env file's `wikipedia:`
    /// title, else the name), or the offline text of `company`. Gives up in time for
    /// `deadline`.
    /// Each request made to Wikipedia is counted in `requests` (the batch's metric).
    pub async fn fetch(
        &self,
        company: &str,
        page: &str,
        deadline: Instant,
        requests: &AtomicU64,
    ) -> Result<Text, TextError> {
        match self {
            Self::Wikipedia(w) => w.summary_counted(page, Some(deadline), requests).await,
            Self::Fixtures => Ok(fixture(company)),
        }
    }

    /// [`fetch`](Self::fetch), conditional on `etag` (the validator of the text kept
    /// from the last fetch). The offline texts have no validator.
    pub async fn fetch_if_changed(
        &self,
        company: &str,
        page: &str,
        deadline: Instant,
        requests: &AtomicU64,
        etag: Option<&str>,
    ) -> Result<Fetched, TextError> {
        match self {
            Self::Wikipedia(w) => {
                w.summary_if_changed(page, Some(deadline), requests, etag)
                    .await
            }
            Self::Fixtures => Ok(Fetched::Text {
                text: fixture(company),
                etag: None,
            }),
        }
    }
}

/// A client for the summary endpoint.
#[derive(Debug, Clone)]
pub struct Wikipedia {
    client: reqwest::Client,
    base_url: url::Url,
    /// The first backoff; doubled after each attempt (tests make it short).
    backoff: Duration,
}

#[derive(Debug, Deserialize)]
struct Summary {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    title: String,
    titles: Option<Titles>,
    description: Option<String>,
    #[serde(default)]
    extract: String,
    content_urls: Option<ContentUrls>,
}

#[derive(Debug, Deserialize)]
struct Titles {
    normalized: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ContentUrls {
    desktop: Option<PageUrl>,
}

#[derive(Debug, Deserialize)]
struct PageUrl {
    page: Option<String>,
}

impl Wikipedia {
    pub fn new(base_url: &str) -> Result<Self, ClientError> {
        let base_url = url::Url::parse(base_url).map_err(|source| ClientError::BaseUrl {
            url: base_url.to_owned(),
            source,
        })?;
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(ClientError::Build)?;
        Ok(Self {
            client,
            base_url,
            backoff: Duration::from_millis(500),
        })
    }

    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// The summary URL of a page: spaces become underscores, the rest is
    /// percent-encoded as one path segment (a `/` in a name stays in the title).
    pub fn summary_url(&self, company: &str) -> url::Url {
        let mut url = self.base_url.clone();
        let title = company.replace(' ', "_");
        url.path_segments_mut()
            .expect("an http(s) base URL has path segments")
            .pop_if_empty()
            .extend(["page", "summary", &title]);
        url
    }

    /// The text of a page, without a deadline (tests, `fangops companies check`).
    pub async fn summary(&self, title: &str) -> Result<Text, TextError> {
        self.summary_until(title, None).await
    }

    /// The text of a page: its summary's extract, or why there is none.
    pub async fn summary_until(
        &self,
        title: &str,
        deadline: Option<Instant>,
    ) -> Result<Text, TextError> {
        self.summary_counted(title, deadline, &AtomicU64::new(0))
            .await
    }

    /// [`summary_until`](Self::summary_until), counting each request in `requests`.
    pub async fn summary_counted(
        &self,
        title: &str,
        deadline: Option<Instant>,
        requests: &AtomicU64,
    ) -> Result<Text, TextError> {
        match self
            .summary_if_changed(title, deadline, requests, None)
            .await?
        {
            Fetched::Text { text, .. } => Ok(text),
            Fetched::NotModified => Err(TextError::Http {
                company: title.to_owned(),
                message: "HTTP 304 to a request without a validator".to_owned(),
            }),
        }
    }

    /// The text of a page unless it is the one `etag` names: Wikimedia's APIs answer a
    /// conditional GET (`If-None-Match`) with 304 Not Modified and no body when the
    /// resource is unchanged (mediawiki.org, "Wikimedia APIs/Conditional requests").
    pub async fn summary_if_changed(
        &self,
        title: &str,
        deadline: Option<Instant>,
        requests: &AtomicU64,
        etag: Option<&str>,
    ) -> Result<Fetched, TextError> {
        let (page, etag) = match self.lookup_counted(title, deadline, requests, etag).await? {
            Lookup::Found { page, etag } => (page, etag),
            Lookup::NotModified => return Ok(Fetched::NotModified),
        };
        if page.kind == "disambiguation" {
            return Err(TextError::Disambiguation(title.to_owned()));
        }
        if page.extract.trim().is_empty() {
            return Err(TextError::Empty(title.to_owned()));
        }
        Ok(Fetched::Text {
            text: Text {
                text: page.extract,
                source_url: page.source_url,
            },
            etag,
        })
    }

    /// What Wikipedia has at a title. Redirects are followed (the REST API answers a
    /// redirect page with 302 to its target); 429 and 5xx are tried again, honouring
    /// Retry-After, while `deadline` leaves time.
    pub async fn lookup(&self, title: &str, deadline: Option<Instant>) -> Result<Page, TextError> {
        match self
            .lookup_counted(title, deadline, &AtomicU64::new(0), None)
            .await?
        {
            Lookup::Found { page, .. } => Ok(page),
            Lookup::NotModified => Err(TextError::Http {
                company: title.to_owned(),
                message: "HTTP 304 to a request without a validator".to_owned(),
            }),
        }
    }

    async fn lookup_counted(
        &self,
        title: &str,
        deadline: Option<Instant>,
        requests: &AtomicU64,
        if_none_match: Option<&str>,
    ) -> Result<Lookup, TextError> {
        let url = self.summary_url(title);
        let http_err = |message: String| TextError::Http {
            company: title.to_owned(),
            message,
        };
        // Whether `wait` (and a request after it) still ends before the deadline.
        let time_for =
            |wait: Duration| deadline.is_none_or(|d| Instant::now() + wait + DEADLINE_MARGIN < d);
        let mut last_status = 0;
        for attempt in 0..ATTEMPTS {
            if !time_for(Duration::ZERO) {
                return Err(TextError::OutOfTime(title.to_owned()));
            }
            let request = self.summary_request(&url, if_none_match, deadline);
            requests.fetch_add(1, Ordering::Relaxed);
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if attempt + 1 < ATTEMPTS && time_for(self.backoff * 2u32.pow(attempt)) => {
                    tracing::debug!(title, error = %e, "Wikipedia request failed; retrying");
                    tokio::time::sleep(self.backoff * 2u32.pow(attempt)).await;
                    continue;
                }
                Err(e) => return Err(http_err(e.to_string())),
            };
            let status = response.status();
            match status.as_u16() {
                304 if if_none_match.is_some() => return Ok(Lookup::NotModified),
                200 => return found(response, title, &url).await,
                404 => return Err(TextError::NotFound(title.to_owned())),
                429 | 500 | 502 | 503 | 504 => {
                    last_status = status.as_u16();
                    let wait = retry_after(&response)
                        .unwrap_or(self.backoff * 2u32.pow(attempt))
                        .min(MAX_RETRY_AFTER);
                    tracing::info!(
                        title,
                        status = last_status,
                        wait_ms = wait.as_millis() as u64,
                        "Wikipedia asked us to wait"
                    );
                    if attempt + 1 < ATTEMPTS {
                        if !time_for(wait) {
                            return Err(TextError::OutOfTime(title.to_owned()));
                        }
                        tokio::time::sleep(wait).await;
                    }
                }
                other => return Err(http_err(format!("HTTP {other}"))),
            }
        }
        Err(TextError::Unavailable {
            company: title.to_owned(),
            status: last_status,
        })
    }

    /// One GET of a page summary: conditional when there is an ETag to send, and
    /// never outlasting the deadline.
    fn summary_request(
        &self,
        url: &url::Url,
        if_none_match: Option<&str>,
        deadline: Option<Instant>,
    ) -> reqwest::RequestBuilder {
        let mut request = self.client.get(url.clone());
        if let Some(etag) = if_none_match {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(d) = deadline {
            // One request never outlasts the function.
            let left = d
                .saturating_duration_since(Instant::now())
                .saturating_sub(DEADLINE_MARGIN);
            request = request.timeout(left.min(REQUEST_TIMEOUT));
        }
        request
    }
}

/// The page a 200 answer to `title`'s summary describes, with its ETag.
async fn found(
    response: reqwest::Response,
    title: &str,
    url: &url::Url,
) -> Result<Lookup, TextError> {
    let etag = response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let summary: Summary = response.json().await.map_err(|e| TextError::Http {
        company: title.to_owned(),
        message: e.to_string(),
    })?;
    let source_url = summary
        .content_urls
        .and_then(|c| c.desktop)
        .and_then(|d| d.page)
        .unwrap_or_else(|| url.to_string());
    let landed = summary
        .titles
        .and_then(|t| t.normalized)
        .filter(|t| !t.is_empty())
        .unwrap_or(summary.title);
    let page = Page {
        requested: title.to_owned(),
        title: if landed.is_empty() {
            normalize_title(title)
        } else {
            landed
        },
        description: summary.description.filter(|d| !d.is_empty()),
        kind: summary.kind,
        extract: summary.extract,
        source_url,
    };
    Ok(Lookup::Found { page, etag })
}

/// Retry-After in seconds (the HTTP-date form is not used by Wikimedia).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The shipped texts, by company name.
fn fixture_texts() -> &'static HashMap<String, String> {
    static TEXTS: OnceLock<HashMap<String, String>> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut map: HashMap<String, String> =
            serde_json::from_str(include_str!("../texts/companies.json"))
                .expect("texts/companies.json is a JSON object of strings");
        map.remove("_comment");
        map
    })
}

/// Offline text: the shipped description of a known company; for any other name a
/// description assembled from fixed phrases chosen by a hash of the name, so that
/// large offline runs (tests, benchmarks) get varied but reproducible sentiment.
pub fn fixture(company: &str) -> Text {
    if let Some(text) = fixture_texts().get(company) {
        return Text {
            text: text.clone(),
            source_url: format!("fixtures://{}", fang_shared::keys::slug(company)),
        };
    }
    const OPENINGS: [&str; 4] = [
        "is a company with a growing customer base.",
        "is a long-established business in its industry.",
        "is a young firm that recently went public.",
        "is a family-owned company with operations in several countries.",
    ];
    const NEWS: [&str; 6] = [
        "Analysts praise its excellent results and strong, loyal customers.",
        "It has been criticized for poor service and faces a costly lawsuit.",
        "Its latest products were a great success, although profits fell sharply.",
        "The company reported stable revenue this year.",
        "Employees describe a terrible culture and several executives resigned in scandal.",
        "Its innovative research won awards and investors are delighted.",
    ];
    let h = fnv1a(company);
    let text = format!(
        "{company} {} {}",
        OPENINGS[(h % 4) as usize],
        NEWS[((h >> 8) % 6) as usize]
    );
    Text {
        text,
        source_url: format!("fixtures://generated/{}", fang_shared::keys::slug(company)),
    }
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_url_encodes_any_name() {
        let w = Wikipedia::new("https://en.wikipedia.org/api/rest_v1/").unwrap();
        assert_eq!(
            w.summary_url("Meta Platforms").as_str(),
            "https://en.wikipedia.org/api/rest_v1/page/summary/Meta_Platforms"
        );
        assert_eq!(
            w.summary_url("AT&T/Time Warner?").as_str(),
            "https://en.wikipedia.org/api/rest_v1/page/summary/AT&T%2FTime_Warner%3F"
        );
    }

    #[test]
    fn fixtures_cover_the_shipped_companies_and_any_other_name() {
        for name in [
            "Amazon",
            "Apple",
            "Netflix",
            "Alphabet",
            "Meta Platforms",
            "Microsoft",
            "Nvidia",
        ] {
            let t = fixture(name);
            assert!(
                t.source_url.starts_with("fixtures://") && !t.source_url.contains("generated"),
                "{name}"
            );
        }
        let a = fixture("Company 000123");
        assert_eq!(a, fixture("Company 000123"), "deterministic");
        assert!(a.text.starts_with("Company 000123 "));
        assert!(a.source_url.starts_with("fixtures://generated/"));
    }
}
