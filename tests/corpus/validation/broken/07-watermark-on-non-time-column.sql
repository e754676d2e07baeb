-- a watermark on a BIGINT column
-- expect: 7:17 watermark
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  WATERMARK FOR order_id AS order_id - 5
) WITH ('connector' = 'datagen');
CREATE TABLE totals (
  customer STRING,
  total DECIMAL(20, 2)
) WITH ('connector' = 'print');

INSERT INTO totals SELECT customer, amount FROM orders;
