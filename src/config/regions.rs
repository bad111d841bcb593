//! The AWS region codes fangops accepts. Kept as a list because a misspelt region would
//! otherwise surface as a DNS failure minutes into a deploy. Last checked 2026-11
//! against the AWS general reference; add new regions here.

const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// Where Amazon Comprehend is offered (its endpoints in the AWS general reference,
/// checked 2026-11). `sentiment: comprehend` elsewhere would fail at the first text.
pub const COMPREHEND_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "us-east-1",
    "us-east-2",
    "us-gov-west-1",
    "us-west-2",
];

pub fn has_comprehend(region: &str) -> bool {
    COMPREHEND_REGIONS.contains(&region)
}

/// The ARN partition of a region: China and GovCloud have their own.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Where Cost Explorer answers for an env in `region`: its API has one endpoint per
/// partition, `ce.us-east-1.amazonaws.com`, and in China
/// `ce.cn-northwest-1.amazonaws.com.cn` ("Using the AWS Cost Explorer API", Cost
/// Management User Guide, and its amazonaws.cn edition).
pub fn cost_explorer_region(region: &str) -> &'static str {
    match partition(region) {
        "aws-cn" => "cn-northwest-1",
        _ => "us-east-1",
    }
}

pub(super) fn check(region: &str) -> Result<(), String> {
    if REGIONS.contains(&region) {
        return Ok(());
    }
    let closest = REGIONS
        .iter()
        .map(|r| (strsim::levenshtein(r, region), *r))
        .min()
        .filter(|(distance, _)| *distance <= 3);
    Err(match closest {
        Some((_, r)) => format!("unknown AWS region {region:?}; did you mean {r:?}?"),
        None => format!("unknown AWS region {region:?}"),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn partitions_and_comprehend() {
        assert_eq!(super::partition("eu-west-1"), "aws");
        assert_eq!(super::partition("cn-north-1"), "aws-cn");
        assert_eq!(super::partition("us-gov-west-1"), "aws-us-gov");
        // Regression: Cost Explorer was asked in us-east-1 for an env in China.
        assert_eq!(super::cost_explorer_region("cn-north-1"), "cn-northwest-1");
        assert_eq!(super::cost_explorer_region("eu-west-1"), "us-east-1");
        assert!(super::has_comprehend("eu-west-1"));
        assert!(!super::has_comprehend("eu-north-1"));
        assert!(
            super::COMPREHEND_REGIONS
                .iter()
                .all(|r| super::check(r).is_ok())
        );
    }

    #[test]
    fn known_and_unknown() {
        assert!(super::check("us-east-1").is_ok());
        assert_eq!(
            super::check("us-east-7").unwrap_err(),
            "unknown AWS region \"us-east-7\"; did you mean \"us-east-1\"?"
        );
        assert_eq!(
            super::check("mars-1").unwrap_err(),
            "unknown AWS region \"mars-1\""
        );
    }
}
