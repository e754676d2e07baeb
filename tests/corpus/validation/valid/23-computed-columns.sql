-- computed columns, a processing-time attribute and a cast
CREATE TABLE orders (
  order_id BIGINT,
  amount_cents BIGINT,
  amount AS CAST(amount_cents AS DECIMAL(12, 2)) / 100,
  seen AS PROCTIME()
) WITH ('connector' = 'datagen');
CREATE TABLE amounts (order_id BIGINT, amount DECIMAL(20, 4)) WITH ('connector' = 'print');
INSERT INTO amounts SELECT order_id, amount FROM orders;
