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

-- monthly bills per account, issued once after the month ends in the account's zone.
-- an issued bill never changes; a correction is a credit note (a bill of its own).
create table bills (
    id text primary key,
    account_id text not null,
    -- the month in the account's billing zone, as instants
    period_start bigint not null,
    period_end bigint not null,
    billing_time_zone text not null,
    currency text not null,
    -- the sum of the lines' amounts
    total_minor bigint not null,
    issued_at bigint not null
);
create unique index bills_account_period on bills (account_id, period_start);

-- what a bill charges, each line tracing back to the hourly rows it sums.
create table bill_lines (
    id text primary key,
    bill_id text not null references bills (id),
    project_id text not null,
    kind text not null,
    description text not null,
    -- cu-hours as exact decimal text (compute lines); empty for fees
    quantity text not null,
    amount_minor bigint not null,
    -- the payg_hours rows summed: hours of this project with window_start in the period
    hour_count bigint not null
);
create index bill_lines_bill on bill_lines (bill_id);

-- a project bought under the subscription model: cu_milli purchased for a term.
-- running deployments of the project may never hold more than this.
create table subscriptions (
    project_id text primary key references projects (id) on delete cascade,
    account_id text not null,
    cu_milli bigint not null,
    term_start bigint not null,
    term_end bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);

-- what was ordered, at what price; an order is a fact, never edited.
create table orders (
    id text primary key,
    account_id text not null,
    project_id text not null,
    -- new_purchase (more kinds come with renewals and changes)
    kind text not null,
    cu_milli bigint not null,
    months bigint not null,
    amount_minor bigint not null,
    currency text not null,
    created_by text not null,
    created_at bigint not null
);
create index orders_account on orders (account_id, id);

-- the prepaid balance is the sum of its transactions: top-ups credit it, orders and
-- bills debit it. a reference (order, bill) is paid at most once.
create table balance_transactions (
    id text primary key,
    account_id text not null,
    -- top_up, order, bill
    kind text not null,
    -- signed minor units: credits positive, debits negative
    amount_minor bigint not null,
    currency text not null,
    reference_id text not null,
    created_by text not null,
    created_at bigint not null
);
create unique index balance_transactions_reference on balance_transactions (account_id, kind, reference_id);
create index balance_transactions_account on balance_transactions (account_id, id);

alter table bills add column paid_at bigint;

-- set when a bill stays unpaid past the grace period; cleared when all are paid.
alter table accounts add column arrears_since bigint;
