-- a STATEMENT SET block writing two sinks
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

CREATE TABLE big_orders (order_id BIGINT, amount DECIMAL(10, 2)) WITH ('connector' = 'blackhole');
EXECUTE STATEMENT SET
BEGIN
  INSERT INTO totals SELECT customer, SUM(amount) FROM orders GROUP BY customer;
  INSERT INTO big_orders SELECT order_id, amount FROM orders WHERE amount > 1000;
END;
