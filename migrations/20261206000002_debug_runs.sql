-- clusters that take debug runs of SQL drafts (session clusters for development); the
-- platform's cluster is one when the configuration says so.
alter table engine_clusters add column debug_sessions bigint not null default 0;

-- sample data a project keeps for debug runs: each file's rows as JSON lines, one
-- object per row keyed by column name (a CSV upload is stored converted).
create table debug_samples (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    name text not null,
    -- csv or jsonl: what was uploaded
    format text not null,
    columns text not null,
    rows_json text not null,
    row_count bigint not null,
    size_bytes bigint not null,
    created_at bigint not null,
    unique (project_id, name)
);

-- a debug run of a job's draft: recorded (with the engine job id Sluice chose) before
-- the engine is asked, so a run whose starter died is found and cancelled.
create table debug_runs (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    job_id text not null references jobs (id) on delete cascade,
    cluster_id text not null,
    engine_job_id text not null,
    -- starting, running, stopping, ended
    status text not null,
    -- record_limit, time_limit, input_exhausted, cancelled, failed, abandoned,
    -- interrupted; null while it runs
    stop_reason text,
    error text,
    token_hash text not null,
    record_limit bigint not null,
    time_limit_ms bigint not null,
    records bigint not null default 0,
    -- what each capture target is: JSON [{target, statement, table, columns}]
    targets text not null,
    created_by text,
    -- the process that watches the run, until when (renewed while it lives); another
    -- process that finds it lapsed ends the run: a run does not outlive its watcher
    supervisor text not null,
    supervised_until bigint not null,
    -- when someone last read its results; a run nobody reads is abandoned
    seen_at bigint not null,
    started_at bigint not null,
    deadline_at bigint not null,
    ended_at bigint
);
create index debug_runs_open on debug_runs (status);
create index debug_runs_project on debug_runs (project_id, started_at);

create table debug_rows (
    run_id text not null references debug_runs (id) on delete cascade,
    seq bigint not null,
    target text not null,
    kind text not null,
    row_values text not null,
    primary key (run_id, seq)
);
