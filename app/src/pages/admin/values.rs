//! Values the server sends as codes that the console shows to people — statuses,
//! sources, outcomes, roles, certificate states, audit reasons, policy keys and where
//! a key's value comes from — in both languages. A code missing here is shown as it
//! came (never hidden); the tests below and the Japanese e2e check catch the gaps.

use crate::i18n::Lang;

/// What kind of value a code is (the same code may mean different things).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Status,
    Source,
    Outcome,
    CertState,
    Role,
    TokenKind,
    SyncKind,
    SyncOutcome,
    Origin,
    Boolean,
    JobOutcome,
    /// Who acted, when it was not a person (the command line, a set-up link).
    Actor,
    /// Where an audited request came from, when not from an address.
    AuditSource,
}

/// (kind, code, English, Japanese).
pub const VALUES: &[(Kind, &str, &str, &str)] = &[
    (Kind::Status, "active", "active", "有効"),
    (Kind::Status, "disabled", "disabled", "無効"),
    (Kind::Status, "locked", "locked", "ロック中"),
    (Kind::Source, "local", "added here", "手動登録"),
    (Kind::Source, "csv", "CSV import", "CSV 取り込み"),
    (Kind::Source, "ldap", "LDAP directory", "LDAP ディレクトリ"),
    (Kind::Outcome, "success", "success", "成功"),
    (Kind::Outcome, "failure", "failure", "失敗"),
    (Kind::CertState, "valid", "valid", "有効"),
    (Kind::CertState, "revoked", "revoked", "失効済み"),
    (Kind::CertState, "expired", "expired", "期限切れ"),
    (Kind::Role, "admin", "administrator", "管理者"),
    (
        Kind::Role,
        "user-admin",
        "user administrator",
        "ユーザー管理者",
    ),
    (Kind::Role, "operator", "operator", "オペレーター"),
    (Kind::Role, "auditor", "auditor", "監査者"),
    (
        Kind::TokenKind,
        "software",
        "authenticator app",
        "認証アプリ",
    ),
    (
        Kind::TokenKind,
        "hardware",
        "hardware token",
        "ハードウェアトークン",
    ),
    (
        Kind::SyncKind,
        "ldap",
        "LDAP / Active Directory",
        "LDAP / Active Directory",
    ),
    (Kind::SyncKind, "csv", "CSV folder", "CSV フォルダー"),
    (Kind::SyncOutcome, "applied", "applied", "反映済み"),
    (Kind::SyncOutcome, "unchanged", "no changes", "変更なし"),
    (Kind::SyncOutcome, "dry-run", "dry run", "ドライラン"),
    (
        Kind::SyncOutcome,
        "refused",
        "refused (too many to disable)",
        "中止 (無効化が多すぎる)",
    ),
    (Kind::SyncOutcome, "failed", "failed", "失敗"),
    (
        Kind::Origin,
        "here",
        "set in this policy",
        "このポリシーで設定",
    ),
    (
        Kind::Origin,
        "default",
        "from the default policy",
        "default ポリシーから継承",
    ),
    (
        Kind::Origin,
        "config",
        "from the configuration file",
        "設定ファイルから継承",
    ),
    (Kind::Boolean, "true", "yes", "はい"),
    (Kind::Boolean, "false", "no", "いいえ"),
    (Kind::JobOutcome, "done", "done", "完了"),
    (Kind::JobOutcome, "failed", "failed", "失敗"),
    (Kind::JobOutcome, "skipped", "skipped", "対象外"),
    (Kind::Actor, "cli", "command line", "コマンドライン"),
    (
        Kind::Actor,
        "setup-link",
        "set-up link",
        "セットアップリンク",
    ),
    (Kind::AuditSource, "local", "this machine", "このマシン"),
];

/// The code in the reader's language (the code itself when it is not in the table).
pub fn label(lang: Lang, kind: Kind, code: &str) -> String {
    if kind == Kind::Source {
        // "ldap:corp" or "csv:drop": the source's kind, then its name.
        if let Some((k, name)) = code.split_once(':') {
            let kind_label = lookup(lang, Kind::SyncKind, k).unwrap_or(k);
            return format!("{kind_label} ({name})");
        }
    }
    lookup(lang, kind, code).map_or_else(|| code.to_string(), str::to_string)
}

fn lookup(lang: Lang, kind: Kind, code: &str) -> Option<&'static str> {
    VALUES
        .iter()
        .find(|(k, c, _, _)| *k == kind && *c == code)
        .map(|(_, _, en, ja)| match lang {
            Lang::En => *en,
            Lang::Ja => *ja,
        })
}

/// Every key of a policy with what it does, one line each: (key, English, Japanese).
pub const POLICY_KEYS: &[(&str, &str, &str)] = &[
    (
        "method",
        "How users sign in: grid, totp (a code) or both",
        "ログイン方法: grid (乱数表)、totp (コード)、both (両方)",
    ),
    (
        "pattern_min",
        "Fewest cells a pattern may have",
        "パターンの最少セル数",
    ),
    (
        "pattern_max",
        "Most cells a pattern may have",
        "パターンの最多セル数",
    ),
    (
        "pattern_refuse_straight_line",
        "Refuse patterns that are a straight line",
        "一直線のパターンを拒否する",
    ),
    (
        "pattern_refuse_one_stroke",
        "Refuse patterns that only step to neighbouring cells",
        "隣のセルだけをたどるパターンを拒否する",
    ),
    (
        "pattern_require_every_block",
        "Require a cell in every 4×4 block",
        "すべての 4×4 ブロックにセルを必須にする",
    ),
    (
        "pattern_min_strength_bits",
        "Least strength a pattern needs (bits)",
        "パターンに必要な最低強度 (ビット)",
    ),
    (
        "require_certificate",
        "Only devices with the user's certificate see a grid",
        "利用者の証明書がある端末にだけ乱数表を表示する",
    ),
    (
        "auto_issue_certificate",
        "Issue a certificate at the first sign-in",
        "初回ログイン時に証明書を発行する",
    ),
    (
        "certificate_key",
        "Key type of new certificates",
        "新しい証明書の鍵の種類",
    ),
    (
        "certificate_validity_days",
        "Days a new certificate is valid",
        "新しい証明書の有効日数",
    ),
    (
        "max_certificates_per_user",
        "Valid certificates one user may hold",
        "1 人が持てる有効な証明書の数",
    ),
    (
        "max_downloads_per_certificate",
        "Times a certificate file may be downloaded",
        "証明書ファイルをダウンロードできる回数",
    ),
    (
        "p12_encoding",
        "Certificate file format: modern or legacy",
        "証明書ファイルの形式: modern (新) または legacy (旧)",
    ),
    (
        "lockout_threshold",
        "Failed sign-ins in a row before the ID is locked",
        "ロックまでの連続失敗回数",
    ),
    (
        "lockout_secs",
        "How long a lock lasts (seconds; 0 = until unlocked)",
        "ロックの時間 (秒、0 = 解除されるまで)",
    ),
    (
        "lockout_notify",
        "Mail the user and administrators on a lock",
        "ロック時に本人と管理者へメールする",
    ),
    (
        "allowed_networks",
        "Networks sign-in is allowed from",
        "ログインを許可するネットワーク",
    ),
    (
        "allowed_hours",
        "Days and hours sign-in is allowed",
        "ログインを許可する曜日と時間帯",
    ),
    (
        "time_zone",
        "Time zone of the allowed hours",
        "許可時間帯のタイムゾーン",
    ),
    (
        "login_protect",
        "Sign-in only after the user allows it from a device",
        "利用者が端末で許可した後だけログインできる",
    ),
    (
        "phrase",
        "Additional phrase: off, before or after the digits",
        "追加フレーズ: off (なし)、before (数字の前)、after (数字の後)",
    ),
    (
        "phrase_min_len",
        "Shortest additional phrase",
        "追加フレーズの最短文字数",
    ),
    (
        "phrase_max_len",
        "Longest additional phrase",
        "追加フレーズの最長文字数",
    ),
    (
        "session_idle_secs",
        "Sign-out after this many idle seconds",
        "操作がない場合にログアウトするまでの秒数",
    ),
    (
        "session_absolute_secs",
        "Sign-out after this many seconds in any case",
        "必ずログアウトするまでの秒数",
    ),
    (
        "radius_mode",
        "VPN (RADIUS) sign-in: web-grid (grid on the portal, code by PAP), challenge (grid sent by RADIUS) or off",
        "VPN (RADIUS) ログイン: web-grid (ポータルの乱数表、PAP で送信)、challenge (RADIUS で乱数表を送る)、off (不可)",
    ),
];

/// A policy key's one-line description in the reader's language.
pub fn policy_key(lang: Lang, key: &str) -> Option<&'static str> {
    POLICY_KEYS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, ja)| match lang {
            Lang::En => *en,
            Lang::Ja => *ja,
        })
}

/// Audit reasons the server writes as fixed text: (reason, English, Japanese).
pub const REASONS: &[(&str, &str, &str)] = &[
    (
        "otp rejected",
        "one-time password rejected",
        "ワンタイムパスワードが不一致",
    ),
    ("challenge expired", "the grid expired", "乱数表の期限切れ"),
    (
        "unknown or used challenge",
        "unknown or already used grid",
        "不明または使用済みの乱数表",
    ),
    (
        "initial pattern",
        "signed in with the initial pattern",
        "初期パターンでログイン",
    ),
    (
        "device not registered (no certificate)",
        "device not registered (no certificate)",
        "未登録の端末 (証明書なし)",
    ),
    (
        "locked until unlocked",
        "locked until an operator unlocks",
        "管理者が解除するまでロック",
    ),
    (
        "network not allowed",
        "network not allowed",
        "許可されていないネットワーク",
    ),
    (
        "outside the allowed hours",
        "outside the allowed hours",
        "許可時間帯の外",
    ),
    (
        "login protect: no window open",
        "login protect: sign-in not allowed now",
        "ログインプロテクト: 許可されていない",
    ),
    ("failures cleared", "failures cleared", "失敗回数をリセット"),
    ("was not locked", "was not locked", "ロックされていなかった"),
    ("saved", "saved", "保存"),
    ("confirmed once", "confirmed once", "1 回目の確認済み"),
    ("confirmation failed", "confirmation failed", "確認に失敗"),
    (
        "new initial pattern by mailed link",
        "new initial pattern by mailed link",
        "メールのリンクで新しい初期パターン",
    ),
    (
        "new initial pattern handed out",
        "new initial pattern handed out",
        "新しい初期パターンを発行",
    ),
    ("unknown user", "unknown user", "不明なユーザー"),
    ("user not active", "user not active", "無効なユーザー"),
    ("no mail address", "no mail address", "メールアドレスなし"),
    ("mail not configured", "mail not configured", "メール未設定"),
    ("link mailed", "link mailed", "リンクを送信"),
    (
        "invalid or used set-up token",
        "invalid or used set-up link",
        "無効または使用済みのセットアップリンク",
    ),
    (
        "user exists",
        "the user exists already",
        "ユーザーは既に存在",
    ),
    ("software token", "authenticator app", "認証アプリ"),
    ("wrong code", "wrong code", "コードが不一致"),
    ("dry run", "dry run", "ドライラン"),
    ("initial", "initial pattern", "初期パターン"),
    ("no such user", "no such user", "ユーザーが存在しない"),
    (
        "mail is not configured",
        "mail is not configured",
        "メールが設定されていない",
    ),
    (
        "the certificate could not be made",
        "the certificate could not be made",
        "証明書を作成できなかった",
    ),
    (
        "default (no group policy)",
        "default (no group policy)",
        "default (グループのポリシーなし)",
    ),
];

/// Reasons with a variable tail: (prefix, English prefix, Japanese prefix); the rest
/// (a serial, a time, a group) is kept as it is.
const REASON_PREFIXES: &[(&str, &str, &str)] = &[
    (
        "device not registered (certificate ",
        "device not registered (certificate ",
        "未登録の端末 (証明書 ",
    ),
    ("locked until ", "locked until ", "ロック期限 "),
    (
        "rate limited (retry after ",
        "too many attempts (retry after ",
        "試行が多すぎる (再試行まで ",
    ),
    (
        "open until ",
        "sign-in window open until ",
        "ログイン許可の期限 ",
    ),
    ("serial ", "serial ", "シリアル "),
];

/// An audit reason (or a job's per-user error) in the reader's language.
pub fn reason(lang: Lang, text: &str) -> String {
    let pick = |en: &'static str, ja: &'static str| match lang {
        Lang::En => en,
        Lang::Ja => ja,
    };
    // The effective policy's reason: `from group "sales", priority 10`.
    if let Some((group, priority)) = text
        .strip_prefix("from group ")
        .and_then(|rest| rest.rsplit_once(", priority "))
    {
        let group = group.trim_matches('"');
        return match lang {
            Lang::En => format!("from group \"{group}\", priority {priority}"),
            Lang::Ja => format!("グループ「{group}」から (優先度 {priority})"),
        };
    }
    if let Some((_, en, ja)) = REASONS.iter().find(|(r, _, _)| *r == text) {
        return pick(en, ja).to_string();
    }
    for (prefix, en, ja) in REASON_PREFIXES {
        if let Some(rest) = text.strip_prefix(prefix) {
            return format!("{}{rest}", pick(en, ja));
        }
    }
    text.to_string()
}

/// Whether text holds a Japanese character (kana or kanji).
pub fn has_japanese(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}' | '\u{ff01}'..='\u{ff60}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names that read the same in both languages.
    const SAME_IN_BOTH: &[&str] = &["LDAP / Active Directory"];

    #[test]
    fn every_value_has_both_languages_and_the_japanese_is_japanese() {
        for (kind, code, en, ja) in VALUES {
            assert!(!en.is_empty() && !ja.is_empty(), "{kind:?} {code}");
            if !SAME_IN_BOTH.contains(ja) {
                assert!(has_japanese(ja), "{kind:?} {code}: {ja:?} is not Japanese");
                assert!(!has_japanese(en), "{kind:?} {code}: {en:?} is not English");
            }
            assert_eq!(label(Lang::En, *kind, code), *en);
            assert_eq!(label(Lang::Ja, *kind, code), *ja);
        }
        for (code, en, ja) in REASONS.iter().chain(REASON_PREFIXES) {
            assert!(has_japanese(ja), "{code}: {ja:?}");
            assert!(!has_japanese(en), "{code}: {en:?}");
        }
        for (key, en, ja) in POLICY_KEYS {
            assert!(has_japanese(ja), "{key}: {ja:?}");
            assert!(!en.is_empty() && !has_japanese(en), "{key}: {en:?}");
        }
    }

    #[test]
    fn every_code_the_console_shows_is_in_the_tables() {
        // The codes the server sends for these fields (api/admin, policy, sync).
        let shown: &[(Kind, &[&str])] = &[
            (Kind::Status, &["active", "disabled"]),
            (Kind::Source, &["local", "csv", "ldap"]),
            (Kind::Outcome, &["success", "failure"]),
            (Kind::CertState, &["valid", "revoked", "expired"]),
            (Kind::Role, &["admin", "user-admin", "operator", "auditor"]),
            (Kind::TokenKind, &["software", "hardware"]),
            (Kind::SyncKind, &["ldap", "csv"]),
            (
                Kind::SyncOutcome,
                &["applied", "unchanged", "dry-run", "refused", "failed"],
            ),
            (Kind::Origin, &["here", "default", "config"]),
            (Kind::Boolean, &["true", "false"]),
            (Kind::JobOutcome, &["done", "failed", "skipped"]),
            (Kind::Actor, &["cli", "setup-link"]),
            (Kind::AuditSource, &["local"]),
        ];
        for (kind, codes) in shown {
            for code in *codes {
                assert!(lookup(Lang::Ja, *kind, code).is_some(), "{kind:?} {code}");
            }
        }
    }

    #[test]
    fn variable_reasons_keep_their_tail() {
        assert_eq!(
            reason(Lang::Ja, "device not registered (certificate 0a1b)"),
            "未登録の端末 (証明書 0a1b)"
        );
        assert_eq!(
            reason(Lang::Ja, "otp rejected"),
            "ワンタイムパスワードが不一致"
        );
        assert_eq!(reason(Lang::En, "something new"), "something new");
        assert_eq!(
            reason(Lang::Ja, "from group \"sales\", priority 10"),
            "グループ「sales」から (優先度 10)"
        );
        assert_eq!(
            label(Lang::Ja, Kind::Source, "ldap:corp"),
            "LDAP / Active Directory (corp)"
        );
        assert_eq!(label(Lang::En, Kind::Status, "archived"), "archived");
    }
}
