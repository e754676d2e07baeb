-- checkpoint counters as the reconciler last read them (it asks every 10 s anyway).
alter table deployments add column checkpoints_completed bigint;
alter table deployments add column checkpoints_failed bigint;
alter table deployments add column last_checkpoint_at bigint;
-- when a replica last claimed the deployment's metrics collection.
alter table deployments add column metrics_claimed_at bigint;

-- a short time series per deployment: raw samples (resolution 0) every collection
-- interval, averaged into rows of `resolution` seconds once older than the raw window,
-- deleted past the retention. rates are per second; ratios between 0 and 1.
create table deployment_metrics (
    deployment_id text not null references deployments (id) on delete cascade,
    at bigint not null,
    resolution bigint not null,
    -- the engine's cumulative counters at `at` (raw samples), for the next sample's rates
    records_in bigint not null,
    records_out bigint not null,
    backpressured_ms bigint not null,
    busy_ms bigint not null,
    records_in_per_sec double precision not null,
    records_out_per_sec double precision not null,
    -- the most backpressured vertex's share of time backpressured
    backpressure_ratio double precision not null,
    -- the busiest vertex's share of time busy
    busy_ratio double precision not null,
    checkpoints_completed bigint not null,
    checkpoints_failed bigint not null,
    primary key (deployment_id, resolution, at)
);
create index deployment_metrics_age on deployment_metrics (resolution, at);
