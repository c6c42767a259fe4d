//! RADIUS clients (SPEC §10.4): the NAS devices passgrid answers (address block, a
//! shared secret or RadSec only, Message-Authenticator required or not, RadSec
//! certificates), a form to add one (the secret is sent once and sealed at once; it
//! never comes back), removal, and the reply attributes per group. A NAS's access
//! rules are its application's (the Applications page, `passgrid app set`).

use leptos::{prelude::*, task::spawn_local};
use serde_json::{json, Value};

use super::fetch;
use crate::i18n::{request_lang, Lang};

/// The page's words, English and Japanese.
#[derive(Clone, Copy)]
struct Texts {
    title: &'static str,
    name: &'static str,
    address: &'static str,
    secret: &'static str,
    secret_header: &'static str,
    secret_set: &'static str,
    radsec_only: &'static str,
    message_authenticator: &'static str,
    required: &'static str,
    optional: &'static str,
    groups: &'static str,
    any: &'static str,
    certificates: &'static str,
    add: &'static str,
    remove: &'static str,
    none_yet: &'static str,
    replies: &'static str,
    group: &'static str,
    attributes: &'static str,
    save: &'static str,
}

fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Ja => Texts {
            title: "RADIUS クライアント",
            name: "名前",
            address: "アドレス (IP または CIDR)",
            secret: "共有シークレット (16 文字以上、空欄なら RadSec のみ)",
            secret_header: "シークレット",
            secret_set: "設定済み",
            radsec_only: "RadSec のみ",
            message_authenticator: "Message-Authenticator",
            required: "必須",
            optional: "任意",
            groups: "許可グループ",
            any: "制限なし",
            certificates: "RadSec 証明書",
            add: "RADIUS クライアントを追加",
            remove: "削除",
            none_yet: "まだありません",
            replies: "グループごとの応答属性",
            group: "グループ",
            attributes: "属性 (1 行に 1 つ、例: Filter-Id=staff)",
            save: "保存",
        },
        _ => Texts {
            title: "RADIUS clients",
            name: "Name",
            address: "Address (IP or CIDR)",
            secret: "Shared secret (16 characters or more; empty: RadSec only)",
            secret_header: "Secret",
            secret_set: "set",
            radsec_only: "RadSec only",
            message_authenticator: "Message-Authenticator",
            required: "required",
            optional: "optional",
            groups: "Allowed groups",
            any: "any",
            certificates: "RadSec certificates",
            add: "Add a RADIUS client",
            remove: "Remove",
            none_yet: "none yet",
            replies: "Reply attributes per group",
            group: "Group",
            attributes: "Attributes (one per line, e.g. Filter-Id=staff)",
            save: "Save",
        },
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// Only the console's WASM carries the console's islands (see `console` in Cargo.toml).
#[cfg_attr(any(feature = "ssr", feature = "console"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "console")), component)]
pub fn RadiusClients(csrf: String) -> impl IntoView {
    let t = texts(request_lang());
    let clients = RwSignal::new(None::<Vec<Value>>);
    let replies = RwSignal::new(Vec::<(String, Vec<String>)>::new());
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let require_ma = RwSignal::new(true);
    let reply_group = RwSignal::new(String::new());
    let reply_text = RwSignal::new(String::new());
    let load = move || {
        spawn_local(async move {
            match fetch::get("/api/v1/admin/radius/clients".into()).await {
                Ok(v) => {
                    clients.set(Some(v["clients"].as_array().cloned().unwrap_or_default()));
                    let map = v["group_replies"]
                        .as_object()
                        .map(|m| m.iter().map(|(g, a)| (g.clone(), strings(a))).collect())
                        .unwrap_or_default();
                    replies.set(map);
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    Effect::new(move |_| load());
    let (csrf_add, csrf_remove, csrf_replies) = (csrf.clone(), csrf.clone(), csrf);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = secret.get_untracked();
        let mut body = json!({
            "name": name.get_untracked().trim(),
            "address": address.get_untracked().trim(),
            "require_message_authenticator": require_ma.get_untracked(),
        });
        if !typed.is_empty() {
            body["secret"] = json!(typed);
        }
        // The secret leaves the page with this request and is not kept in it.
        secret.set(String::new());
        let csrf = csrf_add.clone();
        spawn_local(async move {
            match fetch::send(
                "POST",
                "/api/v1/admin/radius/clients".into(),
                csrf,
                Some(body),
            )
            .await
            {
                Ok(_) => {
                    error.set(None);
                    name.set(String::new());
                    address.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let remove = move |nas: String| {
        let csrf = csrf_remove.clone();
        spawn_local(async move {
            match fetch::send(
                "DELETE",
                format!("/api/v1/admin/radius/clients/{nas}"),
                csrf,
                None,
            )
            .await
            {
                Ok(_) => load(),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let save_replies = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let group = reply_group.get_untracked().trim().to_string();
        let attributes: Vec<String> = reply_text
            .get_untracked()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let csrf = csrf_replies.clone();
        spawn_local(async move {
            let url = format!("/api/v1/admin/radius/replies/{group}");
            match fetch::send("PUT", url, csrf, Some(json!({ "attributes": attributes }))).await {
                Ok(_) => {
                    error.set(None);
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let rows = move || {
        let remove = remove.clone();
        clients.get().unwrap_or_default().into_iter().map(move |c| {
            let nas = c["name"].as_str().unwrap_or_default().to_string();
            let (target, row) = (nas.clone(), nas.clone());
            let groups = strings(&c["application"]["allowed_groups"]);
            let certs = c["certificates"]
                .as_array()
                .map(|a| a.iter().filter(|x| x["revoked"].as_bool() != Some(true)).count())
                .unwrap_or(0);
            let remove = remove.clone();
            view! {
                <tr data-nas=row>
                    <td>{nas}</td>
                    <td>{c["address"].as_str().unwrap_or_default().to_string()}</td>
                    <td>{if c["has_secret"].as_bool() == Some(true) { t.secret_set } else { t.radsec_only }}</td>
                    <td>{if c["require_message_authenticator"].as_bool() == Some(true) { t.required } else { t.optional }}</td>
                    <td>{if groups.is_empty() { t.any.to_string() } else { groups.join(", ") }}</td>
                    <td class="number">{certs}</td>
                    <td><button type="button" class="remove-nas" on:click=move |_| remove(target.clone())>{t.remove}</button></td>
                </tr>
            }
        }).collect_view()
    };
    let reply_rows = move || {
        replies
            .get()
            .into_iter()
            .map(|(group, attrs)| {
                let row = group.clone();
                view! { <tr data-group=row><td>{group}</td><td>{attrs.join("; ")}</td></tr> }
            })
            .collect_view()
    };
    view! {
        <section class="card">
            <h1>{t.title}</h1>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <table class="list" id="radius-clients">
                <thead><tr>
                    <th>{t.name}</th><th>{t.address}</th><th>{t.secret_header}</th><th>{t.message_authenticator}</th>
                    <th>{t.groups}</th><th class="number">{t.certificates}</th><th></th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {move || clients.get().is_some_and(|c| c.is_empty()).then(|| view! { <p>{t.none_yet}</p> })}
        </section>
        <section class="card">
            <h2>{t.add}</h2>
            <form on:submit=add id="add-radius-client">
                <label>{t.name} <input type="text" name="name" required bind:value=name /></label>
                <label>{t.address} <input type="text" name="address" required bind:value=address /></label>
                <label>{t.secret} <input type="password" name="secret" autocomplete="off" bind:value=secret /></label>
                <label><input type="checkbox" name="require_message_authenticator" bind:checked=require_ma /> {t.message_authenticator} " " {t.required}</label>
                <button type="submit">{t.add}</button>
            </form>
        </section>
        <section class="card">
            <h2>{t.replies}</h2>
            <table class="list" id="radius-replies">
                <thead><tr><th>{t.group}</th><th>{t.attributes}</th></tr></thead>
                <tbody>{reply_rows}</tbody>
            </table>
            <form on:submit=save_replies id="radius-replies-form">
                <label>{t.group} <input type="text" name="group" required bind:value=reply_group /></label>
                <label>{t.attributes} <textarea name="attributes" rows="4" bind:value=reply_text></textarea></label>
                <button type="submit">{t.save}</button>
            </form>
        </section>
    }
}
