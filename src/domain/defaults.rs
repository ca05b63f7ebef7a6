//! The content a new programme starts with: its pages and the eight default series. A
//! coordinator edits all of it in the browser; this is only the first draft.

pub struct DefaultPage {
    pub slug: &'static str,
    pub title: &'static str,
    pub nav_order: i64,
    pub body_md: &'static str,
}

pub struct DefaultSeries {
    pub slug: &'static str,
    pub title: &'static str,
    pub audience: &'static str,
    pub summary: &'static str,
    pub body_md: &'static str,
}

pub const PAGES: &[DefaultPage] = &[
    DefaultPage {
        slug: "home",
        title: "Welcome",
        nav_order: 0,
        body_md: "\
Caring for patients is demanding work, and the people who do it deserve care too. This programme \
brings together three things: **confidential peer support** from trained colleagues, a shared \
**code of conduct** we commit to, and a **calendar of programmes** that connects faculty, \
residents, students and the community we serve.

- Going through something hard at work? [Talk to a colleague](/peer-support) who has been there.
- Want to know what we stand for? Read our [core values](/values).
- Looking for the next lecture, club meeting or outreach day? See the [programmes](/programmes).
",
    },
    DefaultPage {
        slug: "about",
        title: "About the programme",
        nav_order: 10,
        body_md: "\
## Why we exist

Burnout, conflict and isolation are common in academic medicine, and they are rarely talked about \
in the open. We believe a healthy workplace is built by colleagues who look out for one another, \
who hold each other to a shared standard of respect, and who make time to learn and grow together.

## What we do

- **Peer support.** Trained faculty volunteers offer confidential, one-to-one conversations with \
  colleagues who are struggling, and help them find the right institutional resources.
- **Culture.** A code-of-conduct pledge and a set of core values that faculty, residents and staff \
  sign and revisit together.
- **Programmes and events.** Outreach to school students, a student mentorship programme, lecture \
  series, book and journal clubs, resident wellness events and joint grand rounds.

## How we keep your trust

Identities in support requests are encrypted, seen by the helper who reaches out (the request \
form says exactly who else may see them), and erased once they are no longer needed. Reports to leadership count conversations; they never name people.
",
    },
    DefaultPage {
        slug: "values",
        title: "Core values",
        nav_order: 20,
        body_md: "\
Our work rests on five commitments.

1. **Well-being.** We treat our own health and our colleagues' health as part of good patient care, \
   not a distraction from it.
2. **Culture.** We greet, include and credit one another. Disagreement is welcome; contempt is not.
3. **Advocacy.** We speak up for patient safety and for colleagues who cannot easily speak for \
   themselves, and we protect those who raise concerns in good faith.
4. **Resilience.** We learn from hard days together, without blame, and we ask for help early.
5. **Empowerment.** We open doors: for students who have never pictured themselves in medicine, \
   for trainees, and for colleagues whose careers have stalled.

Members are invited to sign the code-of-conduct pledge that puts these values into practice.
",
    },
    DefaultPage {
        slug: "peer-support",
        title: "Peer support",
        nav_order: 30,
        body_md: "\
## A colleague who listens

Peer support is a confidential conversation with a trained faculty volunteer (a *helper*) who \
understands the pressures of academic medicine from the inside. Colleagues reach out about burnout, \
conflict at work, a difficult patient outcome or lawsuit, obstacles to advancement, and the \
balance between work and the rest of life.

**It is not therapy**, and helpers do not diagnose or treat. They listen without judgement, share \
what has helped others, and connect you with the institution's resources when you want that.

## If you are in danger

This service is not for emergencies. If you or someone else is at immediate risk, call **911** or \
go to the nearest emergency department. In the United States you can call or text **988** (Suicide \
and Crisis Lifeline) at any hour. The Employee Assistance Programme offers free, confidential \
counselling.

## Our promise of confidentiality

- The helper who reaches out to you learns who you are and how to contact you; the \
  [request form](/support/request) says exactly who else may, under this programme's settings.
- No notes are kept of what you talk about; we record only *that* a conversation took place.
- Your name and contact details are encrypted, and erased a set time after the case closes.
- Nothing you share reaches your chair, your department or your file, and there is no retaliation \
  for asking for support.

The one exception is safety: if someone's life is in immediate danger, a helper will act to keep \
them safe. Complaints about conduct belong with Human Resources rather than peer support.

## Who the helpers are

Helpers are faculty nominated by their peers and trained in empathic listening, with regular \
refreshers. The group is chosen to reflect the breadth of our faculty (clinical and non-clinical \
appointments, every rank, a range of backgrounds), so you can find someone you are comfortable \
with. You may ask for a particular kind of helper, or for someone outside your department.

## How to ask

Use the [request form](/support/request), or write to the programme's contact address. You will \
hear from a helper, usually within one working day. The form gives you a receipt code: with it you \
can [check your request or withdraw it](/support/status) without an account. You can also [refer a colleague](/support/refer) you are worried about; reaching \
out to them is an invitation they are free to decline.
",
    },
    DefaultPage {
        slug: "contact",
        title: "Contact and co-directors",
        nav_order: 40,
        body_md: "\
## Co-directors

The programme is led by two faculty co-directors who oversee peer support, train the helpers and \
plan the calendar with a committee of faculty, residents and staff.

- **Dr. Amara Okafor**, Professor of Medicine, co-director
- **Dr. Daniel Reyes**, Associate Professor of Surgery, co-director

Edit this page to introduce your own co-directors.

## Getting in touch

For questions about the programme, events or volunteering, write to the contact address at the \
foot of every page. Please do not send details of a personal situation by e-mail: use the peer \
support request form, which keeps them confidential.
",
    },
];

pub const SERIES: &[DefaultSeries] = &[
    DefaultSeries {
        slug: "saturday-academy",
        title: "Saturday Outreach Academy",
        audience: "School students (grades 4–12) and their guardians",
        summary: "A spring Saturday of hands-on simulation and conversations about careers in medicine for elementary and high-school students.",
        body_md: "Students rotate through simulation stations (suturing on practice pads, \
ultrasound, CPR on manikins) run by faculty, residents and medical students, and meet people whose \
paths into medicine looked like theirs. A guardian registers each student and gives consent.",
    },
    DefaultSeries {
        slug: "career-exploration-day",
        title: "Career Exploration Day",
        audience: "University students",
        summary: "A university-wide day to explore careers across medicine and the health professions.",
        body_md: "Panels, shadowing tours and small-group conversations with clinicians, \
researchers and educators, open to students from every school of the university.",
    },
    DefaultSeries {
        slug: "student-mentorship",
        title: "Student Mentorship Programme",
        audience: "Medical and pre-medical students",
        summary: "Clinical exposure, career guidance and a faculty mentor for students considering our specialty.",
        body_md: "Each student is paired with a faculty mentor and a resident mentor, spends time \
in clinics and theatres, and meets the group for career sessions through a six-week summer programme.",
    },
    DefaultSeries {
        slug: "faculty-lecture-series",
        title: "Faculty Lecture Series",
        audience: "Faculty, residents and staff",
        summary: "Interactive talks on mentorship, work–life integration, burnout and leadership.",
        body_md: "Short talks followed by open discussion. Speakers come from our own faculty and \
from colleagues across the institution.",
    },
    DefaultSeries {
        slug: "book-club",
        title: "Annual Book Club",
        audience: "Faculty, residents and staff",
        summary: "One book a year on health disparities, wellness or leadership, read and discussed together.",
        body_md: "The book is announced in advance; discussion sessions are spread over the \
season so that busy clinicians can join at least one.",
    },
    DefaultSeries {
        slug: "journal-club",
        title: "Journal Club",
        audience: "Faculty and residents",
        summary: "Critical appraisal of recent publications on clinician well-being and professional culture.",
        body_md: "A resident and a faculty member present each article; the group appraises its \
methods and asks what it means for how we work.",
    },
    DefaultSeries {
        slug: "resident-wellness",
        title: "Resident Wellness Events",
        audience: "Residents and fellows",
        summary: "Yearly events that give residents time away from the wards, together.",
        body_md: "Protected time, organised with the chief residents: a retreat day, a family \
picnic and a winter gathering.",
    },
    DefaultSeries {
        slug: "joint-grand-rounds",
        title: "Joint Grand Rounds with Surgery",
        audience: "Faculty, residents and staff of both departments",
        summary: "A shared grand rounds series on mutual respect and advocacy for patient safety.",
        body_md: "Cases and talks chosen together by both departments, on how teams communicate \
across specialties and how to speak up for patients.",
    },
];
