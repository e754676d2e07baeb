-- a running total over the last hour per customer
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE running_totals (customer STRING, hour_total DECIMAL(38, 2)) WITH ('connector' = 'print');
INSERT INTO running_totals
SELECT customer,
  SUM(amount) OVER (PARTITION BY customer ORDER BY order_time
    RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)
FROM orders;
