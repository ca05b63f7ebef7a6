//! Importing accounts from the spreadsheet a programme starts with: reading its rows,
//! each mistake named by line and column, before anything is looked up or saved. What
//! each row will do to the accounts already there is decided in `app::import`.

use super::Invalid;
use super::accounts::{self, Email, Role};
use super::helpers::{HelperProfile, ProfileInput, split_list};
use super::support::{Appointment, Topic};

/// At most this many rows in one file: a programme's helper corps, with room to spare.
pub const MAX_ROWS: usize = 20_000;

/// The columns wecare reads, by their canonical names (headers are matched without case,
/// spaces or dashes: "E-mail", "Display name" and "display_name" all read).
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "email",
        "the person's address (required; an account is found by it)",
    ),
    (
        "name",
        "the name shown to others (required for a new account)",
    ),
    (
        "roles",
        "member, helper, coordinator or admin, several separated by ; (roles are added, never taken away)",
    ),
    ("department", "a helper's department"),
    ("appointment", "clinical or non-clinical"),
    ("rank", "a helper's rank, e.g. Associate Professor"),
    ("languages", "languages a helper offers, separated by ;"),
    (
        "topics",
        "topics a helper takes, by key or by name, separated by ;",
    ),
    (
        "capacity",
        "how many people a helper supports at once (0 to 10; default 2)",
    ),
];

const PROFILE_COLUMNS: &[&str] = &[
    "department",
    "appointment",
    "rank",
    "languages",
    "topics",
    "capacity",
];

/// One mistake in the file: the line (1 is the header) and the column it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMistake {
    pub line: u64,
    pub column: String,
    pub message: String,
}

/// A row as read and checked on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub email: Email,
    /// The name, where the row gives one.
    pub name: Option<String>,
    /// Roles to add; "member" adds none.
    pub roles: Vec<Role>,
    /// The helper profile's cells the row fills, where it fills any.
    pub profile: Option<ProfileCells>,
}

/// The parts of a helper profile a row gives; the rest of the profile (what the helper
/// wrote about themselves, when they are away) stays as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileCells {
    pub department: Option<String>,
    pub appointment: Option<Appointment>,
    pub rank: Option<String>,
    pub languages: Option<Vec<String>>,
    pub topics: Option<Vec<Topic>>,
    pub capacity: Option<u32>,
}

impl ProfileCells {
    /// `base` with the row's cells written over it.
    pub fn apply(&self, base: &HelperProfile) -> HelperProfile {
        let mut p = base.clone();
        if let Some(d) = &self.department {
            p.department = d.clone();
        }
        if let Some(a) = self.appointment {
            p.appointment = Some(a);
        }
        if let Some(r) = &self.rank {
            p.rank = r.clone();
        }
        if let Some(l) = &self.languages {
            p.languages = l.clone();
        }
        if let Some(t) = &self.topics {
            p.topics = t.clone();
        }
        if let Some(c) = self.capacity {
            p.capacity = c;
        }
        p
    }
}

/// A header as its canonical column name, if it is one wecare reads.
fn canonical(header: &str) -> Option<&'static str> {
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .collect();
    let name = match h.as_str() {
        "email" | "emailaddress" | "mail" => "email",
        "name" | "displayname" | "fullname" => "name",
        "roles" | "role" => "roles",
        "department" | "dept" => "department",
        "appointment" | "appointmenttype" => "appointment",
        "rank" | "careerrank" | "title" => "rank",
        "languages" | "language" => "languages",
        "topics" | "topic" => "topics",
        "capacity" => "capacity",
        _ => return None,
    };
    Some(name)
}

/// A choice typed by a person: its key or its label, without case, spaces or dashes.
fn loose<T: Copy>(
    all: &[T],
    key: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    typed: &str,
) -> Option<T> {
    let norm = |s: &str| -> String {
        s.to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect()
    };
    let t = norm(typed);
    all.iter()
        .copied()
        .find(|v| norm(key(*v)) == t || norm(label(*v)) == t)
}

/// Reads a CSV file (UTF-8, a header row first): the rows that read, and every mistake
/// (up to `limit`), so that a dry run can show both.
pub fn read_rows(bytes: &[u8], limit: usize) -> (Vec<ImportRow>, Vec<RowMistake>) {
    let mut mistakes = Vec::new();
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    // Spreadsheets in many European locales save "CSV" with semicolons.
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if !first_line.contains(&b',') && first_line.contains(&b';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(bytes);
    let headers = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let m = RowMistake {
                line: 1,
                column: String::new(),
                message: format!("The first line cannot be read as CSV ({e})."),
            };
            return (Vec::new(), vec![m]);
        }
    };
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    for raw in headers.iter() {
        let Ok(text) = std::str::from_utf8(raw) else {
            return (Vec::new(), vec![not_utf8(1)]);
        };
        match canonical(text) {
            Some(c) if columns.contains(&Some(c)) => mistakes.push(RowMistake {
                line: 1,
                column: text.trim().to_string(),
                message: format!("The column {c} is there twice; keep one."),
            }),
            Some(c) => columns.push(Some(c)),
            None if text.trim().is_empty() => columns.push(None),
            None => mistakes.push(RowMistake {
                line: 1,
                column: text.trim().chars().filter(|c| !c.is_control()).take(60).collect(),
                message: format!(
                    "wecare does not read a column of this name; rename or remove it (columns: {}).",
                    COLUMNS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }
    if !columns.contains(&Some("email")) {
        mistakes.push(RowMistake {
            line: 1,
            column: "email".into(),
            message: "There is no email column; the first line must name the columns, with email among them.".into(),
        });
    }
    if !mistakes.is_empty() {
        return (Vec::new(), mistakes);
    }
    // The line a record starts on, counted from its byte offset (the reader's own line
    // count is one short after CRLF line ends, which spreadsheets write).
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    let mut line_at = |byte: u64| -> u64 {
        let mut byte = usize::try_from(byte)
            .unwrap_or(bytes.len())
            .min(bytes.len());
        // After CRLF a record's offset is that of the `\n` before it.
        while matches!(bytes.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        if byte > counted_to {
            newlines += bytes[counted_to..byte]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted_to = byte;
        }
        newlines + 1
    };
    let mut rows: Vec<ImportRow> = Vec::new();
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for record in reader.byte_records() {
        if mistakes.len() >= limit {
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                mistakes.push(RowMistake {
                    line,
                    column: String::new(),
                    message: match e.kind() {
                        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
                            "This line has {len} cells where the first has {expected_len}; check for a missing or extra comma."
                        ),
                        _ => format!("This line cannot be read as CSV ({e})."),
                    },
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        if rows.len() + mistakes.len() >= MAX_ROWS {
            mistakes.push(RowMistake {
                line,
                column: String::new(),
                message: format!("A file may hold at most {MAX_ROWS} rows; split it in two."),
            });
            break;
        }
        let mut cells: Vec<(&'static str, String)> = Vec::new();
        let mut readable = true;
        for (i, raw) in record.iter().enumerate() {
            let Some(Some(column)) = columns.get(i) else {
                continue;
            };
            match std::str::from_utf8(raw) {
                // Control characters would be stored and echoed (to a terminal, too);
                // only a bio may hold line breaks and tabs.
                Ok(t)
                    if t.chars().any(|c| {
                        c.is_control() && !(*column == "bio" && matches!(c, '\n' | '\r' | '\t'))
                    }) =>
                {
                    mistakes.push(RowMistake {
                        line,
                        column: column.to_string(),
                        message: "This cell holds a control character (a NUL, an escape or a line break); retype it.".into(),
                    });
                    readable = false;
                }
                Ok(t) => cells.push((column, t.trim().to_string())),
                Err(_) => {
                    mistakes.push(not_utf8(line));
                    readable = false;
                }
            }
        }
        if !readable {
            continue;
        }
        // A row of empty cells (a spreadsheet's trailing lines) is no row.
        if cells.iter().all(|(_, v)| v.is_empty()) {
            continue;
        }
        match read_row(line, &cells) {
            Ok(row) => {
                if let Some(first) = seen.get(row.email.as_str()) {
                    mistakes.push(RowMistake {
                        line,
                        column: "email".into(),
                        message: format!(
                            "This address is on line {first} too; keep one row per person."
                        ),
                    });
                } else {
                    seen.insert(row.email.as_str().to_string(), line);
                    rows.push(row);
                }
            }
            Err(mut m) => mistakes.append(&mut m),
        }
    }
    if rows.is_empty() && mistakes.is_empty() {
        mistakes.push(RowMistake {
            line: 2,
            column: String::new(),
            message: "The file has no rows below its first line: one row per person, please."
                .into(),
        });
    }
    mistakes.truncate(limit);
    (rows, mistakes)
}

fn not_utf8(line: u64) -> RowMistake {
    RowMistake {
        line,
        column: String::new(),
        message: "This line is not UTF-8 text; save the spreadsheet as \"CSV UTF-8\".".into(),
    }
}

/// One row's cells, by column, checked.
fn read_row(line: u64, cells: &[(&'static str, String)]) -> Result<ImportRow, Vec<RowMistake>> {
    let get = |c: &str| {
        cells
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let mut mistakes = Vec::new();
    let mut note = |column: &str, e: Invalid| {
        for m in e.mistakes() {
            mistakes.push(RowMistake {
                line,
                column: column.to_string(),
                message: m.message.clone(),
            });
        }
    };
    let email = match Email::parse(get("email")) {
        Ok(e) => Some(e),
        Err(e) => {
            note("email", e);
            None
        }
    };
    let name = match get("name") {
        "" => None,
        n => match accounts::display_name(n) {
            Ok(n) => Some(n),
            Err(e) => {
                note("name", e);
                None
            }
        },
    };
    let mut roles = Vec::new();
    for r in split_list(get("roles")) {
        match Role::parse(&r) {
            Ok(Some(role)) if !roles.contains(&role) => roles.push(role),
            Ok(_) => {}
            Err(_) => note(
                "roles",
                Invalid::new(
                    "roles",
                    format!("'{r}' is not a role; use member, helper, coordinator or admin."),
                ),
            ),
        }
    }
    roles.sort();
    let profile = if PROFILE_COLUMNS.iter().any(|c| !get(c).is_empty()) {
        let appointment = match get("appointment") {
            "" => None,
            a => match loose(Appointment::ALL, Appointment::key, Appointment::label, a) {
                Some(a) => Some(a),
                None => {
                    note(
                        "appointment",
                        Invalid::new(
                            "appointment",
                            format!("'{a}' is not clinical or non-clinical."),
                        ),
                    );
                    None
                }
            },
        };
        let mut topics = Vec::new();
        for t in split_list(get("topics")) {
            match loose(Topic::ALL, Topic::key, Topic::label, &t) {
                Some(topic) => topics.push(topic),
                None => note(
                    "topics",
                    Invalid::new(
                        "topics",
                        format!(
                            "'{t}' is not a topic; use {}.",
                            Topic::ALL
                                .iter()
                                .map(|t| t.key())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ),
                ),
            }
        }
        let capacity = match get("capacity") {
            "" => Some(2),
            c => match c.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    note(
                        "capacity",
                        Invalid::new(
                            "capacity",
                            format!("'{c}' is not a whole number of people."),
                        ),
                    );
                    None
                }
            },
        };
        let input = ProfileInput {
            department: get("department").to_string(),
            appointment,
            rank: get("rank").to_string(),
            genders: Vec::new(),
            race_ethnicities: Vec::new(),
            languages: split_list(get("languages")),
            topics,
            capacity: capacity.unwrap_or(2),
            away_until: None,
            bio: String::new(),
            bio_public: false,
        };
        let filled = |c: &str| !get(c).is_empty();
        match HelperProfile::parse(&input) {
            Ok(p) => Some(ProfileCells {
                department: filled("department").then(|| p.department.clone()),
                appointment: p.appointment,
                rank: filled("rank").then(|| p.rank.clone()),
                languages: filled("languages").then(|| p.languages.clone()),
                topics: filled("topics").then(|| p.topics.clone()),
                capacity: filled("capacity").then_some(p.capacity),
            }),
            Err(e) => {
                // The profile's rules name their fields as the columns are named.
                for m in e.mistakes() {
                    mistakes.push(RowMistake {
                        line,
                        column: m.field.to_string(),
                        message: m.message.clone(),
                    });
                }
                None
            }
        }
    } else {
        None
    };
    match (email, mistakes.is_empty()) {
        (Some(email), true) => Ok(ImportRow {
            line,
            email,
            name,
            roles,
            profile,
        }),
        _ => Err(mistakes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spreadsheet_is_read_with_its_own_headers() {
        let csv = "\u{feff}E-mail,Display Name,Role,Dept,Appointment,Languages,Topics,Capacity\r\n\
                   ada@example.edu,Ada Lovelace,helper; coordinator,Surgery,Non-clinical,English; French,burnout; Conflict at work,3\r\n\
                   ,,,,,,,\r\n\
                   \"grace@example.edu\",\"Hopper, Grace\",member,,,,,\r\n";
        let (rows, mistakes) = read_rows(csv.as_bytes(), 100);
        assert!(mistakes.is_empty(), "{mistakes:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].roles, vec![Role::Helper, Role::Coordinator]);
        let cells = rows[0].profile.as_ref().expect("a profile");
        assert_eq!(cells.rank, None, "no rank column: the helper's own stays");
        let p = cells.apply(&HelperProfile {
            rank: "Professor".into(),
            bio: "Ask me about rounds".into(),
            ..Default::default()
        });
        assert_eq!(p.appointment, Some(Appointment::NonClinical));
        assert_eq!(p.topics, vec![Topic::Burnout, Topic::WorkplaceConflict]);
        assert_eq!((p.capacity, p.languages.len()), (3, 2));
        assert_eq!(
            (p.rank.as_str(), p.bio.as_str()),
            ("Professor", "Ask me about rounds")
        );
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].name.as_deref(), Some("Hopper, Grace"));
        assert!(rows[1].roles.is_empty() && rows[1].profile.is_none());
    }

    #[test]
    fn every_mistake_names_its_line_and_column() {
        let csv = "email,name,roles,capacity,topics\n\
                   not-an-address,Ada,helper,2,\n\
                   bo@example.edu,Bo,wizard,11,sleep\n\
                   dee@example.edu,Dee,,,\n\
                   DEE@example.edu,Dee again,,,\n\
                   cy@example.edu,Cy\n";
        let (rows, m) = read_rows(csv.as_bytes(), 100);
        assert_eq!(rows.len(), 1, "dee's first row reads: {rows:?}");
        let at: Vec<(u64, &str)> = m.iter().map(|m| (m.line, m.column.as_str())).collect();
        assert!(at.contains(&(2, "email")), "{m:?}");
        assert!(at.contains(&(3, "roles")), "{m:?}");
        assert!(at.contains(&(3, "topics")), "{m:?}");
        assert!(at.contains(&(3, "capacity")), "{m:?}");
        assert!(at.contains(&(5, "email")), "the same address twice: {m:?}");
        assert!(
            m.iter().any(|m| m.line == 6 && m.message.contains("cells")),
            "{m:?}"
        );
        let unknown = read_rows(b"email,password\nada@example.edu,x\n", 100).1;
        assert_eq!(
            (unknown[0].line, unknown[0].column.as_str()),
            (1, "password")
        );
        let latin1 = read_rows(b"email,name\nada@example.edu,Jos\xe9\n", 100).1;
        assert!(latin1[0].message.contains("CSV UTF-8"));
        assert_eq!(read_rows(b"name\nAda\n", 100).1[0].column, "email");
        let (rows, m) = read_rows(
            b"E-mail;Name;Roles\r\nada@example.edu;Ada;\"helper;coordinator\"\r\n",
            100,
        );
        assert!(
            m.is_empty(),
            "semicolons, as European spreadsheets save: {m:?}"
        );
        assert_eq!(rows[0].roles.len(), 2);
        assert!(
            read_rows(b"email,name\r\n", 100).1[0]
                .message
                .contains("no rows")
        );
        let nul = read_rows(b"email,name\nada@example.edu,A\0da\n", 100).1;
        assert_eq!(nul[0].column, "name");
    }
}
