-- a column type that does not exist
-- expect: 3:31 INTEGR
CREATE TABLE orders (order_id INTEGR, customer STRING) WITH ('connector' = 'datagen');
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
INSERT INTO ids SELECT order_id FROM orders;
