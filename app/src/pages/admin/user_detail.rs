//! One user (SPEC §8.1, §9.2): edit name, mail, groups and status; unlock; hand out a
//! new initial pattern; delete; the user's certificates (revoke one); the effective
//! policy and why it applies (SPEC §7).

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};

use super::fetch::{self, utc};
use super::texts::admin_texts;
use super::users::confirmed;
use super::values::{label, reason, Kind};
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn UserDetail(csrf: String, role: String, user_id: String) -> impl IntoView {
    let lang = request_lang();
    let t = admin_texts(lang);
    let writes = matches!(role.as_str(), "admin" | "user-admin");
    let operates = writes || role == "operator";
    let data = RwSignal::new(None::<Value>);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let pattern = RwSignal::new(None::<Value>);
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let groups = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let deleted = RwSignal::new(false);
    let base = format!("/api/v1/admin/users/{user_id}");

    let url = base.clone();
    let load = move || {
        let url = url.clone();
        spawn_local(async move {
            match fetch::get(url).await {
                Ok(v) => {
                    name.set(
                        v["user"]["display_name"]
                            .as_str()
                            .unwrap_or_default()
                            .into(),
                    );
                    email.set(v["user"]["email"].as_str().unwrap_or_default().into());
                    status.set(v["user"]["status"].as_str().unwrap_or_default().into());
                    let g: Vec<&str> = v["groups"]
                        .as_array()
                        .map(|g| g.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    groups.set(g.join(", "));
                    data.set(Some(v));
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let first = load.clone();
    Effect::new(move |_| first());

    // One change request; on success the page reloads the user and says `done`.
    let act = {
        let csrf = csrf.clone();
        let load = load.clone();
        move |method: &'static str, url: String, body: Option<Value>, done: &'static str| {
            let (csrf, load) = (csrf.clone(), load.clone());
            spawn_local(async move {
                match fetch::send(method, url, csrf, body).await {
                    Ok(v) => {
                        error.set(None);
                        notice.set(Some(done.to_string()));
                        if v["initial_pattern"]["cells"].is_array() {
                            pattern.set(Some(v["initial_pattern"].clone()));
                        }
                        if method == "DELETE" && v.is_null() {
                            deleted.set(true);
                        } else {
                            load();
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
            })
        }
    };

    let save = {
        let (act, url) = (act.clone(), base.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let list: Vec<String> = groups
                .get_untracked()
                .split(',')
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .collect();
            let mail = email.get_untracked().trim().to_string();
            let body = json!({
                "name": name.get_untracked().trim(),
                "email": if mail.is_empty() { Value::Null } else { Value::String(mail) },
                "groups": list,
                "status": status.get_untracked(),
            });
            act("PATCH", url.clone(), Some(body), t.user_saved);
        }
    };

    let view_user = move || {
        let v = data.get()?;
        let locked = v["lockout"]["locked"].as_bool().unwrap_or(false);
        let certs = v["certificates"].as_array().cloned().unwrap_or_default();
        let act = act.clone();
        let base = base.clone();
        let (unlock, reset, delete) = (act.clone(), act.clone(), act.clone());
        let token_reset = act.clone();
        let (u_url, r_url, d_url) = (
            format!("{base}/unlock"),
            format!("{base}/initial-pattern"),
            base.clone(),
        );
        let t_url = format!("{base}/token/reset");
        let token = v["token"]["serial"].as_str().map(|s| {
            format!(
                "{s} ({})",
                label(
                    lang,
                    Kind::TokenKind,
                    v["token"]["kind"].as_str().unwrap_or_default()
                )
            )
        });
        Some(view! {
            <div class="user-facts">
                <p class="effective-policy">
                    {t.user_policy} ": " <strong class="policy-name">{v["policy"]["name"].as_str().unwrap_or_default().to_string()}</strong>
                    " — " <span class="policy-reason">{reason(lang, v["policy"]["reason"].as_str().unwrap_or_default())}</span>
                </p>
                <p>
                    {t.users_source} ": " <span class="user-source">{label(lang, Kind::Source, v["user"]["source"].as_str().unwrap_or_default())}</span>
                    {v["user"]["admin_role"].as_str().map(|r| format!(" · {}: {}", t.role, label(lang, Kind::Role, r)))}
                    {v["initial_pattern"].as_bool().unwrap_or(false).then_some(t.user_initial_pattern_pending).map(|s| format!(" · {s}"))}
                </p>
                <p class="lock-state" data-locked=locked.to_string()>
                    {if locked { format!("{} {}", t.dash_locked_until, utc(v["lockout"]["until"].as_i64().unwrap_or(0))) } else { t.user_not_locked.to_string() }}
                    " "
                    {(locked && operates).then(|| view! {
                        <button type="button" class="unlock" on:click=move |_| unlock("POST", u_url.clone(), None, t.user_unlocked)>{t.dash_unlock}</button>
                    })}
                </p>
                <p class="user-token">
                    {t.user_token} ": " {token.clone().unwrap_or_else(|| t.user_no_token.to_string())} " "
                    {(token.is_some() && operates).then(|| view! {
                        <button type="button" class="reset-token"
                            on:click=move |_| if confirmed(t.user_token_reset_confirm) { token_reset("POST", t_url.clone(), None, t.user_token_reset_done) }>
                            {t.user_token_reset}
                        </button>
                    })}
                </p>
                <div class="user-actions">
                    {operates.then(|| view! {
                        <button type="button" class="new-initial-pattern"
                            on:click=move |_| if confirmed(t.user_new_pattern_confirm) { reset("POST", r_url.clone(), None, t.user_new_pattern_done) }>
                            {t.user_new_pattern}
                        </button>
                    })}
                    {writes.then(|| view! {
                        <button type="button" class="delete-user"
                            on:click=move |_| if confirmed(t.user_delete_confirm) { delete("DELETE", d_url.clone(), None, t.user_deleted) }>
                            {t.user_delete}
                        </button>
                    })}
                </div>
                <h2>{t.users_certificates}</h2>
                {if certs.is_empty() {
                    view! { <p class="muted">{t.user_no_certificates}</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap" tabindex="0">
                            <table class="certificates">
                                <thead><tr><th>{t.user_serial}</th><th>{t.users_status}</th><th>{t.user_not_after}</th><th><span class="visually-hidden">{t.actions}</span></th></tr></thead>
                                <tbody>
                                    {certs.into_iter().map(|c| {
                                        let serial = c["serial"].as_str().unwrap_or_default().to_string();
                                        let valid = c["state"] == "valid";
                                        let revoke = act.clone();
                                        let url = format!("/api/v1/admin/certificates/{serial}/revoke");
                                        let serial_attr = serial.clone();
                                        view! {
                                            <tr data-serial=serial_attr>
                                                <td><code>{serial}</code></td>
                                                <td class="cert-state" data-state=c["state"].as_str().unwrap_or_default().to_string()>{label(lang, Kind::CertState, c["state"].as_str().unwrap_or_default())}</td>
                                                <td>{utc(c["not_after"].as_i64().unwrap_or(0))}</td>
                                                <td>{(valid && writes).then(|| view! {
                                                    <button type="button" class="revoke-one"
                                                        on:click=move |_| if confirmed(t.user_revoke_confirm) { revoke("POST", url.clone(), None, t.user_revoked) }>
                                                        {t.bulk_revoke}
                                                    </button>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </div>
        }
        .into_any())
    };

    let form = view! {
        <form class="edit-user" on:submit=save>
            <label>{t.users_name}
                <input type="text" name="name" prop:disabled=!writes prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label>{t.users_email}
                <input type="email" name="email" prop:disabled=!writes prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
            </label>
            <label>{t.new_user_groups}
                <input type="text" name="groups" prop:disabled=!writes prop:value=move || groups.get() on:input=move |ev| groups.set(event_target_value(&ev)) />
            </label>
            <label>{t.users_status}
                <select name="status" prop:disabled=!writes prop:value=move || status.get() on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="active">{t.users_active}</option>
                    <option value="disabled">{t.users_disabled}</option>
                </select>
            </label>
            {writes.then(|| view! { <button type="submit" class="save-user">{t.user_save}</button> })}
        </form>
    }
    .into_any();

    view! {
        <section class="card user-detail" data-loaded=move || data.with(Option::is_some).to_string()>
            <p><a href="/admin/users">{t.user_back}</a></p>
            <h1 class="user-id">{user_id.clone()}</h1>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            {move || pattern.get().map(|p| view! {
                <div class="notice new-pattern">
                    <p>{t.new_user_pattern}</p>
                    {super::users::pattern_rows(t, &p)}
                </div>
            })}
            <div hidden=move || deleted.get()>
                {form}
                {view_user}
            </div>
        </section>
    }
}
