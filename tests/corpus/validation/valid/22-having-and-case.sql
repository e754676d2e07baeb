-- CASE, string functions and HAVING
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE tiers (customer STRING, tier STRING, total DECIMAL(20, 2)) WITH ('connector' = 'print');
INSERT INTO tiers
SELECT UPPER(TRIM(customer)),
  CASE WHEN SUM(amount) > 1000 THEN 'gold' ELSE 'standard' END,
  SUM(amount)
FROM orders
GROUP BY UPPER(TRIM(customer))
HAVING COUNT(*) > 1;
