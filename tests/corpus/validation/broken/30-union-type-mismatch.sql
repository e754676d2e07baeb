-- a UNION of a number and a string (marked at the first branch's column)
-- expect: 13:8 UNION
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE ids (id STRING) WITH ('connector' = 'print');
INSERT INTO ids
SELECT customer FROM orders
UNION ALL
SELECT order_id FROM orders;
