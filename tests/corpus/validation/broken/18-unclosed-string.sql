-- a string literal that is never closed
-- expect: 3:59
CREATE TABLE orders (order_id BIGINT) WITH ('connector' = 'datagen);
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
INSERT INTO ids SELECT order_id FROM orders;
