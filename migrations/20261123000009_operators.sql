-- platform operators: people above accounts who set product and engine lifecycles.
alter table users add column platform_admin bigint not null default 0;
