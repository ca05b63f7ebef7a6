//! wecare: a self-hosted web application for running a faculty well-being programme.
//!
//! Layers (dependencies point inward): `web` → `domain` → `store`.
//! `delivery` (mail and timed jobs) uses domain and store. `config`, `crypto`, `sealing`
//! and `telemetry` are small leaf modules; `cli` and `startup` wire everything together.

pub mod casework;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod delivery;
pub mod demo_events;
pub mod domain;
pub mod eventwork;
pub mod private_files;
pub mod sealing;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
