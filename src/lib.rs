//! wecare: a self-hosted web application for running a faculty well-being programme.
//!
//! Layers (dependencies point inward): `web` → `domain` → `store`.
//! `config`, `crypto` and `telemetry` are small leaf modules; `cli` and `startup`
//! wire everything together for the `wecare` binary.

pub mod cli;
pub mod config;
pub mod crypto;
pub mod delivery;
pub mod domain;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
