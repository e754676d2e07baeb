package com.acme.lib;

/** A library class a job needs on its TaskManagers' classpath. */
public final class Greeting {
    private Greeting() {}

    public static String of(long n) {
        return "hello " + n;
    }
}
