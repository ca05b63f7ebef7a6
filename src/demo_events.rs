//! Demo events: a few upcoming events for each default series, dated from today, so a
//! newcomer sees a living calendar. Created only when the programme has no events.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

use crate::domain::events::{
    EventDraft, EventForm, QuestionInput, ReadingInput, Repeat, repeat_dates,
};
use crate::store::{NewRegistration, Store};

const ZONE: &str = "America/New_York";

/// The next `weekday` at least `weeks` weeks from `today`, a week later if that day is
/// one the demo programme (like most academic centres) is closed.
fn next(today: Date, weeks: i64, weekday: Weekday) -> Date {
    let base = today.checked_add((weeks * 7).days()).unwrap_or(today);
    let mut day = base.nth_weekday(1, weekday).unwrap_or(base);
    // 24 and 31 December are a week apart, and so are 25 December and 1 January: at
    // most two steps.
    for _ in 0..2 {
        if closed(day) {
            day = day.checked_add(7.days()).unwrap_or(day);
        }
    }
    day
}

/// Christmas Eve and Day, New Year's Eve and Day.
fn closed(d: Date) -> bool {
    matches!(
        (d.month(), d.day()),
        (12, 24) | (12, 25) | (12, 31) | (1, 1)
    )
}

/// A repeating event leaves out the days the programme is closed, as its coordinator would.
fn skip_closed_days(input: &mut EventForm) {
    let (Some(repeat), Ok(first)) = (Repeat::parse(&input.repeat), input.date.parse::<Date>())
    else {
        return;
    };
    let until = input.repeat_until.parse::<Date>().ok();
    let Ok(dates) = repeat_dates(first, repeat, until, &[]) else {
        return;
    };
    input.except_dates = dates
        .into_iter()
        .filter(|d| closed(*d))
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
}

fn event(series: &str, title: &str, date: Date, start: &str, end: &str) -> EventForm {
    EventForm {
        series: series.into(),
        title: title.into(),
        time_zone: ZONE.into(),
        date: date.to_string(),
        start_time: start.into(),
        end_time: end.into(),
        capacity: "40".into(),
        audience: vec!["faculty".into()],
        ..Default::default()
    }
}

fn question(kind: &str, label: &str, required: bool, options: &str) -> QuestionInput {
    QuestionInput {
        kind: kind.into(),
        label: label.into(),
        required,
        options: options.into(),
    }
}

fn demo_inputs(today: Date) -> Vec<EventForm> {
    let dietary = question(
        "choice",
        "Lunch",
        false,
        "No preference\nVegetarian\nVegan\nGluten-free\nNo lunch, thank you",
    );
    let access = question(
        "text",
        "Anything we should arrange so you can take part fully?",
        false,
        "",
    );
    let mut out = Vec::new();

    let mut academy = event(
        "saturday-academy",
        "Saturday Academy: how the heart works",
        next(today, 5, Weekday::Saturday),
        "09:00",
        "13:00",
    );
    academy.body_md =
        "Students in grades 4 to 12 listen to their own heartbeat, build a model valve \
and meet cardiologists and nurses. Parents and guardians register their children; places are \
drawn by lottery because demand is high.\n\nDrop-off is at the main lobby from 08:45."
            .into();
    academy.place = "Medical Education Building, Atrium".into();
    academy.audience = vec!["students".into(), "public".into()];
    academy.capacity = "120".into();
    academy.for_minors = true;
    academy.allocation = "lottery".into();
    // The draw on the Friday eight days before, whichever week the academy fell in.
    let academy_day: Date = academy.date.parse().unwrap_or(today);
    let mut draw_day = academy_day.checked_sub(8.days()).unwrap_or(academy_day);
    while closed(draw_day) {
        draw_day = draw_day.yesterday().unwrap_or(draw_day);
    }
    academy.lottery_at = format!("{draw_day}T17:00");
    academy.offer_hours = "48".into();
    academy.questions = vec![question(
        "text",
        "Allergies or medical needs staff should know about",
        false,
        "",
    )];
    out.push(academy);

    let mut career = event(
        "career-exploration-day",
        "Career Exploration Day for high-school students",
        next(today, 8, Weekday::Friday),
        "10:00",
        "15:00",
    );
    career.body_md = "A day shadowing teams across the hospital: the emergency department, the \
simulation centre, the laboratory and the operating theatres."
        .into();
    career.place = "Simulation Centre, Level 2".into();
    career.audience = vec!["students".into()];
    career.capacity = "60".into();
    career.for_minors = true;
    out.push(career);

    let mut mentor = event(
        "student-mentorship",
        "Mentorship programme: information session",
        next(today, 2, Weekday::Wednesday),
        "17:30",
        "18:30",
    );
    mentor.body_md = "What the summer mentorship involves, how students are matched with faculty \
mentors, and how to apply. Current mentors and last year's students answer questions."
        .into();
    mentor.online_url = "https://video.example.edu/mentorship-info".into();
    mentor.audience = vec!["students".into(), "faculty".into()];
    mentor.capacity = "100".into();
    // Students come from other schools too, without an account here.
    mentor.guests_allowed = true;
    out.push(mentor);

    let mut lecture = event(
        "faculty-lecture-series",
        "Lecture: mentoring across differences",
        next(today, 1, Weekday::Tuesday),
        "12:00",
        "13:00",
    );
    lecture.body_md = "An interactive lunchtime lecture for faculty at every stage. Lunch is \
provided; please tell us your preference."
        .into();
    lecture.place = "Auditorium B".into();
    lecture.online_url = "https://video.example.edu/lecture-series".into();
    lecture.audience = vec!["faculty".into(), "residents".into()];
    lecture.capacity = "80".into();
    lecture.repeat = "fortnightly".into();
    lecture.repeat_until = next(today, 9, Weekday::Tuesday).to_string();
    lecture.questions = vec![dietary.clone(), access.clone()];
    out.push(lecture);

    let mut book = event(
        "book-club",
        "Book club: Being Mortal",
        next(today, 3, Weekday::Thursday),
        "18:00",
        "19:30",
    );
    book.body_md = "We discuss the first half of the book. Newcomers are welcome; tea and \
biscuits provided."
        .into();
    book.place = "Faculty Lounge, 4th floor".into();
    book.capacity = "16".into();
    book.offer_hours = "24".into();
    book.readings = vec![ReadingInput {
        kind: "book".into(),
        title: "Being Mortal: Medicine and What Matters in the End".into(),
        authors: "Atul Gawande".into(),
        isbn: "9780805095159".into(),
        ..Default::default()
    }];
    out.push(book);

    let mut journal = event(
        "journal-club",
        "Journal club: burnout in physicians",
        next(today, 2, Weekday::Monday),
        "07:00",
        "08:00",
    );
    journal.body_md = "Critical appraisal of a systematic review. Come having read the paper; \
one resident presents, everyone appraises."
        .into();
    journal.place = "Conference Room 3C".into();
    journal.audience = vec!["faculty".into(), "residents".into()];
    journal.capacity = "20".into();
    journal.repeat = "monthly_weekday".into();
    journal.repeat_until = today.checked_add(4.months()).unwrap_or(today).to_string();
    journal.readings = vec![ReadingInput {
        kind: "article".into(),
        title: "Prevalence of Burnout Among Physicians: A Systematic Review".into(),
        authors: "Rotenstein LS, Torre M, Ramos MA, et al.".into(),
        journal: "JAMA".into(),
        year: "2018".into(),
        doi: "10.1001/jama.2018.12777".into(),
        ..Default::default()
    }];
    out.push(journal);

    let mut wellness = event(
        "resident-wellness",
        "Resident wellness afternoon",
        next(today, 4, Weekday::Friday),
        "13:00",
        "17:00",
    );
    wellness.body_md = "Protected time away from the wards: a walk in the arboretum, a cooking \
class, and a quiet room. Programme directors have cleared the afternoon."
        .into();
    wellness.place = "Arboretum Pavilion".into();
    wellness.audience = vec!["residents".into()];
    wellness.capacity = "50".into();
    wellness.questions = vec![
        question(
            "multi",
            "Which activities would you like to join?",
            true,
            "Arboretum walk\nCooking class\nQuiet room",
        ),
        dietary,
    ];
    out.push(wellness);

    let mut rounds = event(
        "joint-grand-rounds",
        "Joint grand rounds: speaking up for patient safety",
        // Within the coming week, so the coordinators' home shows an event this week.
        next(today, 0, Weekday::Thursday),
        "08:00",
        "09:00",
    );
    rounds.body_md = "Held with the department of surgery: a case where a junior colleague \
spoke up, and what made it possible."
        .into();
    rounds.place = "Main Hospital Auditorium".into();
    rounds.online_url = "https://video.example.edu/grand-rounds".into();
    rounds.audience = vec!["faculty".into(), "residents".into()];
    rounds.capacity = "300".into();
    rounds.repeat = "monthly_weekday".into();
    rounds.repeat_until = today.checked_add(3.months()).unwrap_or(today).to_string();
    out.push(rounds);

    let mut circle = event(
        "",
        "Peer support circle after a difficult case",
        next(today, 1, Weekday::Wednesday),
        "17:00",
        "18:00",
    );
    circle.body_md = "A confidential, facilitated conversation for clinicians involved in a \
recent difficult case. Nothing said is recorded, and the list of who attends is kept only until \
the meeting is over."
        .into();
    circle.place = "Chapel Meeting Room".into();
    circle.capacity = "12".into();
    circle.private = true;
    out.push(circle);
    out.iter_mut().for_each(skip_closed_days);
    out
}

pub async fn seed(store: &Store) -> anyhow::Result<()> {
    if store.has_events().await? {
        return Ok(());
    }
    let today = store.clock().today();
    let mut lecture = None;
    for input in demo_inputs(today) {
        let draft = EventDraft::from_form(&input)
            .map_err(|e| anyhow::anyhow!("demo event '{}': {e}", input.title))?;
        let ids = store.create_events(&draft).await?;
        if input.series == "faculty-lecture-series" {
            lecture = ids.first().copied();
        }
    }
    // The demo member already has a place, so "My events" and the check-in code show.
    if let (Some(event_id), Ok(member)) = (
        lecture,
        store
            .account_by_email(&crate::domain::accounts::Email::parse(
                "member@example.edu",
            )?)
            .await,
    ) {
        store
            .register(
                &NewRegistration {
                    event_id,
                    account_id: Some(member.id.0),
                    name: member.display_name.clone(),
                    email: member.email.as_str().to_string(),
                    answers: Vec::new(),
                    children: Vec::new(),
                    consent: None,
                },
                crate::store::Arrival::Direct,
                |_, _| None,
            )
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_demo_event_falls_on_a_day_the_programme_is_closed() {
        for offset in 0..60 {
            let today = Date::constant(2026, 11, 1)
                .checked_add(offset.days())
                .expect("date");
            for input in demo_inputs(today) {
                let draft = EventDraft::from_form(&input).expect("valid");
                let zone = jiff::tz::TimeZone::get(ZONE).expect("zone");
                // Every date of a repetition, not only the first.
                for o in &draft.occurrences {
                    let date = jiff::Timestamp::from_second(o.starts_at)
                        .expect("time")
                        .to_zoned(zone.clone())
                        .date();
                    assert!(!closed(date), "{} on {date} (from {today})", input.title);
                }
            }
        }
    }

    #[test]
    fn every_demo_event_is_valid_whatever_the_day() {
        for offset in 0..14 {
            let today = Date::constant(2026, 12, 20)
                .checked_add(offset.days())
                .expect("date");
            for input in demo_inputs(today) {
                if let Err(e) = EventDraft::from_form(&input) {
                    panic!("{} on {today}: {e} ({})", input.title, e.field());
                }
            }
        }
    }
}
