//! wecare: a self-hosted web application for running a faculty well-being programme.
//!
//! Layers (dependencies point inward): `web` and the timed jobs → `app` → `store` and
//! `domain`. `app` is the only way to act on the programme (see its docs); `jobs` is the
//! timed work every instance runs; `delivery` turns outbox rows into e-mail; `oidc` speaks OpenID Connect to the
//! institution's identity provider. `config`, `crypto`, `sealing`
//! and `telemetry` are small leaf modules; `cli` and `startup` wire everything together.

pub mod app;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod delivery;
pub mod demo_events;
pub mod domain;
pub mod jobs;
pub mod oidc;
pub mod private_files;
pub mod sealing;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
