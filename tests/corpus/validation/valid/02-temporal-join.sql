-- an event-time temporal join against a versioned table
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE rates (
  currency STRING,
  rate DECIMAL(10, 4),
  update_time TIMESTAMP(3),
  WATERMARK FOR update_time AS update_time,
  PRIMARY KEY (currency) NOT ENFORCED
) WITH ('connector' = 'upsert-kafka', 'topic' = 'rates',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'key.format' = 'json', 'value.format' = 'json');
CREATE TABLE converted (order_id BIGINT, converted DECIMAL(20, 4)) WITH ('connector' = 'print');
INSERT INTO converted
SELECT o.order_id, o.amount * r.rate
FROM orders AS o
JOIN rates FOR SYSTEM_TIME AS OF o.order_time AS r
ON o.customer = r.currency;
