-- product forms and their lifecycle milestones, set by operators. a project belongs to
-- one form; what its stage forbids is refused wherever the action happens.
create table product_forms (
    name text primary key,
    announced_at bigint not null,
    eom1 bigint not null,
    eom2 bigint not null,
    eofs bigint not null,
    eos bigint not null,
    updated_at bigint not null
);

alter table projects add column product_form text not null default 'fully_managed';
