-- a column both joined tables have
-- expect: 14:8 customer
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE refunds (customer STRING, refunded DECIMAL(10, 2)) WITH ('connector' = 'datagen');
CREATE TABLE net (customer STRING, net DECIMAL(20, 2)) WITH ('connector' = 'print');
INSERT INTO net
SELECT customer, amount - refunded
FROM orders JOIN refunds ON orders.customer = refunds.customer;
