//! User CSV files (SPEC §8.1): import in UTF-8 or Shift_JIS, export in UTF-8 for
//! Excel. A file is taken whole or not at all: the first bad row refuses the file and
//! names its line, as a spreadsheet user counts lines (the header is line 1).
//!
//! Only the shape is checked here; ID and mail syntax are checked by the caller,
//! which reports them with [`UserRow::line`].

use std::collections::HashMap;
use std::io::Write;
use std::str::FromStr;

use encoding_rs::{DecoderResult, Encoding, SHIFT_JIS, UTF_8};

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;
/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 200_000;

// Excel needs the BOM to open a UTF-8 CSV as UTF-8 rather than the ANSI code page.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Header names accepted for each column, compared trimmed and case-insensitively.
const ID_NAMES: &[&str] = &[
    "id",
    "user_id",
    "userid",
    "user",
    "login",
    "ユーザーID",
    "ユーザーＩＤ",
];
const NAME_NAMES: &[&str] = &[
    "name",
    "display_name",
    "displayname",
    "表示名",
    "氏名",
    "名前",
];
const EMAIL_NAMES: &[&str] = &["email", "mail", "e-mail", "メール", "メールアドレス"];
const GROUPS_NAMES: &[&str] = &["groups", "group", "グループ"];
const STATUS_NAMES: &[&str] = &["status", "状態"];
// Written by export; read and ignored so an exported file imports as it is (the
// import itself decides the source).
const SOURCE_NAMES: &[&str] = &["source"];

/// The character encoding of an imported file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvEncoding {
    Utf8,
    /// Windows-31J (CP932), what Japanese Excel writes for "CSV".
    ShiftJis,
}

impl FromStr for CsvEncoding {
    type Err = UserCsvError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(CsvEncoding::Utf8),
            "shift_jis" | "sjis" | "shift-jis" | "cp932" | "windows-31j" => {
                Ok(CsvEncoding::ShiftJis)
            }
            _ => Err(UserCsvError::UnknownEncoding { name: s.to_owned() }),
        }
    }
}

/// Whether a user may log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    /// The word stored and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }
}

/// One data row of an imported file.
///
/// `None` means the file has no such column, so the import leaves that field as it
/// is; `Some` with an empty value means the cell was empty, so the field is cleared.
/// Cells are taken as data: a leading `'` (written by export against formula
/// injection) is kept, because it was part of the cell, not markup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    /// Where the row starts, counted as a spreadsheet shows it (header = 1).
    pub line: usize,
    pub id: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// Split on `;` or `|`, trimmed, empties dropped, duplicates removed.
    pub groups: Option<Vec<String>>,
    /// Also `None` for an empty cell or `locked`: a status cannot be cleared, and a
    /// lock-out is passgrid's own state, not something an import sets or lifts.
    pub status: Option<UserStatus>,
    /// Extra attributes from `attr:NAME` columns (e.g. `attr:immutable_id` for
    /// Microsoft 365), in column order; an empty cell removes the attribute.
    pub attributes: Vec<(String, String)>,
}

/// Why a user file was refused, and where.
#[derive(Debug, thiserror::Error)]
pub enum UserCsvError {
    #[error("unknown encoding {name:?} (use utf-8 or shift_jis)")]
    UnknownEncoding { name: String },
    #[error("the file is {size} bytes; the limit is {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the file is UTF-16 (Excel \"Unicode Text\"); save it as \"CSV UTF-8\" or \"CSV\"")]
    Utf16,
    #[error("line {line}: the file is not valid UTF-8; if Japanese Excel saved it as \"CSV\", import it with --encoding shift_jis")]
    NotUtf8 { line: usize },
    #[error("line {line}: the file is not valid Shift_JIS; if it was saved as \"CSV UTF-8\", import it with --encoding utf-8")]
    NotShiftJis { line: usize },
    #[error("line {line}: {reason}")]
    Unreadable { line: usize, reason: String },
    #[error("the file is empty; a header row naming the columns is required")]
    NoHeader,
    #[error("line {line}: unknown column(s) {names}; accepted: {accepted}")]
    UnknownColumns {
        line: usize,
        names: String,
        accepted: String,
    },
    #[error("line {line}: missing column id (accepted names: {accepted})")]
    MissingIdColumn { line: usize, accepted: String },
    #[error("line {line}: columns {first:?} and {second:?} both mean {field}")]
    DuplicateColumn {
        line: usize,
        field: &'static str,
        first: String,
        second: String,
    },
    #[error("line {line}: column {column} has no header but holds data")]
    UnnamedColumn { line: usize, column: usize },
    #[error("line {line}: {found} cells, but the header has {expected} columns")]
    FieldCount {
        line: usize,
        found: usize,
        expected: usize,
    },
    #[error("line {line}: the user ID is empty")]
    EmptyId { line: usize },
    #[error("line {line}: unknown status {value:?} (use active or disabled, 有効 or 無効)")]
    UnknownStatus { line: usize, value: String },
    #[error("line {line}: user ID {id} appears twice (first on line {first_line})")]
    DuplicateId {
        line: usize,
        id: String,
        first_line: usize,
    },
    #[error("line {line}: the file holds more than {max} users")]
    TooManyRows { line: usize, max: usize },
}

/// The meaning of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    Name,
    Email,
    Groups,
    Status,
    Source,
    /// An `attr:NAME` column: the index of NAME among the file's attribute columns.
    Attribute(usize),
}

/// The prefix of extra attribute columns.
const ATTRIBUTE_PREFIX: &str = "attr:";

/// An attribute column's name: 1-64 of lower-case letters, digits, `_`, `-`, `.`.
fn attribute_name(header: &str) -> Option<String> {
    let name = header.get(ATTRIBUTE_PREFIX.len()..)?;
    let prefix = header.get(..ATTRIBUTE_PREFIX.len())?;
    let ok = prefix.eq_ignore_ascii_case(ATTRIBUTE_PREFIX)
        && !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        });
    ok.then(|| name.to_string())
}

const FIELDS: [(Field, &str, &[&str]); 6] = [
    (Field::Id, "id", ID_NAMES),
    (Field::Name, "name", NAME_NAMES),
    (Field::Email, "email", EMAIL_NAMES),
    (Field::Groups, "groups", GROUPS_NAMES),
    (Field::Status, "status", STATUS_NAMES),
    (Field::Source, "source", SOURCE_NAMES),
];

/// Reads a user file whole; the first problem refuses it.
pub fn parse_users_csv(bytes: &[u8], encoding: CsvEncoding) -> Result<Vec<UserRow>, UserCsvError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(UserCsvError::TooLarge {
            size: bytes.len(),
            max: MAX_FILE_BYTES,
        });
    }
    let text = decode(bytes, encoding)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Field counts are checked below, to name the line in our own words.
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text.as_bytes());

    let mut attr_names: Vec<String> = Vec::new();
    let columns = loop {
        if !read_record(&mut reader, &mut record)? {
            return Err(UserCsvError::NoHeader);
        }
        if !is_blank(&record) {
            break map_columns(&record, lines.start_of(&record), &mut attr_names)?;
        }
    };
    let has = |f: Field| columns.contains(&Some(f));
    let (has_name, has_email, has_groups) =
        (has(Field::Name), has(Field::Email), has(Field::Groups));

    let mut rows = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    while read_record(&mut reader, &mut record)? {
        if is_blank(&record) {
            continue;
        }
        let line = lines.start_of(&record);
        if rows.len() == MAX_ROWS {
            return Err(UserCsvError::TooManyRows {
                line,
                max: MAX_ROWS,
            });
        }
        if record.len() != columns.len() {
            return Err(UserCsvError::FieldCount {
                line,
                found: record.len(),
                expected: columns.len(),
            });
        }
        let mut row = UserRow {
            line,
            id: String::new(),
            display_name: has_name.then(String::new),
            email: has_email.then(String::new),
            groups: has_groups.then(Vec::new),
            status: None,
            attributes: Vec::with_capacity(attr_names.len()),
        };
        for (column, (field, cell)) in columns.iter().zip(record.iter()).enumerate() {
            let cell = cell.trim();
            match field {
                Some(Field::Id) => row.id = cell.to_owned(),
                Some(Field::Name) => row.display_name = Some(cell.to_owned()),
                Some(Field::Email) => row.email = Some(cell.to_owned()),
                Some(Field::Groups) => row.groups = Some(split_groups(cell)),
                Some(Field::Status) => row.status = parse_status(cell, line)?,
                Some(Field::Source) => {}
                Some(Field::Attribute(i)) => {
                    let name = attr_names.get(*i).cloned().unwrap_or_default();
                    row.attributes.push((name, cell.to_owned()));
                }
                None if cell.is_empty() => {}
                None => {
                    return Err(UserCsvError::UnnamedColumn {
                        line,
                        column: column + 1,
                    })
                }
            }
        }
        if row.id.is_empty() {
            return Err(UserCsvError::EmptyId { line });
        }
        if let Some(&first_line) = first_line_of.get(&row.id) {
            return Err(UserCsvError::DuplicateId {
                line,
                id: row.id,
                first_line,
            });
        }
        first_line_of.insert(row.id.clone(), line);
        rows.push(row);
    }
    Ok(rows)
}

/// Decodes the whole file, so that a wrong encoding is reported before any row.
fn decode(bytes: &[u8], encoding: CsvEncoding) -> Result<String, UserCsvError> {
    // As in the WHATWG decode algorithm, a BOM outweighs the chosen encoding: it is
    // the file's own declaration, and Excel writes one for "CSV UTF-8".
    let (encoding, bytes) = match Encoding::for_bom(bytes) {
        Some((enc, _)) if enc != UTF_8 => return Err(UserCsvError::Utf16),
        Some((_, bom_len)) => (CsvEncoding::Utf8, bytes.get(bom_len..).unwrap_or_default()),
        None => (encoding, bytes),
    };
    match encoding {
        CsvEncoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(e) => Err(UserCsvError::NotUtf8 {
                line: line_at(bytes, e.valid_up_to()),
            }),
        },
        CsvEncoding::ShiftJis => decode_shift_jis(bytes),
    }
}

/// Decodes Windows-31J, reporting the line of the first malformed sequence.
fn decode_shift_jis(bytes: &[u8]) -> Result<String, UserCsvError> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(bytes.len().saturating_add(bytes.len() / 2));
    let mut read = 0;
    loop {
        let rest = bytes.get(read..).unwrap_or_default();
        let (result, n) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        read += n;
        match result {
            DecoderResult::InputEmpty => return Ok(text),
            // Half-width katakana grows from one byte to three.
            DecoderResult::OutputFull => text.reserve(rest.len().saturating_sub(n).max(4) * 3),
            DecoderResult::Malformed(bad, after) => {
                let start = read.saturating_sub(usize::from(bad) + usize::from(after));
                return Err(UserCsvError::NotShiftJis {
                    line: line_at(bytes, start),
                });
            }
        }
    }
}

/// The 1-based line holding byte `offset`; 0x0A is never part of a multi-byte
/// character in UTF-8 or Shift_JIS, so counting it is exact.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    let before = bytes.get(..offset).unwrap_or(bytes);
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

/// Reads the next record; `false` at the end of the file.
fn read_record(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::StringRecord,
) -> Result<bool, UserCsvError> {
    reader.read_record(record).map_err(|e| {
        let line = e.position().map_or(0, |p| to_usize(p.line()));
        UserCsvError::Unreadable {
            line,
            reason: e.to_string(),
        }
    })
}

/// Finds the line where each record starts, in one pass over the text.
///
/// csv's `Position::line()` is taken where a read begins: before the `\n` of the
/// previous CRLF and before skipped blank lines, so it lags; its byte offset is
/// exact, and only `\r`/`\n` lie between it and the record's first byte.
struct LineCounter<'t> {
    text: &'t [u8],
    offset: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t [u8]) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// Records come in order, so counting resumes where the last one started.
    fn start_of(&mut self, record: &csv::StringRecord) -> usize {
        let read_from = record.position().map_or(0, |p| to_usize(p.byte()));
        let rest = self.text.get(read_from..).unwrap_or_default();
        let start = read_from
            + rest
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        if let Some(between) = self.text.get(self.offset..start) {
            self.line += between.iter().filter(|&&b| b == b'\n').count();
            self.offset = start;
        }
        self.line
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn is_blank(record: &csv::StringRecord) -> bool {
    record.iter().all(|cell| cell.trim().is_empty())
}

/// Maps each header cell to its field; `None` for a header cell left empty.
fn map_columns(
    header: &csv::StringRecord,
    line: usize,
    attr_names: &mut Vec<String>,
) -> Result<Vec<Option<Field>>, UserCsvError> {
    let mut columns = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    let mut seen: Vec<(Field, &str)> = Vec::new();
    for name in header.iter().map(str::trim) {
        if name.is_empty() {
            columns.push(None);
            continue;
        }
        if let Some(attr) = attribute_name(name) {
            if attr_names.contains(&attr) {
                return Err(UserCsvError::DuplicateColumn {
                    line,
                    field: "attr:",
                    first: format!("{ATTRIBUTE_PREFIX}{attr}"),
                    second: name.to_owned(),
                });
            }
            columns.push(Some(Field::Attribute(attr_names.len())));
            attr_names.push(attr);
            continue;
        }
        let lower = name.to_lowercase();
        let found = FIELDS
            .iter()
            .find(|(_, _, aliases)| aliases.iter().any(|alias| alias.to_lowercase() == lower));
        let Some(&(field, canonical, _)) = found else {
            unknown.push(format!("{name:?}"));
            continue;
        };
        if let Some(&(_, first)) = seen.iter().find(|(f, _)| *f == field) {
            return Err(UserCsvError::DuplicateColumn {
                line,
                field: canonical,
                first: first.to_owned(),
                second: name.to_owned(),
            });
        }
        seen.push((field, name));
        columns.push(Some(field));
    }
    if !unknown.is_empty() {
        return Err(UserCsvError::UnknownColumns {
            line,
            names: unknown.join(", "),
            accepted: accepted_names(),
        });
    }
    if !columns.contains(&Some(Field::Id)) {
        return Err(UserCsvError::MissingIdColumn {
            line,
            accepted: ID_NAMES.join(", "),
        });
    }
    Ok(columns)
}

/// "id (id, user_id, …); name (…); …" for error messages.
fn accepted_names() -> String {
    let mut names: Vec<String> = FIELDS
        .iter()
        .map(|(_, canonical, aliases)| format!("{canonical} ({})", aliases.join(", ")))
        .collect();
    names.push("attr:NAME (an extra attribute, NAME in lower case)".into());
    names.join("; ")
}

fn split_groups(cell: &str) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for group in cell.split([';', '|']).map(str::trim) {
        if !group.is_empty() && !groups.iter().any(|g| g == group) {
            groups.push(group.to_owned());
        }
    }
    groups
}

fn parse_status(cell: &str, line: usize) -> Result<Option<UserStatus>, UserCsvError> {
    match cell.to_lowercase().as_str() {
        "" | "locked" => Ok(None),
        "active" | "enabled" | "有効" => Ok(Some(UserStatus::Active)),
        "disabled" | "無効" => Ok(Some(UserStatus::Disabled)),
        _ => Err(UserCsvError::UnknownStatus {
            line,
            value: cell.to_owned(),
        }),
    }
}

/// One user as written by [`write_users_csv`].
#[derive(Clone, Copy, Debug)]
pub struct ExportRow<'a> {
    pub id: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub groups: &'a [String],
    pub status: &'a str,
    pub source: &'a str,
}

/// Writes users as UTF-8 CSV with a BOM and CRLF line ends, the form Excel opens
/// right; the header matches what [`parse_users_csv`] reads back.
pub fn write_users_csv<'a>(
    rows: impl IntoIterator<Item = ExportRow<'a>>,
    mut out: impl Write,
) -> std::io::Result<()> {
    out.write_all(UTF8_BOM)?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(["id", "name", "email", "groups", "status", "source"])?;
    for row in rows {
        let groups = row.groups.join(";");
        writer.write_record([
            &*neutralise_formula(row.id),
            &neutralise_formula(row.display_name),
            &neutralise_formula(row.email.unwrap_or_default()),
            &neutralise_formula(&groups),
            &neutralise_formula(row.status),
            &neutralise_formula(row.source),
        ])?;
    }
    writer.flush()
}

/// Prefixes `'` to a cell a spreadsheet would run as a formula (OWASP "CSV
/// Injection"): a display name like `=HYPERLINK(…)` comes from users.
pub fn neutralise_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<UserRow>, UserCsvError> {
        parse_users_csv(text.as_bytes(), CsvEncoding::Utf8)
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(rows) => panic!("expected an error, got {rows:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn export(rows: &[ExportRow<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        write_users_csv(rows.iter().copied(), &mut out).unwrap();
        out
    }

    #[test]
    fn encoding_names() {
        for name in ["utf-8", "UTF8", " Utf-8 "] {
            assert_eq!(name.parse::<CsvEncoding>().unwrap(), CsvEncoding::Utf8);
        }
        for name in ["shift_jis", "SJIS", "Shift-JIS", "cp932", "Windows-31J"] {
            assert_eq!(name.parse::<CsvEncoding>().unwrap(), CsvEncoding::ShiftJis);
        }
        assert!("latin1".parse::<CsvEncoding>().is_err());
    }

    #[test]
    fn header_aliases_including_japanese() {
        let rows = parse(
            "ユーザーＩＤ,氏名,メールアドレス,グループ,状態\nalice,Alice,a@example.com,x,有効\n",
        )
        .unwrap();
        assert_eq!(rows[0].id, "alice");
        assert_eq!(rows[0].display_name.as_deref(), Some("Alice"));
        assert_eq!(rows[0].email.as_deref(), Some("a@example.com"));
        assert_eq!(rows[0].groups, Some(vec!["x".to_owned()]));
        assert_eq!(rows[0].status, Some(UserStatus::Active));

        let rows = parse(" User_ID , DisplayName ,E-Mail,GROUP,Status\nbob,Bob,b@example.com,,\n")
            .unwrap();
        assert_eq!(rows[0].id, "bob");
        assert_eq!(rows[0].display_name.as_deref(), Some("Bob"));
        assert_eq!(rows[0].email.as_deref(), Some("b@example.com"));

        for header in [
            "id",
            "userid",
            "user",
            "login",
            "ユーザーID",
            "ユーザーｉｄ",
        ] {
            let rows = parse(&format!("{header},表示名,メール\ncarol,C,c@example.com\n")).unwrap();
            assert_eq!(rows[0].id, "carol", "{header}");
        }
    }

    #[test]
    fn shift_jis_file_parses_to_the_right_text() {
        let text = "ユーザーID,氏名,グループ\r\ntaro,山田 太郎,営業部;ｶﾅ\r\n";
        let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
        assert!(!unmappable);
        let rows = parse_users_csv(&bytes, CsvEncoding::ShiftJis).unwrap();
        assert_eq!(rows[0].id, "taro");
        assert_eq!(rows[0].display_name.as_deref(), Some("山田 太郎"));
        assert_eq!(
            rows[0].groups,
            Some(vec!["営業部".to_owned(), "ｶﾅ".to_owned()])
        );
    }

    #[test]
    fn shift_jis_read_as_utf8_suggests_shift_jis() {
        let (bytes, _, _) = SHIFT_JIS.encode("id,name\r\nalice,Alice\r\ntaro,山田\r\n");
        let e = parse_users_csv(&bytes, CsvEncoding::Utf8).unwrap_err();
        assert!(matches!(e, UserCsvError::NotUtf8 { line: 3 }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with("line 3:") && msg.contains("--encoding shift_jis"),
            "{msg}"
        );
    }

    #[test]
    fn malformed_shift_jis_names_the_line() {
        // 0x81 is a lead byte; 0x20 cannot follow it.
        let e = parse_users_csv(b"id\nalice\nb\x81 ob\n", CsvEncoding::ShiftJis).unwrap_err();
        assert!(matches!(e, UserCsvError::NotShiftJis { line: 3 }), "{e:?}");
        // A lead byte cut off by the end of the file.
        let e = parse_users_csv(b"id\nalice\x81", CsvEncoding::ShiftJis).unwrap_err();
        assert!(matches!(e, UserCsvError::NotShiftJis { line: 2 }), "{e:?}");
    }

    #[test]
    fn bom_is_stripped_and_outweighs_the_chosen_encoding() {
        let bytes = [UTF8_BOM, "id,name\nalice,アリス\n".as_bytes()].concat();
        for encoding in [CsvEncoding::Utf8, CsvEncoding::ShiftJis] {
            let rows = parse_users_csv(&bytes, encoding).unwrap();
            assert_eq!(rows[0].id, "alice");
            assert_eq!(rows[0].display_name.as_deref(), Some("アリス"));
        }
        let utf16 = [0xFF, 0xFE, b'i', 0, b'd', 0];
        let e = parse_users_csv(&utf16, CsvEncoding::Utf8).unwrap_err();
        assert!(matches!(e, UserCsvError::Utf16));
    }

    #[test]
    fn missing_id_column() {
        let msg = err("name,email\nAlice,a@example.com\n");
        assert!(msg.contains("missing column id"), "{msg}");
        assert!(msg.contains("user_id"), "{msg}");
    }

    #[test]
    fn unknown_columns_are_named_with_the_accepted_ones() {
        let msg = err("id,phone,name,dept\nalice,1,Alice,x\n");
        assert!(msg.starts_with("line 1:"), "{msg}");
        assert!(msg.contains("\"phone\", \"dept\""), "{msg}");
        assert!(msg.contains("email (email, mail, e-mail"), "{msg}");
    }

    #[test]
    fn the_same_column_twice_is_refused() {
        let msg = err("id,name,表示名\nalice,A,B\n");
        assert!(
            msg.contains("\"name\" and \"表示名\" both mean name"),
            "{msg}"
        );
        assert!(parse("ID,id\na,b\n").is_err());
    }

    #[test]
    fn empty_file_or_header_only() {
        assert!(matches!(parse(""), Err(UserCsvError::NoHeader)));
        assert!(matches!(parse("\n \n,,\n"), Err(UserCsvError::NoHeader)));
        assert!(parse("id,name\n").unwrap().is_empty());
    }

    #[test]
    fn duplicate_ids_name_both_lines() {
        let msg = err("id\nbob\nalice\ncarol\n\ndave\neve\nalice\n");
        assert_eq!(msg, "line 8: user ID alice appears twice (first on line 3)");
        // IDs are compared case-sensitively here; the caller's rules may fold case.
        assert_eq!(parse("id\nAlice\nalice\n").unwrap().len(), 2);
    }

    #[test]
    fn wrong_field_count_names_the_line() {
        let msg = err("id,name\nalice,Alice\nbob\n");
        assert_eq!(msg, "line 3: 1 cells, but the header has 2 columns");
        let msg = err("id,name\nalice,Alice,extra\n");
        assert!(msg.starts_with("line 2:"), "{msg}");
    }

    #[test]
    fn quoted_newline_advances_the_line_count() {
        let text = "id,name\r\nalice,\"two\r\nlines\"\r\nbob,Bob\r\nbob,again\r\n";
        let msg = err(text);
        assert_eq!(msg, "line 5: user ID bob appears twice (first on line 4)");
        let rows = parse("id,name\nalice,\"a\nb\nc\"\n\n,\nbob,Bob\n").unwrap();
        assert_eq!(rows[0].display_name.as_deref(), Some("a\nb\nc"));
        assert_eq!((rows[0].line, rows[1].line), (2, 7));
        let msg = err("\r\n\r\nid,name\r\n\r\nalice,\"x\ny\"\r\n\r\n,\r\nbob\r\n");
        assert_eq!(msg, "line 9: 1 cells, but the header has 2 columns");
    }

    #[test]
    fn empty_id_is_refused() {
        assert_eq!(err("id,name\n ,Alice\n"), "line 2: the user ID is empty");
    }

    #[test]
    fn groups_are_split_trimmed_and_deduplicated() {
        let rows = parse("id,groups\na, sales ; it|sales;;  | ops \nb,\n").unwrap();
        let want: Vec<String> = ["sales", "it", "ops"].map(String::from).to_vec();
        assert_eq!(rows[0].groups, Some(want));
        assert_eq!(rows[1].groups, Some(vec![]));
    }

    #[test]
    fn status_words() {
        let rows =
            parse("id,status\na,active\nb,Disabled\nc,ENABLED\nd,有効\ne,無効\nf,\ng,locked\n")
                .unwrap();
        let got: Vec<_> = rows.iter().map(|r| r.status).collect();
        use UserStatus::*;
        assert_eq!(
            got,
            [
                Some(Active),
                Some(Disabled),
                Some(Active),
                Some(Active),
                Some(Disabled),
                None,
                None
            ]
        );
        assert_eq!(
            err("id,status\na,active\nb,paused\n"),
            "line 3: unknown status \"paused\" (use active or disabled, 有効 or 無効)"
        );
    }

    #[test]
    fn empty_cells_clear_and_missing_columns_leave_alone() {
        let rows = parse("id,name,email,groups\nalice,,,\n").unwrap();
        assert_eq!(rows[0].display_name.as_deref(), Some(""));
        assert_eq!(rows[0].email.as_deref(), Some(""));
        assert_eq!(rows[0].groups, Some(vec![]));
        assert_eq!(rows[0].status, None);

        let rows = parse("id\nalice\n").unwrap();
        let want = UserRow {
            line: 2,
            id: "alice".into(),
            display_name: None,
            email: None,
            groups: None,
            status: None,
            attributes: vec![],
        };
        assert_eq!(rows, [want]);
    }

    #[test]
    fn attribute_columns_carry_extra_attributes() {
        let rows = parse_users_csv(
            b"id,attr:immutable_id,Attr:employee_no\nalice,AAECAwQFBgcICQoLDA0ODw==,42\nbob,,7\n",
            CsvEncoding::Utf8,
        )
        .unwrap();
        assert_eq!(
            rows[0].attributes,
            [
                (
                    "immutable_id".to_string(),
                    "AAECAwQFBgcICQoLDA0ODw==".to_string()
                ),
                ("employee_no".to_string(), "42".to_string())
            ]
        );
        assert_eq!(
            rows[1].attributes[0],
            ("immutable_id".into(), String::new())
        );
        // Upper-case or odd names are not attributes; a name twice is refused.
        assert!(matches!(
            parse_users_csv(b"id,attr:Immutable ID\nalice,x\n", CsvEncoding::Utf8),
            Err(UserCsvError::UnknownColumns { .. })
        ));
        assert!(matches!(
            parse_users_csv(b"id,attr:a,attr:a\nalice,x,y\n", CsvEncoding::Utf8),
            Err(UserCsvError::DuplicateColumn { .. })
        ));
    }

    #[test]
    fn blank_lines_are_skipped_and_unnamed_empty_columns_ignored() {
        let rows = parse("\nid,name,\n\nalice,Alice,\n , , \nbob,Bob,\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[1].line), (4, 6));
        let msg = err("id,name,\nalice,Alice,oops\n");
        assert_eq!(msg, "line 2: column 3 has no header but holds data");
    }

    #[test]
    fn limits() {
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(matches!(
            parse_users_csv(&big, CsvEncoding::Utf8),
            Err(UserCsvError::TooLarge { .. })
        ));
        let mut text = String::from("id\n");
        for i in 0..=MAX_ROWS {
            text.push_str(&format!("u{i}\n"));
        }
        let msg = err(&text);
        assert_eq!(
            msg,
            format!(
                "line {}: the file holds more than {MAX_ROWS} users",
                MAX_ROWS + 2
            )
        );
    }

    #[test]
    fn a_hundred_thousand_rows() {
        let mut text = String::from("id,name,email,groups,status\n");
        for i in 0..100_000 {
            text.push_str(&format!(
                "user{i},User {i},user{i}@example.com,staff;team{},active\n",
                i % 50
            ));
        }
        let started = std::time::Instant::now();
        let rows = parse(&text).unwrap();
        eprintln!("parsed 100000 rows in {:?}", started.elapsed());
        assert_eq!(rows.len(), 100_000);
    }

    #[test]
    fn export_neutralises_formulas_and_starts_with_the_bom() {
        let groups = ["-admins".to_owned(), "staff".to_owned()];
        let out = export(&[ExportRow {
            id: "alice",
            display_name: "=cmd|' /C calc'!A0",
            email: Some("@evil"),
            groups: &groups,
            status: "+1",
            source: "\tcsv",
        }]);
        assert!(out.starts_with(UTF8_BOM));
        let text = std::str::from_utf8(&out[3..]).unwrap();
        assert_eq!(
            text,
            "id,name,email,groups,status,source\r\n\
             alice,'=cmd|' /C calc'!A0,'@evil,'-admins;staff,'+1,'\tcsv\r\n"
        );
    }

    #[test]
    fn export_then_import_round_trips() {
        let g1 = ["sales".to_owned(), "営業".to_owned()];
        let rows = [
            ExportRow {
                id: "alice",
                display_name: "Alice \"Al\", Jr.",
                email: Some("alice@example.com"),
                groups: &g1,
                status: "active",
                source: "local",
            },
            ExportRow {
                id: "taro",
                display_name: "山田\n太郎",
                email: None,
                groups: &[],
                status: "disabled",
                source: "csv",
            },
            ExportRow {
                id: "mallory",
                display_name: "=HYPERLINK(\"http://x\")",
                email: Some("m@example.com"),
                groups: &[],
                status: "active",
                source: "ldap",
            },
        ];
        let back = parse_users_csv(&export(&rows), CsvEncoding::Utf8).unwrap();
        assert_eq!(back.len(), 3);
        for (b, r) in back.iter().zip(&rows) {
            assert_eq!(b.id, r.id);
            assert_eq!(b.email.as_deref(), Some(r.email.unwrap_or("")));
            assert_eq!(b.groups.as_deref(), Some(r.groups));
            assert_eq!(b.status.map(UserStatus::as_str), Some(r.status));
        }
        assert_eq!(back[0].display_name.as_deref(), Some("Alice \"Al\", Jr."));
        assert_eq!(back[1].display_name.as_deref(), Some("山田\n太郎"));
        // The apostrophe stays: the cell was data and stays data.
        assert_eq!(
            back[2].display_name.as_deref(),
            Some("'=HYPERLINK(\"http://x\")")
        );
        assert_eq!((back[1].line, back[2].line), (3, 5));
    }
}
