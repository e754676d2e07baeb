package com.acme.udf;

/** A scalar function through an abstract class of the same jar. */
public class Shout extends Shouting {
    public String eval(String s) {
        return shout(s);
    }
}
