//! Typed client of the Flink JobManager REST API (see the engine issue).
