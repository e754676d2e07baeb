-- SELECT misspelt in an INSERT
-- expect: 16:1 SELEC
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

INSERT INTO totals
SELEC customer, amount FROM orders;
