//! What reports may publish: counts over fixed periods, with small cells suppressed.

pub mod suppression;
