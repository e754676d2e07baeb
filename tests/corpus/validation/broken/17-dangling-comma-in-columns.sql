-- a comma after the last column
-- expect: 5:18 ,
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
) WITH ('connector' = 'datagen');
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
INSERT INTO ids SELECT order_id FROM orders;
