-- a primary key on a Kafka sink, which only appends
-- expect: 14:3 PRIMARY KEY
CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount DECIMAL(10, 2),
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '10');

CREATE TABLE totals (
  customer STRING,
  total DECIMAL(20, 2),
  PRIMARY KEY (customer) NOT ENFORCED
) WITH (
  'connector' = 'kafka',
  'topic' = 'totals',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'format' = 'json'
);
INSERT INTO totals SELECT customer, amount FROM orders;
