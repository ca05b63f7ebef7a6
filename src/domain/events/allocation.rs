//! Who gets a place: the lottery's reproducible order, and the order in which freed
//! places go to those waiting.

use sha2::{Digest, Sha256};

/// The lottery's order: each entry ranked by SHA-256 of the seed and its id. Anyone with
/// the published seed and the entries' ids can recompute it; no entry can choose its rank.
pub fn lottery_order(seed: &str, ids: &[i64]) -> Vec<i64> {
    let mut keyed: Vec<([u8; 32], i64)> = ids
        .iter()
        .map(|id| {
            let mut h = Sha256::new();
            h.update(seed.as_bytes());
            h.update(b":");
            h.update(id.to_string().as_bytes());
            (h.finalize().into(), *id)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, id)| id).collect()
}

/// Who gets a freed place: waiting registrations in arrival order, while the first one's
/// places fit in what is free (a family is not split, nor overtaken).
pub fn promotable(free: i64, waiting: &[(i64, i64)]) -> Vec<i64> {
    let mut free = free;
    let mut out = Vec::new();
    for (id, places) in waiting {
        if *places > free {
            break;
        }
        free -= places;
        out.push(*id);
    }
    out
}
