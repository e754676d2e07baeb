-- who a project's alerts go to: people by email, and the account's notification
-- channels (sms, dingtalk, webhook).
create table contact_groups (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    name text not null,
    -- json array of email addresses
    emails text not null,
    created_by text not null,
    created_at bigint not null
);
create unique index contact_groups_name on contact_groups (project_id, name);

create table contact_group_channels (
    group_id text not null references contact_groups (id) on delete cascade,
    channel_id text not null references notification_channels (id) on delete cascade,
    primary key (group_id, channel_id)
);

-- a rule watches one deployment, or every deployment of the project (deployment_id
-- null), for a condition; what fires goes to its contact group.
create table alert_rules (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    name text not null,
    deployment_id text references deployments (id) on delete cascade,
    -- job_failed, restarts, state_mismatch
    condition text not null,
    -- restarts: more than this many in window_secs
    threshold bigint not null,
    -- restarts: the period counted; state_mismatch: how long it must last
    window_secs bigint not null,
    -- P0 (most urgent) to P3
    severity text not null,
    contact_group_id text not null references contact_groups (id),
    -- while firing, remind this often (0: never)
    repeat_secs bigint not null,
    enabled bigint not null,
    created_by text not null,
    created_at bigint not null
);
create unique index alert_rules_name on alert_rules (project_id, name);

-- one row per rule and deployment each time the condition holds: firing until it
-- ends, then resolved. the history of a project's alerts.
create table alerts (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    rule_id text not null references alert_rules (id) on delete cascade,
    deployment_id text not null references deployments (id) on delete cascade,
    -- firing, resolved
    state text not null,
    summary text not null,
    started_at bigint not null,
    resolved_at bigint,
    -- when people were last told (firing, a reminder); null while silenced
    notified_at bigint,
    -- whether the firing was sent (a silenced alert's resolution is not)
    announced bigint not null
);
-- a rule fires at most once at a time per deployment
create unique index alerts_firing on alerts (rule_id, deployment_id) where state = 'firing';
create index alerts_project on alerts (project_id, id);

-- mute a rule, a deployment, or one rule on one deployment for a window.
create table silences (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    rule_id text references alert_rules (id) on delete cascade,
    deployment_id text references deployments (id) on delete cascade,
    starts_at bigint not null,
    ends_at bigint not null,
    reason text not null,
    created_by text not null,
    created_at bigint not null
);
create index silences_project on silences (project_id, ends_at);
