-- Billing: the account's billing settings and immutable hourly pay-as-you-go charges.

-- hours and months are cut in this iana time zone (the product bills in utc+8).
alter table accounts add column billing_time_zone text not null default 'Asia/Shanghai';

-- subscription or payg; every project starts pay-as-you-go.
alter table projects add column billing_model text not null default 'payg';

-- one row per pay-as-you-go project and billing hour, written once and never changed
-- (corrections are credit notes). the unique key is scoped by project, so one tenant's
-- hour never suppresses another's, and a rerun of the same hour writes nothing.
create table payg_hours (
    id text primary key,
    account_id text not null,
    project_id text not null,
    window_start bigint not null,
    window_end bigint not null,
    -- milli-cu x milliseconds as rated, decimal text (exceeds 64 bits in long hours)
    cu_millis text not null,
    compute_minor bigint not null,
    management_minor bigint not null,
    currency text not null,
    -- the price in effect, in millionths of the minor unit per cu-hour
    price_micro_minor text not null,
    created_at bigint not null
);
create unique index payg_hours_project_window on payg_hours (project_id, window_start);
create index payg_hours_account on payg_hours (account_id, window_start);
