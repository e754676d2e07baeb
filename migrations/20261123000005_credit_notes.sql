-- corrections of issued bills: a bill never changes, a credit note says what is given
-- back and why, and credits the balance.
create table credit_notes (
    id text primary key,
    account_id text not null,
    bill_id text not null references bills (id),
    amount_minor bigint not null,
    reason text not null,
    created_by text not null,
    created_at bigint not null
);
create index credit_notes_bill on credit_notes (bill_id);
