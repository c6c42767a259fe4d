//! The administrators' console (SPEC §9.2): server-rendered pages around islands that
//! work through the administrators' JSON API (`/api/v1/admin/…`), so whatever the
//! console does, the API does, with the same role checks on the server.

pub mod api_tokens;
pub mod applications;
pub mod audit;
pub mod bulk;
pub mod dashboard;
pub mod fetch;
pub mod groups;
pub mod policies;
pub mod radius;
pub mod sync;
pub mod texts;
pub mod tokens;
pub mod user_detail;
pub mod users;
pub mod values;

use leptos::prelude::*;

use crate::context::{csrf_token, from_request, AdminViewer};
use crate::i18n::request_lang;
use texts::admin_texts;

/// The console's frame: navigation for what the role may see, then the page.
#[component]
fn AdminFrame(current: &'static str, children: Children) -> impl IntoView {
    let t = admin_texts(request_lang());
    let viewer = from_request::<AdminViewer>();
    let Some(viewer) = viewer else {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::FORBIDDEN);
        }
        return view! { <section class="card"><p class="error">{t.not_admin}</p></section> }
            .into_any();
    };
    let link = move |href: &'static str, label: &'static str| {
        let class = if href == current { "current" } else { "" };
        view! { <a href=href class=class aria-current=(href == current).then_some("page")>{label}</a> }
    };
    view! {
        <div class="console">
            <nav class="console-nav" aria-label=t.console>
                {link("/admin", t.nav_dashboard)}
                {link("/admin/users", t.nav_users)}
                {link("/admin/groups", t.nav_groups)}
                {link("/admin/policies", t.nav_policies)}
                {link("/admin/tokens", t.nav_tokens)}
                {(viewer.role == "admin").then(|| link("/admin/sync", t.nav_sync))}
                {(viewer.role == "admin").then(|| link("/admin/api-tokens", t.nav_api_tokens))}
                {(viewer.role == "admin").then(|| link("/admin/applications", if request_lang() == crate::i18n::Lang::Ja { "アプリケーション" } else { "Applications" }))}
                {(viewer.role == "admin").then(|| link("/admin/radius", "RADIUS"))}
                {viewer.reads_audit().then(|| link("/admin/audit", t.nav_audit))}
                <span class="console-who">
                    {viewer.user_id.clone()} " · " {t.role} ": " <span class="role" data-role=viewer.role.clone()>{values::label(request_lang(), values::Kind::Role, &viewer.role)}</span>
                </span>
            </nav>
            {children()}
        </div>
    }
    .into_any()
}

fn me() -> String {
    from_request::<AdminViewer>()
        .map(|v| v.user_id)
        .unwrap_or_default()
}

fn role() -> String {
    from_request::<AdminViewer>()
        .map(|v| v.role)
        .unwrap_or_default()
}

#[component]
pub fn AdminDashboardPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin">
            <dashboard::Dashboard csrf=csrf_token() role=role() />
        </AdminFrame>
    }
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let writes = from_request::<AdminViewer>().is_some_and(|v| v.writes_users());
    view! {
        <AdminFrame current="/admin/users">
            {view! { <users::UserConsole csrf=csrf_token() role=role() me=me() /> }.into_any()}
            {writes.then(|| view! {
                <div class="console-columns">
                    {view! { <users::NewUser csrf=csrf_token() /> }.into_any()}
                    {view! { <users::UserImport csrf=csrf_token() /> }.into_any()}
                </div>
            }.into_any())}
        </AdminFrame>
    }
}

#[component]
pub fn AdminGroupsPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin/groups">
            <groups::Groups csrf=csrf_token() role=role() />
        </AdminFrame>
    }
}

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin/audit">
            <audit::AuditViewer />
        </AdminFrame>
    }
}

#[component]
pub fn AdminPoliciesPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin/policies">
            <policies::Policies csrf=csrf_token() role=role() />
        </AdminFrame>
    }
}

#[component]
pub fn AdminSyncPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin/sync">
            <sync::SyncSources csrf=csrf_token() />
        </AdminFrame>
    }
}

#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    view! {
        <AdminFrame current="/admin/users">
            <user_detail::UserDetail csrf=csrf_token() role=role() user_id=id />
        </AdminFrame>
    }
}

#[component]
pub fn AdminTokensPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin/tokens">
            <tokens::Tokens csrf=csrf_token() role=role() />
        </AdminFrame>
    }
}

#[component]
pub fn AdminApiTokensPage() -> impl IntoView {
    let me = from_request::<AdminViewer>()
        .map(|v| v.user_id)
        .unwrap_or_default();
    view! {
        <AdminFrame current="/admin/api-tokens">
            <api_tokens::ApiTokens csrf=csrf_token() me=me />
        </AdminFrame>
    }
}

#[component]
pub fn AdminApplicationsPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin/applications">
            <applications::Applications csrf=csrf_token() />
        </AdminFrame>
    }
}

#[component]
pub fn AdminRadiusPage() -> impl IntoView {
    view! {
        <AdminFrame current="/admin/radius">
            <radius::RadiusClients csrf=csrf_token() />
        </AdminFrame>
    }
}
