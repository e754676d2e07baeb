-- constant rows inserted
CREATE TABLE totals (
  customer STRING,
  total DECIMAL(20, 2)
) WITH ('connector' = 'print');

INSERT INTO totals VALUES ('alice', 10.50), ('bob', 7.25);
