-- an inner join of two streams
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE refunds (order_id BIGINT, refunded DECIMAL(10, 2)) WITH ('connector' = 'datagen');
CREATE TABLE net (order_id BIGINT, net DECIMAL(20, 2)) WITH ('connector' = 'print');
INSERT INTO net
SELECT o.order_id, o.amount - r.refunded
FROM orders AS o JOIN refunds AS r ON o.order_id = r.order_id;
