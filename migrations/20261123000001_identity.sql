-- Identity and access: roles, OIDC identities, invitations, sessions and the audit log.
-- Portable SQL, as in the first migration.

-- account role of each member: owner, admin, billing_manager or member (no account
-- powers; reaches projects only through project roles). Existing members were the
-- account's owners.
alter table account_members add column role text not null default 'owner';

-- project role of an account member: owner, admin, editor or viewer. Account owners
-- and admins reach every project of the account without a row here.
create table project_members (
    project_id text not null references projects (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    role text not null,
    created_at bigint not null,
    primary key (project_id, user_id)
);
create index project_members_user on project_members (user_id);

-- an api token acts as its user, narrowed to one project and role when these are set.
alter table api_tokens add column scope_project_id text references projects (id) on delete cascade;
alter table api_tokens add column scope_role text;

-- the provider's (issuer, subject) pair is a person's identity; email may change.
create table user_identities (
    issuer text not null,
    subject text not null,
    user_id text not null references users (id) on delete cascade,
    created_at bigint not null,
    last_login_at bigint not null,
    primary key (issuer, subject)
);
create index user_identities_user on user_identities (user_id);

-- an owner or admin invites an email; a login with that verified email accepts it.
create table invitations (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    -- lower-cased
    email text not null,
    role text not null,
    project_id text references projects (id) on delete cascade,
    project_role text,
    invited_by text not null,
    created_at bigint not null,
    expires_at bigint not null,
    accepted_at bigint,
    accepted_by text,
    revoked_at bigint
);
create index invitations_email on invitations (email);
create index invitations_account on invitations (account_id, id);

-- an oidc login between the redirect to the provider and the callback; single use.
create table login_attempts (
    -- sha-256 of the state parameter
    state_sha256 text primary key,
    -- the pkce verifier and nonce, encrypted like connection secrets
    secrets text not null,
    return_to text not null,
    expires_at bigint not null
);

-- a console session: short-lived signed access tokens are refreshed with the refresh
-- secret, which rotates on every use; presenting the previous one revokes the session.
create table sessions (
    id text primary key,
    user_id text not null references users (id) on delete cascade,
    -- the account the console is working in; the access token carries it too.
    account_id text not null references accounts (id) on delete cascade,
    refresh_sha256 text not null unique,
    previous_refresh_sha256 text,
    created_at bigint not null,
    refreshed_at bigint not null,
    expires_at bigint not null,
    revoked_at bigint
);
create index sessions_user on sessions (user_id);
create index sessions_previous_refresh on sessions (previous_refresh_sha256);

-- append-only record of every mutation attempt the api saw from an authenticated caller.
-- no foreign keys: the trail outlives the projects and users it mentions.
create table audit_log (
    id text primary key,
    account_id text not null,
    project_id text,
    actor_user_id text not null,
    -- 'session:<id>' or 'token:<id>'
    actor_credential text not null,
    -- the operation id from the api document, e.g. create_job
    action text not null,
    method text not null,
    path text not null,
    -- success (2xx), denied (401/403/404 from authorization), failed (anything else)
    outcome text not null,
    status bigint not null,
    request_id text not null,
    created_at bigint not null
);
create index audit_log_account on audit_log (account_id, id);
