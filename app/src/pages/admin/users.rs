//! The user list (SPEC §8.1, §9.2): search and filters, keyset pages, selection of
//! users (one by one, a page, or everyone matching the filter) and the bulk
//! certificate actions with a progress bar and a per-user report (SPEC §2.9); adding
//! one user; CSV import with a dry run (SPEC §8.1).

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};

use super::bulk::{confirm_text, match_text, Reach};
use super::fetch::{self, query};
use super::texts::admin_texts;
use super::values::{self, Kind};
use crate::i18n::request_lang;

const PAGE: usize = 50;

/// The filter as the list and the bulk jobs take it.
#[derive(Clone, Default, PartialEq)]
struct Filter {
    q: String,
    group: String,
    status: String,
    source: String,
    cert: String,
}

impl Filter {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("q", self.q.trim().to_string()),
            ("group", self.group.trim().to_string()),
            ("status", self.status.clone()),
            ("source", self.source.trim().to_string()),
            ("cert", self.cert.clone()),
        ]
    }

    fn as_json(&self) -> Value {
        let mut map = serde_json::Map::new();
        for (k, v) in self.pairs() {
            if !v.is_empty() {
                map.insert(k.into(), Value::String(v));
            }
        }
        Value::Object(map)
    }
}

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn UserConsole(csrf: String, role: String, me: String) -> impl IntoView {
    let lang = request_lang();
    let t = admin_texts(lang);
    let writes = matches!(role.as_str(), "admin" | "user-admin");
    let me_id = StoredValue::new(me.clone());
    let hydrated = RwSignal::new(false);
    let filter = RwSignal::new(Filter::default());
    let draft = RwSignal::new(Filter::default());
    let rows = RwSignal::new(Vec::<Value>::new());
    let loaded = RwSignal::new(false);
    let after = RwSignal::new(None::<String>);
    let next = RwSignal::new(None::<String>);
    // Selected user -> whether that user is an administrator (for the warning).
    let selected = RwSignal::new(BTreeMap::<String, bool>::new());
    // What the filter matches, from the server (`user-counts`).
    let counts = RwSignal::new(None::<Reach>);
    let all_matching = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let job = RwSignal::new(None::<Value>);

    let load = move || {
        let mut pairs = filter.get_untracked().pairs();
        pairs.push(("after", after.get_untracked().unwrap_or_default()));
        pairs.push(("limit", PAGE.to_string()));
        let url = format!("/api/v1/admin/users{}", query(&pairs));
        let count_url = format!(
            "/api/v1/admin/user-counts{}",
            query(&filter.get_untracked().pairs())
        );
        spawn_local(async move {
            if let Ok(v) = fetch::get(count_url).await {
                counts.set(Some(Reach {
                    total: v["total"].as_u64().unwrap_or(0),
                    administrators: v["administrators"].as_u64().unwrap_or(0),
                    includes_self: v["includes_self"].as_bool().unwrap_or(false),
                }));
            }
        });
        spawn_local(async move {
            match fetch::get(url).await {
                Ok(v) => {
                    rows.set(v["users"].as_array().cloned().unwrap_or_default());
                    next.set(v["next"].as_str().map(String::from));
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            loaded.set(true);
        })
    };
    Effect::new(move |_| {
        hydrated.set(true);
        load();
    });

    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        filter.set(draft.get_untracked());
        after.set(None);
        selected.set(BTreeMap::new());
        all_matching.set(false);
        counts.set(None);
        load();
    };

    // Who the chosen users are: everyone the filter matches, or the ticked ones.
    let reach = move || -> Option<Reach> {
        if all_matching.get() {
            counts.get()
        } else {
            selected.with(|s| {
                Some(Reach {
                    total: s.len() as u64,
                    administrators: s.values().filter(|&&a| a).count() as u64,
                    includes_self: me_id.with_value(|m| s.contains_key(m)),
                })
            })
        }
    };
    // A finished job changed what the filters match (e.g. "holds none"): list again.
    Effect::new(move |was_running: Option<bool>| {
        let running = job.with(|j| j.as_ref().is_some_and(|j| j["state"] == "running"));
        if was_running == Some(true) && !running {
            load();
        }
        running
    });

    // Polls a job until it has finished.
    fn poll(id: String, job: RwSignal<Option<Value>>, error: RwSignal<Option<String>>) {
        spawn_local(async move {
            match fetch::get(format!("/api/v1/admin/cert-jobs/{id}")).await {
                Ok(v) => {
                    let running = v["state"] == "running";
                    job.set(Some(v));
                    if running {
                        set_timeout(
                            move || poll(id, job, error),
                            std::time::Duration::from_millis(300),
                        );
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        })
    }

    let start_job = move |action: &'static str| {
        let users: Vec<String> = selected.get_untracked().into_keys().collect();
        let body = if all_matching.get_untracked() {
            json!({ "action": action, "filter": filter.get_untracked().as_json() })
        } else {
            json!({ "action": action, "users": users })
        };
        let csrf = csrf.clone();
        job.set(None);
        spawn_local(async move {
            match fetch::send("POST", "/api/v1/admin/cert-jobs".into(), csrf, Some(body)).await {
                Ok(v) => {
                    let id = v["id"].as_str().unwrap_or_default().to_string();
                    job.set(Some(
                        json!({ "id": id, "state": "running", "done": 0, "total": v["total"] }),
                    ));
                    poll(id, job, error);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };

    let table = move || {
        let list = rows.get();
        if list.is_empty() {
            return view! { <p class="muted no-users">{t.users_none}</p> }.into_any();
        }
        view! {
            <table class="users">
                <thead>
                    <tr>
                        <th class="pick"><span class="visually-hidden">{t.users_pick}</span></th>
                        <th>{t.users_id}</th>
                        <th>{t.users_name}</th>
                        <th class="wide">{t.users_email}</th>
                        <th>{t.users_status}</th>
                        <th class="wide">{t.users_source}</th>
                        <th class="num">{t.users_certificates}</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|u| {
                        let id = u["id"].as_str().unwrap_or_default().to_string();
                        let is_admin = u["admin_role"].is_string();
                        let status = u["status"].as_str().unwrap_or_default().to_string();
                        let (for_check, for_change) = (id.clone(), id.clone());
                        let (row_id, label) = (id.clone(), id.clone());
                        view! {
                            <tr data-user=row_id.clone()>
                                <td class="pick">
                                    <input
                                        type="checkbox"
                                        class="select-user"
                                        aria-label=label
                                        prop:checked=move || all_matching.get() || selected.with(|s| s.contains_key(&for_check))
                                        prop:disabled=move || all_matching.get()
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let id = for_change.clone();
                                            selected.update(|s| { if on { s.insert(id, is_admin); } else { s.remove(&id); } });
                                        }
                                    />
                                </td>
                                <td class="user-id"><a href=format!("/admin/users/{row_id}")>{id}</a></td>
                                <td>{u["display_name"].as_str().unwrap_or_default().to_string()}</td>
                                <td class="wide">{u["email"].as_str().unwrap_or_default().to_string()}</td>
                                <td class=format!("status {status}") data-status=status.clone()>{values::label(lang, Kind::Status, &status)}</td>
                                <td class="wide source">{values::label(lang, Kind::Source, u["source"].as_str().unwrap_or_default())}</td>
                                <td class="num certs">{u["valid_certificates"].as_i64().unwrap_or(0)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };

    let select_page = move |_| {
        let ids: Vec<(String, bool)> = rows
            .get_untracked()
            .iter()
            .filter_map(|u| {
                u["id"]
                    .as_str()
                    .map(|id| (id.to_string(), u["admin_role"].is_string()))
            })
            .collect();
        selected.update(|s| s.extend(ids));
    };

    let progress = move || {
        let j = job.get()?;
        let done = j["done"].as_u64().unwrap_or(0);
        let total = j["total"].as_u64().unwrap_or(0).max(1);
        let finished = j["state"] == "finished";
        let id = j["id"].as_str().unwrap_or_default().to_string();
        let failures: Vec<Value> = j["results"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter(|x| x["outcome"] == "failed")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let download = j["download"].as_str().map(str::to_string).map(|name| {
            let file = name.clone();
            view! {
                <a class="button job-download" href=format!("/api/v1/admin/cert-jobs/{id}/download") download=file>
                    {t.bulk_download} " (" {name} ")"
                </a>
            }
        });
        Some(view! {
            <div class="job" data-state=j["state"].as_str().unwrap_or_default().to_string()>
                <progress class="job-progress" max=total value=done></progress>
                <span class="job-count">{done} " / " {total}</span>
                {finished.then(|| view! {
                    <p class="job-summary" role="status">
                        {t.bulk_finished} ": "
                        <span class="job-succeeded">{j["succeeded"].as_u64().unwrap_or(0)}</span> " " {t.bulk_succeeded} ", "
                        <span class="job-failed">{j["failed"].as_u64().unwrap_or(0)}</span> " " {t.bulk_failed}
                    </p>
                })}
                {download}
                {(!failures.is_empty()).then(|| view! {
                    <details class="job-failures" open>
                        <summary>{t.bulk_failures}</summary>
                        <ul>
                            {failures.into_iter().map(|f| view! {
                                <li><strong>{f["user"].as_str().unwrap_or_default().to_string()}</strong> ": " {super::values::reason(lang, f["error"].as_str().unwrap_or_default())}</li>
                            }).collect_view()}
                        </ul>
                    </details>
                })}
            </div>
        })
    };

    let export_href = move || format!("/api/v1/admin/user-exports{}", query(&filter.get().pairs()));

    let filters = view! {
            <form class="filters" on:submit=apply>
                <label>{t.users_search}
                    <input type="search" name="q" maxlength="128"
                        prop:value=move || draft.get().q
                        on:input=move |ev| draft.update(|d| d.q = event_target_value(&ev)) />
                </label>
                <label>{t.users_group}
                    <input type="text" name="group"
                        prop:value=move || draft.get().group
                        on:input=move |ev| draft.update(|d| d.group = event_target_value(&ev)) />
                </label>
                <label>{t.users_status}
                    <select name="status" on:change=move |ev| draft.update(|d| d.status = event_target_value(&ev))>
                        <option value="">{t.users_any}</option>
                        <option value="active">{t.users_active}</option>
                        <option value="disabled">{t.users_disabled}</option>
                    </select>
                </label>
                <label>{t.users_source}
                    <select name="source" on:change=move |ev| draft.update(|d| d.source = event_target_value(&ev))>
                        <option value="">{t.users_any}</option>
                        <option value="local">{t.users_source_local}</option>
                        <option value="csv">{t.users_source_csv}</option>
                        <option value="ldap">{t.users_source_ldap}</option>
                    </select>
                </label>
                <label>{t.users_certificates}
                    <select name="cert" on:change=move |ev| draft.update(|d| d.cert = event_target_value(&ev))>
                        <option value="">{t.users_any}</option>
                        <option value="valid">{t.users_cert_valid}</option>
                        <option value="none">{t.users_cert_none}</option>
                    </select>
                </label>
                <button type="submit" class="apply-filter">{t.users_apply}</button>
                <a class="export" href=export_href>{t.export_csv}</a>
            </form>
    }
    .into_any();
    let me_for_confirm = me.clone();
    let bulk = writes.then(|| {
        let start = start_job.clone();
        let run = move |action: &'static str| {
            let (start, me) = (start.clone(), me_for_confirm.clone());
            move |_| {
                match reach() {
                    Some(r) if r.total > 0 => {
                        if confirmed(&confirm_text(t, action, &r, &me)) {
                            start(action);
                        }
                    }
                    _ => error.set(Some(t.bulk_select_first.to_string())),
                }
            }
        };
        view! {
            <div class="bulk">
                <h2>{t.bulk_title}</h2>
                <div class="bulk-actions">
                    <button type="button" class="bulk-issue" on:click=run("issue")>{t.bulk_issue}</button>
                    <button type="button" class="bulk-revoke" on:click=run("revoke")>{t.bulk_revoke}</button>
                    <button type="button" class="bulk-delete" on:click=run("delete")>{t.bulk_delete}</button>
                    <button type="button" class="bulk-mail" on:click=run("mail")>{t.bulk_mail}</button>
                    <button type="button" class="bulk-print" on:click=run("print")>{t.bulk_print}</button>
                </div>
                {progress}
            </div>
        }
        .into_any()
    });
    let selection = view! {
            <div class="selection-bar">
                <button type="button" class="select-page" on:click=select_page>{t.users_select_page}</button>
                <button type="button" class="select-matching" on:click=move |_| all_matching.set(true)>{t.users_all_matching}</button>
                <button type="button" class="clear-selection" on:click=move |_| { selected.set(BTreeMap::new()); all_matching.set(false); }>{t.users_clear}</button>
                <span class="selected-count" aria-live="polite">
                    {move || match (all_matching.get(), reach()) {
                        (true, Some(r)) => t.users_all_selected.replace("{n}", &super::bulk::grouped(r.total)),
                        (true, None) => t.loading.to_string(),
                        (false, r) => format!("{} {}", r.map_or(0, |r| r.total), t.users_selected),
                    }}
                </span>
            </div>
    }
    .into_any();
    view! {
        <section class="card user-console" data-hydrated=move || hydrated.get().to_string() data-loaded=move || loaded.get().to_string()>
            <h1>{t.nav_users}</h1>
            <p class="wasm-missing muted" hidden=move || hydrated.get()>{t.wasm_missing}</p>
            {filters}
            <p class="match-count" role="status">{move || counts.get().map(|c| match_text(t, c.total))}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            {selection}
            <div class="table-wrap" tabindex="0">{table}</div>
            <div class="pager">
                <button type="button" class="first-page" disabled=move || after.get().is_none()
                    on:click=move |_| { after.set(None); load(); }>{t.users_prev}</button>
                <button type="button" class="next-page" disabled=move || next.get().is_none()
                    on:click=move |_| { after.set(next.get_untracked()); load(); }>{t.users_next}</button>
            </div>
            {bulk}
        </section>
    }
}

/// An initial pattern from an API answer, one line per grid row, with how to read it.
pub(super) fn pattern_rows(t: &'static super::texts::AdminTexts, p: &Value) -> impl IntoView {
    let cells: Vec<u16> = p["cells"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_u64().and_then(|c| u16::try_from(c).ok()))
                .collect()
        })
        .unwrap_or_default();
    let rows = crate::pattern::shape_of(
        p["rows"].as_u64().unwrap_or(0),
        p["cols"].as_u64().unwrap_or(0),
    )
    .map(|shape| crate::pattern::text_rows(&cells, shape).join("\n"))
    .unwrap_or_else(|| p["text"].as_str().unwrap_or_default().to_string());
    view! {
        <pre class="initial-pattern">{rows}</pre>
        <p class="muted pattern-note">{t.pattern_rows_note}</p>
    }
}

/// Asks before work on many users (the browser's own dialog).
pub(super) fn confirmed(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().confirm_with_message(question).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        false
    }
}

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn NewUser(csrf: String) -> impl IntoView {
    let t = admin_texts(request_lang());
    let id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let groups = RwSignal::new(String::new());
    let result = RwSignal::new(None::<Result<Value, String>>);
    // Until the WASM runs, the form cannot send anything, and hydration would clear
    // what was typed: it stays disabled until then.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let group_list: Vec<String> = groups
            .get_untracked()
            .split(',')
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        let mut body = json!({ "id": id.get_untracked().trim(), "groups": group_list });
        if !name.get_untracked().trim().is_empty() {
            body["name"] = json!(name.get_untracked().trim());
        }
        if !email.get_untracked().trim().is_empty() {
            body["email"] = json!(email.get_untracked().trim());
        }
        let csrf = csrf.clone();
        spawn_local(async move {
            let answer = fetch::send("POST", "/api/v1/admin/users".into(), csrf, Some(body)).await;
            if answer.is_ok() {
                id.set(String::new());
                name.set(String::new());
                email.set(String::new());
            }
            result.set(Some(answer));
        })
    };
    view! {
        <section class="card new-user" data-hydrated=move || hydrated.get().to_string()>
            <h2>{t.new_user}</h2>
            <form on:submit=submit>
                <fieldset class="plain" disabled=move || !hydrated.get()>
                <label>{t.users_id}
                    <input type="text" name="id" required maxlength="64" prop:value=move || id.get() on:input=move |ev| id.set(event_target_value(&ev)) />
                </label>
                <label>{t.users_name}
                    <input type="text" name="name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label>{t.users_email}
                    <input type="email" name="email" prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev)) />
                </label>
                <label>{t.new_user_groups}
                    <input type="text" name="groups" prop:value=move || groups.get() on:input=move |ev| groups.set(event_target_value(&ev)) />
                </label>
                <button type="submit" class="create-user">{t.new_user_create}</button>
                </fieldset>
            </form>
            {move || result.get().map(|r| match r {
                Ok(v) => view! {
                    <div class="notice created" role="status">
                        <p>{t.new_user_done} " " <strong>{v["id"].as_str().unwrap_or_default().to_string()}</strong></p>
                        {pattern_rows(t, &v["initial_pattern"])}
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> }.into_any(),
            })}
        </section>
    }
}

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn UserImport(csrf: String) -> impl IntoView {
    let t = admin_texts(request_lang());
    let encoding = RwSignal::new("utf-8".to_string());
    let result = RwSignal::new(None::<Result<Value, String>>);
    let busy = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let file_input = NodeRef::<leptos::html::Input>::new();
    let send = move |dry_run: bool| {
        let csrf = csrf.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let Some(file) = file_input
                    .get_untracked()
                    .and_then(|i| i.files())
                    .and_then(|f| f.get(0))
                else {
                    result.set(Some(Err(t.import_no_file.to_string())));
                    return;
                };
                let url = format!(
                    "/api/v1/admin/user-imports{}",
                    query(&[
                        ("dry_run", dry_run.to_string()),
                        ("encoding", encoding.get_untracked())
                    ])
                );
                let csrf = csrf.clone();
                busy.set(true);
                spawn_local(async move {
                    result.set(Some(fetch::post_file(url, csrf, file).await));
                    busy.set(false);
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (dry_run, &csrf);
        }
    };
    let report = move || {
        result.get().map(|r| match r {
            Ok(v) => {
                let rep = &v["report"];
                let count = |k: &str| rep[k].as_array().map_or(0, Vec::len);
                let dry = rep["dry_run"].as_bool().unwrap_or(false);
                view! {
                    <div class="notice import-report" role="status" data-dry-run=dry.to_string()>
                        <p>{if dry { t.import_dry_note } else { t.import_done }}</p>
                        <p>
                            <span class="adds">{count("adds")}</span> " " {t.import_adds} ", "
                            <span class="changes">{count("changes")}</span> " " {t.import_changes} ", "
                            <span class="unchanged">{rep["unchanged"].as_u64().unwrap_or(0)}</span> " " {t.import_unchanged} ", "
                            <span class="new-groups">{count("new_groups")}</span> " " {t.import_new_groups}
                        </p>
                        {[("adds", t.import_adds), ("changes", t.import_changes)].into_iter().filter(|(k, _)| count(k) > 0).map(|(k, label)| {
                            let ids: Vec<String> = rep[k].as_array().map(|a| a.iter().take(20).map(|p| p["id"].as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default();
                            let more = count(k).saturating_sub(ids.len());
                            view! {
                                <p class=format!("import-ids {k}-ids")>
                                    {label} ": " {ids.join(", ")} {(more > 0).then(|| format!(" … (+{more})"))}
                                </p>
                            }
                        }).collect_view()}
                    </div>
                }
                .into_any()
            }
            Err(e) => view! { <p class="error import-error" role="alert">{t.error_prefix} ": " {e}</p> }.into_any(),
        })
    };
    view! {
        <section class="card user-import" data-hydrated=move || hydrated.get().to_string()>
            <h2>{t.import_title}</h2>
            <label>{t.import_file} <input type="file" name="file" accept=".csv,text/csv" node_ref=file_input /></label>
            <label>{t.import_encoding}
                <select name="encoding" on:change=move |ev| encoding.set(event_target_value(&ev))>
                    <option value="utf-8">"UTF-8"</option>
                    <option value="shift_jis">"Shift_JIS"</option>
                </select>
            </label>
            <div class="import-actions">
                <button type="button" class="import-dry-run" disabled=move || busy.get() || !hydrated.get() on:click=send(true)>{t.import_dry_run}</button>
                <button type="button" class="import-apply" disabled=move || busy.get() || !hydrated.get() on:click=send(false)>{t.import_apply}</button>
            </div>
            {report}
        </section>
    }
}
