//! Policy keys, validation, priorities and resolution.

use super::*;
use crate::store::policies::{Attachment, Candidate, PolicyLayers};
use resolution::from_layers;

fn changes(pairs: &[&str]) -> Vec<(String, Option<String>)> {
    let args: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
    parse_assignments(&args).expect("assignments")
}

fn set(pairs: &[&str]) -> PolicySettings {
    PolicySettings::default()
        .with_changes(&changes(pairs))
        .expect("valid")
}

fn err_key(pairs: &[&str]) -> String {
    match PolicySettings::default().with_changes(&changes(pairs)) {
        Err(PolicyError::BadValue { key, .. }) => key,
        Err(PolicyError::UnknownKey(key)) => format!("unknown:{key}"),
        other => panic!("{pairs:?}: {other:?}"),
    }
}

#[test]
fn every_key_takes_a_good_value_and_names_itself_on_a_bad_one() {
    let cases: &[(&str, &str, &str)] = &[
        ("method", "totp", "sms"),
        ("pattern_min", "8", "1"),
        ("pattern_max", "20", "65"),
        ("pattern_refuse_straight_line", "false", "maybe"),
        ("pattern_refuse_one_stroke", "on", "2"),
        ("pattern_require_every_block", "yes", ""),
        ("pattern_min_strength_bits", "40", "-1"),
        ("require_certificate", "true", "sure"),
        ("auto_issue_certificate", "true", "1"),
        ("certificate_key", "rsa3072", "rsa1024"),
        ("certificate_validity_days", "90", "0"),
        ("max_certificates_per_user", "2", "1001"),
        ("max_downloads_per_certificate", "3", "x"),
        ("p12_encoding", "legacy", "old"),
        ("lockout_threshold", "2", "abc"),
        ("lockout_secs", "0", "-5"),
        ("lockout_notify", "true", "t"),
        (
            "allowed_networks",
            "10.0.0.0/8, 192.168.1.0/24",
            "10.0.0.0/99",
        ),
        (
            "allowed_hours",
            "Mon-Fri 08:00-19:00;Sat 09:00-12:00",
            "Someday 8-9",
        ),
        ("time_zone", "Asia/Tokyo", "Mars/Olympus"),
        ("login_protect", "true", "no way"),
        ("phrase", "after", "middle"),
        ("phrase_min_len", "6", "0"),
        ("phrase_max_len", "40", "65"),
        ("session_idle_secs", "600", "0"),
        ("session_absolute_secs", "3600", "99999999"),
        ("radius_mode", "challenge", "eap"),
    ];
    assert_eq!(cases.len(), Key::ALL.len(), "every key has a case");
    for (key, good, bad) in cases {
        let s = set(&[&format!("{key}={good}")]);
        assert!(s.get(Key::from_name(key).unwrap()).is_some(), "{key}");
        if bad.is_empty() {
            continue; // empty unsets; covered below
        }
        assert_eq!(err_key(&[&format!("{key}={bad}")]), *key, "{key}={bad}");
    }
    assert_eq!(err_key(&["lockout_treshold=2"]), "unknown:lockout_treshold");
    assert!(matches!(
        parse_assignments(&["require_certificate".into()]),
        Err(PolicyError::NotAnAssignment(_))
    ));
}

#[test]
fn values_are_stored_in_one_form_and_empty_unsets() {
    let s = set(&[
        "require_certificate=on",
        "allowed_networks=10.0.0.0/8 , 10.1.0.0/16",
    ]);
    assert_eq!(s.get(Key::RequireCertificate), Some("true"));
    assert_eq!(s.get(Key::AllowedNetworks), Some("10.0.0.0/8;10.1.0.0/16"));
    let back = PolicySettings::from_json("p", &s.to_json()).expect("round trip");
    assert_eq!(back, s);
    let unset = s
        .with_changes(&changes(&["require_certificate="]))
        .expect("unset");
    assert_eq!(unset.get(Key::RequireCertificate), None);
    assert_eq!(unset.len(), 1);
    // One bad pair leaves the settings as they were (the caller stores nothing).
    assert!(s
        .with_changes(&changes(&["lockout_threshold=3", "lockout_secs=abc"]))
        .is_err());
    assert!(PolicySettings::from_json("p", r#"{"nonsense":"1"}"#).is_err());
}

#[test]
fn overlay_order_is_config_then_default_then_group_policy() {
    let mut base = AuthSettings::default();
    base.lockout.threshold = 7;
    base.session_idle_secs = 100;
    base.certificate_validity_days = 30;
    let default = set(&["lockout_threshold=4", "session_idle_secs=200"]);
    let group = set(&["lockout_threshold=2", "require_certificate=true"]);
    let only_default = resolve(&base, &default, None).expect("resolve");
    assert_eq!(only_default.lockout.threshold, 4);
    assert_eq!(only_default.session_idle_secs, 200);
    assert!(!only_default.require_certificate);
    let both = resolve(&base, &default, Some(&group)).expect("resolve");
    assert_eq!(both.lockout.threshold, 2);
    assert_eq!(both.session_idle_secs, 200);
    assert_eq!(both.certificate_validity_days, 30);
    assert!(both.require_certificate);
    // A minimum above the inherited maximum is refused, naming the key.
    let long = set(&["pattern_min=20"]);
    match resolve(&base, &default, Some(&long)) {
        Err(PolicyError::BadValue { key, .. }) => assert_eq!(key, "pattern_min"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn access_rules_follow_the_policy() {
    let base = AuthSettings::default();
    assert!(base.access.is_open());
    let group = set(&["allowed_networks=10.0.0.0/8"]);
    let s = resolve(&base, &PolicySettings::default(), Some(&group)).expect("resolve");
    assert!(s.access.check("10.1.2.3".parse().unwrap(), 0).is_ok());
    assert!(s.access.check("192.0.2.1".parse().unwrap(), 0).is_err());
    // `any` lifts a restriction the default made.
    let default = set(&["allowed_networks=10.0.0.0/8"]);
    let open = set(&["allowed_networks=any"]);
    let s = resolve(&base, &default, Some(&open)).expect("resolve");
    assert!(s.access.is_open());
}

fn candidate(policy: &str, group: &str, priority: i64) -> Candidate {
    Candidate {
        attachment: Attachment {
            policy: policy.into(),
            group: group.into(),
            priority,
        },
        settings: "{}".into(),
    }
}

#[test]
fn highest_priority_wins_and_ties_go_to_the_lower_name() {
    assert!(choose(&[]).is_none());
    let c = [
        candidate("b", "g1", 10),
        candidate("a", "g2", 20),
        candidate("c", "g3", 5),
    ];
    assert_eq!(choose(&c).unwrap().attachment.policy, "a");
    let tie = [candidate("zeta", "g1", 10), candidate("alpha", "g2", 10)];
    assert_eq!(choose(&tie).unwrap().attachment.policy, "alpha");
    let reversed = [candidate("alpha", "g2", 10), candidate("zeta", "g1", 10)];
    assert_eq!(choose(&reversed).unwrap().attachment.policy, "alpha");
}

#[test]
fn the_reason_names_the_group_and_priority() {
    let layers = PolicyLayers {
        default: None,
        candidates: vec![candidate("sales-policy", "sales", 10)],
    };
    let e = from_layers(&AuthSettings::default(), &layers).expect("effective");
    assert_eq!(e.name, "sales-policy");
    assert_eq!(e.reason(), "from group \"sales\", priority 10");
    let e = from_layers(&AuthSettings::default(), &PolicyLayers::default()).expect("default");
    assert_eq!(
        (e.name.as_str(), e.reason().as_str()),
        ("default", "default (no group policy)")
    );
}

#[test]
fn policy_names_are_plain() {
    assert!(check_name("sales-2026.v1").is_ok());
    for bad in ["", "a b", "x/y", &"n".repeat(65)] {
        assert!(check_name(bad).is_err(), "{bad:?}");
    }
}
