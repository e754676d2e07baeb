-- a tumbling window without its size
-- expect: 14:12 TUMBLE
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE per_minute (window_end TIMESTAMP(3), n BIGINT) WITH ('connector' = 'print');
INSERT INTO per_minute
SELECT window_end, COUNT(*)
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(order_time)))
GROUP BY window_start, window_end;
