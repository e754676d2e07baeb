package com.acme.udf;

import org.apache.flink.table.functions.TableFunction;

/** One row per word of a sentence. */
public class SplitWords extends TableFunction<String> {
    public void eval(String sentence) {
        if (sentence != null) {
            for (String word : sentence.split("\\s+")) {
                collect(word);
            }
        }
    }
}
