-- a pattern of a small order followed by a large one
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE suspicious (customer STRING, small_amount DECIMAL(10, 2), large_amount DECIMAL(10, 2)) WITH ('connector' = 'print');
INSERT INTO suspicious
SELECT *
FROM orders
MATCH_RECOGNIZE (
  PARTITION BY customer
  ORDER BY order_time
  MEASURES A.amount AS small_amount, B.amount AS large_amount
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (A B)
  DEFINE A AS A.amount < 1, B AS B.amount > 1000
) AS m;
