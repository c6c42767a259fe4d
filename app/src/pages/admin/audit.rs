//! The audit log viewer (SPEC §12): filters, newest first, older pages, CSV export of
//! what the filters select.

use leptos::{prelude::*, task::spawn_local};
use serde_json::Value;

use super::fetch::{self, day_start, query, utc};
use super::texts::admin_texts;
use super::values::{self, label, reason, Kind};
use crate::i18n::request_lang;

const PAGE: usize = 100;

#[derive(Clone, Default)]
struct AuditFilter {
    actor: String,
    action: String,
    target: String,
    outcome: String,
    /// Date inputs (`YYYY-MM-DD`, UTC days); `to` includes its whole day.
    from: String,
    to: String,
}

impl AuditFilter {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("actor", self.actor.trim().to_string()),
            ("action", self.action.trim().to_string()),
            ("target", self.target.trim().to_string()),
            ("outcome", self.outcome.clone()),
            (
                "since",
                day_start(&self.from)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            ),
            (
                "until",
                day_start(&self.to)
                    .map(|s| (s + 86_400).to_string())
                    .unwrap_or_default(),
            ),
        ]
    }
}

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn AuditViewer() -> impl IntoView {
    let lang = request_lang();
    let t = admin_texts(lang);
    let draft = RwSignal::new(AuditFilter::default());
    let filter = RwSignal::new(AuditFilter::default());
    let entries = RwSignal::new(Vec::<Value>::new());
    let next = RwSignal::new(None::<i64>);
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // `before`: None for the newest page; older pages are appended.
    let load = move |before: Option<i64>| {
        let mut pairs = filter.get_untracked().pairs();
        pairs.push(("before", before.map(|b| b.to_string()).unwrap_or_default()));
        pairs.push(("limit", PAGE.to_string()));
        let url = format!("/api/v1/admin/audit{}", query(&pairs));
        spawn_local(async move {
            match fetch::get(url).await {
                Ok(v) => {
                    let page = v["entries"].as_array().cloned().unwrap_or_default();
                    if before.is_some() {
                        entries.update(|e| e.extend(page));
                    } else {
                        entries.set(page);
                    }
                    next.set(v["next"].as_i64());
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
            loaded.set(true);
        })
    };
    Effect::new(move |_| load(None));
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        filter.set(draft.get_untracked());
        load(None);
    };
    let export_href = move || {
        let mut pairs = filter.get().pairs();
        pairs.push(("format", "csv".into()));
        format!("/api/v1/admin/audit{}", query(&pairs))
    };
    let input = move |label: &'static str,
                      name: &'static str,
                      set: fn(&mut AuditFilter, String)| {
        view! {
            <label>{label}
                <input type="text" name=name on:input=move |ev| draft.update(|d| set(d, event_target_value(&ev))) />
            </label>
        }
    };
    view! {
        <section class="card audit" data-loaded=move || loaded.get().to_string()>
            <h1>{t.nav_audit}</h1>
            <form class="filters" on:submit=apply>
                {input(t.audit_actor, "actor", |d, v| d.actor = v)}
                {input(t.audit_action, "action", |d, v| d.action = v)}
                {input(t.audit_target, "target", |d, v| d.target = v)}
                <label>{t.audit_outcome}
                    <select name="outcome" on:change=move |ev| draft.update(|d| d.outcome = event_target_value(&ev))>
                        <option value="">{t.users_any}</option>
                        <option value="success">{t.audit_success}</option>
                        <option value="failure">{t.audit_failure}</option>
                    </select>
                </label>
                <label>{t.audit_from}
                    <input type="date" name="from" on:input=move |ev| draft.update(|d| d.from = event_target_value(&ev)) />
                </label>
                <label>{t.audit_to}
                    <input type="date" name="to" on:input=move |ev| draft.update(|d| d.to = event_target_value(&ev)) />
                </label>
                <button type="submit" class="apply-filter">{t.users_apply}</button>
                <a class="export" href=export_href download="passgrid-audit.csv">{t.audit_export}</a>
            </form>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{t.error_prefix} ": " {e}</p> })}
            <div class="table-wrap" tabindex="0">
                <table class="audit-log">
                    <thead>
                        <tr>
                            <th>{t.audit_at}</th><th>{t.audit_actor}</th><th class="wide">{t.audit_source}</th>
                            <th>{t.audit_action}</th><th>{t.audit_target}</th><th>{t.audit_outcome}</th><th>{t.audit_reason}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || entries.get().into_iter().map(|e| {
                            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                            view! {
                                <tr class=format!("outcome-{}", s("outcome"))>
                                    <td>{utc(e["at"].as_i64().unwrap_or(0))}</td>
                                    <td class="actor">{values::label(lang, Kind::Actor, &s("actor"))}</td>
                                    <td class="wide source-address">{values::label(lang, Kind::AuditSource, &s("source"))}</td>
                                    <td class="action">{s("action")}</td>
                                    <td class="target">{s("target")}</td>
                                    <td class="outcome" data-outcome=s("outcome")>{label(lang, Kind::Outcome, &s("outcome"))}</td>
                                    <td class="reason">{reason(lang, &s("reason"))}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <button type="button" class="older" hidden=move || next.get().is_none()
                on:click=move |_| load(next.get_untracked())>{t.audit_older}</button>
        </section>
    }
}
