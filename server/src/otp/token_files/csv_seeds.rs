//! CSV seed files: `serial,seed[,algorithm,digits,period]`.

use std::collections::HashMap;

use zeroize::Zeroizing;

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Serial,
    Seed,
    Algorithm,
    Digits,
    Period,
}

/// The column order of a file without a header.
const POSITIONAL: [Column; 5] = [
    Column::Serial,
    Column::Seed,
    Column::Algorithm,
    Column::Digits,
    Column::Period,
];

impl Column {
    fn name(self) -> &'static str {
        match self {
            Self::Serial => "serial",
            Self::Seed => "seed",
            Self::Algorithm => "algorithm",
            Self::Digits => "digits",
            Self::Period => "period",
        }
    }

    /// Header names vendors use for each column ("Serial No", "secret", "time step"…).
    fn from_header(name: &str) -> Option<Self> {
        let key: String = name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "serial" | "serialno" | "serialnumber" => Some(Self::Serial),
            "seed" | "secret" | "key" => Some(Self::Seed),
            "algorithm" | "algo" | "hash" => Some(Self::Algorithm),
            "digits" | "length" => Some(Self::Digits),
            "period" | "interval" | "timestep" | "step" => Some(Self::Period),
            _ => None,
        }
    }
}

/// Reads a CSV seed file: `serial,seed[,algorithm,digits,period]`, UTF-8 (a BOM is
/// skipped), an optional header (its first field `serial`) that may reorder columns,
/// seeds in hex (even length) or base32. One bad line refuses the whole file.
pub fn parse_seed_csv(bytes: &[u8]) -> Result<Vec<TokenRecord>, TokenFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(TokenFileError::TooLarge {
            max: MAX_FILE_BYTES,
        });
    }
    let body = strip_bom(bytes);
    if let Err(error) = std::str::from_utf8(body) {
        let line = 1 + count_newlines(&body[..error.valid_up_to()]);
        return Err(TokenFileError::Csv {
            line,
            problem: CsvProblem::NotUtf8,
        });
    }
    // Note: the csv reader keeps copies of fields in its own buffers, which are not
    // zeroized; the decoded seeds are.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let mut record = csv::StringRecord::new();
    // The reader's own line count skips empty lines; count newlines ourselves so
    // "line N" is what an editor shows.
    let mut lines = LineCounter::default();
    let mut columns: Option<Vec<Column>> = None;
    let mut first_line_seen = false;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut tokens = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let offset = error
                    .position()
                    .map_or(body.len() as u64, csv::Position::byte);
                let line = lines.line_at(body, offset);
                return Err(TokenFileError::Csv {
                    line,
                    problem: CsvProblem::Syntax(csv_error_kind(&error)),
                });
            }
        }
        let offset = record.position().map_or(0, csv::Position::byte);
        let line = lines.line_at(body, skip_line_breaks(body, offset));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let at_line = |problem| TokenFileError::Csv { line, problem };
        if !first_line_seen {
            first_line_seen = true;
            let is_header = record
                .get(0)
                .and_then(Column::from_header)
                .is_some_and(|column| column == Column::Serial);
            if is_header {
                columns = Some(header_columns(&record).map_err(at_line)?);
                continue;
            }
        }
        if tokens.len() >= MAX_TOKENS {
            return Err(TokenFileError::TooManyTokens { max: MAX_TOKENS });
        }
        let token = token_from_row(&record, columns.as_deref()).map_err(at_line)?;
        if let Some(&first_line) = seen.get(&token.serial) {
            return Err(at_line(CsvProblem::DuplicateSerial {
                serial: token.serial,
                first_line,
            }));
        }
        seen.insert(token.serial.clone(), line);
        tokens.push(token);
    }
    if tokens.is_empty() {
        return Err(TokenFileError::NoTokens);
    }
    Ok(tokens)
}

/// Turns byte offsets (met in increasing order) into 1-based line numbers in O(n).
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, body: &[u8], offset: u64) -> u64 {
        let offset = usize::try_from(offset).map_or(body.len(), |o| o.min(body.len()));
        if offset >= self.offset {
            self.newlines += count_newlines(&body[self.offset..offset]);
            self.offset = offset;
        } else {
            self.newlines = count_newlines(&body[..offset]);
            self.offset = offset;
        }
        self.newlines + 1
    }
}

fn header_columns(record: &csv::StringRecord) -> Result<Vec<Column>, CsvProblem> {
    let mut columns = Vec::with_capacity(record.len());
    for name in record.iter() {
        let column =
            Column::from_header(name).ok_or_else(|| CsvProblem::UnknownColumn(shown(name)))?;
        if columns.contains(&column) {
            return Err(CsvProblem::RepeatedColumn(column.name()));
        }
        columns.push(column);
    }
    for needed in [Column::Serial, Column::Seed] {
        if !columns.contains(&needed) {
            return Err(CsvProblem::MissingColumn(needed.name()));
        }
    }
    Ok(columns)
}

fn token_from_row(
    record: &csv::StringRecord,
    header: Option<&[Column]>,
) -> Result<TokenRecord, CsvProblem> {
    let count = record.len();
    let columns = match header {
        Some(columns) if count > columns.len() => {
            return Err(CsvProblem::ExtraFields {
                found: count,
                expected: columns.len(),
            })
        }
        Some(columns) => columns,
        None if !(2..=POSITIONAL.len()).contains(&count) => {
            return Err(CsvProblem::FieldCount(count))
        }
        None => &POSITIONAL[..],
    };
    let (mut serial, mut seed, mut algorithm, mut digits, mut period) = ("", "", "", "", "");
    for (column, value) in columns.iter().zip(record.iter()) {
        match column {
            Column::Serial => serial = value,
            Column::Seed => seed = value,
            Column::Algorithm => algorithm = value,
            Column::Digits => digits = value,
            Column::Period => period = value,
        }
    }

    if serial.is_empty() {
        return Err(CsvProblem::NoSerial);
    }
    if !serial_is_acceptable(serial) {
        return Err(CsvProblem::BadSerial);
    }
    let secret = seed_from_text(seed)?;
    let defaults = TotpParams::default();
    let algorithm = if algorithm.is_empty() {
        defaults.algorithm
    } else {
        algorithm
            .parse::<TotpAlgorithm>()
            .map_err(CsvProblem::Totp)?
    };
    let digits = csv_number("digits", digits, defaults.digits)?;
    let period = csv_number("period", period, defaults.period)?;
    let params = TotpParams::new(algorithm, digits, period).map_err(CsvProblem::Totp)?;
    Ok(TokenRecord {
        serial: serial.to_owned(),
        secret,
        params,
    })
}

fn csv_number<T: std::str::FromStr>(
    field: &'static str,
    value: &str,
    default: T,
) -> Result<T, CsvProblem> {
    if value.is_empty() {
        return Ok(default);
    }
    value.parse().map_err(|_| CsvProblem::NotANumber {
        field,
        value: shown(value),
    })
}

/// Hex when the seed is an even number of hex digits, base32 otherwise. A base32 seed
/// made only of A–F and 2–7 would read as hex; for a random seed of 16 or more
/// characters that chance is below one in a million.
fn seed_from_text(text: &str) -> Result<TotpSecret, CsvProblem> {
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    if compact.is_empty() {
        return Err(CsvProblem::NoSeed);
    }
    if compact.len().is_multiple_of(2) && compact.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut bytes = Zeroizing::new(vec![0u8; compact.len() / 2]);
        hex::decode_to_slice(compact.as_bytes(), &mut bytes[..])
            .map_err(|_| CsvProblem::SeedEncoding)?;
        return TotpSecret::from_bytes(std::mem::take(&mut *bytes)).map_err(CsvProblem::Totp);
    }
    TotpSecret::from_base32(&compact).map_err(|error| match error {
        TotpError::NotBase32 => CsvProblem::SeedEncoding,
        other => CsvProblem::Totp(other),
    })
}

fn csv_error_kind(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths { .. } => "rows of unequal length".to_owned(),
        _ => "unreadable".to_owned(),
    }
}
