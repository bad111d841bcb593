//! Every default of the env file, in one place. The JSON Schema's descriptions, and so
//! the env-file reference (`docs/reference/env-file.md`) generated from it, quote these;
//! a test keeps the shipped files honest.

use super::Schedule;

/// Lambda memory for both functions, in MB. 256 MB arm64 runs the Rust handlers with
/// room to spare; cost scales linearly with it.
pub const LAMBDA_MEMORY_MB: u32 = 256;
/// Lambda timeout for both functions, in seconds.
pub const LAMBDA_TIMEOUT_S: u32 = 60;
/// Sentiment batches in flight: a few hundred companies a minute, gentle on Wikipedia
/// and well under Comprehend's default rate.
pub const LAMBDA_MAX_CONCURRENCY: u32 = 5;
/// Alarm thresholds; every alarm evaluates 5-minute periods, once, unless set otherwise
/// (the no-results alarm's period follows the schedule).
pub const ALARM_PERIOD_S: u32 = 300;
pub const ALARM_EVALUATION_PERIODS: u32 = 1;
/// Errors of a function in a period.
pub const ALARM_ERRORS: f64 = 1.0;
/// Throttled invocations of a function in a period.
pub const ALARM_THROTTLES: f64 = 1.0;
/// Messages in the dead-letter queue.
pub const ALARM_DLQ_MESSAGES: f64 = 1.0;
/// Age of the oldest queued message, in seconds.
pub const ALARM_OLDEST_MESSAGE_AGE_S: f64 = 3600.0;
/// The sentiment function's longest run, in percent of its timeout.
pub const ALARM_SENTIMENT_DURATION_PERCENT: f64 = 80.0;
/// Results written over the no-results period below which the alarm fires.
pub const ALARM_NO_RESULTS: f64 = 1.0;
/// A sync refuses to delete more than this share of the live table, in percent,
/// without `--allow-mass-delete`: a list truncated by a bad merge must not empty prod.
pub const SYNC_MAX_DELETE_PERCENT: u32 = 50;
/// Days an analysis is reused while its text is unchanged (`cache.max_age_days`).
pub const CACHE_MAX_AGE_DAYS: u32 = 7;
/// Seconds `verify` waits for the canary results, at least (in AWS the default also
/// covers one retry of a failed attempt: the queue's visibility timeout, another
/// function timeout and a minute).
pub const VERIFY_TIMEOUT_S: u32 = 300;
/// Seconds `verify` watches the alarms after the canary: most fangops alarms evaluate
/// 5-minute periods, but a function error or a throttle shows within the first one
/// CloudWatch evaluates, which is about a minute after the metric arrives.
pub const VERIFY_ALARM_WATCH_S: u32 = 120;
/// Cost-model assumptions (see `RawCost` for what each means).
/// A company's Wikipedia summary rarely changes from one run to the next.
pub const COST_TEXT_CHANGE_RATE: f64 = 0.05;
pub const COST_SENTIMENT_MS_PER_COMPANY: f64 = 800.0;
pub const COST_PRODUCER_MS_PER_RUN: f64 = 300.0;
pub const COST_PRODUCER_MS_PER_COMPANY: f64 = 2.0;
pub const COST_TEXT_CHARS_PER_COMPANY: f64 = 1200.0;
pub const COST_RESULT_KB: f64 = 2.0;
pub const COST_LOG_KB_PER_COMPANY: f64 = 0.5;
pub const COST_ALARM_NOTIFICATIONS_PER_MONTH: f64 = 4.0;
pub const COST_COMPANY_CHANGES_PER_MONTH: f64 = 10.0;
pub const COST_EXPLORER_REQUESTS_PER_MONTH: f64 = 20.0;
/// How often the pipeline runs.
pub const SCHEDULE: &str = "rate(1 day)";

/// The no-results alarm's period: the schedule's longest gap between runs plus slack
/// for the run itself (the gap again, at most an hour), so that every period holds at
/// least one run's results. `None` when that exceeds CloudWatch's 7-day limit or the
/// schedule hardly runs. Measured over the twelve months from `from`: any twelve
/// months hold a cron's longest gap (a 31-day month, a fifth weekday), so only a
/// schedule with a year field sees the period follow the clock, as its runs do.
pub fn no_results_period_s(schedule: &Schedule, from: time::Date) -> Option<u32> {
    let gap = schedule.longest_gap_s(from)?;
    let period = (gap + gap.min(3600)).div_ceil(60) * 60;
    u32::try_from(period).ok().filter(|p| *p <= 604_800)
}

pub fn schedule() -> Schedule {
    Schedule::parse(SCHEDULE).expect("the default schedule is valid")
}

/// Previews of an environment that may exist at once (`previews.max`).
pub const PREVIEWS_MAX: u32 = 10;
