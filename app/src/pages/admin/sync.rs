//! Directory sync sources (SPEC §8.2–8.4): each source with its schedule and last
//! runs, and "Run now" (or a dry run that changes nothing) with the counts it gives.

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Map, Value};

use super::fetch::{self, utc};
use super::texts::admin_texts;
use super::values::{label, reason, Kind};
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn SyncSources(csrf: String) -> impl IntoView {
    let lang = request_lang();
    let t = admin_texts(lang);
    let sources = RwSignal::new(None::<Vec<Value>>);
    let error = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<(String, Value)>);
    let busy = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            match fetch::get("/api/v1/admin/sync".into()).await {
                Ok(v) => sources.set(Some(v["sources"].as_array().cloned().unwrap_or_default())),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| load());
    let csrf_save = csrf.clone();
    // Adds a source (POST) or changes one (PATCH); the form's fields as typed.
    let save = move |method: &'static str, url: String, body: Value| {
        let csrf = csrf_save.clone();
        spawn_local(async move {
            match fetch::send(method, url, csrf, Some(body)).await {
                Ok(v) => {
                    error.set(None);
                    result.set(Some((
                        v["name"].as_str().unwrap_or_default().to_string(),
                        json!({ "saved": true }),
                    )));
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let run = move |name: String, dry_run: bool| {
        let csrf = csrf.clone();
        busy.set(true);
        spawn_local(async move {
            let url = format!(
                "/api/v1/admin/sync/{name}/run{}",
                if dry_run { "?dry_run=true" } else { "" }
            );
            match fetch::send("POST", url, csrf, None).await {
                Ok(v) => {
                    error.set(None);
                    result.set(Some((name, v)));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
            load();
        })
    };
    let save_for_list = save.clone();
    let list = move || {
        let list = sources.get()?;
        if list.is_empty() {
            return Some(view! { <p class="muted">{t.sync_none}</p> }.into_any());
        }
        Some(list.into_iter().map(|s| {
            let name = s["name"].as_str().unwrap_or_default().to_string();
            let (now_name, dry_name) = (name.clone(), name.clone());
            let (run_now, run_dry) = (run.clone(), run.clone());
            let runs = s["runs"].as_array().cloned().unwrap_or_default();
            let is_ldap = s["kind"] == "ldap";
            let edit = save_for_list.clone();
            let edit_name = name.clone();
            let fields = RwSignal::new(Map::<String, Value>::new());
            let field = move |key: &'static str, numeric: bool| {
                move |ev: leptos::ev::Event| {
                    let typed = event_target_value(&ev).trim().to_string();
                    fields.update(|f| {
                        if typed.is_empty() {
                            f.remove(key);
                        } else if numeric {
                            f.insert(key.into(), typed.parse::<i64>().map(Value::from).unwrap_or(Value::String(typed)));
                        } else {
                            f.insert(key.into(), Value::String(typed));
                        }
                    })
                }
            };
            let current_filter = s["settings"]["filter"].as_str().unwrap_or_default().to_string();
            let percent = s["max_disable_percent"].as_i64().unwrap_or(20).to_string();
            let source_attr = name.clone();
            view! {
                <div class="sync-source" data-source=source_attr>
                    <h2>{name} " " <span class="muted">"(" {label(lang, Kind::SyncKind, s["kind"].as_str().unwrap_or_default())} ", " {t.sync_every} " " {s["interval_secs"].as_i64().unwrap_or(0) / 60} " " {t.minutes} ")"</span></h2>
                    <div class="bulk-actions">
                        <button type="button" class="sync-dry-run" disabled=move || busy.get() on:click=move |_| run_dry(dry_name.clone(), true)>{t.import_dry_run}</button>
                        <button type="button" class="sync-run" disabled=move || busy.get() on:click=move |_| run_now(now_name.clone(), false)>{t.sync_run_now}</button>
                    </div>
                    <form class="edit-source" on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        edit("PATCH", format!("/api/v1/admin/sync/{edit_name}"), Value::Object(fields.get_untracked()));
                    }>
                        <label>{t.sync_interval} <input type="text" name="interval" placeholder="15m" on:input=field("interval", false) /></label>
                        <label>{t.sync_max_disable} <input type="number" name="max_disable_percent" placeholder=percent on:input=field("max_disable_percent", true) /></label>
                        {is_ldap.then(|| view! {
                            <label>{t.sync_filter} <input type="text" name="filter" placeholder=current_filter on:input=field("filter", false) /></label>
                        })}
                        <button type="submit" class="save-source">{t.user_save}</button>
                    </form>
                    <div class="table-wrap" tabindex="0">
                        <table class="sync-runs">
                            <thead><tr><th>{t.audit_at}</th><th>{t.audit_outcome}</th><th class="num">{t.import_adds}</th><th class="num">{t.import_changes}</th><th class="num">{t.sync_disabled}</th><th class="wide">{t.audit_reason}</th></tr></thead>
                            <tbody>
                                {runs.into_iter().map(|r| view! {
                                    <tr>
                                        <td>{utc(r["started_at"].as_i64().unwrap_or(0))} {r["dry_run"].as_bool().unwrap_or(false).then(|| format!(" {}", t.dry_run_mark))}</td>
                                        <td class="sync-outcome">{label(lang, Kind::SyncOutcome, r["outcome"].as_str().unwrap_or_default())}</td>
                                        <td class="num">{r["adds"].as_i64().unwrap_or(0)}</td>
                                        <td class="num">{r["changes"].as_i64().unwrap_or(0)}</td>
                                        <td class="num">{r["disables"].as_i64().unwrap_or(0)}</td>
                                        <td class="wide reason">{reason(lang, &r["report"].as_str().unwrap_or_default().chars().take(300).collect::<String>())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                </div>
            }
        }).collect_view().into_any())
    };
    let last = move || {
        result.get().map(|(name, v)| {
            if v["saved"] == true {
                return view! { <p class="notice sync-saved" role="status">{name} ": " {t.user_saved}</p> }.into_any();
            }
            let count = |k: &str| v[k].as_array().map_or(0, Vec::len);
            view! {
                <p class="notice sync-result" role="status">
                    {name} ": " {count("added")} " " {t.import_adds} ", " {count("changed")} " " {t.import_changes} ", "
                    {count("disabled")} " " {t.sync_disabled}
                </p>
            }
            .into_any()
        })
    };
    let kind = RwSignal::new("ldap".to_string());
    let draft = RwSignal::new(Map::<String, Value>::new());
    let typed = move |key: &'static str| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            draft.update(|d| {
                d.insert(key.into(), Value::String(v));
            })
        }
    };
    let add = {
        let save = save.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let mut body = draft.get_untracked();
            body.insert("kind".into(), Value::String(kind.get_untracked()));
            body.retain(|_, v| v.as_str().is_none_or(|s| !s.trim().is_empty()));
            save("POST", "/api/v1/admin/sync".into(), Value::Object(body));
        }
    };
    let add_form = view! {
        <form class="add-source" on:submit=add>
            <h2>{t.sync_add}</h2>
            <label>{t.sync_name} <input type="text" name="name" required on:input=typed("name") /></label>
            <label>{t.sync_kind}
                <select name="kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="ldap">"LDAP / Active Directory"</option>
                    <option value="csv">{t.sync_csv_folder}</option>
                </select>
            </label>
            <label>{t.sync_interval} <input type="text" name="interval" placeholder="15m" on:input=typed("interval") /></label>
            <div hidden=move || kind.get() != "ldap">
                <label>"URL" <input type="text" name="url" placeholder="ldaps://dc.example.com" on:input=typed("url") /></label>
                <label class="check"><input type="checkbox" name="starttls"
                    on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| { d.insert("starttls".into(), Value::Bool(on)); }) } /> " StartTLS"</label>
                <label>{t.sync_ca_pem} <textarea name="ca_pem" rows="3" on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| { d.insert("ca_pem".into(), Value::String(v)); }) }></textarea></label>
                <label>{t.bind_dn} <input type="text" name="bind_dn" on:input=typed("bind_dn") /></label>
                <label>{t.sync_bind_password} <input type="password" name="bind_password" autocomplete="off" on:input=typed("bind_password") /></label>
                <label>{t.sync_base} <input type="text" name="base" placeholder="dc=example,dc=com" on:input=typed("base") /></label>
                <label>{t.sync_filter} <input type="text" name="filter" placeholder="(objectClass=person)" on:input=typed("filter") /></label>
                <label>{t.sync_map} <input type="text" name="map" placeholder="id=uid,name=cn,email=mail" on:input=typed("map") /></label>
                <label>{t.sync_group_attr} <input type="text" name="group_attr" placeholder="memberOf" on:input=typed("group_attr") /></label>
            </div>
            <div hidden=move || kind.get() != "csv">
                <label>{t.sync_folder} <input type="text" name="folder" placeholder="/srv/passgrid/drop" on:input=typed("folder") /></label>
                <label>{t.import_encoding}
                    <select name="encoding" on:change=typed("encoding")>
                        <option value="utf-8">"UTF-8"</option>
                        <option value="shift_jis">"Shift_JIS"</option>
                    </select>
                </label>
            </div>
            <button type="submit" class="add-source-button">{t.sync_add}</button>
        </form>
    }
    .into_any();
    view! {
        <section class="card sync" data-loaded=move || sources.with(Option::is_some).to_string()>
            <h1>{t.nav_sync}</h1>
            <p class="muted">{t.sync_intro}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            {last}
            {list}
            {add_form}
        </section>
    }
}
