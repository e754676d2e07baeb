-- an INSERT whose columns do not match the sink's types
-- expect: 12:13 totals
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE totals (total DECIMAL(20, 2), customer STRING) WITH ('connector' = 'print');
INSERT INTO totals SELECT customer, amount FROM orders;
