-- engine versions and their lifecycle, set by operators. clusters name the engine
-- version they run; deployments on a version at end of service neither start nor run.
create table engine_versions (
    label text primary key,
    flink_version text not null,
    announced_at bigint not null,
    ga bigint not null,
    eogs bigint not null,
    eofs bigint not null,
    eos bigint not null,
    -- pulled for a defect: no new deployments on it
    pulled bigint not null default 0,
    updated_at bigint not null
);
