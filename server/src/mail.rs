//! Mail to users through an SMTP relay (SPEC §2.8): the one-time certificate link.

use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use zeroize::Zeroizing;

use serde::Deserialize;
use std::path::PathBuf;

/// `[mail]`: the SMTP relay passgrid sends through (none: mail is off).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailFile {
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (loopback relays).
    pub security: Option<MailSecurity>,
    pub from: Option<String>,
    pub username: Option<String>,
    /// A file holding the SMTP password (never the password itself in the config).
    pub password_file: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail is not set up: give [mail] smtp_host and from in the configuration")]
    NotConfigured,
    #[error("[mail] {0}")]
    Config(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the SMTP relay refused or could not be reached: {0}")]
    Send(String),
}

/// A usable relay.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The relay of `[mail]`, checked (addresses parse, the password file reads).
    pub fn from_config(file: &MailFile) -> Result<Mailer, MailError> {
        let host = file.smtp_host.as_deref().ok_or(MailError::NotConfigured)?;
        let from: Mailbox = file
            .from
            .as_deref()
            .ok_or(MailError::NotConfigured)?
            .parse()
            .map_err(|e| MailError::Config(format!("from: {e}")))?;
        let security = file.security.unwrap_or_default();
        let mut builder = match security {
            MailSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            MailSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| MailError::Config(format!("smtp_host: {e}")))?,
            MailSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| MailError::Config(format!("smtp_host: {e}")))?,
        };
        if let Some(port) = file.smtp_port {
            builder = builder.port(port);
        }
        if let Some(user) = &file.username {
            let path = file
                .password_file
                .as_ref()
                .ok_or_else(|| MailError::Config("username needs password_file".into()))?;
            let password = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                MailError::Config(format!("password_file {}: {e}", path.display()))
            })?);
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.trim_end().to_string(),
            ));
        }
        Ok(Mailer {
            transport: builder
                .timeout(Some(std::time::Duration::from_secs(20)))
                .build(),
            from,
        })
    }

    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| MailError::Build(format!("recipient {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Send(e.to_string()))
    }
}

/// The certificate mail, English then Japanese (the user's language is not known).
pub fn certificate_link_body(
    user_id: &str,
    login_url: &str,
    link: &str,
    valid_until: &str,
) -> String {
    format!(
        "A client certificate was issued for your passgrid account {user_id}.\n\n\
         Open this link on the device you will sign in from, note the certificate\n\
         password it shows, and download the certificate (the link works once, until\n\
         {valid_until}):\n\n  {link}\n\nThen install it and sign in at {login_url}\n\n\
         If you did not expect this mail, tell your administrator.\n\n---\n\n\
         passgrid アカウント {user_id} のクライアント証明書を発行しました。\n\n\
         ログインに使う端末でこのリンクを開き、表示される証明書パスワードを控えてから\n\
         証明書をダウンロードしてください（リンクは {valid_until} まで、一度だけ有効です）:\n\n  {link}\n\n\
         インストール後、{login_url} からログインしてください。\n\n\
         心当たりがない場合は管理者に連絡してください。\n"
    )
}

/// The lock-out notice (SPEC §6.1), to the user or to an administrator.
pub fn lockout_body(user_id: &str, reason: &str, to_user: bool, login_url: &str) -> String {
    if to_user {
        format!(
            "Sign-in to your passgrid account {user_id} was locked after repeated failed\n\
             attempts ({reason}). If this was not you, tell your administrator.\n\
             Sign-in page: {login_url}\n\n---\n\n\
             passgrid アカウント {user_id} へのサインインは、失敗が続いたためロックされました\n\
             （{reason}）。心当たりがない場合は管理者に連絡してください。\n\
             サインインページ: {login_url}\n"
        )
    } else {
        format!(
            "passgrid locked the user {user_id}: {reason}.\n\
             Unlock: passgrid user unlock {user_id}\n\n---\n\n\
             passgrid はユーザー {user_id} をロックしました: {reason}\n\
             ロック解除: passgrid user unlock {user_id}\n"
        )
    }
}

/// The self-service reset mail (SPEC §9.3).
pub fn reset_body(user_id: &str, link: &str, valid_minutes: i64) -> String {
    format!(
        "Someone (hopefully you) asked to reset the sign-in pattern of the passgrid\n\
         account {user_id}. Open this link and press the button to get a new initial\n\
         pattern (the link works once, for {valid_minutes} minutes):\n\n  {link}\n\n\
         If you did not ask for this, ignore this mail: nothing changes.\n\n---\n\n\
         passgrid アカウント {user_id} のパターン再設定が依頼されました。このリンクを開いて\n\
         ボタンを押すと、新しい初期パターンが表示されます（リンクは一度だけ、{valid_minutes} 分間有効です）:\n\n  {link}\n\n\
         心当たりがない場合はこのメールを無視してください。何も変更されません。\n"
    )
}

/// The first-login notice of a user made by directory sync or a CSV folder (SPEC
/// §8.4): the ID, where to sign in and the initial pattern as a picture in text.
pub fn first_login_body(user_id: &str, login_url: &str, pattern_text: &str) -> String {
    format!(
        "A passgrid account was made for you: {user_id}\n\n\
         Sign in at {login_url}\n\n\
         Your initial pattern (12 groups of 4 cells, row by row; the digits give the\n\
         order — type the digits the sign-in grid shows at these cells, in this order):\n\n\
           {pattern_text}\n\n\
         After the first sign-in you register a pattern of your own. Delete this mail then.\n\n---\n\n\
         passgrid アカウントが作成されました: {user_id}\n\n\
         ログイン URL: {login_url}\n\n\
         初期パターン（1行4マスずつ12グループ、行の順。数字は入力の順番です。ログイン画面の\n\
         表のこの位置にある数字を、この順番で入力してください）:\n\n\
           {pattern_text}\n\n\
         初回ログイン後にご自身のパターンを登録し、このメールは削除してください。\n"
    )
}
