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
    let others = [
        ClientOs::Windows,
        ClientOs::MacOs,
        ClientOs::Ios,
        ClientOs::Android,
        ClientOs::Other,
    ]
    .into_iter()
    .filter(|os| *os != detected)
    .map(|os| view! { <li>{guide(t, os)}</li> })
    .collect_view();
    view! {
        <section class="card certificate">
            <h1>{t.cert_install_title}</h1>
            <p>{t.cert_install_intro}</p>
            <p class="guide detected">{guide(t, detected)}</p>
            <details>
                <summary>{t.cert_install_other_systems}</summary>
                <ul class="guides">{others}</ul>
            </details>
            <p>
                <a class="button" href=next>{t.cert_install_continue}</a>
            </p>
        </section>
    }
}
