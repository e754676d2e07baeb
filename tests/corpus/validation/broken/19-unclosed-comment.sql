-- a block comment that is never closed
-- expect: 5:1 comment
CREATE TABLE orders (order_id BIGINT) WITH ('connector' = 'datagen');
CREATE TABLE ids (order_id BIGINT) WITH ('connector' = 'print');
/* the job: copy the ids
INSERT INTO ids SELECT order_id FROM orders;
