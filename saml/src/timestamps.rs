//! SAML times: `xs:dateTime` in UTC with a `Z` (Core §1.3.3), and the validity-window
//! checks with a clock-skew allowance.

use jiff::{SignedDuration, Timestamp};

use crate::error::{Result, SamlError};

/// Formats an instant as SAML wants it: UTC, whole seconds, `Z`.
pub fn format_instant(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses an `xs:dateTime` that must be in UTC (`Z`), fractional seconds allowed.
pub fn parse_instant(s: &str, what: &'static str) -> Result<Timestamp> {
    let s = s.trim();
    if !s.ends_with('Z') || s.len() > 40 {
        return Err(SamlError::Invalid { what });
    }
    s.parse::<Timestamp>()
        .map_err(|_| SamlError::Invalid { what })
}

/// Checks `now` against an optional `[not_before, not_on_or_after)` window
/// (Core §2.5.1.2), widened by `skew` on both sides.
pub fn check_window(
    now: Timestamp,
    not_before: Option<Timestamp>,
    not_on_or_after: Option<Timestamp>,
    skew: SignedDuration,
) -> Result<()> {
    if let Some(nb) = not_before {
        if now
            .saturating_add(skew)
            .map_err(|_| SamlError::Time("time overflow"))?
            < nb
        {
            return Err(SamlError::Time("not yet valid (NotBefore in the future)"));
        }
    }
    if let Some(na) = not_on_or_after {
        if now
            .saturating_sub(skew)
            .map_err(|_| SamlError::Time("time overflow"))?
            >= na
        {
            return Err(SamlError::Time("expired (NotOnOrAfter passed)"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse() {
        let t = Timestamp::from_second(1_700_000_000).unwrap();
        assert_eq!(format_instant(t), "2023-11-14T22:13:20Z");
        assert_eq!(parse_instant("2023-11-14T22:13:20Z", "t").unwrap(), t);
        assert!(parse_instant("2023-11-14T22:13:20.5Z", "t").is_ok());
        assert!(parse_instant("2023-11-14T22:13:20+01:00", "t").is_err());
        assert!(parse_instant("yesterday", "t").is_err());
    }

    #[test]
    fn window_with_skew() {
        let t = |s| Timestamp::from_second(s).unwrap();
        let skew = SignedDuration::from_secs(60);
        assert!(check_window(t(1000), Some(t(1050)), Some(t(2000)), skew).is_ok());
        assert!(check_window(t(1000), Some(t(1061)), None, skew).is_err());
        assert!(check_window(t(2059), None, Some(t(2000)), skew).is_ok());
        assert!(check_window(t(2060), None, Some(t(2000)), skew).is_err());
    }
}
