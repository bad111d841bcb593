//! The names of an environment's resources, all derived from its stack name so that
//! environments never collide. The CloudFormation template derives the same names.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    pub stack: String,
    pub table: String,
    pub queue: String,
    pub dlq: String,
    /// Events the producer failed on after Lambda's retries.
    pub producer_failures: String,
    /// Globally unique across AWS, hence the account id.
    pub bucket: String,
    pub producer_function: String,
    pub sentiment_function: String,
}

impl Names {
    pub fn new(stack: &str, account: &str) -> Self {
        Self {
            stack: stack.to_owned(),
            table: format!("{stack}-companies"),
            queue: format!("{stack}-companies"),
            dlq: format!("{stack}-companies-dlq"),
            producer_failures: format!("{stack}-producer-failures"),
            bucket: format!("{stack}-{account}-results"),
            producer_function: format!("{stack}-producer"),
            sentiment_function: format!("{stack}-sentiment"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_fit_aws_limits() {
        let stack = "a".repeat(32); // the longest stack name config accepts
        let n = super::Names::new(&stack, "123456789012");
        assert!(n.bucket.len() <= 63, "{}", n.bucket);
        assert!(n.dlq.len() <= 80);
        assert!(n.producer_failures.len() <= 80);
        assert!(n.producer_function.len() <= 64);
        assert!(n.sentiment_function.len() <= 64);
    }
}
