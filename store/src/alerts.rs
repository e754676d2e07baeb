//! A project's alerts: one row per rule and deployment each time the rule's condition
//! holds, firing until it ends, then resolved.

crate::stored_enum! {
    /// An alert fires while its condition holds and is resolved once it no longer does.
    pub enum AlertState {
        Firing = "firing",
        Resolved = "resolved",
    }
}
