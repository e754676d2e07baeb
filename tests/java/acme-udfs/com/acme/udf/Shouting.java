package com.acme.udf;

import org.apache.flink.table.functions.ScalarFunction;

/** Not a function itself (abstract): its subclasses are, through it. */
public abstract class Shouting extends ScalarFunction {
    protected String shout(String s) {
        return s == null ? null : s.toUpperCase() + "!";
    }
}
