//! The dashboard (SPEC §9.2): sign-ins and failures per hour over the last day, who is
//! locked out (with an unlock button for those who may), certificates expiring soon.

use leptos::{prelude::*, task::spawn_local};
use serde_json::Value;

use super::fetch::{self, utc};
use super::texts::admin_texts;
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn Dashboard(csrf: String, role: String) -> impl IntoView {
    let t = admin_texts(request_lang());
    let data = RwSignal::new(None::<Value>);
    let error = RwSignal::new(None::<String>);
    let may_unlock = matches!(role.as_str(), "admin" | "user-admin" | "operator");
    let load = move || {
        spawn_local(async move {
            match fetch::get("/api/v1/admin/dashboard".into()).await {
                Ok(v) => data.set(Some(v)),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| load());
    let unlock = move |id: String| {
        let csrf = csrf.clone();
        spawn_local(async move {
            let url = format!("/api/v1/admin/users/{id}/unlock");
            match fetch::send("POST", url, csrf, None).await {
                Ok(_) => load(),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let hours = move || {
        let d = data.get()?;
        let rows = d["logins_per_hour"].as_array().cloned().unwrap_or_default();
        let peak = rows
            .iter()
            .map(|h| {
                h["successes"].as_i64().unwrap_or(0)
                    + h["failures"].as_i64().unwrap_or(0)
                    + h["refusals"].as_i64().unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
            .max(1);
        if rows.is_empty() {
            return Some(view! { <p class="muted">{t.dash_no_logins}</p> }.into_any());
        }
        Some(view! {
            <table class="figures">
                <thead><tr><th>{t.dash_hour}</th><th class="num">{t.dash_success}</th><th class="num">{t.dash_failure}</th><th class="num">{t.dash_refused}</th><th><span class="visually-hidden">{t.dash_logins}</span></th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|h| {
                        let s = h["successes"].as_i64().unwrap_or(0);
                        let f = h["failures"].as_i64().unwrap_or(0);
                        let r = h["refusals"].as_i64().unwrap_or(0);
                        let width = |n: i64| format!("width:{}%", n * 100 / peak);
                        view! {
                            <tr>
                                <td>{utc(h["hour"].as_i64().unwrap_or(0))}</td>
                                <td class="num">{s}</td><td class="num">{f}</td><td class="num">{r}</td>
                                <td class="bars">
                                    <span class="bar ok" style=width(s)></span>
                                    <span class="bar bad" style=width(f)></span>
                                    <span class="bar refused" style=width(r)></span>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any())
    };
    let locked = move || {
        let d = data.get()?;
        let rows = d["locked_users"].as_array().cloned().unwrap_or_default();
        if rows.is_empty() {
            return Some(view! { <p class="muted">{t.dash_none_locked}</p> }.into_any());
        }
        Some(view! {
            <ul class="locked-users">
                {rows.into_iter().map(|u| {
                    let id = u["login_id"].as_str().unwrap_or_default().to_string();
                    let until = utc(u["locked_until"].as_i64().unwrap_or(0));
                    let unlock = unlock.clone();
                    let target = id.clone();
                    view! {
                        <li>
                            <strong>{id}</strong> " — " {t.dash_locked_until} " " {until} " "
                            {may_unlock.then(|| view! {
                                <button type="button" class="unlock" on:click=move |_| unlock(target.clone())>{t.dash_unlock}</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any())
    };
    let expiring = move || {
        data.get().map(|d| {
            d["certificates_expiring_in_30_days"]["count"]
                .as_i64()
                .unwrap_or(0)
        })
    };
    view! {
        <section class="card dashboard" data-loaded=move || data.with(Option::is_some).to_string()>
            <h1>{t.nav_dashboard}</h1>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            <p class="muted" hidden=move || data.with(Option::is_some)>{t.loading}</p>
            <h2>{t.dash_logins}</h2>
            {hours}
            <h2>{t.dash_locked}</h2>
            {locked}
            <h2>{t.dash_expiring}</h2>
            <p class="expiring"><strong>{expiring}</strong></p>
        </section>
    }
}
