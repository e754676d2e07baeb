-- a subscription renews itself before its term ends when its account opted in:
-- auto_renew 1 (0 off), for renewal_months months each time, charged from the balance.
alter table subscriptions add column auto_renew bigint not null default 0;
alter table subscriptions add column renewal_months bigint not null default 1;

-- automatic renewals of a term, one row per daily attempt: the attempt (0 on the day
-- the renewal falls due) is recorded in the same transaction as its outcome, so a
-- rerun or a second replica makes it once; order_id is the renewal order when the
-- attempt renewed, null when the balance was short (the owners were told).
create table subscription_renewals (
    project_id text not null,
    term_end bigint not null,
    attempt bigint not null,
    order_id text,
    created_at bigint not null,
    primary key (project_id, term_end, attempt)
);
-- at most one renewal order per (project, term end), whatever the attempt.
create unique index subscription_renewals_once on subscription_renewals (project_id, term_end)
    where order_id is not null;
