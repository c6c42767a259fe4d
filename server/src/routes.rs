//! Every route of the HTTPS listener, assembled from the front ends, with the layers
//! that apply to all of them.

use axum::{
    middleware::from_fn, middleware::from_fn_with_state, routing::get, routing::post, Router,
};
use leptos_axum::LeptosRoutes;
use tower_http::trace::TraceLayer;

use crate::{
    api, forward_auth,
    http::{body_limit, csrf, middleware, proxy, AppState},
    oidc, saml,
    web::{
        assets, certificate, continuation, lang, login, page_context, pattern, reset, setup,
        site_files, token, vpn,
    },
};

/// Every route of the HTTPS listener. `embedded_site`: the WASM, JS, CSS and public
/// files come from the binary (else from the site root on disk).
pub fn router(state: AppState, max_body_bytes: usize, embedded_site: bool) -> Router {
    let options = state.leptos_options.clone();
    let routes = leptos_axum::generate_route_list(app::App);
    let site_root = std::path::Path::new(options.site_root.as_ref());
    let pkg_dir = site_root.join(options.site_pkg_dir.as_ref());
    let site = assets::SiteContext::load(site_root, embedded_site, state.mailer.is_some());
    // Content-hashed names are cached for good, whichever way they are served.
    let files = if embedded_site {
        Router::new()
            .route(
                "/pkg/{*path}",
                get(site_files::pkg).layer(from_fn(assets::pkg_cache_headers)),
            )
            .fallback(site_files::fallback)
    } else {
        Router::new()
            .nest_service(
                "/pkg",
                tower::ServiceBuilder::new()
                    .layer(from_fn(assets::pkg_cache_headers))
                    .service(assets::pkg_service(&pkg_dir)),
            )
            .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
                app::shell,
            ))
    };
    Router::new()
        .merge(api::routes(&state))
        .merge(oidc::routes())
        .merge(saml::routes())
        .route("/auth/forward", get(forward_auth::check))
        .route("/auth/forward/signin", get(forward_auth::signin))
        .route("/login/continue", get(continuation::start))
        .route("/lang/{code}", get(lang::switch_language))
        .route("/setup", post(setup::create_first_admin))
        .route("/login/start", post(login::start))
        .route("/login/verify", post(login::verify))
        .route("/login/forgot", post(reset::forgot))
        .route("/login/reset", post(reset::reset))
        .route("/logout", post(login::logout))
        .route("/me/login-window", post(login::open_login_window))
        .route("/me/token/new", post(token::start))
        .route("/me/phrase", post(login::set_phrase))
        .route("/me/vpn/grid", post(vpn::show_grid))
        .route("/me/token/confirm", post(token::confirm))
        .route("/me/certificate/issue", post(certificate::issue))
        .route("/me/certificate/file", get(certificate::file))
        .route("/me/certificate/csr", post(certificate::csr))
        .route("/certificate/file", get(certificate::link_file))
        .route("/me/pattern", post(pattern::draw))
        .route("/me/pattern/confirm", post(pattern::confirm))
        .leptos_routes(&state, routes, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .merge(files)
        .layer(assets::compression())
        .layer(from_fn_with_state(site, assets::attach_site_context))
        .layer(from_fn_with_state(
            state.clone(),
            page_context::attach_page_context,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            proxy::forwarded_client_cert,
        ))
        .layer(from_fn(csrf::issue_csrf_token))
        .layer(from_fn(middleware::select_language))
        .layer(from_fn(middleware::security_headers))
        .layer(from_fn_with_state(
            body_limit::BodyLimits {
                default: max_body_bytes,
            },
            body_limit::limit_request_body,
        ))
        .layer(from_fn(middleware::reject_malformed_cookies))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::count_responses,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
