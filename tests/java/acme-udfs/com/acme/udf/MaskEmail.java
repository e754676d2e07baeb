package com.acme.udf;

import org.apache.flink.table.functions.ScalarFunction;

/** Keeps an address's first letter and its domain: ann@example.com becomes a***@example.com. */
public class MaskEmail extends ScalarFunction {
    public String eval(String email) {
        if (email == null) {
            return null;
        }
        int at = email.indexOf('@');
        if (at < 1) {
            return "***";
        }
        return email.charAt(0) + "***" + email.substring(at);
    }
}
