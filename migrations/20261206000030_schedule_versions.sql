-- every published lifecycle schedule, kept as history: each publication of a product
-- form's or an engine version's schedule is a new version, recorded at the server's
-- instant (announced_at), never replaced. product_forms and engine_versions hold the
-- current one.
create table product_form_schedule_versions (
    name text not null,
    version bigint not null,
    announced_at bigint not null,
    eom1 bigint not null,
    eom2 bigint not null,
    eofs bigint not null,
    eos bigint not null,
    -- the operator who published it (empty: the command line)
    announced_by text not null default '',
    primary key (name, version)
);

create table engine_version_schedule_versions (
    label text not null,
    version bigint not null,
    flink_version text not null,
    announced_at bigint not null,
    ga bigint not null,
    eogs bigint not null,
    eofs bigint not null,
    eos bigint not null,
    pulled bigint not null default 0,
    announced_by text not null default '',
    primary key (label, version)
);

-- the schedules published before history was kept are each its first version
insert into product_form_schedule_versions (name, version, announced_at, eom1, eom2, eofs, eos)
    select name, 1, announced_at, eom1, eom2, eofs, eos from product_forms;
insert into engine_version_schedule_versions (label, version, flink_version, announced_at, ga, eogs, eofs, eos, pulled)
    select label, 1, flink_version, announced_at, ga, eogs, eofs, eos, pulled from engine_versions;
