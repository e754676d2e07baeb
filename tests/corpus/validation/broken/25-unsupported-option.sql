-- an option the connector does not know
-- expect: 5:3 rows-per-secnd
CREATE TABLE orders (order_id BIGINT, customer STRING) WITH (
  'connector' = 'datagen',
  'rows-per-secnd' = '10'
);
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
INSERT INTO ids SELECT order_id FROM orders;
