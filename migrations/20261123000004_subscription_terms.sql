-- the length of a subscription's current term in whole months (purchase plus
-- renewals): proration of a change takes the term's price over this length.
alter table subscriptions add column term_months bigint not null default 1;
