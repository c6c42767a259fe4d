//! Groups (SPEC §7, §9.2): the list with member counts, and adding one.

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};

use super::fetch;
use super::texts::admin_texts;
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn Groups(csrf: String, role: String) -> impl IntoView {
    let t = admin_texts(request_lang());
    let writes = matches!(role.as_str(), "admin" | "user-admin");
    let list = RwSignal::new(None::<Vec<Value>>);
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let load = move || {
        spawn_local(async move {
            match fetch::get("/api/v1/admin/groups".into()).await {
                Ok(v) => list.set(Some(v["groups"].as_array().cloned().unwrap_or_default())),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| load());
    let notice = RwSignal::new(None::<String>);
    let csrf_change = csrf.clone();
    let change = move |method: &'static str, name: String, body: Option<Value>| {
        let csrf = csrf_change.clone();
        spawn_local(async move {
            let url = format!("/api/v1/admin/groups/{name}");
            match fetch::send(method, url, csrf, body).await {
                Ok(_) => {
                    error.set(None);
                    notice.set(Some(format!("{name}: {}", t.user_saved)));
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({ "name": name.get_untracked().trim(), "description": description.get_untracked().trim() });
        let csrf = csrf.clone();
        spawn_local(async move {
            match fetch::send("POST", "/api/v1/admin/groups".into(), csrf, Some(body)).await {
                Ok(_) => {
                    name.set(String::new());
                    description.set(String::new());
                    error.set(None);
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    view! {
        <section class="card groups" data-loaded=move || list.with(Option::is_some).to_string()>
            <h1>{t.nav_groups}</h1>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <table class="group-list">
                <thead><tr><th>{t.groups_name}</th><th>{t.groups_description}</th><th class="num">{t.groups_members}</th><th><span class="visually-hidden">{t.actions}</span></th></tr></thead>
                <tbody>
                    {move || list.get().unwrap_or_default().into_iter().map(|g| {
                        let name = g["name"].as_str().unwrap_or_default().to_string();
                        let description = g["description"].as_str().unwrap_or_default().to_string();
                        let (edit, remove) = (change.clone(), change.clone());
                        let (for_edit, for_remove, label, row) = (name.clone(), name.clone(), name.clone(), name.clone());
                        view! {
                            <tr data-group=row>
                                <td>{name}</td>
                                <td>
                                    {if writes {
                                        view! {
                                            <input type="text" aria-label=format!("{} {label}", t.groups_description) value=description
                                                on:change=move |ev| edit("PATCH", for_edit.clone(), Some(json!({ "description": event_target_value(&ev) }))) />
                                        }.into_any()
                                    } else {
                                        view! { <span>{description}</span> }.into_any()
                                    }}
                                </td>
                                <td class="num">{g["members"].as_i64().unwrap_or(0)}</td>
                                <td>{writes.then(|| view! {
                                    <button type="button" class="delete-group"
                                        on:click=move |_| if super::users::confirmed(t.groups_delete_confirm) { remove("DELETE", for_remove.clone(), None) }>
                                        {t.groups_delete}
                                    </button>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {writes.then(|| view! {
                <form class="new-group" on:submit=create>
                    <label>{t.groups_name}
                        <input type="text" name="name" required maxlength="64" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                    </label>
                    <label>{t.groups_description}
                        <input type="text" name="description" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit">{t.groups_create}</button>
                </form>
            })}
        </section>
    }
}
