//! The language switch: a plain link, so it works before (and without) hydration.
//! The server's `/lang/{code}` route remembers the choice in a cookie and comes back
//! to the same address, query included: the grid page keeps its challenge (`?c=`),
//! a download page its token (`?t=`), a confirmation its step.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::{request_lang, texts, Lang};

#[component]
pub fn LangSwitch() -> impl IntoView {
    let lang = request_lang();
    let other = match lang {
        Lang::En => Lang::Ja,
        Lang::Ja => Lang::En,
    };
    let location = use_location();
    let href = move || {
        let search = location.search.get();
        let mut here = location.pathname.get();
        if !search.is_empty() {
            here.push('?');
            here.push_str(&search);
        }
        format!("/lang/{}?next={}", other.code(), percent_encode(&here))
    };
    // A page that shows its content once (a reset's or the first administrator's
    // initial pattern) cannot come back: no switch there, rather than a switch that
    // loses what it shows.
    let once = matches!(
        location.pathname.get_untracked().as_str(),
        "/login/reset/done" | "/setup/done"
    );
    (!once).then(|| {
        view! {
            <a class="lang-switch" href=href hreflang=other.code() lang=other.code()>
                {texts(lang).switch_to_other}
            </a>
        }
    })
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_query_breakers() {
        assert_eq!(super::percent_encode("/setup/a b&c"), "/setup/a%20b%26c");
        assert_eq!(super::percent_encode("/"), "/");
        assert_eq!(
            super::percent_encode("/login/grid?c=ab12"),
            "/login/grid%3Fc%3Dab12"
        );
    }
}
