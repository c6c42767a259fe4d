//! What a bulk action says before it runs (SPEC §2.9): how many users it hits, in
//! words naming the action, and whether the acting administrator or other
//! administrators are among them. Pure text, so it is tested here.

use super::texts::AdminTexts;
pub use crate::i18n::grouped;

/// Who a bulk action would hit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    pub total: u64,
    /// Administrators among them (the acting one included).
    pub administrators: u64,
    pub includes_self: bool,
}

/// "1 user" / "1,017 users" (Japanese: "1,017 人").
pub fn users_phrase(t: &AdminTexts, n: u64) -> String {
    if n == 1 {
        t.users_one.to_string()
    } else {
        t.users_many.replace("{n}", &grouped(n))
    }
}

/// "1,017 users match" under the filters.
pub fn match_text(t: &AdminTexts, n: u64) -> String {
    if n == 1 {
        t.users_match_one.to_string()
    } else {
        t.users_match_many.replace("{n}", &grouped(n))
    }
}

/// The question asked before `action` runs on `reach`, with the warnings.
pub fn confirm_text(t: &AdminTexts, action: &str, reach: &Reach, me: &str) -> String {
    let template = match action {
        "issue" => t.bulk_confirm_issue,
        "revoke" => t.bulk_confirm_revoke,
        "delete" => t.bulk_confirm_delete,
        "mail" => t.bulk_confirm_mail,
        _ => t.bulk_confirm_print,
    };
    let mut text = template.replace("{users}", &users_phrase(t, reach.total));
    if reach.administrators > 0 {
        text.push_str("\n\n");
        if reach.administrators == 1 {
            text.push_str(t.bulk_warn_admins_one);
        } else {
            text.push_str(
                &t.bulk_warn_admins_many
                    .replace("{n}", &grouped(reach.administrators)),
            );
        }
    }
    if reach.includes_self {
        text.push_str(if reach.administrators > 0 {
            " "
        } else {
            "\n\n"
        });
        text.push_str(&t.bulk_warn_self.replace("{id}", me));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::texts::admin_texts as texts_for;
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1017), "1,017");
        assert_eq!(grouped(100_000), "100,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn the_question_names_the_action_the_number_and_the_administrators() {
        let en = texts_for(Lang::En);
        let reach = Reach {
            total: 1017,
            administrators: 3,
            includes_self: true,
        };
        let q = confirm_text(en, "revoke", &reach, "boss");
        assert!(
            q.starts_with("Revoke every valid certificate of 1,017 users?"),
            "{q}"
        );
        assert!(q.contains("3 of them are administrators."), "{q}");
        assert!(q.contains("This includes you (boss)."), "{q}");
        let one = confirm_text(
            en,
            "delete",
            &Reach {
                total: 1,
                ..Reach::default()
            },
            "boss",
        );
        assert_eq!(
            one,
            "Delete every certificate of 1 user? Valid ones are revoked first."
        );
        let ja = confirm_text(texts_for(Lang::Ja), "revoke", &reach, "boss");
        assert!(
            ja.contains("1,017 人") && ja.contains("3 人は管理者") && ja.contains("boss"),
            "{ja}"
        );
        assert!(!ja.contains("Select all"), "{ja}");
    }
}
