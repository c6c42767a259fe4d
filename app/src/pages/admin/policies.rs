//! Policies (SPEC §7): the list with the groups each is attached to, every key of one
//! policy with its value and where the value comes from (set here, the default
//! policy, the configuration), a form to set and unset keys (the server checks every
//! value and names the key it refuses; nothing is stored then), attaching to groups
//! with a priority, and deleting.

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Map, Value};

use super::fetch;
use super::texts::admin_texts;
use super::values::{self, policy_key, Kind};
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn Policies(csrf: String, role: String) -> impl IntoView {
    let lang = request_lang();
    let t = admin_texts(lang);
    let writes = role == "admin";
    let list = RwSignal::new(None::<Vec<Value>>);
    let shown = RwSignal::new(None::<Value>);
    // Key -> what the administrator typed (absent: untouched).
    let edits = RwSignal::new(Map::<String, Value>::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let new_name = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());
    let priority = RwSignal::new("10".to_string());

    let load_list = move || {
        spawn_local(async move {
            match fetch::get("/api/v1/admin/policies".into()).await {
                Ok(v) => list.set(Some(v["policies"].as_array().cloned().unwrap_or_default())),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let open = move |name: String| {
        spawn_local(async move {
            match fetch::get(format!("/api/v1/admin/policies/{name}")).await {
                Ok(v) => {
                    edits.set(Map::new());
                    shown.set(Some(v));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| {
        load_list();
        open("default".into());
    });

    let csrf_save = csrf.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(name) = shown.with_untracked(|s| {
            s.as_ref()
                .and_then(|v| v["name"].as_str().map(String::from))
        }) else {
            return;
        };
        let settings = edits.get_untracked();
        let csrf = csrf_save.clone();
        saved.set(false);
        spawn_local(async move {
            let url = format!("/api/v1/admin/policies/{name}");
            match fetch::send("PUT", url, csrf, Some(json!({ "settings": settings }))).await {
                Ok(_) => {
                    saved.set(true);
                    load_list();
                    open(name);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let csrf_new = csrf.clone();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_name.get_untracked().trim().to_string();
        let csrf = csrf_new.clone();
        spawn_local(async move {
            let url = format!("/api/v1/admin/policies/{name}");
            match fetch::send("PUT", url, csrf, Some(json!({ "settings": {} }))).await {
                Ok(_) => {
                    new_name.set(String::new());
                    load_list();
                    open(name);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let csrf_attach = csrf.clone();
    let attach = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(name) = shown.with_untracked(|s| {
            s.as_ref()
                .and_then(|v| v["name"].as_str().map(String::from))
        }) else {
            return;
        };
        let Ok(priority) = priority.get_untracked().trim().parse::<i64>() else {
            error.set(Some(t.policy_bad_priority.into()));
            return;
        };
        let group_name = group.get_untracked().trim().to_string();
        let csrf = csrf_attach.clone();
        spawn_local(async move {
            let url = format!("/api/v1/admin/policies/{name}/groups/{group_name}");
            match fetch::send("PUT", url, csrf, Some(json!({ "priority": priority }))).await {
                Ok(_) => {
                    group.set(String::new());
                    load_list();
                    open(name);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let csrf_detach = csrf.clone();
    let detach = move |name: String, group_name: String| {
        let csrf = csrf_detach.clone();
        spawn_local(async move {
            let url = format!("/api/v1/admin/policies/{name}/groups/{group_name}");
            match fetch::send("DELETE", url, csrf, None).await {
                Ok(_) => {
                    load_list();
                    open(name);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let csrf_delete = csrf.clone();
    let delete = move |name: String| {
        let csrf = csrf_delete.clone();
        spawn_local(async move {
            match fetch::send(
                "DELETE",
                format!("/api/v1/admin/policies/{name}"),
                csrf,
                None,
            )
            .await
            {
                Ok(_) => {
                    load_list();
                    open("default".into());
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };

    let table = move || {
        list.get().unwrap_or_default().into_iter().map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            let target = name.clone();
            let groups: Vec<String> = p["groups"]
                .as_array()
                .map(|g| g.iter().map(|a| format!("{} ({})", a["group"].as_str().unwrap_or_default(), a["priority"])).collect())
                .unwrap_or_default();
            let policy_attr = name.clone();
            view! {
                <tr data-policy=policy_attr>
                    <td><button type="button" class="link open-policy" on:click=move |_| open(target.clone())>{name}</button></td>
                    <td>{groups.join(", ")}</td>
                    <td class="num">{p["settings"].as_u64().unwrap_or(0)}</td>
                </tr>
            }
        }).collect_view()
    };

    let editor = move || {
        let v = shown.get()?;
        let name = v["name"].as_str().unwrap_or_default().to_string();
        let is_default = name == "default";
        let keys = v["keys"].as_array().cloned().unwrap_or_default();
        let attachments = v["groups"].as_array().cloned().unwrap_or_default();
        let detach = detach.clone();
        let delete = delete.clone();
        let (for_delete, title) = (name.clone(), name.clone());
        Some(view! {
            <div class="policy-editor" data-policy=name.clone()>
                <h2>{t.policy_title} " " <span class="policy-name">{title}</span></h2>
                <ul class="attachments">
                    {attachments.into_iter().map(|a| {
                        let g = a["group"].as_str().unwrap_or_default().to_string();
                        let (policy, group_name) = (name.clone(), g.clone());
                        let detach = detach.clone();
                        view! {
                            <li>
                                {t.policy_attached_to} " " <strong>{g}</strong> ", " {t.policy_priority} " " {a["priority"].as_i64().unwrap_or(0)} " "
                                {writes.then(|| view! {
                                    <button type="button" class="detach" on:click=move |_| detach(policy.clone(), group_name.clone())>{t.policy_detach}</button>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <form class="policy-keys" on:submit=save.clone()>
                    <div class="table-wrap" tabindex="0">
                        <table>
                            <thead><tr><th>{t.policy_key}</th><th>{t.policy_value}</th><th class="wide">{t.policy_origin}</th><th>{t.policy_new_value}</th></tr></thead>
                            <tbody>
                                {keys.into_iter().map(|k| {
                                    let key = k["key"].as_str().unwrap_or_default().to_string();
                                    let here = k["origin"] == "here";
                                    let value = k["value"].as_str().unwrap_or_default().to_string();
                                    let (for_input, for_unset) = (key.clone(), key.clone());
                                    let initial = if here { value.clone() } else { String::new() };
                                    let label = key.clone();
                                    let key_attr = key.clone();
                                    let meaning_id = format!("meaning-{key}");
                                    let meaning = policy_key(lang, &key).unwrap_or_default();
                                    let shown = if matches!(value.as_str(), "true" | "false") { values::label(lang, Kind::Boolean, &value) } else { value.clone() };
                                    let origin = k["origin"].as_str().unwrap_or_default().to_string();
                                    view! {
                                        <tr data-key=key_attr>
                                            <td><code>{key}</code><br /><span class="muted key-meaning" id=meaning_id.clone()>{meaning}</span></td>
                                            <td class="value" data-value=value.clone()>{shown}</td>
                                            <td class="wide origin" data-origin=origin.clone()>{values::label(lang, Kind::Origin, &origin)}</td>
                                            <td>
                                                <input type="text" aria-label=label.clone() aria-describedby=meaning_id prop:disabled=!writes placeholder=value value=initial
                                                    on:input=move |ev| {
                                                        let typed = event_target_value(&ev);
                                                        let key = for_input.clone();
                                                        edits.update(|e| {
                                                            if typed.trim().is_empty() {
                                                                if here { e.insert(key, Value::Null); } else { e.remove(&key); }
                                                            } else {
                                                                e.insert(key, Value::String(typed.trim().to_string()));
                                                            }
                                                        });
                                                    } />
                                                {here.then(|| view! { <span class="muted" data-unset=for_unset>{t.policy_clear_hint}</span> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {writes.then(|| view! { <button type="submit" class="save-policy">{t.policy_save}</button> })}
                    <span class="notice saved" role="status" hidden=move || !saved.get()>{t.policy_saved}</span>
                </form>
                {writes.then(|| view! {
                    <form class="attach" on:submit=attach.clone()>
                        <label>{t.groups_name}
                            <input type="text" name="group" required prop:value=move || group.get() on:input=move |ev| group.set(event_target_value(&ev)) />
                        </label>
                        <label>{t.policy_priority}
                            <input type="number" name="priority" required prop:value=move || priority.get() on:input=move |ev| priority.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit" class="attach-policy">{t.policy_attach}</button>
                    </form>
                })}
                {(writes && !is_default).then(|| view! {
                    <button type="button" class="delete-policy" on:click=move |_| delete(for_delete.clone())>{t.policy_delete}</button>
                })}
            </div>
        }
        .into_any())
    };

    view! {
        <section class="card policies" data-loaded=move || list.with(Option::is_some).to_string()>
            <h1>{t.nav_policies}</h1>
            <p class="muted">{t.policy_intro}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            <table class="policy-list">
                <thead><tr><th>{t.policy_title}</th><th>{t.nav_groups}</th><th class="num">{t.policy_settings}</th></tr></thead>
                <tbody>{table}</tbody>
            </table>
            {writes.then(|| view! {
                <form class="new-policy" on:submit=create>
                    <label>{t.policy_new}
                        <input type="text" name="name" required maxlength="64" prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class="create-policy">{t.policy_create}</button>
                </form>
            })}
            {editor}
        </section>
    }
}
