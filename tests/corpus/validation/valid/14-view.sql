-- a temporary view between source and sink
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');
CREATE TABLE totals (
  customer STRING,
  total DECIMAL(20, 2)
) WITH ('connector' = 'print');

CREATE TEMPORARY VIEW large_orders AS SELECT customer, amount FROM orders WHERE amount > 100;
INSERT INTO totals SELECT customer, SUM(amount) FROM large_orders GROUP BY customer;
