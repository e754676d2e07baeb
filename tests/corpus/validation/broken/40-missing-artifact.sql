-- a jar reference to an artifact the project does not have
-- expect: 15:9 udfs.jar
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

ADD JAR 'artifact://udfs.jar';
INSERT INTO totals SELECT customer, amount FROM orders;
