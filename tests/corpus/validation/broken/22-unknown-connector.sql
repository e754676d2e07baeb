-- a connector the engine does not have
-- expect: 12:21 kafkaa
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE totals (customer STRING, total DECIMAL(20, 2))
WITH ('connector' = 'kafkaa', 'topic' = 'totals', 'format' = 'json');
INSERT INTO totals SELECT customer, amount FROM orders;
