//! First-login certificate auto-issue (SPEC §5.2): issue → download (password shown
//! once) → install guide for the visitor's system → on to pattern registration.

use leptos::prelude::*;

use crate::components::download_gate::DownloadGate;
use crate::components::otp_form::QueryError;
use crate::context::{csrf_token, from_request, CertificatePickup, ClientOs, Viewer, CSRF_FIELD};
use crate::i18n::{request_lang, texts, Texts};

#[component]
pub fn CertificateIssue() -> impl IntoView {
    let t = texts(request_lang());
    view! {
        <section class="card certificate">
            <h1>{t.cert_issue_title}</h1>
            <QueryError />
            <p>{t.cert_issue_text}</p>
            <form method="post" action="/me/certificate/issue">
                <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                <button type="submit">{t.cert_issue_next}</button>
            </form>
            <h2>{t.cert_csr_title}</h2>
            <p>{t.cert_csr_text}</p>
            <form method="post" action="/me/certificate/csr" enctype="multipart/form-data">
                <input type="hidden" name=CSRF_FIELD value=csrf_token() />
                <label>
                    {t.cert_csr_file}
                    <input type="file" name="csr" accept=".csr,.req,.pem,.der" required />
                </label>
                <button type="submit" class="secondary">{t.cert_csr_button}</button>
            </form>
        </section>
    }
}

#[component]
pub fn CertificateDownload() -> impl IntoView {
    let t = texts(request_lang());
    match from_request::<CertificatePickup>() {
        None => view! {
            <section class="card certificate">
                <h1>{t.cert_download_title}</h1>
                <p class="error" role="alert">{t.cert_download_gone}</p>
                <p>
                    <a href="/me">{t.cert_install_continue}</a>
                </p>
            </section>
        }
        .into_any(),
        Some(pickup) => view! {
            <section class="card certificate">
                <h1>{t.cert_download_title}</h1>
                <p>{t.cert_download_once}</p>
                <p class="cert-password-box">
                    <span id="cert-password-label">{t.cert_password_label}</span>
                    <output class="cert-password" aria-labelledby="cert-password-label" data-serial=pickup.serial>
                        {pickup.password}
                    </output>
                </p>
                <p class="warning" role="status">{t.cert_password_warning}</p>
                <DownloadGate token=pickup.token file_path=pickup.file_path next_path=pickup.next_path />
            </section>
        }
        .into_any(),
    }
}

fn guide(t: &Texts, os: ClientOs) -> &'static str {
    match os {
        ClientOs::Windows => t.cert_guide_windows,
        ClientOs::MacOs => t.cert_guide_macos,
        ClientOs::Ios => t.cert_guide_ios,
        ClientOs::Android => t.cert_guide_android,
        ClientOs::Other => t.cert_guide_other,
    }
}

/// The systems with a guide page of their own: (path segment, name, guide).
fn systems(t: &Texts) -> [(&'static str, &'static str, &'static str); 6] {
    [
        ("windows", "Windows", t.cert_guide_windows),
        ("macos", "macOS", t.cert_guide_macos),
        ("ios", "iPhone / iPad", t.cert_guide_ios),
        ("android", "Android", t.cert_guide_android),
        ("chrome", "Chrome / Edge", t.cert_guide_chrome),
        ("firefox", "Firefox", t.cert_guide_firefox),
    ]
}

fn segment(os: ClientOs) -> &'static str {
    match os {
        ClientOs::Windows => "windows",
        ClientOs::MacOs => "macos",
        ClientOs::Ios => "ios",
        ClientOs::Android => "android",
        ClientOs::Other => "chrome",
    }
}

fn guide_links(t: &Texts, except: &str) -> impl IntoView {
    systems(t)
        .into_iter()
        .filter(|(seg, _, _)| *seg != except)
        .map(|(seg, name, _)| view! { <li><a href=format!("/help/install/{seg}")>{name}</a></li> })
        .collect_view()
}

#[component]
pub fn CertificateInstall() -> impl IntoView {
    let t = texts(request_lang());
    let detected = from_request::<ClientOs>().unwrap_or(ClientOs::Other);
    // Reached from a mailed link nobody needs to be signed in: then on to sign-in.
    let next = if from_request::<Viewer>().is_some() {
        "/me"
    } else {
        "/login"
    };
    view! {
        <section class="card certificate">
            <h1>{t.cert_install_title}</h1>
            <p>{t.cert_install_intro}</p>
            <p class="guide detected">{guide(t, detected)}</p>
            <h2>{t.cert_install_other_systems}</h2>
            <ul class="guides">{guide_links(t, segment(detected))}</ul>
            <p>
                <a class="button" href=next>{t.cert_install_continue}</a>
            </p>
        </section>
    }
}

/// `/help/install/SYSTEM`: one system's guide, linkable from mails, notices and pages.
#[component]
pub fn InstallGuide() -> impl IntoView {
    let t = texts(request_lang());
    let params = leptos_router::hooks::use_params_map();
    let wanted = params.read_untracked().get("system").unwrap_or_default();
    let found = systems(t).into_iter().find(|(seg, _, _)| *seg == wanted);
    match found {
        None => view! { <crate::pages::not_found::NotFound /> }.into_any(),
        Some((seg, name, text)) => view! {
            <section class="card certificate guide-page">
                <h1>{t.guide_title.replace("{system}", name)}</h1>
                <p>{t.cert_install_intro}</p>
                <p class="guide">{text}</p>
                <h2>{t.guide_others}</h2>
                <ul class="guides">{guide_links(t, seg)}</ul>
                <p>
                    <a href="/login">{t.guide_back}</a>
                </p>
            </section>
        }
        .into_any(),
    }
}
