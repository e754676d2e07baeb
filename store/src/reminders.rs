//! Lifecycle reminders sent, so that each is sent once.
