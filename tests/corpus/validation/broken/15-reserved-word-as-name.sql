-- a reserved word as a column name, unquoted
-- expect: 5:3 value
CREATE TABLE readings (
  sensor STRING,
  value DOUBLE
) WITH ('connector' = 'datagen');
CREATE TABLE latest (sensor STRING, reading DOUBLE) WITH ('connector' = 'print');
INSERT INTO latest SELECT sensor, `value` FROM readings;
