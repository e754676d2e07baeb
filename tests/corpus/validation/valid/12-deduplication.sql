-- the first order of each id
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE firsts (order_id BIGINT, customer STRING) WITH ('connector' = 'print');
INSERT INTO firsts
SELECT order_id, customer FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY order_time ASC) AS rn
  FROM orders
) WHERE rn = 1;
