//! Access rules of a policy (SPEC §6.3): the networks sign-in is allowed from and the
//! days and hours it is allowed at, in the policy's time zone.

use std::net::IpAddr;

use jiff::{tz::TimeZone, Timestamp};

use crate::net::Cidr;

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MINUTES_PER_DAY: u16 = 24 * 60;

/// Why sign-in was refused by the access rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Network,
    Time,
}

impl Refusal {
    /// The message shown to the user, in English.
    pub fn message_en(&self) -> &'static str {
        match self {
            Refusal::Network => "Sign-in is not allowed from this network.",
            Refusal::Time => "Sign-in is not allowed at this time.",
        }
    }

    /// The message shown to the user, in Japanese.
    pub fn message_ja(&self) -> &'static str {
        match self {
            Refusal::Network => "このネットワークからはサインインできません。",
            Refusal::Time => "この時間帯はサインインできません。",
        }
    }
}

/// A rule in the configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AccessRuleError {
    /// An allowed network that is not a CIDR block.
    #[error("allowed networks: {0}")]
    Network(String),
    /// An allowed-hours rule that does not parse.
    #[error("allowed hours: {rule:?}: {problem}")]
    Hours { rule: String, problem: String },
    /// A time zone name that is not in the time zone database.
    #[error("{0:?} is not a known time zone (use an IANA name such as Asia/Tokyo, Europe/Berlin or UTC)")]
    UnknownZone(String),
}

/// The text of access rules as configured, before parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessSource {
    pub networks: Vec<String>,
    pub hours: Vec<String>,
    pub time_zone: String,
}

impl Default for AccessSource {
    fn default() -> Self {
        AccessSource {
            networks: Vec::new(),
            hours: Vec::new(),
            time_zone: "UTC".into(),
        }
    }
}

impl AccessSource {
    pub fn parse(&self) -> Result<AccessRules, AccessRuleError> {
        AccessRules::parse(&self.networks, &self.hours, &self.time_zone)
    }
}

/// Allowed networks and allowed days and hours; empty lists allow anything.
#[derive(Clone, Debug)]
pub struct AccessRules {
    networks: Vec<Cidr>,
    windows: Vec<TimeWindow>,
    zone: TimeZone,
}

impl Default for AccessRules {
    /// No rules: any network, any time.
    fn default() -> Self {
        AccessRules {
            networks: Vec::new(),
            windows: Vec::new(),
            zone: TimeZone::UTC,
        }
    }
}

impl AccessRules {
    /// Parses the rules of a policy.
    ///
    /// `networks` are CIDR blocks (`"10.0.0.0/8"`, `"2001:db8::/32"`) or single
    /// addresses. `hours` are rules of the form `DAYS START-END`, evaluated in the
    /// wall-clock time of `time_zone` (an IANA name such as `"Asia/Tokyo"`, `"UTC"`):
    ///
    /// - `"Mon-Fri 08:00-19:00"` — Monday to Friday, from 08:00 up to (not including) 19:00
    /// - `"Sat 09:00-12:30"`, `"Mon,Wed,Fri 07:00-22:00"` — single days and lists
    /// - `"Fri-Mon 00:00-24:00"` — day ranges wrap the week (Fri, Sat, Sun, Mon);
    ///   `24:00` is allowed as an end
    /// - `"Sun-Sat 22:00-06:00"` — an end before the start crosses midnight: the window
    ///   belongs to the starting day and runs into the next morning (`"Fri 22:00-06:00"`
    ///   allows Saturday 03:00, not Friday 03:00)
    ///
    /// Day names are English three-letter names, in any case. Sign-in is allowed when
    /// any rule matches.
    pub fn parse(
        networks: &[String],
        hours: &[String],
        time_zone: &str,
    ) -> Result<AccessRules, AccessRuleError> {
        let networks = networks
            .iter()
            .map(|text| text.parse::<Cidr>().map_err(AccessRuleError::Network))
            .collect::<Result<Vec<_>, _>>()?;
        let windows = hours
            .iter()
            .map(|rule| {
                TimeWindow::parse(rule).map_err(|problem| AccessRuleError::Hours {
                    rule: rule.clone(),
                    problem,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let zone = TimeZone::get(time_zone.trim())
            .map_err(|_| AccessRuleError::UnknownZone(time_zone.to_string()))?;
        Ok(AccessRules {
            networks,
            windows,
            zone,
        })
    }

    /// Whether there are no rules at all (anyone may sign in from anywhere, at any time).
    pub fn is_open(&self) -> bool {
        self.networks.is_empty() && self.windows.is_empty()
    }

    /// Whether sign-in from `source` at `now_unix` (seconds) is allowed; the network
    /// is checked first.
    pub fn check(&self, source: IpAddr, now_unix: i64) -> Result<(), Refusal> {
        if !self.networks.is_empty() && !self.networks.iter().any(|net| net.contains(source)) {
            return Err(Refusal::Network);
        }
        if self.windows.is_empty() {
            return Ok(());
        }
        // An instant jiff cannot represent is refused rather than guessed at.
        let instant = Timestamp::from_second(now_unix).map_err(|_| Refusal::Time)?;
        // Local wall-clock time of the instant, so DST changes are followed.
        let local = self.zone.to_datetime(instant);
        let day = local.weekday().to_monday_zero_offset() as u8;
        let minute = u16::from(local.hour() as u8) * 60 + u16::from(local.minute() as u8);
        if self.windows.iter().any(|w| w.contains(day, minute)) {
            Ok(())
        } else {
            Err(Refusal::Time)
        }
    }
}

/// One allowed-hours rule: days (bit 0 = Monday) and minutes of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TimeWindow {
    days: u8,
    start: u16,
    /// Exclusive; `end < start` means the window runs past midnight.
    end: u16,
}

impl TimeWindow {
    fn parse(rule: &str) -> Result<TimeWindow, String> {
        let mut parts = rule.split_whitespace();
        let (days, times) = match (parts.next(), parts.next(), parts.next()) {
            (Some(days), Some(times), None) => (days, times),
            (None, _, _) => {
                return Err("the rule is empty; write e.g. \"Mon-Fri 08:00-19:00\"".into())
            }
            (Some(only), None, _) if only.contains(':') => {
                return Err("the days are missing; write e.g. \"Mon-Fri 08:00-19:00\"".into())
            }
            (Some(_), None, _) => {
                return Err("the time range is missing; write e.g. \"Mon-Fri 08:00-19:00\"".into())
            }
            _ => return Err("expected days and a time range, e.g. \"Mon-Fri 08:00-19:00\"".into()),
        };
        let days = parse_days(days)?;
        let (start, end) = times
            .split_once('-')
            .ok_or_else(|| format!("{times:?} is not a time range; write e.g. \"08:00-19:00\""))?;
        let start = parse_time(start)?;
        let end = parse_time(end)?;
        if start == MINUTES_PER_DAY {
            return Err("a window cannot start at 24:00; write 00:00".into());
        }
        if start == end {
            return Err(format!(
                "{times:?} starts and ends at the same time; write 00:00-24:00 for the whole day"
            ));
        }
        Ok(TimeWindow { days, start, end })
    }

    /// Whether local `minute` of weekday `day` (0 = Monday) falls in the window.
    fn contains(&self, day: u8, minute: u16) -> bool {
        let on = |d: u8| self.days & (1 << d) != 0;
        if self.start < self.end {
            on(day) && (self.start..self.end).contains(&minute)
        } else {
            // Past midnight the window still belongs to the day it started on.
            let previous = (day + 6) % 7;
            (on(day) && minute >= self.start) || (on(previous) && minute < self.end)
        }
    }
}

/// `"Mon-Fri"`, `"Sat"`, `"Mon,Wed,Fri"`, `"Fri-Mon"` (wrapping) → a day bit set.
fn parse_days(text: &str) -> Result<u8, String> {
    let mut days = 0u8;
    for item in text.split(',') {
        match item.split_once('-') {
            Some((first, last)) => {
                let first = parse_day(first)?;
                let last = parse_day(last)?;
                let mut day = first;
                loop {
                    days |= 1 << day;
                    if day == last {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => days |= 1 << parse_day(item)?,
        }
    }
    Ok(days)
}

fn parse_day(text: &str) -> Result<u8, String> {
    DAY_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
        .map(|index| index as u8)
        .ok_or_else(|| format!("{text:?} is not a day ({})", DAY_NAMES.join(", ")))
}

/// `"HH:MM"` → minutes since midnight; `24:00` is accepted (as an end).
fn parse_time(text: &str) -> Result<u16, String> {
    let bad = || format!("{text:?} is not a time of day (00:00 to 23:59, or 24:00 as an end)");
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, max_len| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u16>().ok())
            .flatten()
    };
    let hours = digits(hours, 2).ok_or_else(bad)?;
    let minutes = digits(minutes, 2)
        .filter(|_| minutes.len() == 2)
        .ok_or_else(bad)?;
    match (hours, minutes) {
        (24, 0) => Ok(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Ok(hours * 60 + minutes),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, Weekday};

    fn rules(networks: &[&str], hours: &[&str], zone: &str) -> AccessRules {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        AccessRules::parse(&owned(networks), &owned(hours), zone).unwrap()
    }

    fn error(networks: &[&str], hours: &[&str], zone: &str) -> String {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        AccessRules::parse(&owned(networks), &owned(hours), zone)
            .unwrap_err()
            .to_string()
    }

    /// The instant at a wall-clock time in a zone, as unix seconds.
    fn at(zone: &str, y: i16, m: i8, d: i8, hour: i8, minute: i8) -> i64 {
        date(y, m, d)
            .at(hour, minute, 0, 0)
            .in_tz(zone)
            .unwrap()
            .timestamp()
            .as_second()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_allow_their_addresses_only() {
        let r = rules(&["10.0.0.0/8", "2001:db8:1::/48"], &[], "UTC");
        assert!(!r.is_open());
        assert_eq!(r.check(ip("10.20.30.40"), 0), Ok(()));
        assert_eq!(r.check(ip("::ffff:10.1.2.3"), 0), Ok(()));
        assert_eq!(r.check(ip("192.168.1.1"), 0), Err(Refusal::Network));
        assert_eq!(r.check(ip("2001:db8:1:ff::1"), 0), Ok(()));
        assert_eq!(r.check(ip("2001:db8:2::1"), 0), Err(Refusal::Network));
    }

    #[test]
    fn no_rules_allow_everything() {
        let r = rules(&[], &[], "UTC");
        assert!(r.is_open());
        assert_eq!(r.check(ip("203.0.113.1"), 1_800_000_000), Ok(()));
    }

    #[test]
    fn the_network_is_checked_before_the_time() {
        let r = rules(&["10.0.0.0/8"], &["Mon 00:00-00:01"], "UTC");
        let tuesday = at("UTC", 2026, 12, 1, 12, 0);
        assert_eq!(r.check(ip("192.0.2.1"), tuesday), Err(Refusal::Network));
        assert_eq!(r.check(ip("10.0.0.1"), tuesday), Err(Refusal::Time));
    }

    #[test]
    fn weekday_hours_follow_the_time_zone() {
        assert_eq!(date(2026, 11, 30).weekday(), Weekday::Monday);
        let r = rules(&[], &["mon-FRI 08:00-19:00"], "Asia/Tokyo");
        let any = ip("192.0.2.1");
        let tokyo = |d, h, m| at("Asia/Tokyo", 2026, 11, d, h, m);
        assert_eq!(r.check(any, tokyo(30, 8, 0)), Ok(()));
        assert_eq!(r.check(any, tokyo(30, 18, 59)), Ok(()));
        assert_eq!(r.check(any, tokyo(30, 19, 0)), Err(Refusal::Time));
        assert_eq!(r.check(any, tokyo(30, 7, 59)), Err(Refusal::Time));
        // Monday 08:00 in Tokyo is Sunday 23:00 UTC: the zone, not UTC, decides.
        assert_eq!(tokyo(30, 8, 0), at("UTC", 2026, 11, 29, 23, 0));
        let in_utc = rules(&[], &["Mon-Fri 08:00-19:00"], "UTC");
        assert_eq!(in_utc.check(any, tokyo(30, 8, 0)), Err(Refusal::Time));
        // Saturday.
        let saturday = at("Asia/Tokyo", 2026, 12, 5, 10, 0);
        assert_eq!(r.check(any, saturday), Err(Refusal::Time));
    }

    #[test]
    fn an_overnight_window_belongs_to_its_starting_day() {
        assert_eq!(date(2026, 12, 4).weekday(), Weekday::Friday);
        let r = rules(&[], &["Fri 22:00-06:00"], "UTC");
        let any = ip("192.0.2.1");
        let utc = |d, h, m| at("UTC", 2026, 12, d, h, m);
        assert_eq!(r.check(any, utc(4, 23, 0)), Ok(()), "Fri 23:00");
        assert_eq!(r.check(any, utc(5, 3, 0)), Ok(()), "Sat 03:00");
        assert_eq!(r.check(any, utc(5, 6, 0)), Err(Refusal::Time), "Sat 06:00");
        assert_eq!(
            r.check(any, utc(5, 22, 30)),
            Err(Refusal::Time),
            "Sat 22:30"
        );
        assert_eq!(r.check(any, utc(6, 3, 0)), Err(Refusal::Time), "Sun 03:00");
        assert_eq!(r.check(any, utc(4, 3, 0)), Err(Refusal::Time), "Fri 03:00");
    }

    #[test]
    fn day_ranges_wrap_the_week() {
        let r = rules(&[], &["Fri-Mon 00:00-24:00"], "UTC");
        let any = ip("192.0.2.1");
        // 2026-12-04 is a Friday.
        let allowed = [4, 5, 6, 7]; // Fri, Sat, Sun, Mon
        for d in 4..=10 {
            let noon = at("UTC", 2026, 12, d, 12, 0);
            let expected = if allowed.contains(&d) {
                Ok(())
            } else {
                Err(Refusal::Time)
            };
            assert_eq!(r.check(any, noon), expected, "day {d}");
        }
        assert_eq!(r.check(any, at("UTC", 2026, 12, 7, 23, 59)), Ok(()));
        assert_eq!(
            r.check(any, at("UTC", 2026, 12, 8, 0, 0)),
            Err(Refusal::Time)
        );

        let nights = rules(&[], &["Sun-Sat 22:00-06:00"], "UTC");
        for d in 1..=7 {
            assert_eq!(nights.check(any, at("UTC", 2026, 12, d, 2, 0)), Ok(()));
            assert_eq!(nights.check(any, at("UTC", 2026, 12, d, 23, 0)), Ok(()));
            assert_eq!(
                nights.check(any, at("UTC", 2026, 12, d, 12, 0)),
                Err(Refusal::Time)
            );
        }
    }

    #[test]
    fn lists_and_several_rules_combine() {
        let r = rules(&[], &["Mon,Wed,Fri 07:00-22:00", "Sat 09:00-12:30"], "UTC");
        let any = ip("192.0.2.1");
        // 2026-11-30 Mon .. 2026-12-06 Sun
        let ten = |d: i64| at("UTC", 2026, 11, 30, 10, 0) + (d - 30) * 86_400;
        assert_eq!(r.check(any, ten(30)), Ok(()), "Mon");
        assert_eq!(r.check(any, ten(31)), Err(Refusal::Time), "Tue");
        assert_eq!(r.check(any, ten(32)), Ok(()), "Wed");
        assert_eq!(r.check(any, ten(35)), Ok(()), "Sat 10:00");
        assert_eq!(
            r.check(any, at("UTC", 2026, 12, 5, 12, 30)),
            Err(Refusal::Time),
            "Sat 12:30"
        );
        assert_eq!(r.check(any, ten(36)), Err(Refusal::Time), "Sun");
    }

    #[test]
    fn daylight_saving_is_followed_in_berlin() {
        // EU summer time starts on 2026-03-29 (a Sunday) at 01:00 UTC: 02:00 CET → 03:00 CEST.
        assert_eq!(date(2026, 3, 29).weekday(), Weekday::Sunday);
        let any = ip("192.0.2.1");
        let r = rules(&[], &["Sun 03:00-04:00"], "Europe/Berlin");
        // 01:30 UTC is 03:30 local (CEST); a fixed +01:00 would say 02:30.
        assert_eq!(
            at("Europe/Berlin", 2026, 3, 29, 3, 30),
            at("UTC", 2026, 3, 29, 1, 30)
        );
        assert_eq!(r.check(any, at("UTC", 2026, 3, 29, 1, 30)), Ok(()));
        assert_eq!(
            r.check(any, at("UTC", 2026, 3, 29, 1, 0)),
            Ok(()),
            "03:00 CEST"
        );
        // 00:30 UTC is 01:30 CET.
        assert_eq!(
            r.check(any, at("UTC", 2026, 3, 29, 0, 30)),
            Err(Refusal::Time)
        );
        // 02:00-03:00 does not exist that day, so the window never opens.
        let gap = rules(&[], &["Sun 02:00-03:00"], "Europe/Berlin");
        let just_before = at("UTC", 2026, 3, 29, 1, 0) - 1;
        assert_eq!(
            gap.check(any, just_before),
            Err(Refusal::Time),
            "01:59:59 CET"
        );
        assert_eq!(
            gap.check(any, at("UTC", 2026, 3, 29, 1, 0)),
            Err(Refusal::Time),
            "03:00 CEST"
        );
        // A week earlier (winter time) the same UTC instant is 02:30 local.
        assert_eq!(gap.check(any, at("UTC", 2026, 3, 22, 1, 30)), Ok(()));
    }

    #[test]
    fn parse_errors_name_the_rule_and_the_problem() {
        assert_eq!(
            error(&[], &["Mon-Fry 08:00-19:00"], "UTC"),
            r#"allowed hours: "Mon-Fry 08:00-19:00": "Fry" is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"#
        );
        let bad_time = error(&[], &["Mon 25:00-26:00"], "UTC");
        assert!(
            bad_time.contains(r#""25:00" is not a time of day"#),
            "{bad_time}"
        );
        let missing = error(&[], &["Mon-Fri"], "UTC");
        assert!(missing.contains("time range is missing"), "{missing}");
        let no_days = error(&[], &["08:00-19:00"], "UTC");
        assert!(no_days.contains("days are missing"), "{no_days}");
        let no_end = error(&[], &["Mon 08:00"], "UTC");
        assert!(no_end.contains("not a time range"), "{no_end}");
        let minutes = error(&[], &["Mon 08:60-09:00"], "UTC");
        assert!(minutes.contains(r#""08:60""#), "{minutes}");
        assert!(error(&[], &["Mon 24:00-06:00"], "UTC").contains("cannot start at 24:00"));
        assert!(error(&[], &["Mon 08:00-08:00"], "UTC").contains("same time"));
        assert!(error(&[], &["Mon 08:00-19:00 extra"], "UTC").contains("expected days"));
        assert_eq!(
            error(&[], &[], "Mars/Olympus_Mons"),
            r#""Mars/Olympus_Mons" is not a known time zone (use an IANA name such as Asia/Tokyo, Europe/Berlin or UTC)"#
        );
        let net = error(&["10.0.0.0/33"], &[], "UTC");
        assert!(net.starts_with("allowed networks: "), "{net}");
    }

    #[test]
    fn twenty_four_hundred_ends_the_day() {
        let r = rules(&[], &["Sat 22:00-24:00"], "UTC");
        let any = ip("192.0.2.1");
        assert_eq!(r.check(any, at("UTC", 2026, 12, 5, 23, 59)), Ok(()));
        assert_eq!(
            r.check(any, at("UTC", 2026, 12, 6, 0, 0)),
            Err(Refusal::Time)
        );
    }

    #[test]
    fn refusals_have_messages_in_both_languages() {
        assert_eq!(
            Refusal::Network.message_en(),
            "Sign-in is not allowed from this network."
        );
        assert_eq!(
            Refusal::Network.message_ja(),
            "このネットワークからはサインインできません。"
        );
        assert_eq!(
            Refusal::Time.message_en(),
            "Sign-in is not allowed at this time."
        );
        assert_eq!(
            Refusal::Time.message_ja(),
            "この時間帯はサインインできません。"
        );
    }
}
