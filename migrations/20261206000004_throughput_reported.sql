-- 1 when every source and sink of the job reports record counts to the engine; 0 when
-- a task chained from source to sink (nothing crosses the network, so only operator
-- counters tell its throughput) reports none for its sources or sinks: the sample's
-- rates then miss that task's records.
alter table deployment_metrics add column throughput_reported bigint not null default 1;
