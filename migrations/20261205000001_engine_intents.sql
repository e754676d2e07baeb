-- every job Sluice asks an engine to run, recorded before the engine is asked, under
-- the job id Sluice chose: a submission interrupted by a crash or a lost answer is
-- retried under the same id (the engine refuses a second job with it), never as a
-- second job, and any job on a cluster can be traced to its deployment.
create table engine_jobs (
    id text primary key,
    deployment_id text not null references deployments (id) on delete cascade,
    cluster_id text not null references engine_clusters (id),
    job_version bigint not null,
    -- the checkpoint or savepoint it restores from; null: empty state
    restore_path text,
    -- INTENDED (recorded, the engine may or may not have it), SUBMITTED (the engine
    -- acknowledged it), REFUSED (the engine refused the program)
    state text not null,
    created_at bigint not null,
    submitted_at bigint
);
create index engine_jobs_deployment on engine_jobs (deployment_id, created_at);

-- jobs found running on a cluster under Sluice's id scheme that no deployment runs:
-- reported once, cancelled after the configured grace.
create table engine_orphans (
    cluster_id text not null references engine_clusters (id) on delete cascade,
    engine_job_id text not null,
    deployment_id text,
    job_name text not null,
    first_seen_at bigint not null,
    reported_at bigint,
    cancelled_at bigint,
    primary key (cluster_id, engine_job_id)
);

-- restarts by the engine's own restart strategy of the current job (Flink's
-- numRestarts), and the failure it last restarted from.
alter table deployments add column engine_restarts bigint not null default 0;
alter table deployments add column last_engine_failure text;
-- set once a checkpoint or savepoint of the deployment completed: from then on a start
-- that asks for state and finds none is refused rather than started empty.
alter table deployments add column had_state bigint not null default 0;
-- the current start's consent to start from empty state when the state asked for is gone.
alter table deployments add column allow_empty_state bigint not null default 0;
update deployments set had_state = 1
 where last_checkpoint_path is not null
    or exists (select 1 from savepoints s where s.deployment_id = deployments.id and s.state = 'COMPLETED');

-- this installation's tag, part of every engine job id it chooses (`511ce0` + tag +
-- random): its orphan sweep then touches only its own jobs, even on a cluster that
-- other installations (or other test servers) use too. One row, written by the first
-- replica to start.
create table installation (
    singleton bigint primary key check (singleton = 1),
    tag text not null
);
