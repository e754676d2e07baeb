-- a monthly bill also lists the month's subscription orders, each line pointing at its
-- order. orders are paid from the balance when placed, so a bill keeps what it lists
-- as prepaid apart: what the balance still owes for the bill is total - prepaid.
alter table bill_lines add column order_id text;
alter table bills add column prepaid_minor bigint not null default 0;
