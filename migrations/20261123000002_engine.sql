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
