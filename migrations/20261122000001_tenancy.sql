-- Tenancy and drafts. Portable SQL: both SQLite and PostgreSQL run this file.
-- ids are UUIDv7 text, instants are bigint Unix milliseconds, JSON is text.

-- an account is a tenant: every other row hangs off one.
create table accounts (
    id text primary key,
    name text not null,
    -- name of a plan in the configuration; the plan holds the limits.
    plan text not null,
    created_at bigint not null
);

-- a person; one user may belong to several accounts.
create table users (
    id text primary key,
    -- stored lower-cased so lookups by email are exact.
    email text not null unique,
    display_name text not null,
    created_at bigint not null
);

create table account_members (
    account_id text not null references accounts (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    created_at bigint not null,
    primary key (account_id, user_id)
);

-- api tokens: only a sha-256 of the secret is kept; the prefix identifies it in lists.
create table api_tokens (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    name text not null,
    prefix text not null,
    secret_sha256 text not null unique,
    created_at bigint not null,
    expires_at bigint,
    last_used_at bigint,
    revoked_at bigint
);
create index api_tokens_account on api_tokens (account_id, id);

-- a project is a workspace.
create table projects (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    name text not null,
    description text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create unique index projects_name on projects (account_id, name);

-- folders form a tree per project; a null parent is the project root.
create table folders (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    parent_id text references folders (id) on delete cascade,
    name text not null,
    created_at bigint not null,
    updated_at bigint not null
);
-- coalesce: nulls are distinct in unique indexes, and names must be unique at the root too.
create unique index folders_name on folders (project_id, coalesce(parent_id, ''), name);

-- uploaded UDF and JAR files; the bytes live in the file store under the data directory.
create table artifacts (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    name text not null,
    kind text not null,
    size_bytes bigint not null,
    sha256 text not null,
    created_at bigint not null
);
create unique index artifacts_name on artifacts (project_id, name);

-- a job draft: what the editor saves. revision backs the ETag.
create table jobs (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    folder_id text references folders (id),
    name text not null,
    kind text not null,
    sql_text text,
    artifact_id text references artifacts (id),
    entry_class text,
    -- json array of strings
    args text,
    revision bigint not null,
    -- highest version number ever saved; numbers are never reused after pruning.
    last_version bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);
create unique index jobs_name on jobs (project_id, coalesce(folder_id, ''), name);
create index jobs_folder on jobs (folder_id);
create index jobs_artifact on jobs (artifact_id);

-- immutable snapshots of a draft; the newest versions_per_job are kept.
create table job_versions (
    job_id text not null references jobs (id) on delete cascade,
    version bigint not null,
    message text not null,
    kind text not null,
    sql_text text,
    artifact_id text references artifacts (id),
    entry_class text,
    args text,
    created_by text not null,
    created_at bigint not null,
    primary key (job_id, version)
);
create index job_versions_artifact on job_versions (artifact_id);

-- registered data stores. secret_properties is AES-256-GCM ciphertext of a json object.
create table connections (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    name text not null,
    kind text not null,
    properties text not null,
    secret_properties text not null,
    secret_keys text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create unique index connections_name on connections (project_id, name);
