-- two statements without a semicolon between them
-- expect: 4:1 CREATE
CREATE TABLE orders (order_id BIGINT) WITH ('connector' = 'datagen')
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
INSERT INTO ids SELECT order_id FROM orders;
