-- user-defined functions registered from a project's UDF artifacts: callable by name in
-- every SQL job of the project. The primary key makes a name clash between two
-- artifacts of one project impossible, also under concurrent registrations.
create table udf_functions (
    project_id text not null references projects (id) on delete cascade,
    name text not null,
    artifact_id text not null references artifacts (id) on delete cascade,
    class_name text not null,
    -- scalar, table, aggregate, table_aggregate, async_scalar, async_table, process_table
    kind text not null,
    registered_at bigint not null,
    primary key (project_id, name)
);
create index udf_functions_artifact on udf_functions (artifact_id);

-- where an uploaded jar sits on the cluster's JobManager (Flink's upload answer): the
-- path the SQL runner adds to the job's classpath. Null for jars uploaded before.
alter table engine_jars add column path text;

-- artifacts a deployment needs on its classpath beyond what its SQL references
-- (Ververica's additionalDependencies): a JSON array of artifact ids.
alter table deployments add column dependencies text not null default '[]';
