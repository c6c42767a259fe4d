//! Every user-facing string, in English and Japanese. A page asks for `texts(lang)`;
//! the `Texts` struct makes a missing translation a compile error.

/// Name of the cookie that remembers the user's language choice.
pub const LANG_COOKIE: &str = "passgrid_lang";

/// A language passgrid speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    /// The BCP 47 code used in `<html lang>`, the cookie and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// Parses a code as stored in the cookie or given in a link; unknown codes are `None`.
    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ja" => Some(Lang::Ja),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header value
    /// (RFC 9110 §12.5.4): the highest q-value wins, ties go to the earlier entry.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(u16, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
            let lang = match primary.as_str() {
                "en" => Lang::En,
                "ja" => Lang::Ja,
                _ => continue,
            };
            let mut q = 1000u16;
            for param in parts {
                if let Some(v) = param.trim().strip_prefix("q=") {
                    q = v
                        .trim()
                        .parse::<f32>()
                        .map(|f| (f.clamp(0.0, 1.0) * 1000.0) as u16)
                        .unwrap_or(0);
                }
            }
            if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

/// The language of the page being rendered: on the server from the request (set by
/// the server's language middleware), in the browser from `<html lang>` so that
/// hydration renders exactly what the server sent.
pub fn request_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Lang>().copied())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::document()
            .document_element()
            .and_then(|el| el.get_attribute("lang"))
            .and_then(|code| Lang::from_code(&code))
            .unwrap_or_default()
    }
}

/// The strings of one language.
pub struct Texts {
    pub product_title: &'static str,
    pub product_tagline: &'static str,
    pub home_intro: &'static str,
    pub home_how_title: &'static str,
    pub home_how_1: &'static str,
    pub home_how_2: &'static str,
    pub home_how_3: &'static str,
    pub ca_download: &'static str,
    pub switch_to_other: &'static str,
    pub preview_title: &'static str,
    pub preview_help: &'static str,
    pub preview_otp: &'static str,
    pub preview_clear: &'static str,
    pub preview_undo: &'static str,
    pub preview_cell_label: &'static str,
    pub preview_loading: &'static str,
    pub noscript: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_home: &'static str,
    pub setup_title: &'static str,
    pub setup_intro: &'static str,
    pub setup_user_id: &'static str,
    pub setup_display_name: &'static str,
    pub setup_email: &'static str,
    pub setup_submit: &'static str,
    pub setup_done_title: &'static str,
    pub setup_done_body: &'static str,
    pub error_invalid_token: &'static str,
    pub error_invalid_user_id: &'static str,
    pub error_invalid_email: &'static str,
    pub error_invalid_name: &'static str,
    pub error_already_exists: &'static str,
    pub error_internal: &'static str,
    pub login_title: &'static str,
    pub login_user_id: &'static str,
    pub login_next: &'static str,
    pub login_grid_help: &'static str,
    pub login_otp: &'static str,
    pub login_totp_help: &'static str,
    pub login_no_token_yet: &'static str,
    pub login_totp_code: &'static str,
    pub token_title: &'static str,
    pub phrase_title: &'static str,
    pub reset_link: &'static str,
    pub reset_title: &'static str,
    pub reset_intro: &'static str,
    pub reset_send: &'static str,
    pub reset_sent: &'static str,
    pub reset_confirm: &'static str,
    pub reset_button: &'static str,
    pub reset_link_gone: &'static str,
    pub reset_done: &'static str,
    pub reset_done_next: &'static str,
    pub reset_shown_already: &'static str,
    pub phrase_before: &'static str,
    pub phrase_after: &'static str,
    pub phrase_rules: &'static str,
    pub phrase_required: &'static str,
    pub phrase_new: &'static str,
    pub phrase_again: &'static str,
    pub phrase_save: &'static str,
    pub phrase_saved: &'static str,
    pub login_phrase_before: &'static str,
    pub login_phrase_after: &'static str,
    pub error_phrase_too_short: &'static str,
    pub error_phrase_too_long: &'static str,
    pub error_phrase_character: &'static str,
    pub error_phrase_mismatch: &'static str,
    pub token_intro: &'static str,
    pub token_have: &'static str,
    pub token_start: &'static str,
    pub token_scan: &'static str,
    pub token_secret: &'static str,
    pub token_confirm: &'static str,
    pub token_saved: &'static str,
    pub token_required: &'static str,
    pub login_submit: &'static str,
    pub login_start_again: &'static str,
    pub login_attempt_gone: &'static str,
    pub grid_label: &'static str,
    pub grid_cell_label: &'static str,
    pub grid_canvas_label: &'static str,
    pub grid_canvas_note: &'static str,
    pub portal_title: &'static str,
    pub portal_signed_in_as: &'static str,
    pub portal_must_change: &'static str,
    pub portal_logout: &'static str,
    /// Heading of the portal's applications (SAML service providers the user may use).
    pub portal_apps: &'static str,
    pub cert_guide_chrome: &'static str,
    pub cert_guide_firefox: &'static str,
    pub guide_title: &'static str,
    pub guide_others: &'static str,
    pub guide_back: &'static str,
    pub cert_csr_title: &'static str,
    pub cert_csr_text: &'static str,
    pub cert_csr_file: &'static str,
    pub cert_csr_button: &'static str,
    pub error_csr: &'static str,
    pub error_not_allowed: &'static str,
    pub error_limit: &'static str,
    pub cert_issue_title: &'static str,
    pub cert_issue_text: &'static str,
    pub cert_issue_next: &'static str,
    pub cert_download_title: &'static str,
    pub cert_password_label: &'static str,
    pub cert_password_warning: &'static str,
    pub cert_download_button: &'static str,
    pub cert_download_legacy: &'static str,
    pub cert_download_ios: &'static str,
    pub cert_download_once: &'static str,
    pub cert_saved_check: &'static str,
    pub cert_download_next: &'static str,
    pub cert_leave_warning: &'static str,
    pub cert_download_gone: &'static str,
    pub cert_install_title: &'static str,
    pub cert_install_intro: &'static str,
    pub cert_install_other_systems: &'static str,
    pub cert_install_continue: &'static str,
    pub cert_guide_windows: &'static str,
    pub cert_guide_macos: &'static str,
    pub cert_guide_ios: &'static str,
    pub cert_guide_android: &'static str,
    pub cert_guide_other: &'static str,
    pub error_login_failed: &'static str,
    pub error_challenge_expired: &'static str,
    pub error_csrf: &'static str,
    pub error_device_not_registered: &'static str,
    pub error_locked: &'static str,
    pub error_rate_limited: &'static str,
    pub error_network_not_allowed: &'static str,
    pub error_time_not_allowed: &'static str,
    pub error_login_protect: &'static str,
    pub error_reauth: &'static str,
    pub error_token_code: &'static str,
    pub editor_title: &'static str,
    pub editor_help: &'static str,
    pub editor_cell_label: &'static str,
    pub editor_submit: &'static str,
    pub editor_start_again: &'static str,
    pub rule_too_short: &'static str,
    pub rule_too_long: &'static str,
    pub rule_single_cell: &'static str,
    pub rule_straight_line: &'static str,
    pub rule_one_stroke: &'static str,
    pub rule_missing_block: &'static str,
    pub rule_cell_out_of_range: &'static str,
    pub rule_reused: &'static str,
    pub rule_too_weak: &'static str,
    pub confirm_title: &'static str,
    pub confirm_step: &'static str,
    pub confirm_help: &'static str,
    pub confirm_submit: &'static str,
    pub error_confirm_failed: &'static str,
    pub portal_pattern_changed: &'static str,
    pub portal_change_pattern: &'static str,
    pub portal_login_protect: &'static str,
    pub portal_allow_login: &'static str,
    pub portal_window_open: &'static str,
    pub editor_cell_picked: &'static str,
    pub editor_grid_label: &'static str,
    pub preview_grid_label: &'static str,
    pub strength_weak: &'static str,
    pub strength_fair: &'static str,
    pub strength_strong: &'static str,
    pub strength_label: &'static str,
}

const EN: Texts = Texts {
    product_title: "passgrid",
    product_tagline: "Sign in with a pattern only you know — no token, no phone.",
    home_intro: "passgrid is your organisation's sign-in server. Each time you sign in it shows a fresh table of random digits; you type the digits found at the cells of your secret pattern.",
    home_how_title: "How it works",
    home_how_1: "Your administrator registers you and gives you an initial pattern.",
    home_how_2: "Your device gets a client certificate, so only registered devices see the grid.",
    home_how_3: "At every sign-in, read the digits along your pattern: they are a one-time password.",
    ca_download: "Download this server's CA certificate",
    switch_to_other: "日本語",
    preview_title: "Try the grid",
    preview_help: "Click cells in any order to see how a pattern becomes a one-time password. This sample grid never changes; a real one is new at every sign-in.",
    preview_otp: "One-time password of this pattern",
    preview_clear: "Clear",
    preview_undo: "Undo",
    preview_cell_label: "Row {row}, column {col}, digit {digit}",
    preview_loading: "The interactive grid needs WebAssembly. It is loading; if this message stays, your browser blocked it.",
    noscript: "This page needs JavaScript and WebAssembly. Please enable them to sign in.",
    not_found_title: "Page not found",
    not_found_body: "There is nothing at this address.",
    back_home: "Back to the start page",
    setup_title: "Create the first administrator",
    setup_intro: "This one-time link was printed on the server's console at first start. It works once.",
    setup_user_id: "Administrator user ID",
    setup_display_name: "Display name",
    setup_email: "Mail address",
    setup_submit: "Create administrator",
    setup_done_title: "Administrator created",
    setup_done_body: "The first administrator account exists now and the set-up link no longer works.",
    error_invalid_token: "This set-up link is not valid: it was used already, it expired, or it was mistyped.",
    error_invalid_user_id: "A user ID is 1 to 64 characters: letters, digits and . _ - @ only.",
    error_invalid_email: "That mail address does not look right.",
    error_invalid_name: "The display name is at most 128 characters.",
    error_already_exists: "A user with that ID exists already.",
    error_internal: "Something went wrong on the server. Please try again; if it persists, tell your administrator.",
    login_title: "Sign in",
    login_user_id: "User ID",
    login_next: "Next",
    login_grid_help: "Type the digits found at the cells of your pattern, in order.",
    login_otp: "One-time password",
    login_totp_help: "Enter the code your authenticator app or token shows now.",
    login_no_token_yet: "No authenticator app yet? Type the digits of your pattern from this grid in the field above instead; you will set up the app next.",
    login_totp_code: "Code from your token",
    token_title: "Authenticator (TOTP)",
    phrase_title: "Additional phrase",
    reset_link: "Forgot your pattern?",
    reset_title: "Reset your pattern",
    reset_intro: "Enter your user ID. If it has a mail address registered, a one-time link to reset your pattern is sent there.",
    reset_send: "Send the link",
    reset_sent: "If that user ID has a mail address registered, a link is on its way. It works once, for 30 minutes.",
    reset_confirm: "Press the button to replace your pattern with a new initial pattern. You register your own pattern again at your next sign-in.",
    reset_button: "Reset my pattern",
    reset_link_gone: "This link does not work (any more): it was used, it expired, or a newer one was sent. Ask for a new one from the sign-in page.",
    reset_done: "Your new initial pattern, for user",
    reset_done_next: "Type the digits at these cells, in this order, at your next sign-in; then register your own pattern. This page is shown only once.",
    reset_shown_already: "This pattern was shown already, or the reset has expired. Ask for a new link if you did not note it.",
    phrase_before: "At sign-in, type your phrase first, then the digits of your pattern, in one field.",
    phrase_after: "At sign-in, type the digits of your pattern first, then your phrase, in one field.",
    phrase_rules: "{min} to {max} characters: letters, digits and symbols other than , and :",
    phrase_required: "Your sign-in policy needs an additional phrase: set one now.",
    phrase_new: "New phrase",
    phrase_again: "The phrase again",
    phrase_save: "Save the phrase",
    phrase_saved: "Your phrase is saved. Type it with the digits from your next sign-in on.",
    login_phrase_before: "Type your additional phrase first, then the digits.",
    login_phrase_after: "Type the digits, then your additional phrase.",
    error_phrase_too_short: "The phrase is too short.",
    error_phrase_too_long: "The phrase is too long.",
    error_phrase_character: "The phrase may hold letters, digits and symbols other than , and : only.",
    error_phrase_mismatch: "The two phrases differ.",
    token_intro: "Sign in with a code from an authenticator app (or a hardware token from your administrator).",
    token_have: "You have a token:",
    token_start: "Set up an authenticator app",
    token_scan: "Scan this QR code with your authenticator app, then enter the code it shows to finish.",
    token_secret: "Or type this key by hand:",
    token_confirm: "Confirm",
    token_saved: "Your authenticator is set up. Its codes work from your next sign-in.",
    token_required: "Your sign-in policy needs an authenticator: set one up now.",
    login_submit: "Log in",
    login_start_again: "Start again",
    login_attempt_gone: "This sign-in attempt has expired or was already used.",
    grid_label: "Random number table",
    grid_cell_label: "Row {row}, column {col}: {digit}",
    grid_canvas_label: "Random number table, shown as a picture only",
    grid_canvas_note: "Your organisation shows this table as a picture only, so its digits cannot be read out by screen readers or copied. If you need the table read aloud, ask your administrator.",
    portal_title: "Your account",
    portal_signed_in_as: "Signed in as",
    portal_must_change: "You signed in with your initial pattern. Please register a pattern of your own.",
    portal_logout: "Log out",
    portal_apps: "Your applications",
    cert_guide_chrome: "Chrome and Edge: on Windows and macOS they use the system's certificate store, so follow that system's guide. On Linux: Settings → Privacy and security → Security → Manage certificates → Your certificates → Import → pick the .p12 file → enter the certificate password.",
    cert_guide_firefox: "Firefox keeps its own certificates: Settings → Privacy & Security → Certificates → View Certificates → Your Certificates → Import → pick the .p12 file → enter the certificate password.",
    guide_title: "Installing your certificate: {system}",
    guide_others: "Guides for other systems",
    guide_back: "Back to sign-in",
    cert_csr_title: "Or: a certificate request from this device",
    cert_csr_text: "If your device makes its own key (a PKCS#10 request, .csr), upload it here: you get the certificate back as a .pem file and the key never leaves the device.",
    cert_csr_file: "Certificate request (.csr)",
    cert_csr_button: "Upload request",
    error_csr: "The certificate request was refused: it must be a PKCS#10 request with a valid signature and a P-256, P-384, Ed25519 or RSA (2048 bits or more) key.",
    error_not_allowed: "A certificate cannot be issued here now: you already hold one, or self-service issuance is off.",
    error_limit: "You already hold as many certificates as allowed. Ask your administrator to revoke one.",
    cert_issue_title: "A certificate for this device",
    cert_issue_text: "Your organisation lets you sign in only from registered devices. Press Next to issue a client certificate for this device; you will download it and install it.",
    cert_issue_next: "Next",
    cert_download_title: "Download your certificate",
    cert_password_label: "Certificate password",
    cert_password_warning: "Write this password down now. It will not be shown again, and you need it to install the certificate.",
    cert_download_button: "Download",
    cert_download_legacy: "For older Windows, macOS or Android, download the legacy format instead (one download only: choose one).",
    cert_download_ios: "On an iPhone or iPad, download the configuration profile instead.",
    cert_download_once: "The file can be downloaded once. Save it on this device.",
    cert_saved_check: "I have saved the file and written down the certificate password.",
    cert_download_next: "Next: install it",
    cert_leave_warning: "Download the certificate and write down its password before you leave this page.",
    cert_download_gone: "This download has expired or was already used. Sign in again, or ask your administrator for a new certificate.",
    cert_install_title: "Install the certificate",
    cert_install_intro: "Open the downloaded file and follow your system's import wizard. Enter the certificate password when asked.",
    cert_install_other_systems: "Other systems",
    cert_install_continue: "Continue",
    cert_guide_windows: "Windows: double-click the .p12 file → Certificate Import Wizard → Current User → Next → enter the certificate password → let Windows choose the store → Finish. Edge and Chrome use it at once.",
    cert_guide_macos: "macOS: double-click the .p12 file → Keychain Access opens → choose the \"login\" keychain → enter the certificate password. Safari and Chrome use it; in Firefox, import it under Settings → Privacy & Security → Certificates → Your Certificates.",
    cert_guide_ios: "iPhone and iPad: open the downloaded file → Settings → Profile Downloaded → Install → enter your device passcode, then the certificate password. Safari uses it.",
    cert_guide_android: "Android: Settings → Security → Encryption & credentials → Install a certificate → VPN & app user certificate → pick the .p12 file → enter the certificate password. Chrome asks which certificate to use on first visit.",
    cert_guide_other: "Linux and others: Chrome/Chromium → Settings → Privacy and security → Security → Manage certificates → Your certificates → Import; Firefox → Settings → Privacy & Security → View Certificates → Your Certificates → Import. Enter the certificate password.",
    error_login_failed: "Sign-in failed. Check your user ID and the digits, then try again.",
    error_challenge_expired: "The grid expired. Please start again.",
    error_csrf: "The form expired. Please try again.",
    error_device_not_registered: "This device is not registered for your account. Sign in from a device with your certificate installed, or ask your administrator for one.",
    error_locked: "Sign-in is locked after repeated failed attempts. Try again later, or ask your administrator to unlock it.",
    error_rate_limited: "Too many sign-in attempts. Wait a minute and try again.",
    error_token_code: "That code did not match. Check the time on your device and enter the code shown now.",
    error_network_not_allowed: "Sign-in is not allowed from this network.",
    error_time_not_allowed: "Sign-in is not allowed at this time.",
    error_login_protect: "Login protect is on for this account: first allow this sign-in from a device where you are already signed in (\"Allow a sign-in now\"), then sign in within 60 seconds.",
    error_reauth: "To change your pattern, authenticator, phrase or certificate, sign in again first (your last sign-in was more than 10 minutes ago).",
    editor_title: "Register your pattern",
    editor_help: "Click cells in the order you will remember. You may use a cell more than once. Nobody, not even the administrator, can see your pattern.",
    editor_cell_label: "Row {row}, column {col}",
    editor_submit: "Next: confirm on two grids",
    editor_start_again: "Draw a pattern again",
    rule_too_short: "Use at least {min} cells.",
    rule_too_long: "Use at most {max} cells.",
    rule_single_cell: "A pattern of one cell only is not allowed.",
    rule_straight_line: "A straight line is too easy to guess.",
    rule_one_stroke: "Each step must not go only to a neighbouring cell.",
    rule_missing_block: "Use at least one cell in every block.",
    rule_cell_out_of_range: "A cell is outside the grid.",
    rule_reused: "Choose a pattern you have not used recently.",
    rule_too_weak: "The pattern is too weak for your organisation's rules. Use more cells.",
    confirm_title: "Confirm your new pattern",
    confirm_step: "Grid {step} of 2",
    confirm_help: "Type the digits at the cells of your new pattern, in order.",
    confirm_submit: "Confirm",
    error_confirm_failed: "Those digits did not match the new pattern. Please draw it again.",
    portal_pattern_changed: "Your new pattern is saved. Use it from your next sign-in.",
    portal_change_pattern: "Change your pattern",
    portal_login_protect: "Login protect is on: sign-in on another device works only in the 60 seconds after you allow it here.",
    portal_allow_login: "Allow a sign-in now (60 s)",
    portal_window_open: "A sign-in to your account is allowed for the next 60 seconds. If you did not ask for this, do nothing: the window closes by itself.",
    editor_cell_picked: "picked {order}",
    editor_grid_label: "Grid to draw your pattern on: arrow keys move, Enter picks a cell",
    preview_grid_label: "Sample grid: arrow keys move, Enter picks a cell",
    strength_weak: "Weak: someone who watched you sign in once would have only about {after} patterns left to try. Use more cells.",
    strength_fair: "Fair: someone who watched you sign in once would still face about {after} possible patterns. More cells make it stronger.",
    strength_strong: "Strong: even someone who watched you sign in once would still face about {after} possible patterns.",
    strength_label: "Strength",
};

const JA: Texts = Texts {
    product_title: "passgrid",
    product_tagline: "あなただけが知るパターンでログイン — トークンもスマートフォンも不要です。",
    home_intro: "passgrid は組織のログインサーバーです。ログインのたびに新しい乱数表が表示されます。あなたの秘密のパターンの位置にある数字を入力してください。",
    home_how_title: "しくみ",
    home_how_1: "管理者があなたを登録し、初期パターンをお渡しします。",
    home_how_2: "端末にクライアント証明書を入れるので、登録済みの端末にだけ乱数表が表示されます。",
    home_how_3: "ログインのたびに、パターンに沿って数字を読み取ります。それがワンタイムパスワードです。",
    ca_download: "このサーバーの CA 証明書をダウンロード",
    switch_to_other: "English",
    preview_title: "乱数表を試す",
    preview_help: "セルを好きな順にクリックすると、パターンがワンタイムパスワードになる様子がわかります。この見本の表は変わりませんが、実際の表はログインのたびに新しくなります。",
    preview_otp: "このパターンのワンタイムパスワード",
    preview_clear: "クリア",
    preview_undo: "1つ戻す",
    preview_cell_label: "{row}行目 {col}列目 数字 {digit}",
    preview_loading: "操作できる乱数表には WebAssembly が必要です。読み込み中です。この表示が消えない場合は、ブラウザーが読み込みを止めています。",
    noscript: "このページには JavaScript と WebAssembly が必要です。有効にしてからログインしてください。",
    not_found_title: "ページが見つかりません",
    not_found_body: "このアドレスには何もありません。",
    back_home: "トップページへ戻る",
    setup_title: "最初の管理者を作成",
    setup_intro: "この1回限りのリンクは、初回起動時にサーバーのコンソールに表示されたものです。使えるのは1回だけです。",
    setup_user_id: "管理者のユーザーID",
    setup_display_name: "表示名",
    setup_email: "メールアドレス",
    setup_submit: "管理者を作成",
    setup_done_title: "管理者を作成しました",
    setup_done_body: "最初の管理者アカウントが作成されました。セットアップ用リンクはもう使えません。",
    error_invalid_token: "このセットアップ用リンクは無効です。使用済み、期限切れ、または入力の誤りです。",
    error_invalid_user_id: "ユーザーIDは1〜64文字で、英字・数字と . _ - @ のみ使えます。",
    error_invalid_email: "メールアドレスの形式が正しくありません。",
    error_invalid_name: "表示名は128文字以内です。",
    error_already_exists: "そのIDのユーザーはすでに存在します。",
    error_internal: "サーバーで問題が起きました。もう一度お試しください。続く場合は管理者に連絡してください。",
    login_title: "ログイン",
    login_user_id: "ユーザーID",
    login_next: "次へ",
    login_grid_help: "あなたのパターンの位置にある数字を、順番どおりに入力してください。",
    login_otp: "ワンタイムパスワード",
    login_totp_help: "認証アプリまたはトークンに表示されているコードを入力してください。",
    login_no_token_yet: "認証アプリをまだ設定していない場合は、代わりにこの表からパターンの数字を上の欄に入力してください。このあと認証アプリを設定します。",
    login_totp_code: "トークンのコード",
    token_title: "認証アプリ（TOTP）",
    phrase_title: "追加フレーズ",
    reset_link: "パターンを忘れた場合",
    reset_title: "パターンの再設定",
    reset_intro: "ユーザー ID を入力してください。メールアドレスが登録されていれば、パターン再設定用のワンタイムリンクを送信します。",
    reset_send: "リンクを送信",
    reset_sent: "そのユーザー ID にメールアドレスが登録されていれば、リンクを送信しました。一度だけ、30分間有効です。",
    reset_confirm: "ボタンを押すと、パターンが新しい初期パターンに置き換わります。次回のログイン時に、ご自身のパターンを登録し直してください。",
    reset_button: "パターンを再設定する",
    reset_link_gone: "このリンクは使用済み、期限切れ、または新しいリンクが送信されたため無効です。ログインページから再度依頼してください。",
    reset_done: "新しい初期パターン — ユーザー",
    reset_done_next: "次回のログインでは、この順番でこの位置の数字を入力し、その後ご自身のパターンを登録してください。このページは一度だけ表示されます。",
    reset_shown_already: "このパターンはすでに表示済みか、再設定の期限が切れています。控えていない場合は新しいリンクを依頼してください。",
    phrase_before: "ログイン時は、フレーズを先に、続けてパターンの数字を1つの欄に入力します。",
    phrase_after: "ログイン時は、パターンの数字を先に、続けてフレーズを1つの欄に入力します。",
    phrase_rules: "{min}〜{max}文字。英字・数字と、, と : 以外の記号が使えます。",
    phrase_required: "ログインポリシーにより追加フレーズが必要です。今すぐ設定してください。",
    phrase_new: "新しいフレーズ",
    phrase_again: "フレーズ（確認）",
    phrase_save: "フレーズを保存",
    phrase_saved: "フレーズを保存しました。次回のログインから数字と一緒に入力してください。",
    login_phrase_before: "追加フレーズを先に、続けて数字を入力してください。",
    login_phrase_after: "数字を入力し、続けて追加フレーズを入力してください。",
    error_phrase_too_short: "フレーズが短すぎます。",
    error_phrase_too_long: "フレーズが長すぎます。",
    error_phrase_character: "フレーズには英字・数字と、, と : 以外の記号だけが使えます。",
    error_phrase_mismatch: "2つのフレーズが一致しません。",
    token_intro: "認証アプリ（または管理者から配布されたハードウェアトークン）のコードでログインします。",
    token_have: "登録済みのトークン:",
    token_start: "認証アプリを設定する",
    token_scan: "認証アプリでこの QR コードを読み取り、表示されたコードを入力して設定を完了してください。",
    token_secret: "手入力する場合のキー:",
    token_confirm: "確認",
    token_saved: "認証アプリを設定しました。次回のログインからコードが使えます。",
    token_required: "ログインポリシーにより認証アプリが必要です。今すぐ設定してください。",
    login_submit: "ログイン",
    login_start_again: "最初からやり直す",
    login_attempt_gone: "このログイン操作は期限切れか、すでに使用されています。",
    grid_label: "乱数表",
    grid_cell_label: "{row}行目 {col}列目: {digit}",
    grid_canvas_label: "乱数表（画像のみで表示）",
    grid_canvas_note: "この乱数表は組織の設定により画像としてのみ表示されるため、スクリーンリーダーでの読み上げやコピーはできません。読み上げが必要な場合は管理者にご相談ください。",
    portal_title: "アカウント",
    portal_signed_in_as: "ログイン中:",
    portal_must_change: "初期パターンでログインしました。ご自身のパターンを登録してください。",
    portal_logout: "ログアウト",
    portal_apps: "利用できるアプリケーション",
    cert_guide_chrome: "Chrome・Edge：Windows と macOS ではシステムの証明書ストアを使うため、そのシステムの手順に従ってください。Linux では 設定 → プライバシーとセキュリティ → セキュリティ → 証明書の管理 → あなたの証明書 → インポート → .p12 ファイルを選択 → 証明書パスワードを入力します。",
    cert_guide_firefox: "Firefox は独自の証明書ストアを使います：設定 → プライバシーとセキュリティ → 証明書 → 証明書を表示 → あなたの証明書 → インポート → .p12 ファイルを選択 → 証明書パスワードを入力します。",
    guide_title: "証明書のインストール：{system}",
    guide_others: "他のシステムの手順",
    guide_back: "ログインに戻る",
    cert_csr_title: "または：この端末の証明書署名要求（CSR）",
    cert_csr_text: "端末で鍵を作成した場合（PKCS#10 の証明書署名要求、.csr）、ここでアップロードしてください。証明書が .pem ファイルで返され、鍵は端末から出ません。",
    cert_csr_file: "証明書署名要求（.csr）",
    cert_csr_button: "要求をアップロード",
    error_csr: "証明書署名要求を受け付けられませんでした。正しい署名と、P-256・P-384・Ed25519・RSA（2048 ビット以上）の鍵を持つ PKCS#10 の要求が必要です。",
    error_not_allowed: "現在ここでは証明書を発行できません。すでに証明書をお持ちか、セルフサービス発行が無効です。",
    error_limit: "発行できる証明書の上限に達しています。管理者に失効を依頼してください。",
    cert_issue_title: "この端末の証明書",
    cert_issue_text: "組織の設定により、登録された端末からのみログインできます。「次へ」を押すと、この端末用のクライアント証明書を発行します。続けてダウンロードしてインストールします。",
    cert_issue_next: "次へ",
    cert_download_title: "証明書のダウンロード",
    cert_password_label: "証明書パスワード",
    cert_password_warning: "このパスワードを今すぐ控えてください。二度と表示されません。証明書のインストールに必要です。",
    cert_download_button: "ダウンロード",
    cert_download_legacy: "古い Windows・macOS・Android では、代わりに従来形式をダウンロードしてください（ダウンロードは一度だけです。どちらか一方を選んでください）。",
    cert_download_ios: "iPhone・iPad では、代わりに構成プロファイルをダウンロードしてください。",
    cert_download_once: "ファイルのダウンロードは一度だけです。この端末に保存してください。",
    cert_saved_check: "ファイルを保存し、証明書パスワードを控えました。",
    cert_download_next: "次へ：インストール",
    cert_leave_warning: "このページを離れる前に、証明書をダウンロードしてパスワードを控えてください。",
    cert_download_gone: "このダウンロードは期限切れか、すでに使用されています。もう一度ログインするか、管理者に新しい証明書を依頼してください。",
    cert_install_title: "証明書のインストール",
    cert_install_intro: "ダウンロードしたファイルを開き、システムのインポートウィザードに従ってください。求められたら証明書パスワードを入力します。",
    cert_install_other_systems: "その他のシステム",
    cert_install_continue: "続ける",
    cert_guide_windows: "Windows：.p12 ファイルをダブルクリック → 証明書のインポート ウィザード → 現在のユーザー → 次へ → 証明書パスワードを入力 → 証明書ストアは自動選択 → 完了。Edge と Chrome ですぐに使えます。",
    cert_guide_macos: "macOS：.p12 ファイルをダブルクリック → キーチェーンアクセスが開く → 「ログイン」キーチェーンを選択 → 証明書パスワードを入力。Safari と Chrome で使えます。Firefox では 設定 → プライバシーとセキュリティ → 証明書 → あなたの証明書 からインポートします。",
    cert_guide_ios: "iPhone・iPad：ダウンロードしたファイルを開く → 設定 → プロファイルがダウンロード済み → インストール → 端末のパスコード、続けて証明書パスワードを入力。Safari で使えます。",
    cert_guide_android: "Android：設定 → セキュリティ → 暗号化と認証情報 → 証明書のインストール → VPN とアプリのユーザー証明書 → .p12 ファイルを選択 → 証明書パスワードを入力。Chrome は初回アクセス時に使用する証明書を尋ねます。",
    cert_guide_other: "Linux など：Chrome/Chromium → 設定 → プライバシーとセキュリティ → セキュリティ → 証明書の管理 → あなたの証明書 → インポート。Firefox → 設定 → プライバシーとセキュリティ → 証明書を表示 → あなたの証明書 → インポート。証明書パスワードを入力します。",
    error_login_failed: "ログインできませんでした。ユーザーIDと数字を確かめて、もう一度お試しください。",
    error_challenge_expired: "乱数表の有効期限が切れました。最初からやり直してください。",
    error_csrf: "フォームの有効期限が切れました。もう一度お試しください。",
    error_device_not_registered: "この端末は登録されていません。証明書をインストールした端末からログインするか、管理者に証明書の発行を依頼してください。",
    error_locked: "ログインの失敗が続いたため、ロックされています。しばらくしてから再度お試しいただくか、管理者にロック解除を依頼してください。",
    error_rate_limited: "ログインの試行が多すぎます。1分ほど待ってから再度お試しください。",
    error_token_code: "コードが一致しません。端末の時刻を確認し、今表示されているコードを入力してください。",
    error_network_not_allowed: "このネットワークからはサインインできません。",
    error_time_not_allowed: "この時間帯はサインインできません。",
    error_login_protect: "このアカウントはログインプロテクトが有効です。すでにログインしている端末で「今すぐログインを許可」を押してから、60秒以内にログインしてください。",
    error_reauth: "パターン、認証アプリ、フレーズ、証明書を変更するには、もう一度ログインしてください（前回のログインから10分以上たっています）。",
    editor_title: "パターンの登録",
    editor_help: "覚えやすい順番でセルをクリックしてください。同じセルを何度使ってもかまいません。あなたのパターンは管理者を含め誰にも見えません。",
    editor_cell_label: "{row}行目 {col}列目",
    editor_submit: "次へ: 2回の乱数表で確認",
    editor_start_again: "パターンを描き直す",
    rule_too_short: "{min}個以上のセルを使ってください。",
    rule_too_long: "セルは{max}個までです。",
    rule_single_cell: "1つのセルだけのパターンは使えません。",
    rule_straight_line: "一直線のパターンは推測されやすいため使えません。",
    rule_one_stroke: "隣り合うセルだけをたどるパターンは使えません。",
    rule_missing_block: "すべてのブロックで1つ以上のセルを使ってください。",
    rule_cell_out_of_range: "表の外のセルが含まれています。",
    rule_reused: "最近使ったパターンは使えません。",
    rule_too_weak: "パターンが組織の基準より弱すぎます。セルを増やしてください。",
    confirm_title: "新しいパターンの確認",
    confirm_step: "乱数表 {step} / 2",
    confirm_help: "新しいパターンの位置にある数字を、順番どおりに入力してください。",
    confirm_submit: "確認",
    error_confirm_failed: "数字が新しいパターンと一致しませんでした。もう一度パターンを描いてください。",
    portal_pattern_changed: "新しいパターンを保存しました。次回のログインから使ってください。",
    portal_change_pattern: "パターンを変更する",
    portal_login_protect: "ログインプロテクトが有効です。他の端末からのログインは、ここで許可してから60秒間だけ可能です。",
    portal_allow_login: "今すぐログインを許可（60秒）",
    portal_window_open: "これから60秒間、あなたのアカウントへのログインが許可されています。心当たりがなければ何もしないでください。時間が過ぎると自動で閉じます。",
    editor_cell_picked: "選択順 {order}",
    editor_grid_label: "パターンを描く表: 矢印キーで移動、Enter でセルを選択",
    preview_grid_label: "見本の表: 矢印キーで移動、Enter でセルを選択",
    strength_weak: "弱い: あなたのログインを1回見た人にとって、候補は約{after}通りしか残りません。セルを増やしてください。",
    strength_fair: "普通: あなたのログインを1回見た人にも、まだ約{after}通りの候補が残ります。セルを増やすとさらに強くなります。",
    strength_strong: "強い: あなたのログインを1回見た人にも、約{after}通りの候補が残ります。",
    strength_label: "強さ",
};

/// The strings of `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        Lang::Ja => &JA,
    }
}

/// A count with thousands grouped: `1,017` (the same in both languages).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Maps a stable error code (as used in URLs and JSON) to the user's language.
pub fn error_message(lang: Lang, code: &str) -> &'static str {
    let t = texts(lang);
    match code {
        "invalid_token" => t.error_invalid_token,
        "invalid_user_id" => t.error_invalid_user_id,
        "invalid_email" => t.error_invalid_email,
        "invalid_name" => t.error_invalid_name,
        "already_exists" => t.error_already_exists,
        "failed" => t.error_login_failed,
        "expired" => t.error_challenge_expired,
        "csrf" => t.error_csrf,
        "device" => t.error_device_not_registered,
        "locked" => t.error_locked,
        "rate_limited" => t.error_rate_limited,
        "network" => t.error_network_not_allowed,
        "time" => t.error_time_not_allowed,
        "login_protect" => t.error_login_protect,
        "reauth" => t.error_reauth,
        "token_code" => t.error_token_code,
        "phrase_too_short" => t.error_phrase_too_short,
        "phrase_too_long" => t.error_phrase_too_long,
        "phrase_character" => t.error_phrase_character,
        "phrase_mismatch" => t.error_phrase_mismatch,
        "gone" => t.cert_download_gone,
        "csr" => t.error_csr,
        "not_allowed" => t.error_not_allowed,
        "limit" => t.error_limit,
        "confirm_failed" => t.error_confirm_failed,
        "too_short" | "too_long" | "single_cell" | "straight_line" | "one_stroke"
        | "missing_block" | "cell_out_of_range" | "reused" => rule_code_message(t, code),
        _ => t.error_internal,
    }
}

/// A rule violation in the user's language (with its numbers filled in).
pub fn rule_message(lang: Lang, v: &crate::pattern::RuleViolation) -> String {
    use crate::pattern::RuleViolation as R;
    let t = texts(lang);
    match v {
        R::TooShort { min } => t.rule_too_short.replace("{min}", &min.to_string()),
        R::TooLong { max } => t.rule_too_long.replace("{max}", &max.to_string()),
        R::TooWeak { min_bits } => t.rule_too_weak.replace("{bits}", &min_bits.to_string()),
        other => rule_code_message(t, other.code()).to_string(),
    }
}

fn rule_code_message(t: &'static Texts, code: &str) -> &'static str {
    match code {
        "too_short" => t.rule_too_short,
        "too_long" => t.rule_too_long,
        "single_cell" => t.rule_single_cell,
        "straight_line" => t.rule_straight_line,
        "one_stroke" => t.rule_one_stroke,
        "missing_block" => t.rule_missing_block,
        "cell_out_of_range" => t.rule_cell_out_of_range,
        "reused" => t.rule_reused,
        "too_weak" => t.rule_too_weak,
        _ => t.error_internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_highest_q() {
        assert_eq!(Lang::from_accept_language("ja,en;q=0.8"), Lang::Ja);
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("fr, ja-JP;q=0.5"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("de,fr"), Lang::En);
        assert_eq!(Lang::from_accept_language("ja;q=0, en;q=0.1"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language(";;;,,q=x"), Lang::En);
    }

    #[test]
    fn codes_round_trip() {
        for l in [Lang::En, Lang::Ja] {
            assert_eq!(Lang::from_code(l.code()), Some(l));
        }
        assert_eq!(Lang::from_code("xx"), None);
    }

    #[test]
    fn every_error_code_has_its_own_message() {
        for code in [
            "invalid_token",
            "invalid_user_id",
            "invalid_email",
            "already_exists",
            "locked",
            "rate_limited",
            "network",
            "time",
            "login_protect",
            "reauth",
        ] {
            assert_ne!(
                error_message(Lang::Ja, code),
                texts(Lang::Ja).error_internal
            );
        }
    }
}
