-- a cumulating window TVF
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE today (window_end TIMESTAMP(3), total DECIMAL(20, 2)) WITH ('connector' = 'print');
INSERT INTO today
SELECT window_end, SUM(amount)
FROM TABLE(CUMULATE(TABLE orders, DESCRIPTOR(order_time), INTERVAL '1' HOUR, INTERVAL '1' DAY))
GROUP BY window_start, window_end;
