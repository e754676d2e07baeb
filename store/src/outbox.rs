//! The outbox: notifications to deliver, their attempts and outcomes.
