//! The download of an issue job: a ZIP of PKCS#12 files with the password sheet.

use super::runner::Piece;
use super::*;

/// The download of an issue job: `USER.p12` per user, `passwords.html` (printable)
/// and `passwords.csv`.
pub(super) fn zip_of(pieces: &[(String, Piece)], now: i64) -> Option<Zeroizing<Vec<u8>>> {
    use zip::{write::SimpleFileOptions, CompressionMethod, ZipWriter};
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .unix_permissions(0o600);
    let mut csv_bytes = Zeroizing::new(Vec::new());
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(&mut *csv_bytes);
    csv.write_record([
        "user_id",
        "display_name",
        "file",
        "serial",
        "password",
        "not_after",
    ])
    .ok()?;
    let mut rows = String::new();
    for (id, piece) in pieces {
        let Piece::P12 {
            file,
            password,
            serial,
            not_after,
            name,
        } = piece
        else {
            continue;
        };
        let file_name = format!("{id}.p12");
        zip.start_file(file_name.as_str(), stored).ok()?;
        zip.write_all(file).ok()?;
        let until = notices::rfc3339(*not_after);
        csv.write_record([
            &*neutralise_formula(id),
            &neutralise_formula(name),
            &file_name,
            serial,
            password.as_str(),
            &until,
        ])
        .ok()?;
        rows.push_str(&format!(
            "<tr><td class=\"user\">{}</td><td>{}</td><td>{}</td><td class=\"password\">{}</td><td>{}</td></tr>",
            notices::html(id),
            notices::html(name),
            notices::html(&file_name),
            notices::html(password),
            notices::html(&until),
        ));
    }
    let sheet = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>passgrid — certificate passwords</title>\
         <style>body{{font-family:system-ui,sans-serif}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #888;padding:4px 8px;text-align:left}}\
         td.password{{font-family:ui-monospace,monospace;font-size:13pt}}</style></head><body>\
         <h1>Certificate passwords / 証明書パスワード</h1><p>Made {}. Hand each password only to its user; \
         destroy this sheet after distribution.</p>\
         <table><thead><tr><th>User ID</th><th>Name</th><th>File</th><th>Password</th><th>Valid until</th></tr></thead>\
         <tbody>{rows}</tbody></table></body></html>",
        notices::rfc3339(now)
    );
    csv.flush().ok()?;
    drop(csv);
    let sheet = Zeroizing::new(sheet);
    zip.start_file("passwords.html", stored).ok()?;
    zip.write_all(sheet.as_bytes()).ok()?;
    zip.start_file("passwords.csv", stored).ok()?;
    zip.write_all(&csv_bytes).ok()?;
    let cursor = zip.finish().ok()?;
    Some(Zeroizing::new(cursor.into_inner()))
}
