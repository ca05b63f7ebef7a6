//! The request form, in three short steps and a "Check your answers" page (GOV.UK's
//! question pages). Nothing is stored until the person sends it: each step's page carries
//! the answers of the other steps in hidden fields of its form, so they travel in the
//! body of a POST, never in a URL, and no draft exists anywhere on the server. A form sent
//! whole in one post (as scripts and the earlier one-page form did) is still taken.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::app::Public;
use crate::domain::Invalid;
use crate::domain::support::{Appointment, ContactMode, RequestForm, RequestInput, Topic, Urgency};
use crate::store::PublicHelper;
use crate::web::AppState;
use crate::web::http::auth::MaybeSignedIn;
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::form::Both;
use crate::web::http::layout::{Ctx, Layout, field_error, render, render_status};

/// The steps, by number, with their headings and the fields each asks for. Step 4 is
/// "Check your answers".
const STEPS: [(&str, &[&str]); 3] = [
    ("What it is about", &["topics", "urgency"]),
    (
        "How to reach you",
        &[
            "name",
            "email",
            "contact_mode",
            "phone",
            "contact_times",
            "department",
        ],
    ),
    (
        "Your peer",
        &[
            "appointment",
            "rank",
            "gender",
            "race_ethnicity",
            "language",
            "outside_department",
            "named_helper",
            "avoid_helpers",
            "avoid",
            "message",
        ],
    ),
];
const CHECK: u8 = 4;

/// The step that asks for `field`; a mistake about anything else (the whole form) is
/// shown on the first.
fn step_of(field: &str) -> u8 {
    STEPS
        .iter()
        .position(|(_, fields)| fields.contains(&field))
        .map_or(1, |i| i as u8 + 1)
}

fn on_step(e: &Invalid, step: u8) -> Option<Invalid> {
    e.only(|f| step_of(f) == step)
}

/// The first step with a mistake, and that step's mistakes.
fn first_mistaken(e: &Invalid) -> (u8, Option<Invalid>) {
    let at = e
        .mistakes()
        .iter()
        .map(|m| step_of(&m.field))
        .min()
        .unwrap_or(1);
    (at, on_step(e, at))
}

/// Where the person is and which button they pressed. `go` is `next`, `back`, `send` or
/// the number of a step to change from the check page; `checking` says the person has
/// seen the check page, so that "Continue" takes them back to it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Steps {
    step: String,
    go: String,
    checking: String,
}

#[derive(Template)]
#[template(path = "support/request.html")]
struct RequestView {
    l: Layout,
    step: u8,
    checking: bool,
    input: RequestForm,
    /// Helpers who chose to be listed publicly, to be asked for by name.
    public_helpers: Vec<PublicHelper>,
    error: Option<Invalid>,
    /// What the programme promises, from the settings in force.
    promises: Vec<String>,
}

/// One answer on the check page.
struct Answer {
    question: &'static str,
    answer: String,
}

impl RequestView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
    fn steps(&self) -> &'static [(&'static str, &'static [&'static str])] {
        &STEPS
    }
    fn heading(&self) -> &'static str {
        STEPS
            .get(usize::from(self.step.saturating_sub(1)))
            .map_or("Check your answers before sending", |(h, _)| h)
    }
    fn topics(&self) -> &'static [Topic] {
        Topic::ALL
    }
    fn urgencies(&self) -> &'static [Urgency] {
        Urgency::ALL
    }
    fn modes(&self) -> &'static [ContactMode] {
        ContactMode::ALL
    }
    fn appointments(&self) -> &'static [Appointment] {
        Appointment::ALL
    }
    fn is_named(&self, id: &i64) -> bool {
        self.input.named_helper.trim() == id.to_string()
    }
    fn is_avoided(&self, id: &i64) -> bool {
        self.input
            .avoid_helpers
            .iter()
            .any(|h| h.trim() == id.to_string())
    }

    /// The answers of every step but this one, as hidden fields of this step's form.
    fn carried(&self) -> Vec<(&'static str, String)> {
        let f = &self.input;
        let mut all: Vec<(&'static str, String)> = Vec::new();
        all.extend(f.topics.iter().map(|t| ("topics", t.clone())));
        all.extend(f.avoid_helpers.iter().map(|h| ("avoid_helpers", h.clone())));
        if f.outside_department {
            all.push(("outside_department", "yes".into()));
        }
        for (name, value) in [
            ("urgency", &f.urgency),
            ("name", &f.name),
            ("email", &f.email),
            ("contact_mode", &f.contact_mode),
            ("phone", &f.phone),
            ("contact_times", &f.contact_times),
            ("department", &f.department),
            ("appointment", &f.appointment),
            ("rank", &f.rank),
            ("gender", &f.gender),
            ("race_ethnicity", &f.race_ethnicity),
            ("language", &f.language),
            ("named_helper", &f.named_helper),
            ("avoid", &f.avoid),
            ("message", &f.message),
        ] {
            if !value.is_empty() {
                all.push((name, value.clone()));
            }
        }
        all.retain(|(name, _)| step_of(name) != self.step || self.step == CHECK);
        all
    }

    /// What the person answered on `step`, worded as the pages asked it.
    fn answers(&self, step: usize) -> Vec<Answer> {
        let f = &self.input;
        let given = |s: &str| {
            let s = s.trim();
            if s.is_empty() {
                "Not given".to_string()
            } else {
                s.to_string()
            }
        };
        let label = |key: &str, labels: &[(&'static str, &'static str)]| {
            labels
                .iter()
                .find(|(k, _)| *k == key.trim())
                .map_or_else(|| given(key), |(_, l)| l.to_string())
        };
        let of = |all: &[(&'static str, &'static str)]| all.to_vec();
        let topics: Vec<_> = Topic::ALL.iter().map(|t| (t.key(), t.label())).collect();
        let urgencies: Vec<_> = Urgency::ALL.iter().map(|u| (u.key(), u.label())).collect();
        let modes: Vec<_> = ContactMode::ALL
            .iter()
            .map(|m| (m.key(), m.label()))
            .collect();
        let appointments: Vec<_> = Appointment::ALL
            .iter()
            .map(|a| (a.key(), a.label()))
            .collect();
        let helper = |id: &str| {
            self.public_helpers
                .iter()
                .find(|h| h.account.to_string() == id.trim())
                .map_or_else(|| given(id), |h| h.name.clone())
        };
        let answer = |question, answer| Answer { question, answer };
        match step {
            1 => vec![
                answer(
                    "Topics",
                    f.topics
                        .iter()
                        .map(|t| label(t, &of(&topics)))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                answer("How soon", label(&f.urgency, &of(&urgencies))),
            ],
            2 => vec![
                answer("Name", given(&f.name)),
                answer("E-mail address", given(&f.email)),
                answer("Reached first by", label(&f.contact_mode, &of(&modes))),
                answer("Phone number", given(&f.phone)),
                answer("A good time", given(&f.contact_times)),
                answer("Department", given(&f.department)),
            ],
            _ => {
                let mut said = Vec::new();
                let mut preferences: Vec<String> = [
                    (!f.appointment.trim().is_empty())
                        .then(|| label(&f.appointment, &of(&appointments))),
                    (!f.rank.trim().is_empty()).then(|| f.rank.trim().to_string()),
                    (!f.gender.trim().is_empty()).then(|| f.gender.trim().to_string()),
                    (!f.race_ethnicity.trim().is_empty())
                        .then(|| f.race_ethnicity.trim().to_string()),
                    (!f.language.trim().is_empty()).then(|| f.language.trim().to_string()),
                ]
                .into_iter()
                .flatten()
                .collect();
                if f.outside_department {
                    preferences.push("someone outside my department".into());
                }
                said.push(answer(
                    "Preferences",
                    if preferences.is_empty() {
                        "None".into()
                    } else {
                        preferences.join(", ")
                    },
                ));
                if !self.public_helpers.is_empty() {
                    said.push(answer(
                        "A particular helper",
                        if f.named_helper.trim().is_empty() {
                            "No one in particular".into()
                        } else {
                            helper(&f.named_helper)
                        },
                    ));
                    said.push(answer(
                        "Helpers you would rather not talk to",
                        if f.avoid_helpers.is_empty() {
                            "None".into()
                        } else {
                            f.avoid_helpers
                                .iter()
                                .map(|h| helper(h))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    ));
                }
                said.push(answer("People or departments to avoid", given(&f.avoid)));
                said.push(answer("Your message", given(&f.message)));
                said
            }
        }
    }
}

async fn page(
    public: &Public,
    ctx: Ctx,
    step: u8,
    checking: bool,
    input: RequestForm,
    error: Option<Invalid>,
) -> PageResult {
    let title = if step == CHECK {
        "Ask for peer support: check your answers".to_string()
    } else {
        format!("Ask for peer support: step {step} of {}", STEPS.len())
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &RequestView {
            l: ctx.layout(title),
            step,
            checking: checking || step == CHECK,
            input,
            public_helpers: public.public_helpers().await?,
            error,
            promises: public.support_promises().await?,
        },
    )
}

pub async fn request_form(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let public = state.app.public();
    if ctx.account.is_none() && public.support_requires_sign_in().await? {
        return Err(AppError::Unauthorized);
    }
    // How soon and how to be reached are the person's to choose: nothing is pre-selected.
    let input = RequestForm {
        email: ctx
            .account
            .as_ref()
            .map(|a| a.email.as_str().to_string())
            .unwrap_or_default(),
        name: ctx
            .account
            .as_ref()
            .map(|a| a.display_name.clone())
            .unwrap_or_default(),
        ..Default::default()
    };
    page(&public, ctx, 1, false, input, None).await
}

#[derive(Template)]
#[template(path = "support/receipt.html")]
struct ReceiptView {
    l: Layout,
    /// An urgent request filed outside business hours: when people are next at work.
    after_hours: Option<String>,
    code: String,
    chooses: bool,
    promises: Vec<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSignedIn(account): MaybeSignedIn,
    Both(input, steps): Both<RequestForm, Steps>,
) -> PageResult {
    let public = state.app.public();
    let checking = steps.checking == "yes";
    let step = steps.step.parse::<u8>().ok().map(|s| s.clamp(1, CHECK));
    let go = match step {
        // No step: the whole form in one post.
        None => "send",
        Some(_) => steps.go.as_str(),
    };
    let step = step.unwrap_or(CHECK);
    let read = RequestInput::try_from(&input);
    match go {
        "back" => {
            let to = if step == CHECK {
                3
            } else {
                step.saturating_sub(1).max(1)
            };
            page(&public, ctx, to, checking, input, None).await
        }
        "1" | "2" | "3" => {
            let to = go.parse().unwrap_or(1);
            page(&public, ctx, to, true, input, None).await
        }
        "send" => {
            let asked = match read {
                Ok(typed) => public.ask_for_support(&typed, account.as_ref()).await,
                Err(e) => Err(e.into()),
            };
            match asked {
                Ok(filed) => {
                    // The code is shown in the page body only: never in a URL, a redirect or a log.
                    render(&ReceiptView {
                        after_hours: filed.after_hours,
                        l: ctx.layout("Your request is in"),
                        code: filed.receipt_code,
                        chooses: public.requester_chooses().await?,
                        promises: public.support_promises().await?,
                    })
                }
                // Back to the first step with a mistake, everything typed kept; from there
                // "Continue" returns to the check page.
                Err(crate::app::Error::Invalid(e)) => {
                    let (at, shown) = first_mistaken(&e);
                    page(&public, ctx, at, true, input, shown).await
                }
                Err(e) => Err(e.into()),
            }
        }
        // "Continue", also what pressing Enter in a field sends.
        _ => {
            let here = step.min(3);
            if let Some(e) = read.as_ref().err().and_then(|e| on_step(e, here)) {
                return page(&public, ctx, here, checking, input, Some(e)).await;
            }
            let next = if checking || here == 3 {
                CHECK
            } else {
                here + 1
            };
            // The check page shows only answers that read: a mistake left on an earlier
            // step (a page sent by hand) sends the person there.
            if next == CHECK
                && let Err(e) = &read
            {
                let (at, shown) = first_mistaken(e);
                return page(&public, ctx, at, true, input, shown).await;
            }
            page(&public, ctx, next, checking, input, None).await
        }
    }
}
