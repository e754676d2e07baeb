//! A project's alerting: contact groups (emails and the account's notification
//! channels) with a test send, alert rules, silences, and the alert history. Viewers
//! read; editors write rules and silences; project admins manage contact groups, which
//! hold people's addresses.

pub mod groups;
pub mod history;
pub mod rules;
pub mod silences;
