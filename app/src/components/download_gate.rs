//! The download page's way out (SPEC §2.3): once hydrated, "Next" stays disabled until
//! the file was downloaded and the user confirmed they noted the password, and leaving
//! the page before that asks first. Without WASM the required checkbox still holds the
//! form back.

use leptos::prelude::*;

use crate::i18n::{request_lang, texts};

#[island]
pub fn DownloadGate(token: String, file_path: String, next_path: String) -> impl IntoView {
    let t = texts(request_lang());
    let hydrated = RwSignal::new(false);
    let downloaded = RwSignal::new(false);
    let confirmed = RwSignal::new(false);
    let done = move || downloaded.get() && confirmed.get();
    Effect::new(move |_| hydrated.set(true));
    #[cfg(feature = "hydrate")]
    {
        let guard = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if !done() && !leaving_forward() {
                ev.prevent_default();
            }
        });
        on_cleanup(move || guard.remove());
        // The language switch comes back to this page with the same token: no warning.
        let switch = window_event_listener(leptos::ev::click, |ev| {
            use wasm_bindgen::JsCast;
            let on_switch = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a.lang-switch").ok().flatten())
                .is_some();
            if on_switch {
                mark_leaving_forward();
            }
        });
        on_cleanup(move || switch.remove());
    }
    let modern = format!("{file_path}?t={token}");
    let legacy = format!("{modern}&encoding=legacy");
    let ios = format!("{modern}&encoding=mobileconfig");
    view! {
        <div class="download-gate" data-hydrated=move || hydrated.get().to_string()>
            <p>
                <a class="button download" href=modern download="" on:click=move |_| downloaded.set(true)>
                    {t.cert_download_button}
                </a>
            </p>
            <p class="muted">
                <a class="download-legacy" href=legacy download="" on:click=move |_| downloaded.set(true)>
                    {t.cert_download_legacy}
                </a>
            </p>
            <p class="muted">
                <a class="download-ios" href=ios download="" on:click=move |_| downloaded.set(true)>
                    {t.cert_download_ios}
                </a>
            </p>
            <form method="get" action=next_path on:submit=move |_| mark_leaving_forward()>
                <label class="check">
                    <input
                        type="checkbox"
                        name="saved"
                        required
                        on:change=move |ev| confirmed.set(event_target_checked(&ev))
                    />
                    " "
                    {t.cert_saved_check}
                </label>
                <p class="muted" hidden=move || !hydrated.get() || done()>
                    {t.cert_leave_warning}
                </p>
                <button type="submit" disabled=move || hydrated.get() && !done()>
                    {t.cert_download_next}
                </button>
            </form>
        </div>
    }
}

// The submit of the form itself is the way forward, not an escape.
#[cfg(feature = "hydrate")]
thread_local! {
    static LEAVING_FORWARD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn mark_leaving_forward() {
    #[cfg(feature = "hydrate")]
    LEAVING_FORWARD.with(|l| l.set(true));
}

#[cfg(feature = "hydrate")]
fn leaving_forward() -> bool {
    LEAVING_FORWARD.with(|l| l.get())
}
