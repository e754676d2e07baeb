-- in-site messages to people: lifecycle announcements and changes, with the lead time
-- they were sent at. written in the same transaction as the change that caused them.
create table notices (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    -- product_form_schedule, engine_version_schedule
    kind text not null,
    subject text not null,
    body text not null,
    created_at bigint not null,
    read_at bigint
);
create index notices_user on notices (user_id, account_id, id);
