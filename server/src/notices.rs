//! Printable first-login notices (SPEC §2.8 (c)): one page per user with the user ID,
//! the login URL, the one-time certificate link and its password, and the initial
//! pattern as a picture of the grid. An HTML document with print CSS: the
//! administrator prints it from a browser and hands each page to its user.

use app::grid::{GridShape, BLOCK_SIDE};

/// What one page says.
pub struct Notice {
    pub user_id: String,
    pub display_name: String,
    pub login_url: String,
    pub link: String,
    pub link_valid_until: String,
    pub password: String,
    /// The initial pattern's cells in order, when the user still has it.
    pub pattern: Option<Vec<u16>>,
}

pub fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The grid with the order numbers of the pattern's cells (several for a cell used
/// more than once), blocks set apart.
fn pattern_picture(cells: &[u16], shape: GridShape) -> String {
    let mut orders: Vec<Vec<usize>> = vec![Vec::new(); shape.cells()];
    for (i, &c) in cells.iter().enumerate() {
        if let Some(o) = orders.get_mut(usize::from(c)) {
            o.push(i + 1);
        }
    }
    let mut out = String::from("<table class=\"pattern\">");
    for row in 0..shape.rows() {
        out.push_str("<tr>");
        for col in 0..shape.cols() {
            let order = &orders[row * shape.cols() + col];
            let class = match (col % BLOCK_SIDE == 0 && col > 0, order.is_empty()) {
                (true, true) => " class=\"block\"",
                (true, false) => " class=\"block used\"",
                (false, true) => "",
                (false, false) => " class=\"used\"",
            };
            let text: Vec<String> = order.iter().map(usize::to_string).collect();
            out.push_str(&format!("<td{class}>{}</td>", text.join(",")));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#111;margin:0}\
section.notice{padding:18mm;page-break-after:always;break-after:page}\
h1{font-size:18pt;margin:0 0 6mm}dt{font-weight:600;margin-top:4mm}\
dd{margin:1mm 0 0;font-size:13pt}.secret{font-family:ui-monospace,monospace;font-size:16pt;letter-spacing:.05em}\
table.pattern{border-collapse:separate;border-spacing:2px;margin-top:3mm}\
table.pattern td{width:9mm;height:9mm;border:1px solid #888;text-align:center;font-weight:700}\
table.pattern td.block{border-left:3px solid #111}table.pattern td.used{background:#ffe08a}\
.note{font-size:9pt;color:#444;margin-top:6mm}";

/// The whole document.
pub fn render(notices: &[Notice], shape: GridShape) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>passgrid first-login notices</title><style>{STYLE}</style></head><body>"
    );
    for n in notices {
        let name = if n.display_name.is_empty() {
            String::new()
        } else {
            format!(" ({})", html(&n.display_name))
        };
        let pattern = match &n.pattern {
            Some(cells) => format!(
                "<dt>Initial pattern / 初期パターン</dt><dd>Type the digits found at these cells, \
                 in order / 番号の順にこのマスの数字を入力してください{}</dd>",
                pattern_picture(cells, shape)
            ),
            None => {
                "<dt>Pattern / パターン</dt><dd>Your own pattern / ご自身のパターン</dd>".into()
            }
        };
        out.push_str(&format!(
            "<section class=\"notice\" data-user=\"{uid}\"><h1>passgrid — {uid}{name}</h1><dl>\
             <dt>User ID / ユーザー ID</dt><dd class=\"secret\">{uid}</dd>\
             <dt>Sign in at / ログイン URL</dt><dd>{login}</dd>\
             <dt>Certificate download (once, until {until}) / 証明書のダウンロード（一度だけ、{until} まで）</dt>\
             <dd class=\"link\">{link}</dd>\
             <dt>Certificate password / 証明書パスワード</dt><dd class=\"secret password\">{password}</dd>\
             {pattern}</dl>\
             <p class=\"note\">Keep this sheet private; destroy it after your first login. / \
             このシートは他人に見せず、初回ログイン後に破棄してください。</p></section>",
            uid = html(&n.user_id),
            login = html(&n.login_url),
            until = html(&n.link_valid_until),
            link = html(&n.link),
            password = html(&n.password),
        ));
    }
    out.push_str("</body></html>\n");
    out
}

/// A Unix time as RFC 3339 (UTC), for people and files.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_numbers_the_cells_in_order_and_repeats() {
        let shape = GridShape::default();
        let pic = pattern_picture(&[0, 5, 5, 47], shape);
        assert!(pic.starts_with("<table class=\"pattern\"><tr><td class=\"used\">1</td>"));
        assert!(pic.contains("<td class=\"used\">2,3</td>"), "{pic}");
        assert!(pic.ends_with("<td class=\"used\">4</td></tr></table>"));
        assert_eq!(pic.matches("<td").count(), 48);
    }

    #[test]
    fn one_page_per_user_and_text_is_escaped() {
        let n = |id: &str| Notice {
            user_id: id.into(),
            display_name: "<b>".into(),
            login_url: "https://a/login".into(),
            link: "https://a/certificate?t=x".into(),
            link_valid_until: "2026-12-01".into(),
            password: "abcd-efgh-jkmn-pqrs".into(),
            pattern: None,
        };
        let doc = render(&[n("alice"), n("bob")], GridShape::default());
        assert_eq!(doc.matches("<section class=\"notice\"").count(), 2);
        assert!(doc.contains("page-break-after:always"));
        assert!(doc.contains("(&lt;b&gt;)"));
    }
}
