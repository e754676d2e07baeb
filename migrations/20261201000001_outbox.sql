-- where an account's notices go beyond the in-site inbox and its people's email:
-- sms numbers, dingtalk robots and webhooks, set up by owners and admins. the
-- address (a robot's url carries its access token) and the signing secret are
-- encrypted at rest, bound to the row.
create table notification_channels (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    -- sms, dingtalk, webhook
    kind text not null,
    name text not null,
    address_enc text not null,
    secret_enc text,
    created_by text not null,
    created_at bigint not null
);
create unique index notification_channels_name on notification_channels (account_id, name);

-- the transactional outbox: one row per message and destination, committed with the
-- change that caused it. workers lease due rows, deliver, and record the outcome; a
-- lease that runs out (a worker died) makes the row due again, and the receiver
-- drops the repeat by its idempotency key.
create table outbox (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    -- what caused it: notice, alert, test
    source_kind text not null,
    source_id text not null,
    -- email, sms, dingtalk, webhook
    channel text not null,
    -- the email address, or the notification_channels row
    recipient text not null,
    idempotency_key text not null,
    subject text not null,
    body_text text not null,
    body_markdown text not null,
    -- pending, sent, failed (permanently, or out of attempts)
    status text not null,
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    leased_by text,
    lease_until bigint,
    last_error text,
    created_at bigint not null,
    sent_at bigint
);
create unique index outbox_idempotency on outbox (idempotency_key);
create index outbox_due on outbox (status, next_attempt_at);
create index outbox_account on outbox (account_id, id);
-- dingtalk robots take 20 messages a minute: recent sends per destination are counted.
create index outbox_recipient_sent on outbox (recipient, sent_at);

-- reminders already sent before a lifecycle milestone, so each is sent once.
create table lifecycle_reminders (
    -- product_form or engine_version, and its name or label
    subject_kind text not null,
    subject_name text not null,
    milestone text not null,
    milestone_at bigint not null,
    lead_days bigint not null,
    sent_at bigint not null,
    primary key (subject_kind, subject_name, milestone, milestone_at, lead_days)
);

