//! The `sluice` binary itself, spawned as a process: as an operator uses it from the
//! command line (`cli`), and killed with SIGKILL in the middle of its work to show that
//! nothing is lost or done twice (`crash`). Both spawn it through `harness`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod crash;
mod harness;
