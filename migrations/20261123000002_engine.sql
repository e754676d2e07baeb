-- Engine clusters (deployment targets) and what Sluice uploaded to them.

-- a flink session cluster reached over its rest api. account_id null: provided by the
-- platform (the embedded local cluster) and usable by every account.
create table engine_clusters (
    id text primary key,
    account_id text references accounts (id) on delete cascade,
    name text not null,
    rest_url text not null,
    flink_version text not null,
    -- the product's engine version label, e.g. 1.0.3
    engine_version text not null,
    created_at bigint not null,
    health_checked_at bigint,
    -- 1 healthy, 0 not; null until first checked
    healthy bigint,
    health_detail text
);
create unique index engine_clusters_name on engine_clusters (coalesce(account_id, ''), name);

-- the cluster a project deploys to unless a deployment names another.
alter table projects add column default_cluster_id text references engine_clusters (id) on delete set null;

-- jars sluice uploaded to a cluster (the sql runner), by content version; a cluster
-- that lost its uploads (restart) gets them again.
create table engine_jars (
    cluster_id text not null references engine_clusters (id) on delete cascade,
    name text not null,
    version text not null,
    jar_id text not null,
    uploaded_at bigint not null,
    primary key (cluster_id, name, version)
);

-- a job version deployed to a cluster. desired_state is what the user asked for
-- (RUNNING, SUSPENDED, CANCELLED); status is what sluice last saw the engine do.
-- the reconciler moves the engine toward desired_state; a lease makes one replica
-- at a time act on a deployment.
create table deployments (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    job_id text not null references jobs (id),
    name text not null,
    job_version bigint not null,
    -- the version's content, copied: saved versions are pruned, deployments are not
    kind text not null,
    sql_text text,
    artifact_id text references artifacts (id),
    entry_class text,
    args text,
    cluster_id text not null references engine_clusters (id),
    parallelism bigint not null,
    -- thousandths of a cu per parallel task (1 cu = 1 core + 4 gib)
    cu_per_task_milli bigint not null,
    desired_state text not null,
    status text not null,
    engine_job_id text,
    -- how the next start restores state: NONE, LATEST_SAVEPOINT, FROM_SAVEPOINT, LATEST_STATE
    restore_mode text not null,
    restore_savepoint_id text,
    -- a stateful upgrade waiting for its savepoint
    pending_version bigint,
    -- the newest completed checkpoint seen while running, to resume after a crash
    last_checkpoint_path text,
    last_error text,
    restart_count bigint not null,
    revision bigint not null,
    lease_owner text,
    lease_until bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create unique index deployments_name on deployments (project_id, name);
create index deployments_job on deployments (job_id);

-- what happened to a deployment, for people to read.
create table deployment_events (
    id text primary key,
    deployment_id text not null references deployments (id) on delete cascade,
    kind text not null,
    message text not null,
    created_at bigint not null
);
create index deployment_events_deployment on deployment_events (deployment_id, id);

-- savepoints sluice asked for. origin: USER_REQUEST, SUSPEND, SUSPEND_AND_UPGRADE;
-- state: STARTED, COMPLETED, FAILED. a record is never dropped while its files exist.
create table savepoints (
    id text primary key,
    deployment_id text not null references deployments (id) on delete cascade,
    engine_job_id text not null,
    trigger_id text not null,
    origin text not null,
    state text not null,
    location text,
    failure text,
    created_at bigint not null,
    completed_at bigint
);
create index savepoints_deployment on savepoints (deployment_id, id);

-- each stretch of time a deployment ran, with the cu it held: what billing meters.
-- ended_at null: still running. at most one open interval per deployment. no foreign
-- keys: the usage record outlives the deployment and project it was for.
create table run_intervals (
    id text primary key,
    deployment_id text not null,
    project_id text not null,
    account_id text not null,
    cu_milli bigint not null,
    started_at bigint not null,
    ended_at bigint
);
create index run_intervals_deployment on run_intervals (deployment_id, ended_at);
