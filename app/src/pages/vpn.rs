//! The portal's "VPN sign-in" pages (SPEC §10.4, PassLogic's way): the signed-in user
//! asks for a grid (`/me/vpn`), reads the digits at their pattern's cells on the grid
//! page (`/me/vpn/grid`, the only one with an island) and types them into the VPN
//! client's password field; the VPN asks passgrid by RADIUS.

use leptos::prelude::*;

use crate::components::grid_view::GridView;
use crate::components::otp_form::QueryError;
use crate::context::{csrf_token, from_request, VpnSignIn, CSRF_FIELD};
use crate::i18n::{error_message, request_lang, texts};

/// Why there is no grid, in the reader's language, if there is none to be had.
fn unavailable(page: Option<&VpnSignIn>) -> Option<impl IntoView> {
    let lang = request_lang();
    let code = page.and_then(|p| p.unavailable.clone())?;
    Some(
        view! { <p class="notice vpn-unavailable" data-code=code.clone()>{error_message(lang, &code)}</p> },
    )
}

#[component]
pub fn VpnSignInPage() -> impl IntoView {
    let t = texts(request_lang());
    let page = from_request::<VpnSignIn>();
    let body = match unavailable(page.as_ref()) {
        Some(notice) => notice.into_any(),
        None => view! {
            <p>{t.vpn_intro}</p>
            <form method="post" action="/me/vpn/grid">
                <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                <button type="submit" class="vpn-show-grid">{t.vpn_show_grid}</button>
            </form>
        }
        .into_any(),
    };
    view! {
        <section class="card vpn">
            <h1>{t.vpn_title}</h1>
            <QueryError />
            {body}
            <p><a href="/me">{t.portal_title}</a></p>
        </section>
    }
}

#[component]
pub fn VpnGridPage() -> impl IntoView {
    let t = texts(request_lang());
    let page = from_request::<VpnSignIn>();
    let grid = page.as_ref().and_then(|p| p.grid.clone());
    let body = match (unavailable(page.as_ref()), grid) {
        (Some(notice), _) => notice.into_any(),
        (None, Some(challenge)) => view! {
            <p>{t.vpn_grid_help}</p>
            {match challenge.phrase.as_str() {
                "before" => Some(view! { <p class="phrase-hint">{t.login_phrase_before}</p> }),
                "after" => Some(view! { <p class="phrase-hint">{t.login_phrase_after}</p> }),
                _ => None,
            }}
            {(challenge.method == "both").then(|| view! { <p class="both-hint">{t.vpn_both_help}</p> })}
            <div class="vpn-grid" data-challenge=challenge.id.clone() data-expires=challenge.expires_at>
                <GridView
                    seed=challenge.seed_hex.clone()
                    blocks_across=challenge.blocks_across
                    blocks_down=challenge.blocks_down
                    canvas_only=challenge.canvas_only
                />
            </div>
        }
        .into_any(),
        // Used, expired, or another user's: ask for a new one.
        (None, None) => view! {
            <p class="notice vpn-grid-gone">{t.vpn_grid_gone}</p>
            <p><a href="/me/vpn">{t.vpn_show_grid}</a></p>
        }
        .into_any(),
    };
    view! {
        <section class="card vpn">
            <h1>{t.vpn_title}</h1>
            {body}
            <p><a href="/me">{t.portal_title}</a></p>
        </section>
    }
}
