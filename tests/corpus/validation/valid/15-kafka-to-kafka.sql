-- Kafka JSON in, Kafka JSON out
CREATE TABLE clicks (
  user_id STRING,
  url STRING,
  ts TIMESTAMP(3) METADATA FROM 'timestamp',
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'clicks',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.group.id' = 'corpus',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json'
);
CREATE TABLE pages (url STRING, user_id STRING) WITH (
  'connector' = 'kafka',
  'topic' = 'pages',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'format' = 'json'
);
INSERT INTO pages SELECT url, user_id FROM clicks WHERE url LIKE 'https://%';
