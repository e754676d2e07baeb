package com.acme.tax;

import org.apache.flink.table.functions.ScalarFunction;

/** An amount in cents with 20% tax added, rounded down. */
public class AddTax extends ScalarFunction {
    public Long eval(Long cents) {
        return cents == null ? null : cents + cents / 5;
    }
}
