//! Directory sync sources (SPEC §8.2–8.4): each source with its schedule and last
//! runs, and "Run now" (or a dry run that changes nothing) with the counts it gives.

use leptos::{prelude::*, task::spawn_local};
use serde_json::Value;

use super::fetch::{self, utc};
use super::texts::admin_texts;
use crate::i18n::request_lang;

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn SyncSources(csrf: String) -> impl IntoView {
    let t = admin_texts(request_lang());
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
            let source_attr = name.clone();
            view! {
                <div class="sync-source" data-source=source_attr>
                    <h2>{name} " " <span class="muted">"(" {s["kind"].as_str().unwrap_or_default().to_string()} ", " {t.sync_every} " " {s["interval_secs"].as_i64().unwrap_or(0) / 60} " min)"</span></h2>
                    <div class="bulk-actions">
                        <button type="button" class="sync-dry-run" disabled=move || busy.get() on:click=move |_| run_dry(dry_name.clone(), true)>{t.import_dry_run}</button>
                        <button type="button" class="sync-run" disabled=move || busy.get() on:click=move |_| run_now(now_name.clone(), false)>{t.sync_run_now}</button>
                    </div>
                    <div class="table-wrap">
                        <table class="sync-runs">
                            <thead><tr><th>{t.audit_at}</th><th>{t.audit_outcome}</th><th class="num">{t.import_adds}</th><th class="num">{t.import_changes}</th><th class="num">{t.sync_disabled}</th><th class="wide">{t.audit_reason}</th></tr></thead>
                            <tbody>
                                {runs.into_iter().map(|r| view! {
                                    <tr>
                                        <td>{utc(r["started_at"].as_i64().unwrap_or(0))} {r["dry_run"].as_bool().unwrap_or(false).then_some(" (dry run)")}</td>
                                        <td>{r["outcome"].as_str().unwrap_or_default().to_string()}</td>
                                        <td class="num">{r["adds"].as_i64().unwrap_or(0)}</td>
                                        <td class="num">{r["changes"].as_i64().unwrap_or(0)}</td>
                                        <td class="num">{r["disables"].as_i64().unwrap_or(0)}</td>
                                        <td class="wide reason">{r["report"].as_str().unwrap_or_default().chars().take(300).collect::<String>()}</td>
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
            let count = |k: &str| v[k].as_array().map_or(0, Vec::len);
            view! {
                <p class="notice sync-result" role="status">
                    {name} ": " {count("added")} " " {t.import_adds} ", " {count("changed")} " " {t.import_changes} ", "
                    {count("disabled")} " " {t.sync_disabled}
                </p>
            }
        })
    };
    view! {
        <section class="card sync" data-loaded=move || sources.with(Option::is_some).to_string()>
            <h1>{t.nav_sync}</h1>
            <p class="muted">{t.sync_intro}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            {last}
            {list}
        </section>
    }
}
