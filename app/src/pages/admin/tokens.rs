//! TOTP tokens (SPEC §4, §9.2): the list (never a seed), importing a vendor's seed
//! file (CSV or PSKC, all tokens or none, the bad line named), and giving a hardware
//! token to a user.

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};

use super::fetch::{self, query, utc};
use super::texts::admin_texts;
use super::values::{label, Kind};
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn Tokens(csrf: String, role: String) -> impl IntoView {
    let lang = request_lang();
    let t = admin_texts(lang);
    let writes = matches!(role.as_str(), "admin" | "user-admin");
    let imports = role == "admin";
    let list = RwSignal::new(None::<Vec<Value>>);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let user_filter = RwSignal::new(String::new());
    let serial = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let psk = RwSignal::new(String::new());
    let file_input = NodeRef::<leptos::html::Input>::new();

    let load = move || {
        let url = format!(
            "/api/v1/admin/tokens{}",
            query(&[("user", user_filter.get_untracked().trim().to_string())])
        );
        spawn_local(async move {
            match fetch::get(url).await {
                Ok(v) => {
                    list.set(Some(v["tokens"].as_array().cloned().unwrap_or_default()));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| load());

    let csrf_assign = csrf.clone();
    let assign = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let url = format!(
            "/api/v1/admin/tokens/{}/assign",
            serial.get_untracked().trim()
        );
        let body = json!({ "user": user.get_untracked().trim() });
        let csrf = csrf_assign.clone();
        spawn_local(async move {
            match fetch::send("POST", url, csrf, Some(body)).await {
                Ok(v) => {
                    notice.set(Some(format!(
                        "{} → {}",
                        v["serial"].as_str().unwrap_or_default(),
                        v["user"].as_str().unwrap_or_default()
                    )));
                    serial.set(String::new());
                    user.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let import = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = file_input
                .get_untracked()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                error.set(Some(t.import_no_file.to_string()));
                return;
            };
            let csrf = csrf.clone();
            let key = psk.get_untracked().trim().to_string();
            spawn_local(async move {
                match fetch::post_token_file(csrf, file, key).await {
                    Ok(v) => {
                        let n = v["imported"].as_array().map_or(0, Vec::len);
                        notice.set(Some(format!("{n} {}", t.tokens_imported)));
                        error.set(None);
                        load();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&csrf, file_input, psk);
    };

    let rows = move || {
        list.get().unwrap_or_default().into_iter().map(|tok| {
            let s = |k: &str| tok[k].as_str().unwrap_or_default().to_string();
            view! {
                <tr data-token=s("serial")>
                    <td><code>{s("serial")}</code></td>
                    <td class="token-kind">{label(lang, Kind::TokenKind, &s("kind"))}</td>
                    <td class="token-user">{s("user_id")}</td>
                    <td class="wide">{format!("{} · {} · {} s", s("algorithm"), tok["digits"], tok["period"])}</td>
                    <td class="wide">{tok["assigned_at"].as_i64().map(utc).unwrap_or_default()}</td>
                </tr>
            }
        }).collect_view()
    };

    view! {
        <section class="card tokens" data-loaded=move || list.with(Option::is_some).to_string()>
            <h1>{t.nav_tokens}</h1>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <form class="filters" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); load(); }>
                <label>{t.users_id}
                    <input type="text" name="user" prop:value=move || user_filter.get() on:input=move |ev| user_filter.set(event_target_value(&ev)) />
                </label>
                <button type="submit" class="apply-filter">{t.users_apply}</button>
            </form>
            <div class="table-wrap" tabindex="0">
                <table class="token-list">
                    <thead><tr><th>{t.user_serial}</th><th>{t.tokens_kind}</th><th>{t.users_id}</th><th class="wide">{t.tokens_params}</th><th class="wide">{t.tokens_assigned}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {writes.then(|| view! {
                <form class="assign-token" on:submit=assign>
                    <h2>{t.tokens_assign}</h2>
                    <label>{t.user_serial}
                        <input type="text" name="serial" required prop:value=move || serial.get() on:input=move |ev| serial.set(event_target_value(&ev)) />
                    </label>
                    <label>{t.users_id}
                        <input type="text" name="assign-user" required prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class="assign">{t.tokens_assign}</button>
                </form>
            })}
            {imports.then(|| view! {
                <form class="import-tokens" on:submit=import>
                    <h2>{t.tokens_import}</h2>
                    <label>{t.tokens_file} <input type="file" name="file" accept=".csv,.xml,.pskc" node_ref=file_input /></label>
                    <label>{t.tokens_psk}
                        <input type="password" name="psk" autocomplete="off" prop:value=move || psk.get() on:input=move |ev| psk.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class="import">{t.tokens_import}</button>
                </form>
            })}
        </section>
    }
}
