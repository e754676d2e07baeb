//! Lifecycle rules for product forms and engine versions (see the lifecycle issue).
