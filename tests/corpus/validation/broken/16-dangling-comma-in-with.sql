-- a comma after the last option
-- expect: 6:27 ,
CREATE TABLE orders (order_id BIGINT, customer STRING)
WITH (
  'connector' = 'datagen',
  'rows-per-second' = '10',
);
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
INSERT INTO ids SELECT order_id FROM orders;
