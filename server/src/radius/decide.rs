//! What each authenticated RADIUS request gets (RFC 2865 §4, RFC 2866 §4). Every
//! sign-in goes through the one login decision (`auth::login`): the same rate
//! limits, lock-out counts, access rules, login protect, decoys and audit as the web.
//!
//! By the user's policy `radius_mode`:
//! - `web-grid` (PassLogic's way): the portal's "VPN sign-in" page showed a grid bound
//!   to the user; the VPN client sends the one-time password by PAP and the pending
//!   challenge is consumed by it. Under `method = totp` the PAP password is the code.
//! - `challenge`: Access-Request with the ID → Access-Challenge with a single-use
//!   State and the grid in Reply-Message → the OTP with that State.
//! - `off`: refused.
//!
//! Under `method = both` the password is the grid's digits (with the phrase, if any),
//! `:` or `,`, then the code — neither character is ever part of a phrase (SPEC §1.3).

use std::{
    net::IpAddr,
    sync::{atomic::AtomicU64, atomic::Ordering::Relaxed, Arc},
};

use passgrid_radius::{Code, EapMschapv2, Handler, Packet, Reply, Request, Transport};

use super::{accept, clients::NasTable, grid_text::grid_message, state};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    auth::{
        login::{finish_login, prepare_verify, start_login, Client, LoginOutcome, Started},
        AuthError, Authenticator,
    },
    policy::{AuthSettings, LoginMethod, RadiusMode},
};

/// Longest user ID taken from a request (real IDs are at most 64 characters).
const MAX_USER_LEN: usize = 256;
/// What a refused sign-in is told: never which factor was wrong (SPEC §5.1).
pub const REJECT_MESSAGE: &str = "Authentication failed";

/// Replies decided, by kind (for `/metrics`).
#[derive(Debug, Default)]
pub struct Events {
    pub accepts: AtomicU64,
    pub rejects: AtomicU64,
    pub challenges: AtomicU64,
    pub accounting: AtomicU64,
}

/// The RADIUS server's decisions.
pub struct Decide {
    pub authn: Authenticator,
    pub nas: NasTable,
    /// EAP-MSCHAPv2 conversations; in this process's memory (see `eap`).
    pub eap: EapMschapv2,
    pub events: Arc<Events>,
}

/// What one request is about, as the login decision needs it.
pub struct Asker {
    /// The user ID from User-Name (or the EAP identity).
    pub user: String,
    /// The NAS's name (its application).
    pub nas: String,
    /// The user's address as the NAS reports it (Calling-Station-Id, when it is an
    /// address), else the NAS's: what network rules and rate limits see.
    pub ip: IpAddr,
    /// For the audit log: the address and the NAS it came through.
    pub source: String,
}

impl Asker {
    /// The transport's facts for a login step bound to `flow_hash`. RADIUS carries no
    /// user certificate: a policy that requires one refuses these sign-ins.
    pub fn client<'a>(&'a self, flow_hash: &'a [u8]) -> Client<'a> {
        Client {
            source: &self.source,
            ip: Some(self.ip),
            flow_hash,
            cert_serial: None,
            cert_fingerprint: None,
        }
    }
}

/// The user's address: Calling-Station-Id when a VPN puts the client's address there
/// (RFC 2865 §5.31 leaves its form to the NAS), else the address the request came from.
fn user_address(packet: &Packet, from: IpAddr) -> IpAddr {
    packet
        .calling_station_id()
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
        .unwrap_or(from)
}

/// A user ID from a request: UTF-8, no control characters, not empty, not too long.
pub fn user_id_of(name: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(name).ok()?.trim();
    (!text.is_empty() && text.len() <= MAX_USER_LEN && !text.chars().any(char::is_control))
        .then(|| text.to_string())
}

/// Splits a typed password into the OTP part and, for `method = both`, the code.
pub fn split_password(password: &str, method: LoginMethod) -> (&str, Option<&str>) {
    if method != LoginMethod::Both {
        return (password, None);
    }
    match password.rfind([':', ',']) {
        Some(at) => (&password[..at], Some(&password[at + 1..])),
        None => (password, None),
    }
}

impl Handler for Decide {
    async fn handle(&self, request: Request) -> Option<Reply> {
        match request.packet.code {
            Code::AccountingRequest => Some(self.accounting(&request).await),
            Code::AccessRequest => {
                let reply = match self.access(&request).await {
                    Ok(reply) => reply,
                    Err(error) => {
                        // No answer: the NAS retries or asks another server, as it
                        // would if this one were down (RFC 2865 §2.4).
                        tracing::warn!(%error, nas = request.client.name, "RADIUS request not decided");
                        return None;
                    }
                };
                let counter = match reply.code {
                    Code::AccessAccept => &self.events.accepts,
                    Code::AccessChallenge => &self.events.challenges,
                    _ => &self.events.rejects,
                };
                counter.fetch_add(1, Relaxed);
                Some(reply)
            }
            _ => None,
        }
    }
}

/// Access-Reject with the one message every refusal gets.
pub fn reject() -> Reply {
    Reply::reject().with_reply_message(REJECT_MESSAGE)
}

impl Decide {
    pub(super) fn asker(&self, request: &Request, user: String) -> Asker {
        let from = request.client.source.ip();
        let ip = user_address(&request.packet, from);
        let via = match request.client.transport {
            Transport::Udp => "radius",
            Transport::RadSec => "radsec",
        };
        Asker {
            source: format!("{ip} ({via} {})", request.client.name),
            nas: request.client.name.clone(),
            ip,
            user,
        }
    }

    async fn access(&self, request: &Request) -> Result<Reply, AuthError> {
        if request.packet.eap_message().is_some() {
            return self.eap_step(request).await;
        }
        let Some(user) = request.packet.user_name().and_then(user_id_of) else {
            return Ok(reject());
        };
        let asker = self.asker(request, user);
        // One query, the same for unknown IDs (the default policy): SPEC §1.9.
        let settings = self.authn.settings_for(&asker.user).await?;
        // CHAP and the like cannot carry a one-time password passgrid can check (it
        // needs the OTP itself, or EAP-MSCHAPv2); the first leg of a challenge needs none.
        let password = match request.user_password() {
            Some(Ok(p)) => Some(zeroize::Zeroizing::new(
                String::from_utf8_lossy(p.expose()).into_owned(),
            )),
            Some(Err(_)) => return Ok(reject()),
            None => None,
        };
        let needs_password =
            !(settings.radius_mode == RadiusMode::Challenge && request.packet.state().is_none());
        if needs_password && password.is_none() {
            return Ok(reject());
        }
        let password = password.unwrap_or_default();
        match settings.radius_mode {
            RadiusMode::Off => {
                self.refuse(&asker, "RADIUS sign-in is off for this user")
                    .await;
                Ok(reject())
            }
            RadiusMode::WebGrid => self.pap(&asker, &settings, &password).await,
            RadiusMode::Challenge => match request.packet.state() {
                None => self.send_challenge(&asker, &settings).await,
                Some(state) => {
                    self.answer_challenge(&asker, &settings, state, &password)
                        .await
                }
            },
        }
    }

    /// PAP with everything in one request: the OTP of the portal's pending grid, or
    /// (under `method = totp`) a code.
    async fn pap(
        &self,
        asker: &Asker,
        settings: &AuthSettings,
        password: &str,
    ) -> Result<Reply, AuthError> {
        let now = self.authn.instance.clock.now();
        let (otp, totp) = split_password(password, settings.method);
        if settings.method != LoginMethod::Totp {
            let web_flow = state::web_grid_flow_hash(&asker.user);
            let pending = self
                .authn
                .instance
                .store
                .radius_web_grid(&asker.user, now)
                .await?;
            if let Some(challenge_id) = pending {
                let outcome = finish_login(
                    &self.authn,
                    &prepare_verify(&self.authn, &challenge_id).await?,
                    &challenge_id,
                    otp,
                    totp,
                    &asker.client(&web_flow),
                )
                .await?;
                return self.conclude(asker, settings, outcome).await;
            }
        }
        // No grid pending (or a code-only policy): a challenge drawn now and answered
        // at once, so the start's checks (rate limits, lock-out, rules, login protect)
        // hold and a wrong answer counts. Without a grid shown to the user the only
        // answer that can pass is a code; with the grid an empty answer (never right)
        // keeps unknown IDs and users without a pending grid alike.
        let flow = state::one_shot_flow_hash()?;
        let client = asker.client(&flow);
        let issued = match start_login(&self.authn, &asker.user, &client).await? {
            Started::Grid(issued) => issued,
            Started::DeviceNotRegistered | Started::Refused(_) => return Ok(reject()),
        };
        let typed = if settings.method == LoginMethod::Totp {
            otp
        } else {
            ""
        };
        let outcome = finish_login(
            &self.authn,
            &prepare_verify(&self.authn, &issued.id).await?,
            &issued.id,
            typed,
            totp,
            &client,
        )
        .await?;
        self.conclude(asker, settings, outcome).await
    }

    /// The first leg of `challenge` mode: a grid, as text, under a fresh State.
    async fn send_challenge(
        &self,
        asker: &Asker,
        settings: &AuthSettings,
    ) -> Result<Reply, AuthError> {
        let issued_state = state::new_state(&asker.nas, &asker.user)?;
        let client = asker.client(&issued_state.flow_hash);
        // Unknown IDs get a decoy grid made the same way (SPEC §1.9); a locked ID is
        // refused here, before any grid (SPEC §6.1).
        let issued = match start_login(&self.authn, &asker.user, &client).await? {
            Started::Grid(issued) => issued,
            Started::DeviceNotRegistered | Started::Refused(_) => return Ok(reject()),
        };
        let Some(state) = state::state_value(&issued.id, &issued_state.nonce) else {
            return Ok(reject());
        };
        let digits = app::grid::digits_from_seed(&issued.seed, issued.shape);
        let prompt = challenge_prompt(settings);
        Ok(Reply::challenge(
            &state,
            &grid_message(&digits, issued.shape, prompt),
        ))
    }

    /// The second leg of `challenge` mode: the OTP with the State of the first.
    async fn answer_challenge(
        &self,
        asker: &Asker,
        settings: &AuthSettings,
        state_value: &[u8],
        password: &str,
    ) -> Result<Reply, AuthError> {
        let Some((challenge_id, nonce)) = state::parse_state(state_value) else {
            return Ok(reject());
        };
        let flow = state::challenge_flow_hash(&asker.nas, &asker.user, &nonce);
        let (otp, totp) = split_password(password, settings.method);
        let outcome = finish_login(
            &self.authn,
            &prepare_verify(&self.authn, &challenge_id).await?,
            &challenge_id,
            otp,
            totp,
            &asker.client(&flow),
        )
        .await?;
        self.conclude(asker, settings, outcome).await
    }

    /// After the login decision: a success still has to pass the first-login steps
    /// and the NAS application's rules; everything else is a plain Access-Reject.
    pub async fn conclude(
        &self,
        asker: &Asker,
        settings: &AuthSettings,
        outcome: LoginOutcome,
    ) -> Result<Reply, AuthError> {
        match accept::admit(self, asker, settings, outcome).await? {
            Some(attributes) => {
                let mut reply = Reply::accept();
                reply.attributes = attributes;
                Ok(reply)
            }
            None => Ok(reject()),
        }
    }

    /// Audits a RADIUS refusal of `asker` (the login decision audits its own).
    pub async fn refuse(&self, asker: &Asker, reason: &str) {
        let now = self.authn.instance.clock.now();
        record(
            &self.authn.instance.store,
            AuditEvent {
                actor: &asker.user,
                source: &asker.source,
                action: Action::RadiusRefused,
                target: &asker.nas,
                outcome: Outcome::Failure,
                reason,
            },
            now,
        )
        .await;
    }

    /// Accounting-Request (RFC 2866): answered, so the NAS stops retrying, and audited
    /// with the session and the Class of its sign-in.
    async fn accounting(&self, request: &Request) -> Reply {
        self.events.accounting.fetch_add(1, Relaxed);
        let packet = &request.packet;
        let status = match packet.acct_status_type() {
            Some(1) => "start".to_string(),
            Some(2) => "stop".to_string(),
            Some(3) => "interim-update".to_string(),
            Some(7) => "accounting-on".to_string(),
            Some(8) => "accounting-off".to_string(),
            Some(n) => format!("status {n}"),
            None => "no status".to_string(),
        };
        let text = |v: Option<&[u8]>| {
            v.map(|b| {
                String::from_utf8_lossy(b)
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(128)
                    .collect::<String>()
            })
            .unwrap_or_default()
        };
        let user = text(packet.user_name());
        let class = packet
            .classes()
            .map(|c| text(Some(c)))
            .collect::<Vec<_>>()
            .join(",");
        let reason = format!(
            "{status} session={} class={class}",
            text(packet.acct_session_id())
        );
        let source = format!(
            "{} (radius {})",
            request.client.source.ip(),
            request.client.name
        );
        let now = self.authn.instance.clock.now();
        record(
            &self.authn.instance.store,
            AuditEvent {
                actor: &user,
                source: &source,
                action: Action::RadiusAccounting,
                target: &request.client.name,
                outcome: Outcome::Success,
                reason: &reason,
            },
            now,
        )
        .await;
        Reply::accounting_response()
    }

    async fn eap_step(&self, request: &Request) -> Result<Reply, AuthError> {
        super::eap::step(self, request).await
    }
}

/// What the user is asked for under the grid in an Access-Challenge.
fn challenge_prompt(settings: &AuthSettings) -> &'static str {
    use crate::otp::phrase::PhraseMode;
    let phrase = settings.phrase.mode != PhraseMode::Off;
    match (settings.method, phrase) {
        (LoginMethod::Grid, false) => "Type the digits at your pattern's cells",
        (LoginMethod::Grid, true) => "Type the digits at your pattern's cells with your phrase",
        (LoginMethod::Totp, _) => {
            "Type the code of your authenticator (no token yet: the grid's digits)"
        }
        (LoginMethod::Both, _) => "Type the grid's digits, a colon, then your authenticator's code",
    }
}
