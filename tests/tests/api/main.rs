//! End-to-end tests of the HTTP API. One binary, one module per resource; each test
//! starts its own server over its own database (SQLite or PostgreSQL, see the harness).

mod accounts;
mod alerts;
mod artifacts;
mod audit;
mod billing;
mod clusters;
mod connections;
mod console;
mod delivery;
mod engine;
mod folders;
mod hardening;
mod isolation;
mod jobs;
mod jwt;
mod kafka;
mod lifecycle;
mod lifecycle_schedules;
mod lifecycle_stages;
mod limits;
mod login;
mod matrix;
mod metrics;
mod openapi;
mod outbox;
mod pipelines;
mod projects;
mod readme;
mod requests;
mod roles;
mod versions;
