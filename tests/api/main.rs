//! The integration suite: one test binary (one link step). Tests that touch the database
//! run on SQLite always and on PostgreSQL when `WECARE_TEST_POSTGRES_URL` is set.

mod helpers;
mod sink;

mod accessibility;
mod accounts;
mod authorization;
mod browser;
mod calendars;
mod cases;
mod cli;
mod conformance;
mod content;
mod delivery;
mod events;
mod home;
mod layers;
mod pledge;
mod promises;
mod security;
mod single_sign_on;
mod store;
mod support;
mod trusted_header;
