-- extra cu bought for a window inside a subscription's term (a temporary upgrade).
-- while the window is open the project's running deployments may hold the
-- subscription's cu plus these; when it closes, what no longer fits is stopped with a
-- savepoint. a row is a fact of an order; unsubscribing ends the windows it refunds.
create table temporary_upgrades (
    id text primary key,
    project_id text not null references projects (id) on delete cascade,
    account_id text not null,
    order_id text not null,
    cu_milli bigint not null,
    starts_at bigint not null,
    ends_at bigint not null,
    -- what was paid, so unsubscribing refunds the part of the window not yet used
    amount_minor bigint not null,
    created_at bigint not null
);
create index temporary_upgrades_project on temporary_upgrades (project_id, ends_at);

-- the window of a temporary upgrade order (null for other kinds).
alter table orders add column starts_at bigint;
alter table orders add column ends_at bigint;
