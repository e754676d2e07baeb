-- an aggregate's updates into a sink that only appends
-- expect: 13:13 update changes
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE totals (customer STRING, total DECIMAL(20, 2))
WITH ('connector' = 'filesystem', 'path' = '/tmp/sluice-corpus-totals', 'format' = 'csv');
INSERT INTO totals
SELECT customer, SUM(amount) FROM orders GROUP BY customer;
