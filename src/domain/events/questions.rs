//! Registration questions and their answers, and the readings of book and journal clubs
//! (ISBN check digits, DOIs).

use serde::{Deserialize, Serialize};

use super::{Question, QuestionInput, QuestionKind, Reading, ReadingInput, ReadingKind};
use crate::domain::{Invalid, Mistakes, optional_line, optional_text, required_line};

/// A question row; an empty label means the row was left blank.
pub fn parse_question(q: &QuestionInput) -> Result<Option<Question>, Invalid> {
    let label = q.label.trim();
    if label.is_empty() {
        // A blank row is no question; choices with no wording are a mistake, not a blank.
        if !q.options.trim().is_empty() {
            return Err(Invalid::new(
                "questions",
                "A question with choices needs its wording.",
            ));
        }
        return Ok(None);
    }
    let label = required_line("questions", "A question", label, 200)?;
    let kind = match q.kind.trim() {
        "" => QuestionKind::Text,
        k => QuestionKind::parse(k).ok_or_else(|| {
            Invalid::new(
                "questions",
                format!("\"{label}\": choose what kind of answer it takes: text, choice, multi or yes_no."),
            )
        })?,
    };
    let options: Vec<String> = q
        .options
        .lines()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| o.chars().take(100).collect())
        .collect();
    if matches!(kind, QuestionKind::Choice | QuestionKind::Multi) && options.len() < 2 {
        return Err(Invalid::new(
            "questions",
            format!("\"{label}\" offers choices: give at least two, one per line."),
        ));
    }
    Ok(Some(Question {
        id: 0,
        kind,
        label,
        required: q.required,
        options: if matches!(kind, QuestionKind::Choice | QuestionKind::Multi) {
            options
        } else {
            Vec::new()
        },
    }))
}

/// A value typed by a coordinator, quoted back in a mistake's sentence: trimmed, and cut
/// at 40 characters so that a pasted page does not come back whole.
fn shortened(raw: &str) -> String {
    let raw = raw.trim();
    match raw.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &raw[..at]),
        None => raw.to_string(),
    }
}

/// Checks an ISBN-10 or ISBN-13's check digit; returns it without hyphens or spaces.
pub fn parse_isbn(raw: &str) -> Result<String, Invalid> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect::<String>()
        .to_uppercase();
    let bad = || {
        Invalid::new(
            "readings",
            format!(
                "'{}' is not a valid ISBN; check the digits.",
                shortened(raw)
            ),
        )
    };
    let digits: Vec<u32> = s
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            'X' if i == 9 && s.len() == 10 => Some(10),
            c => c.to_digit(10),
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let ok = match digits.len() {
        10 => {
            digits
                .iter()
                .enumerate()
                .map(|(i, d)| (10 - i as u32) * d)
                .sum::<u32>()
                % 11
                == 0
        }
        13 => {
            digits
                .iter()
                .enumerate()
                .map(|(i, d)| if i % 2 == 0 { *d } else { 3 * d })
                .sum::<u32>()
                % 10
                == 0
        }
        _ => false,
    };
    if ok { Ok(s) } else { Err(bad()) }
}

/// A DOI, with any resolver prefix removed.
pub fn parse_doi(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let s = [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "doi:",
    ]
    .iter()
    .find_map(|p| s.strip_prefix(p))
    .unwrap_or(s);
    let ok = s.starts_with("10.")
        && s.contains('/')
        && s.len() <= 200
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(s.to_string())
    } else {
        Err(Invalid::new(
            "readings",
            format!(
                "'{}' is not a DOI; it looks like 10.1001/jama.2018.1234.",
                shortened(raw)
            ),
        ))
    }
}

/// A reading row; an empty title means the row was left blank.
pub fn parse_reading(r: &ReadingInput) -> Result<Option<Reading>, Invalid> {
    if r.title.trim().is_empty() {
        return Ok(None);
    }
    let kind = match r.kind.trim() {
        "" => ReadingKind::Book,
        k => ReadingKind::parse(k).ok_or_else(|| {
            Invalid::new(
                "readings",
                "Choose whether a reading is a book or an article.",
            )
        })?,
    };
    let title = required_line("readings", "A reading's title", &r.title, 300)?;
    let authors = required_line("readings", "A reading's authors", &r.authors, 300)?;
    let isbn = if r.isbn.trim().is_empty() {
        String::new()
    } else {
        parse_isbn(&r.isbn)?
    };
    let journal = optional_line("readings", "The journal", &r.journal, 200)?;
    let year = if r.year.trim().is_empty() {
        None
    } else {
        let y: i64 = r
            .year
            .trim()
            .parse()
            .map_err(|_| Invalid::new("readings", "A reading's year must be a number."))?;
        if !(1500..=2200).contains(&y) {
            return Err(Invalid::new("readings", "A reading's year looks wrong."));
        }
        Some(y)
    };
    let doi = if r.doi.trim().is_empty() {
        String::new()
    } else {
        parse_doi(&r.doi)?
    };
    Ok(Some(Reading {
        kind,
        title,
        authors,
        isbn: if kind == ReadingKind::Book {
            isbn
        } else {
            String::new()
        },
        journal: if kind == ReadingKind::Article {
            journal
        } else {
            String::new()
        },
        year,
        doi: if kind == ReadingKind::Article {
            doi
        } else {
            String::new()
        },
    }))
}

/// One answer as kept with a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    pub question: String,
    pub answer: String,
}

/// Checks the answers to an event's questions. `given` holds (question id, value) pairs;
/// a several-choices question may appear more than once.
pub fn parse_answers(
    questions: &[Question],
    given: &[(i64, String)],
) -> Result<Vec<Answer>, Invalid> {
    let mut m = Mistakes::new();
    let mut out = Vec::new();
    for q in questions {
        // Each question's mistake is told of its own control (`q12`), which the page
        // links to and the API names as `answers.12`.
        let field = format!("q{}", q.id);
        let values: Vec<&str> = given
            .iter()
            .filter(|(id, _)| *id == q.id)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            if q.required {
                m.note(field, format!("Answer \"{}\".", q.label));
            }
            continue;
        }
        let answer = match q.kind {
            QuestionKind::Text => m.check(
                optional_text(
                    "answer",
                    &format!("The answer to \"{}\"", q.label),
                    values[0],
                    500,
                )
                .map_err(|e| e.renamed(field.clone())),
            ),
            QuestionKind::YesNo => match values[0] {
                "yes" | "no" => Some(values[0].to_string()),
                _ => {
                    m.note(field, format!("Answer \"{}\" with yes or no.", q.label));
                    None
                }
            },
            QuestionKind::Choice | QuestionKind::Multi => {
                if q.kind == QuestionKind::Choice && values.len() > 1 {
                    m.note(field, format!("Choose one answer for \"{}\".", q.label));
                    None
                } else if !values.iter().all(|v| q.options.iter().any(|o| o == v)) {
                    // What was sent is not quoted back: it can be anything, of any length.
                    m.note(
                        field,
                        format!("Choose from the choices offered for \"{}\".", q.label),
                    );
                    None
                } else {
                    Some(values.join("; "))
                }
            }
        };
        if let Some(answer) = answer {
            out.push(Answer {
                question: q.label.clone(),
                answer,
            });
        }
    }
    m.finish(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_is_not_quoted_back_whole() {
        let q = Question {
            id: 1,
            kind: QuestionKind::Choice,
            label: "Diet".into(),
            required: true,
            options: vec!["None".into(), "Vegetarian".into()],
        };
        let huge = "x".repeat(10_000);
        let e = parse_answers(std::slice::from_ref(&q), &[(1, huge.clone())]).expect_err("refused");
        assert_eq!(e.field(), "q1");
        assert!(!e.message().contains("xxx"), "{}", e.message());
        assert!(parse_answers(&[q], &[(1, "Vegetarian".into())]).is_ok());
        let e = parse_isbn(&huge).expect_err("refused");
        assert!(e.message().chars().count() < 120, "{}", e.message());
        let e = parse_doi(&huge).expect_err("refused");
        assert!(e.message().chars().count() < 120, "{}", e.message());
    }
}
