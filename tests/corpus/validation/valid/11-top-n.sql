-- the three largest orders per customer
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE top_orders (customer STRING, order_id BIGINT, amount DECIMAL(10, 2), rn BIGINT) WITH ('connector' = 'print');
INSERT INTO top_orders
SELECT customer, order_id, amount, rn FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY amount DESC) AS rn
  FROM orders
) WHERE rn <= 3;
