//! Administrators' API tokens (SPEC §9.4): the list (prefixes, never tokens), making
//! one for oneself (shown once, to copy now; the server refuses one in another
//! administrator's name), revoking.

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};

use super::fetch::{self, utc};
use super::texts::admin_texts;
use super::users::confirmed;
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn ApiTokens(csrf: String, me: String) -> impl IntoView {
    let t = admin_texts(request_lang());
    let list = RwSignal::new(None::<Vec<Value>>);
    let error = RwSignal::new(None::<String>);
    let made = RwSignal::new(None::<Value>);
    let name = RwSignal::new("api".to_string());
    let days = RwSignal::new("90".to_string());
    let load = move || {
        spawn_local(async move {
            match fetch::get("/api/v1/admin/api-tokens".into()).await {
                Ok(v) => list.set(Some(v["tokens"].as_array().cloned().unwrap_or_default())),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| load());
    let csrf_create = csrf.clone();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(days) = days.get_untracked().trim().parse::<i64>() else {
            error.set(Some(t.api_tokens_bad_days.into()));
            return;
        };
        let body = json!({ "name": name.get_untracked().trim(), "days": days });
        let csrf = csrf_create.clone();
        spawn_local(async move {
            match fetch::send("POST", "/api/v1/admin/api-tokens".into(), csrf, Some(body)).await {
                Ok(v) => {
                    error.set(None);
                    made.set(Some(v));
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let revoke = move |prefix: String| {
        let csrf = csrf.clone();
        spawn_local(async move {
            match fetch::send(
                "DELETE",
                format!("/api/v1/admin/api-tokens/{prefix}"),
                csrf,
                None,
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let rows = move || {
        list.get().unwrap_or_default().into_iter().map(|tok| {
            let prefix = tok["prefix"].as_str().unwrap_or_default().to_string();
            let (row, target) = (prefix.clone(), prefix.clone());
            let revoke = revoke.clone();
            view! {
                <tr data-prefix=row>
                    <td><code>{prefix}</code></td>
                    <td>{tok["admin_id"].as_str().unwrap_or_default().to_string()}</td>
                    <td>{tok["name"].as_str().unwrap_or_default().to_string()}</td>
                    <td>{utc(tok["expires_at"].as_i64().unwrap_or(0))}</td>
                    <td class="wide">{tok["last_used_at"].as_i64().map(utc).unwrap_or_default()}</td>
                    <td>
                        <button type="button" class="revoke-api-token"
                            on:click=move |_| if confirmed(t.api_tokens_revoke_confirm) { revoke(target.clone()) }>
                            {t.bulk_revoke}
                        </button>
                    </td>
                </tr>
            }
        }).collect_view()
    };
    view! {
        <section class="card api-tokens" data-loaded=move || list.with(Option::is_some).to_string()>
            <h1>{t.nav_api_tokens}</h1>
            <p class="muted">{t.api_tokens_intro}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            {move || made.get().map(|v| view! {
                <div class="notice new-api-token" role="status">
                    <p>{t.api_tokens_made}</p>
                    <pre class="api-token">{v["token"].as_str().unwrap_or_default().to_string()}</pre>
                </div>
            })}
            <div class="table-wrap" tabindex="0">
                <table class="api-token-list">
                    <thead><tr><th>{t.api_tokens_prefix}</th><th>{t.users_id}</th><th>{t.sync_name}</th><th>{t.api_tokens_expires}</th><th class="wide">{t.api_tokens_last_used}</th><th><span class="visually-hidden">{t.actions}</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <form class="new-api-token-form" on:submit=create>
                <h2>{t.api_tokens_new}</h2>
                <p class="muted">{t.api_tokens_admin} " " <strong class="token-admin">{me}</strong></p>
                <label>{t.sync_name} <input type="text" name="name" required maxlength="64" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <label>{t.api_tokens_days} <input type="number" name="days" min="1" max="3650" required prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev)) /></label>
                <button type="submit" class="create-api-token">{t.api_tokens_new}</button>
            </form>
        </section>
    }
}
