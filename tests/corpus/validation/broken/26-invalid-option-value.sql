-- an option value of the wrong type
-- expect: 5:23 fast
CREATE TABLE orders (order_id BIGINT, customer STRING) WITH (
  'connector' = 'datagen',
  'rows-per-second' = 'fast'
);
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
INSERT INTO ids SELECT order_id FROM orders;
