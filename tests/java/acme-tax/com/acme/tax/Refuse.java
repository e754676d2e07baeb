package com.acme.tax;

import org.apache.flink.table.functions.ScalarFunction;

/** Fails on every value, quoting it: what a careless UDF does with a secret. */
public class Refuse extends ScalarFunction {
    public String eval(String value) {
        throw new IllegalStateException("cannot take " + value);
    }
}
