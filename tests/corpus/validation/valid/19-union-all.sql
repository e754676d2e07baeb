-- two sources of one shape unioned
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE refunds (order_id BIGINT, customer STRING, amount DECIMAL(10, 2), order_time TIMESTAMP(3)) WITH ('connector' = 'datagen');
CREATE TABLE ledger (customer STRING, amount DECIMAL(10, 2)) WITH ('connector' = 'print');
INSERT INTO ledger
SELECT customer, amount FROM orders
UNION ALL
SELECT customer, -amount FROM refunds;
