-- a selected column that is not grouped
-- expect: 14:18 order_id
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE totals (customer STRING, order_id BIGINT, total DECIMAL(20, 2))
WITH ('connector' = 'print');
INSERT INTO totals
SELECT customer, order_id, SUM(amount)
FROM orders
GROUP BY customer;
