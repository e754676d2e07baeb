-- a ';' inside a string, a line comment and a block comment is not a statement end
-- totals; per customer
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING COMMENT 'who; bought',
  amount DECIMAL(10, 2)
) WITH ('connector' = 'datagen', 'rows-per-second' = '1');
/* the sink; printed */
CREATE TABLE totals (customer STRING, total DECIMAL(20, 2)) WITH ('connector' = 'print');
SET 'pipeline.name' = 'totals; per customer';
INSERT INTO totals SELECT CONCAT(customer, ';'), amount FROM orders; -- trailing; comment
