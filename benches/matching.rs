//! Matching benchmarks: `cargo bench --bench matching`. Plain timing (median of several
//! runs, one thread) so that no benchmark framework has to be built; the figures go to
//! docs/BENCHMARKS.md.

use std::time::{Duration, Instant};

use wecare::domain::matching::{
    Helper, Policy, Request, Weights, assign, assign_greedy, score_matrix, shortlist,
};
use wecare::domain::support::{Appointment, Preferences, Topic};

/// A small deterministic generator (xorshift), so every run measures the same instances.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

const DEPARTMENTS: &[&str] = &[
    "Medicine",
    "Surgery",
    "Paediatrics",
    "Psychiatry",
    "Radiology",
    "Anaesthesia",
    "Emergency Medicine",
    "Neurology",
    "Obstetrics",
    "Pathology",
    "Oncology",
    "Cardiology",
];
const GENDERS: &[&str] = &["woman", "man", "non-binary"];
const LANGUAGES: &[&str] = &[
    "English", "Spanish", "Mandarin", "Hindi", "Arabic", "French",
];
const RACES: &[&str] = &[
    "Black",
    "White",
    "Asian",
    "Hispanic or Latino",
    "Middle Eastern",
];
const RANKS: &[&str] = &[
    "Instructor",
    "Assistant Professor",
    "Associate Professor",
    "Professor",
];

fn topics(rng: &mut Rng) -> Vec<Topic> {
    Topic::ALL
        .iter()
        .copied()
        .filter(|_| rng.below(3) == 0)
        .collect()
}

fn helpers(rng: &mut Rng, n: usize, capacity: u32) -> Vec<Helper> {
    (0..n)
        .map(|i| Helper {
            id: i as i64,
            account: 100_000 + i as i64,
            name: format!("Dr. Helper {i}"),
            department: rng.pick(DEPARTMENTS).into(),
            appointment: Some(if rng.below(2) == 0 {
                Appointment::Clinical
            } else {
                Appointment::NonClinical
            }),
            rank: rng.pick(RANKS).into(),
            genders: vec![rng.pick(GENDERS).into()],
            race_ethnicities: vec![rng.pick(RACES).into()],
            languages: vec!["English".into(), rng.pick(LANGUAGES).into()],
            topics: topics(rng),
            capacity,
            open_cases: if rng.below(4) == 0 { 1 } else { 0 },
            away_until: if rng.below(20) == 0 {
                Some(2_000)
            } else {
                None
            },
            trained_until: if rng.below(25) == 0 {
                Some(500)
            } else {
                Some(5_000)
            },
            active: rng.below(30) != 0,
            recent_offers: rng.below(4) as u32,
        })
        .collect()
}

fn requests(rng: &mut Rng, n: usize) -> Vec<Request> {
    (0..n)
        .map(|i| Request {
            id: i as i64,
            requester_account: Some(200_000 + i as i64),
            department: rng.pick(DEPARTMENTS).into(),
            avoid: if rng.below(5) == 0 {
                rng.pick(DEPARTMENTS).into()
            } else {
                String::new()
            },
            topics: {
                let mut t = topics(rng);
                if t.is_empty() {
                    t.push(Topic::Burnout);
                }
                t
            },
            preferences: Preferences {
                gender: if rng.below(3) == 0 {
                    rng.pick(GENDERS).into()
                } else {
                    String::new()
                },
                language: if rng.below(4) == 0 {
                    rng.pick(LANGUAGES).into()
                } else {
                    String::new()
                },
                race_ethnicity: if rng.below(5) == 0 {
                    rng.pick(RACES).into()
                } else {
                    String::new()
                },
                rank: if rng.below(6) == 0 {
                    rng.pick(RANKS).into()
                } else {
                    String::new()
                },
                outside_department: rng.below(3) == 0,
                ..Default::default()
            },
        })
        .collect()
}

/// The median of `runs` timings of `f`.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    (times[runs / 2], last.expect("at least one run"))
}

fn main() {
    let w = Weights::default();
    let p = Policy::default();
    let now = 1_000;

    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let many = helpers(&mut rng, 10_000, 3);
    let one = requests(&mut rng, 1).remove(0);
    let (t, list) = time(51, || shortlist(&many, &one, &w, p, now, 3));
    println!(
        "shortlist of 3 among 10,000 helpers: median {:.3} ms (best score {})",
        t.as_secs_f64() * 1e3,
        list.first().map_or(0, |c| c.score.total)
    );

    for (nr, nh, cap, runs) in [(100, 50, 3, 21), (1_000, 500, 3, 5)] {
        let mut rng = Rng(0xfeed_0000_0000_0001 ^ nr as u64);
        let hs = helpers(&mut rng, nh, cap);
        let rs = requests(&mut rng, nr);
        let (t_scores, scores) = time(runs, || score_matrix(&hs, &rs, &w, p, now));
        let (t_opt, opt) = time(runs, || assign(&hs, &scores));
        let (t_greedy, greedy) = time(runs, || assign_greedy(&hs, &scores));
        println!(
            "{nr} requests x {nh} helpers (capacity {cap}): scoring {:.2} ms; optimal {:.2} ms, {} assigned, total {}; greedy {:.2} ms, {} assigned, total {} ({:+.1}% for optimal)",
            t_scores.as_secs_f64() * 1e3,
            t_opt.as_secs_f64() * 1e3,
            opt.assigned(),
            opt.total,
            t_greedy.as_secs_f64() * 1e3,
            greedy.assigned(),
            greedy.total,
            (opt.total - greedy.total) as f64 * 100.0 / greedy.total.max(1) as f64
        );
    }
}
