package com.acme.udf;

/** A helper of the jar, not a function. */
public final class Texts {
    private Texts() {}

    public static boolean blank(String s) {
        return s == null || s.trim().isEmpty();
    }
}
