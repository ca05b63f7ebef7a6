//! Matching requests with helpers: who may take a request at all (hard constraints), how
//! well each fits (a score with its reasons, weights set by coordinators), a shortlist for
//! one request, and the optimal assignment of a whole queue. Pure functions over plain
//! data, so they can be tested exhaustively and measured alone.

use serde::{Deserialize, Serialize};

use super::support::{Appointment, Preferences, Topic};

/// What matching needs to know about a helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    pub id: i64,
    /// The helper's own account: a helper never gets their own request.
    pub account: i64,
    pub name: String,
    pub department: String,
    pub appointment: Option<Appointment>,
    pub rank: String,
    pub genders: Vec<String>,
    pub race_ethnicities: Vec<String>,
    pub languages: Vec<String>,
    pub topics: Vec<Topic>,
    pub capacity: u32,
    pub open_cases: u32,
    pub away_until: Option<i64>,
    /// When the helper's training lapses; None: never trained.
    pub trained_until: Option<i64>,
    pub active: bool,
    /// Offers received recently, to rotate who gets asked.
    pub recent_offers: u32,
}

/// What matching needs to know about a request (opened from its sealed fields).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub id: i64,
    pub requester_account: Option<i64>,
    pub department: String,
    /// People or departments to avoid, separated by commas, semicolons or lines.
    pub avoid: String,
    pub topics: Vec<Topic>,
    pub preferences: Preferences,
}

/// The programme's rules that are not per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Policy {
    /// Never match within the requester's own department (the usual default). When off,
    /// only requesters who ask for someone outside it are kept apart.
    pub exclude_same_department: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            exclude_same_department: true,
        }
    }
}

/// How much each kind of fit counts; coordinators set these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Weights {
    /// Per topic the helper is prepared for.
    pub topic: i64,
    pub appointment: i64,
    pub rank: i64,
    pub gender: i64,
    pub race_ethnicity: i64,
    pub language: i64,
    /// The requester chose this helper by name.
    pub named_helper: i64,
    /// For each free place the helper has (spreads the load).
    pub spare_capacity: i64,
    /// Taken off for each recent offer (rotates who is asked).
    pub recent_offer: i64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            topic: 3,
            appointment: 2,
            rank: 1,
            gender: 2,
            race_ethnicity: 2,
            language: 3,
            named_helper: 10,
            spare_capacity: 1,
            recent_offer: 1,
        }
    }
}

impl Weights {
    /// Each weight with what it rewards, for the settings page.
    pub fn labelled(&self) -> [(&'static str, &'static str, i64); 9] {
        [
            ("topic", "per topic the helper is prepared for", self.topic),
            (
                "named_helper",
                "the person chose this helper by name",
                self.named_helper,
            ),
            ("language", "speaks the language asked for", self.language),
            (
                "appointment",
                "the appointment type asked for",
                self.appointment,
            ),
            ("gender", "the gender asked for", self.gender),
            (
                "race_ethnicity",
                "the race or ethnicity asked for",
                self.race_ethnicity,
            ),
            ("rank", "the rank asked for", self.rank),
            (
                "spare_capacity",
                "per free place (spreads the load)",
                self.spare_capacity,
            ),
            (
                "recent_offer",
                "taken off per recent offer (rotates who is asked)",
                self.recent_offer,
            ),
        ]
    }

    /// Weights from a form: each a whole number from 0 to 50.
    pub fn parse(value: impl Fn(&str) -> String) -> Result<Self, super::Invalid> {
        let mut w = Self::default();
        for (name, _, _) in Self::default().labelled() {
            let v: i64 = value(name)
                .trim()
                .parse()
                .ok()
                .filter(|v| (0..=50).contains(v))
                .ok_or_else(|| {
                    super::Invalid::new(
                        "weights",
                        format!("The weight for '{name}' must be a whole number from 0 to 50."),
                    )
                })?;
            match name {
                "topic" => w.topic = v,
                "named_helper" => w.named_helper = v,
                "language" => w.language = v,
                "appointment" => w.appointment = v,
                "gender" => w.gender = v,
                "race_ethnicity" => w.race_ethnicity = v,
                "rank" => w.rank = v,
                "spare_capacity" => w.spare_capacity = v,
                _ => w.recent_offer = v,
            }
        }
        Ok(w)
    }
}

/// Why a helper cannot take a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    Inactive,
    NotTrained,
    TrainingExpired,
    Away,
    Full,
    IsRequester,
    SameDepartment,
    OnAvoidList,
}

impl Exclusion {
    pub fn label(self) -> &'static str {
        match self {
            Self::Inactive => "not active",
            Self::NotTrained => "not trained yet",
            Self::TrainingExpired => "training has lapsed",
            Self::Away => "away",
            Self::Full => "at capacity",
            Self::IsRequester => "is the person asking",
            Self::SameDepartment => "same department as the person asking",
            Self::OnAvoidList => "on the person's avoid list",
        }
    }
}

fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    !a.is_empty() && a.eq_ignore_ascii_case(b)
}

/// Honorifics and degrees people write around a name; "Dr. Lindqvist" names Lindqvist.
const TITLES: &[&str] = &[
    "dr",
    "doctor",
    "prof",
    "professor",
    "mr",
    "mrs",
    "ms",
    "mx",
    "miss",
    "sir",
    "md",
    "phd",
    "mbbs",
    "dds",
    "dmd",
    "rn",
    "np",
    "pa",
    "pharmd",
    "facs",
    "facp",
    "jr",
    "sr",
];

/// The words of a name as people compare them: Unicode compatibility forms folded,
/// accents dropped, lower case, split on anything that is not a letter or digit.
fn name_words(s: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether one entry of an avoid list names this helper (every word of the entry, titles
/// aside, is a word of the helper's name, in any order: "Lindqvist", "sam lindqvist",
/// "Lindqvist Sam", "Dr. Lindqvíst") or the helper's department (every word of the
/// department is in the entry: "Department of Surgery" avoids "Surgery").
fn entry_names(entry: &[String], helper_name: &[String], department: &[String]) -> bool {
    let named: Vec<&String> = entry
        .iter()
        .filter(|w| !TITLES.contains(&w.as_str()))
        .collect();
    let letters: usize = named.iter().map(|w| w.chars().count()).sum();
    let by_name = letters >= 2 && named.iter().all(|w| helper_name.contains(w));
    let by_department = !department.is_empty() && department.iter().all(|w| entry.contains(w));
    by_name || by_department
}

fn avoided(h: &Helper, avoid: &str) -> bool {
    if avoid.trim().is_empty() {
        return false;
    }
    let name = name_words(&h.name);
    let department = name_words(&h.department);
    avoid
        .split([',', ';', '\n', '/', '&'])
        .map(name_words)
        .filter(|e| !e.is_empty())
        .any(|entry| entry_names(&entry, &name, &department))
}

/// The hard constraints. Any one of them rules the helper out, whatever the score.
pub fn check(h: &Helper, r: &Request, policy: Policy, now: i64) -> Result<(), Exclusion> {
    if !h.active {
        return Err(Exclusion::Inactive);
    }
    match h.trained_until {
        None => return Err(Exclusion::NotTrained),
        Some(t) if t <= now => return Err(Exclusion::TrainingExpired),
        Some(_) => {}
    }
    if h.away_until.is_some_and(|t| t > now) {
        return Err(Exclusion::Away);
    }
    if h.open_cases >= h.capacity {
        return Err(Exclusion::Full);
    }
    if r.requester_account == Some(h.account) {
        return Err(Exclusion::IsRequester);
    }
    if (policy.exclude_same_department || r.preferences.outside_department)
        && same_text(&h.department, &r.department)
    {
        return Err(Exclusion::SameDepartment);
    }
    if r.preferences.avoid_helpers.contains(&h.id) || avoided(h, &r.avoid) {
        return Err(Exclusion::OnAvoidList);
    }
    Ok(())
}

/// One reason a helper scored what they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reason {
    pub what: String,
    pub points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Score {
    pub total: i64,
    pub reasons: Vec<Reason>,
}

fn any_same(list: &[String], wanted: &str) -> bool {
    list.iter().any(|v| same_text(v, wanted))
}

/// How well an eligible helper fits. Every eligible pair scores at least 1, so that
/// assigning someone always beats leaving them waiting.
pub fn score(h: &Helper, r: &Request, w: &Weights) -> Score {
    let mut reasons = Vec::new();
    let mut add = |what: String, points: i64| {
        if points != 0 {
            reasons.push(Reason { what, points });
        }
    };
    let shared = r.topics.iter().filter(|t| h.topics.contains(t)).count() as i64;
    if shared > 0 {
        add(
            format!("prepared for {shared} of the topics"),
            shared * w.topic,
        );
    }
    let p = &r.preferences;
    if p.named_helper == Some(h.id) {
        add("chosen by name".into(), w.named_helper);
    }
    if p.appointment.is_some() && p.appointment == h.appointment {
        add("the appointment asked for".into(), w.appointment);
    }
    if !p.rank.trim().is_empty() && same_text(&h.rank, &p.rank) {
        add("the rank asked for".into(), w.rank);
    }
    if !p.gender.trim().is_empty() && any_same(&h.genders, &p.gender) {
        add("the gender asked for".into(), w.gender);
    }
    if !p.race_ethnicity.trim().is_empty() && any_same(&h.race_ethnicities, &p.race_ethnicity) {
        add("the race or ethnicity asked for".into(), w.race_ethnicity);
    }
    if !p.language.trim().is_empty() && any_same(&h.languages, &p.language) {
        add("speaks the language asked for".into(), w.language);
    }
    let spare = i64::from(h.capacity.saturating_sub(h.open_cases));
    add(format!("{spare} free place(s)"), spare * w.spare_capacity);
    add(
        format!("{} recent offer(s)", h.recent_offers),
        -i64::from(h.recent_offers) * w.recent_offer,
    );
    let raw: i64 = reasons.iter().map(|r| r.points).sum();
    // The reasons add up to the score shown: the base point every eligible helper has
    // comes first, and a score that the minuses would take below it is said to stop there.
    reasons.insert(
        0,
        Reason {
            what: "may take it (every eligible helper)".into(),
            points: 1,
        },
    );
    if raw < 0 {
        reasons.push(Reason {
            what: "no score goes below the base point".into(),
            points: -raw,
        });
    }
    Score {
        total: 1 + raw.max(0),
        reasons,
    }
}

/// The score's total alone, without building its reasons: what a whole queue needs.
pub fn score_total(h: &Helper, r: &Request, w: &Weights) -> i64 {
    let p = &r.preferences;
    let mut raw = r.topics.iter().filter(|t| h.topics.contains(t)).count() as i64 * w.topic;
    if p.named_helper == Some(h.id) {
        raw += w.named_helper;
    }
    if p.appointment.is_some() && p.appointment == h.appointment {
        raw += w.appointment;
    }
    if !p.rank.trim().is_empty() && same_text(&h.rank, &p.rank) {
        raw += w.rank;
    }
    if !p.gender.trim().is_empty() && any_same(&h.genders, &p.gender) {
        raw += w.gender;
    }
    if !p.race_ethnicity.trim().is_empty() && any_same(&h.race_ethnicities, &p.race_ethnicity) {
        raw += w.race_ethnicity;
    }
    if !p.language.trim().is_empty() && any_same(&h.languages, &p.language) {
        raw += w.language;
    }
    raw += i64::from(h.capacity.saturating_sub(h.open_cases)) * w.spare_capacity;
    raw -= i64::from(h.recent_offers) * w.recent_offer;
    1 + raw.max(0)
}

/// A candidate for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub helper: i64,
    pub score: Score,
}

/// The best `n` eligible helpers for a request, best first; ties go to the helper with
/// fewer open cases, then the lower id, so the list is stable.
pub fn shortlist(
    helpers: &[Helper],
    r: &Request,
    w: &Weights,
    policy: Policy,
    now: i64,
    n: usize,
) -> Vec<Candidate> {
    let mut all: Vec<(&Helper, i64)> = helpers
        .iter()
        .filter(|h| check(h, r, policy, now).is_ok())
        .map(|h| (h, score_total(h, r, w)))
        .collect();
    let order = |(a, sa): &(&Helper, i64), (b, sb): &(&Helper, i64)| {
        sb.cmp(sa)
            .then(a.open_cases.cmp(&b.open_cases))
            .then(a.id.cmp(&b.id))
    };
    // Only the best n need ordering, and only they get their reasons spelled out.
    if all.len() > n && n > 0 {
        all.select_nth_unstable_by(n - 1, order);
        all.truncate(n);
    }
    all.sort_by(order);
    all.into_iter()
        .take(n)
        .map(|(h, _)| Candidate {
            helper: h.id,
            score: score(h, r, w),
        })
        .collect()
}

/// An assignment of a queue: for each request, the index of its helper (or None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub helper_of: Vec<Option<usize>>,
    /// The sum of the scores of the pairs made.
    pub total: i64,
}

impl Assignment {
    pub fn assigned(&self) -> usize {
        self.helper_of.iter().filter(|h| h.is_some()).count()
    }
}

/// Eligible scores: `scores[r][h]` is None where a hard constraint rules `h` out.
pub fn score_matrix(
    helpers: &[Helper],
    requests: &[Request],
    w: &Weights,
    policy: Policy,
    now: i64,
) -> Vec<Vec<Option<i64>>> {
    requests
        .iter()
        .map(|r| {
            helpers
                .iter()
                .map(|h| check(h, r, policy, now).ok().map(|()| score_total(h, r, w)))
                .collect()
        })
        .collect()
}

/// The optimal assignment of a queue: as many requests as possible get a helper, and
/// among those assignments, the one with the greatest total score. Capacities hold.
///
/// Each helper becomes one column per free place (no more than the requests they could
/// take), which makes it a rectangular linear assignment problem, solved exactly with the
/// Jonker–Volgenant shortest-augmenting-path algorithm (`lsap`, a port of SciPy's
/// `linear_sum_assignment`). Eligible pairs weigh a bonus larger than any sum of scores
/// plus their score, so serving more people always comes first.
pub fn assign(helpers: &[Helper], scores: &[Vec<Option<i64>>]) -> Assignment {
    let rows: Vec<usize> = (0..scores.len())
        .filter(|&r| scores[r].iter().any(Option::is_some))
        .collect();
    let mut helper_of_column = Vec::new();
    for (h, helper) in helpers.iter().enumerate() {
        let could_take = rows.iter().filter(|&&r| scores[r][h].is_some()).count();
        let free = helper.capacity.saturating_sub(helper.open_cases) as usize;
        helper_of_column.extend(std::iter::repeat_n(h, free.min(could_take)));
    }
    let mut helper_of = vec![None; scores.len()];
    let mut total = 0;
    if rows.is_empty() || helper_of_column.is_empty() {
        return Assignment { helper_of, total };
    }
    let max_score = scores
        .iter()
        .flatten()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0);
    // Exact in f64: scores are small integers and the bonus stays far below 2^53.
    let bonus = max_score.saturating_mul(scores.len() as i64 + 1) + 1;
    let (nr, nc) = (rows.len(), helper_of_column.len());
    let mut weights = Vec::with_capacity(nr * nc);
    for &r in &rows {
        for &h in &helper_of_column {
            weights.push(scores[r][h].map_or(0.0, |s| (bonus + s) as f64));
        }
    }
    let Ok((row_ix, col_ix)) = lsap::solve(nr, nc, &weights, true) else {
        // The solver refuses only malformed input (NaN, wrong sizes), which is built
        // above; fall back to the simple way rather than fail the coordinator's request.
        return assign_greedy(helpers, scores);
    };
    for (row, col) in row_ix.into_iter().zip(col_ix) {
        let r = rows[row];
        let h = helper_of_column[col];
        if let Some(s) = scores[r][h] {
            helper_of[r] = Some(h);
            total += s;
        }
    }
    Assignment { helper_of, total }
}

/// The simple way: each request in turn takes its best helper with a place left. The
/// baseline the optimal assignment is measured against.
pub fn assign_greedy(helpers: &[Helper], scores: &[Vec<Option<i64>>]) -> Assignment {
    let mut free: Vec<u32> = helpers
        .iter()
        .map(|h| h.capacity.saturating_sub(h.open_cases))
        .collect();
    let mut helper_of = vec![None; scores.len()];
    let mut total = 0;
    for (r, row) in scores.iter().enumerate() {
        let best = row
            .iter()
            .enumerate()
            .filter(|(h, s)| s.is_some() && free[*h] > 0)
            .max_by_key(|(h, s)| (s.unwrap_or(0), std::cmp::Reverse(*h)));
        if let Some((h, Some(s))) = best {
            free[h] -= 1;
            helper_of[r] = Some(h);
            total += s;
        }
    }
    Assignment { helper_of, total }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn helper(id: i64) -> Helper {
        Helper {
            id,
            account: 1000 + id,
            name: format!("Helper {id}"),
            department: String::new(),
            appointment: None,
            rank: String::new(),
            genders: vec![],
            race_ethnicities: vec![],
            languages: vec![],
            topics: vec![],
            capacity: 2,
            open_cases: 0,
            away_until: None,
            trained_until: Some(10_000),
            active: true,
            recent_offers: 0,
        }
    }

    #[test]
    fn each_hard_constraint_rules_out() {
        let p = Policy::default();
        let r = Request {
            id: 1,
            requester_account: Some(1007),
            department: "Surgery".into(),
            avoid: "Dr. Oberon Fairweather; Radiology".into(),
            ..Default::default()
        };
        let ok = helper(1);
        assert_eq!(check(&ok, &r, p, 100), Ok(()));
        let cases: Vec<(Helper, Exclusion)> = vec![
            (
                Helper {
                    active: false,
                    ..helper(2)
                },
                Exclusion::Inactive,
            ),
            (
                Helper {
                    trained_until: None,
                    ..helper(2)
                },
                Exclusion::NotTrained,
            ),
            (
                Helper {
                    trained_until: Some(50),
                    ..helper(2)
                },
                Exclusion::TrainingExpired,
            ),
            (
                Helper {
                    away_until: Some(200),
                    ..helper(2)
                },
                Exclusion::Away,
            ),
            (
                Helper {
                    open_cases: 2,
                    ..helper(2)
                },
                Exclusion::Full,
            ),
            (helper(7), Exclusion::IsRequester),
            (
                Helper {
                    department: "surgery".into(),
                    ..helper(2)
                },
                Exclusion::SameDepartment,
            ),
            (
                Helper {
                    name: "Dr. Oberon Fairweather".into(),
                    ..helper(2)
                },
                Exclusion::OnAvoidList,
            ),
            (
                Helper {
                    department: "Radiology".into(),
                    ..helper(2)
                },
                Exclusion::OnAvoidList,
            ),
        ];
        for (h, why) in cases {
            assert_eq!(check(&h, &r, p, 100), Err(why), "{h:?}");
        }
        // The programme may allow the same department, unless the person asked otherwise.
        let same = Helper {
            department: "Surgery".into(),
            ..helper(2)
        };
        let open = Policy {
            exclude_same_department: false,
        };
        assert_eq!(check(&same, &r, open, 100), Ok(()));
        let mut insists = r.clone();
        insists.preferences.outside_department = true;
        assert_eq!(
            check(&same, &insists, open, 100),
            Err(Exclusion::SameDepartment)
        );
    }

    #[test]
    fn scores_explain_themselves() {
        let w = Weights::default();
        let mut r = Request {
            topics: vec![Topic::Burnout],
            ..Default::default()
        };
        r.preferences.language = "Spanish".into();
        let h = Helper {
            topics: vec![Topic::Burnout],
            languages: vec!["spanish".into()],
            ..helper(1)
        };
        let s = score(&h, &r, &w);
        assert_eq!(s.total, 1 + w.topic + w.language + 2 * w.spare_capacity);
        assert!(s.reasons.iter().any(|x| x.what.contains("language")));
        // What is listed adds up to what is shown, a helper with many recent offers too.
        let busy = Helper {
            recent_offers: 40,
            ..h.clone()
        };
        assert!(s.reasons[0].what.contains("eligible"));
        for one in [&h, &busy, &helper(9)] {
            let s = score(one, &r, &w);
            assert_eq!(
                s.reasons.iter().map(|x| x.points).sum::<i64>(),
                s.total,
                "{s:?}"
            );
            assert_eq!(s.total, score_total(one, &r, &w));
        }
        let list = shortlist(
            &[helper(2), h.clone(), helper(3)],
            &r,
            &w,
            Policy::default(),
            0,
            2,
        );
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].helper, 1);
    }

    /// The best assignment found by trying every one (small instances only).
    fn brute_force(helpers: &[Helper], scores: &[Vec<Option<i64>>]) -> (usize, i64) {
        fn go(
            r: usize,
            scores: &[Vec<Option<i64>>],
            free: &mut Vec<u32>,
            count: usize,
            total: i64,
            best: &mut (usize, i64),
        ) {
            if r == scores.len() {
                *best = (*best).max((count, total));
                return;
            }
            go(r + 1, scores, free, count, total, best);
            for h in 0..free.len() {
                if let Some(s) = scores[r][h]
                    && free[h] > 0
                {
                    free[h] -= 1;
                    go(r + 1, scores, free, count + 1, total + s, best);
                    free[h] += 1;
                }
            }
        }
        let mut free: Vec<u32> = helpers
            .iter()
            .map(|h| h.capacity.saturating_sub(h.open_cases))
            .collect();
        let mut best = (0, 0);
        go(0, scores, &mut free, 0, 0, &mut best);
        best
    }

    fn arb_helper(id: i64) -> impl Strategy<Value = Helper> {
        (
            any::<bool>(),
            0u32..3,
            0u32..3,
            prop::option::of(0i64..200),
            prop::option::of(0i64..200),
            prop::sample::subsequence(Topic::ALL.to_vec(), 0..3),
            prop::sample::select(vec!["", "Surgery", "Medicine"]),
            0u32..3,
        )
            .prop_map(
                move |(active, capacity, open, away, trained, topics, dept, offers)| Helper {
                    active: active || id % 2 == 0,
                    capacity,
                    open_cases: open,
                    away_until: away,
                    trained_until: trained,
                    topics,
                    department: dept.to_string(),
                    recent_offers: offers,
                    ..helper(id)
                },
            )
    }

    fn arb_request(id: i64) -> impl Strategy<Value = Request> {
        (
            prop::sample::subsequence(Topic::ALL.to_vec(), 1..3),
            prop::sample::select(vec!["", "Surgery", "Medicine"]),
            prop::option::of(1000i64..1006),
            prop::sample::select(vec!["", "Helper 1", "Medicine"]),
        )
            .prop_map(move |(topics, dept, acct, avoid)| Request {
                id,
                requester_account: acct,
                department: dept.to_string(),
                avoid: avoid.to_string(),
                topics,
                ..Default::default()
            })
    }

    fn arb_instance(
        max_h: usize,
        max_r: usize,
    ) -> impl Strategy<Value = (Vec<Helper>, Vec<Request>)> {
        (1..=max_h, 1..=max_r).prop_flat_map(|(nh, nr)| {
            (
                (0..nh).map(|i| arb_helper(i as i64)).collect::<Vec<_>>(),
                (0..nr).map(|i| arb_request(i as i64)).collect::<Vec<_>>(),
            )
        })
    }

    #[test]
    fn the_avoid_list_finds_a_helper_however_they_are_written() {
        let sam = Helper {
            name: "Dr. Sam Lindqvist".into(),
            department: "Emergency Medicine".into(),
            ..helper(1)
        };
        for written in [
            "Dr. Lindqvist",
            "lindqvist",
            "Lindqvist, Sam",
            "Sam Lindqvist MD",
            "Prof. LINDQVÍST",
            "someone else; Dr Lindqvist",
            "the Emergency Medicine department",
        ] {
            assert!(avoided(&sam, written), "{written}");
        }
        for other in ["Dr. Lindgren", "Samantha Reyes", "Medicine", "Dr.", "Q"] {
            assert!(!avoided(&sam, other), "{other}");
        }
        // Picked from the public list instead of typed.
        let r = Request {
            id: 1,
            preferences: crate::domain::support::Preferences {
                avoid_helpers: vec![sam.id],
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            check(&sam, &r, Policy::default(), 100),
            Err(Exclusion::OnAvoidList)
        );
    }

    /// A surname written in one of the ways people write it, around the helper's name.
    fn arb_spelling(first: String, last: String) -> impl Strategy<Value = String> {
        (0..6usize, any::<bool>(), any::<bool>()).prop_map(move |(form, upper, accent)| {
            let last = if accent {
                last.replacen('e', "é", 1)
            } else {
                last.clone()
            };
            let s = match form {
                0 => last.clone(),
                1 => format!("Dr. {last}"),
                2 => format!("{first} {last}"),
                3 => format!("{last}, {first}"),
                4 => format!("Prof {first} {last}, MD"),
                _ => format!("dr {last} phd"),
            };
            if upper {
                s.to_uppercase()
            } else {
                s.to_lowercase()
            }
        })
    }

    fn arb_avoided_case() -> impl Strategy<Value = (Vec<Helper>, Request, usize)> {
        let names = prop::collection::vec(("[A-Z][a-z]{2,7}", "[A-Z][a-z]{3,9}e"), 2..6);
        (names, any::<prop::sample::Index>()).prop_flat_map(|(names, pick)| {
            let i = pick.index(names.len());
            let (first, last) = names[i].clone();
            arb_spelling(first, last).prop_map(move |avoid| {
                let helpers: Vec<Helper> = names
                    .iter()
                    .enumerate()
                    .map(|(n, (f, l))| Helper {
                        name: format!("Dr. {f} {l}"),
                        ..helper(n as i64)
                    })
                    .collect();
                let r = Request {
                    id: 1,
                    avoid: avoid.clone(),
                    ..Default::default()
                };
                (helpers, r, i)
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// No avoided helper is ever offered: not in the shortlist, not by the plan.
        #[test]
        fn an_avoided_helper_is_never_offered((helpers, r, i) in arb_avoided_case()) {
            prop_assert_eq!(check(&helpers[i], &r, Policy::default(), 100), Err(Exclusion::OnAvoidList));
            let short = shortlist(&helpers, &r, &Weights::default(), Policy::default(), 100, 10);
            prop_assert!(short.iter().all(|c| c.helper != helpers[i].id));
            let scores = score_matrix(&helpers, std::slice::from_ref(&r), &Weights::default(), Policy::default(), 100);
            let a = assign(&helpers, &scores);
            prop_assert!(a.helper_of.iter().all(|h| *h != Some(i)));
        }

        #[test]
        fn never_breaks_a_hard_constraint((helpers, requests) in arb_instance(6, 8)) {
            let w = Weights::default();
            let p = Policy::default();
            let scores = score_matrix(&helpers, &requests, &w, p, 100);
            let a = assign(&helpers, &scores);
            let mut load = vec![0u32; helpers.len()];
            for (r, h) in a.helper_of.iter().enumerate() {
                if let Some(h) = h {
                    prop_assert!(check(&helpers[*h], &requests[r], p, 100).is_ok());
                    load[*h] += 1;
                }
            }
            for (h, n) in load.iter().enumerate() {
                if *n > 0 {
                    prop_assert!(helpers[h].open_cases + n <= helpers[h].capacity);
                }
            }
        }

        #[test]
        fn the_fast_total_is_the_explained_total((helpers, requests) in arb_instance(4, 4)) {
            let w = Weights::default();
            for h in &helpers {
                for r in &requests {
                    prop_assert_eq!(score_total(h, r, &w), score(h, r, &w).total);
                }
            }
        }

        #[test]
        fn equals_brute_force_on_small_instances((helpers, requests) in arb_instance(4, 5)) {
            let scores = score_matrix(&helpers, &requests, &Weights::default(), Policy::default(), 100);
            let a = assign(&helpers, &scores);
            prop_assert_eq!((a.assigned(), a.total), brute_force(&helpers, &scores));
        }

        #[test]
        fn never_worse_than_greedy((helpers, requests) in arb_instance(8, 12)) {
            let scores = score_matrix(&helpers, &requests, &Weights::default(), Policy::default(), 100);
            let a = assign(&helpers, &scores);
            let g = assign_greedy(&helpers, &scores);
            prop_assert!((a.assigned(), a.total) >= (g.assigned(), g.total));
        }
    }
}
