//! Applications (SPEC §6.3, §10): OpenID Connect clients, forward-auth sites and SAML
//! service providers with their access rules, each application's recent sign-ins, and
//! a form to add a forward-auth site. Clients are registered with `passgrid oidc
//! client add` or the API (their secret is shown once), SPs with `passgrid saml sp
//! add` or the API. Kept plain on purpose: the console's look is
//! the UI's work.

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};

use super::fetch::{self, utc};
use crate::i18n::{request_lang, Lang};

/// The page's words, English and Japanese.
#[derive(Clone, Copy)]
struct Texts {
    title: &'static str,
    kind: &'static str,
    groups: &'static str,
    networks: &'static str,
    hours: &'static str,
    certificate: &'static str,
    any: &'static str,
    yes: &'static str,
    no: &'static str,
    recent: &'static str,
    add: &'static str,
    name: &'static str,
    domain: &'static str,
    none_yet: &'static str,
}

fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Ja => Texts {
            title: "アプリケーション",
            kind: "種類",
            groups: "許可グループ",
            networks: "許可ネットワーク",
            hours: "許可時間帯",
            certificate: "端末証明書が必要",
            any: "制限なし",
            yes: "はい",
            no: "いいえ",
            recent: "最近のサインイン",
            add: "フォワード認証サイトを追加",
            name: "名前",
            domain: "ホスト名",
            none_yet: "まだありません",
        },
        _ => Texts {
            title: "Applications",
            kind: "Kind",
            groups: "Allowed groups",
            networks: "Allowed networks",
            hours: "Allowed hours",
            certificate: "Device certificate required",
            any: "any",
            yes: "yes",
            no: "no",
            recent: "Recent sign-ins",
            add: "Add a forward-auth site",
            name: "Name",
            domain: "Host name",
            none_yet: "none yet",
        },
    }
}

fn list_or(v: &Value, any: &'static str) -> String {
    let items: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() {
        any.to_string()
    } else {
        items.join(", ")
    }
}

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn Applications(csrf: String) -> impl IntoView {
    let t = texts(request_lang());
    let apps = RwSignal::new(None::<Vec<Value>>);
    let recent = RwSignal::new(None::<(String, Vec<Value>)>);
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let domain = RwSignal::new(String::new());
    let load = move || {
        spawn_local(async move {
            match fetch::get("/api/v1/admin/applications".into()).await {
                Ok(v) => apps.set(Some(
                    v["applications"].as_array().cloned().unwrap_or_default(),
                )),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| load());
    let show = move |app: String| {
        spawn_local(async move {
            match fetch::get(format!("/api/v1/admin/applications/{app}")).await {
                Ok(v) => recent.set(Some((
                    app,
                    v["recent_sign_ins"].as_array().cloned().unwrap_or_default(),
                ))),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body =
            json!({"name": name.get_untracked().trim(), "domain": domain.get_untracked().trim()});
        let csrf = csrf.clone();
        spawn_local(async move {
            match fetch::send(
                "POST",
                "/api/v1/admin/applications".into(),
                csrf,
                Some(body),
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
        apps.get().unwrap_or_default().into_iter().map(|entry| {
            let a = entry["application"].clone();
            let app_name = a["name"].as_str().unwrap_or_default().to_string();
            let (target, row) = (app_name.clone(), app_name.clone());
            let kind = match (a["kind"].as_str(), a["domain"].as_str(), entry["sp"]["entity_id"].as_str()) {
                (Some("forward_auth"), Some(d), _) => format!("forward-auth ({d})"),
                (Some("saml"), _, Some(entity)) => format!("SAML SP ({entity})"),
                (Some(k), _, _) => k.to_string(),
                _ => String::new(),
            };
            view! {
                <tr data-app=row>
                    <td><button type="button" class="link" on:click=move |_| show(target.clone())>{app_name}</button></td>
                    <td>{kind}</td>
                    <td>{list_or(&a["allowed_groups"], t.any)}</td>
                    <td>{list_or(&a["allowed_networks"], t.any)}</td>
                    <td>{list_or(&a["allowed_hours"], t.any)}</td>
                    <td>{if a["require_certificate"].as_bool() == Some(true) { t.yes } else { t.no }}</td>
                </tr>
            }
        }).collect_view()
    };
    let sign_ins = move || {
        recent.get().map(|(app, entries)| {
            let items = entries.into_iter().map(|e| view! {
                <li>{utc(e["at"].as_i64().unwrap_or(0))} " · " {e["actor"].as_str().unwrap_or_default().to_string()}
                    " · " {e["source"].as_str().unwrap_or_default().to_string()}</li>
            }).collect_view();
            view! { <section class="card" id="recent-sign-ins"><h2>{t.recent} " — " {app}</h2><ul>{items}</ul></section> }
        })
    };
    view! {
        <section class="card">
            <h1>{t.title}</h1>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <table class="list" id="applications">
                <thead><tr><th>{t.name}</th><th>{t.kind}</th><th>{t.groups}</th><th>{t.networks}</th><th>{t.hours}</th><th>{t.certificate}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {move || apps.get().is_some_and(|a| a.is_empty()).then(|| view! { <p>{t.none_yet}</p> })}
        </section>
        {sign_ins}
        <section class="card">
            <h2>{t.add}</h2>
            <form on:submit=add>
                <label>{t.name} <input type="text" required bind:value=name /></label>
                <label>{t.domain} <input type="text" required bind:value=domain /></label>
                <button type="submit">{t.add}</button>
            </form>
        </section>
    }
}
