-- what the engine said of the job in the sample (RUNNING, RESTARTING, ...), and the
-- sources' lag as last read: event-time lag of the emitted records (ms, the largest
-- over the sources) and records waiting at the sources (summed); null where no source
-- reports them.
alter table deployment_metrics add column engine_state text;
alter table deployment_metrics add column source_lag_ms double precision;
alter table deployment_metrics add column pending_records double precision;
-- samples claimed so far: every `job_metrics.lag_every`-th one reads lag instead of
-- the job, keeping one engine request per job per interval.
alter table deployments add column metrics_ticks bigint not null default 0;
-- the collector's notes on the job's sources (JSON): which metrics report lag, and
-- their last readings.
alter table deployments add column source_lag text;
