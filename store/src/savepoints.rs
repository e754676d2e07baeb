//! Savepoints: requested, taken on the engine and recorded.
