//! Debug runs of a SQL draft: the draft runs on a session cluster with every sink
//! replaced by a capture that sends its rows back to Sluice, sources either live or
//! fed from a sample file, until a record limit, a time limit, the end of its input, a
//! cancel or a failure; the engine job is cancelled at the end whatever ended it.
//!
//! What is sent to the engine: each table an INSERT writes keeps its schema and gets
//! the SQL runner's `sluice-capture` connector instead of its own (so no record
//! reaches the real sink, whatever its type); a source given a sample gets the
//! runner's bounded `sluice-sample` connector with the sample's rows as JSON lines;
//! top-level SELECTs are captured by the runner itself (`--capture-url`). The rows
//! arrive at `POST /internal/debug-capture/{run}` with the run's token.

mod rewrite;
mod run;
mod samples;

pub use rewrite::{rewrite, Rewritten, Target};
pub use run::{
    cancel, capture, reason, start, supervise, supervise_forever, CaptureBatch, CaptureOutcome,
    CapturedValues, Refused, Start,
};
pub use samples::{physical_columns, read_sample, sample_rows_for, Column, Sample};

/// A draft with a Kafka source, a Kafka sink fed by an aggregate and a SELECT: what the
/// tests of each part read.
#[cfg(test)]
const SCRIPT: &str = "CREATE TABLE orders (
  id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  ts TIMESTAMP(3),
  seen AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'kafka', 'topic' = 'orders');
CREATE TABLE totals (customer STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'totals');
INSERT INTO totals SELECT customer, COUNT(*) FROM orders GROUP BY customer;
SELECT * FROM orders WHERE amount > 10;";
