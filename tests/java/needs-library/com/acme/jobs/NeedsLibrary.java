package com.acme.jobs;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * A streaming job whose tasks call a class it does not carry (com.acme.lib.Greeting,
 * from a library JAR): it runs only when the library reaches the TaskManagers. The
 * class is looked up by name so this JAR compiles without the library.
 */
public class NeedsLibrary {

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromSequence(0, Long.MAX_VALUE)
                .uid("numbers")
                .map(new Greet())
                .uid("greet")
                .sinkTo(new DiscardingSink<>())
                .uid("discard");
        env.execute("needs-library");
    }

    /** Calls the library for every number, slowly. */
    public static class Greet implements MapFunction<Long, String> {
        @Override
        public String map(Long n) throws Exception {
            Thread.sleep(10);
            return (String)
                    Class.forName("com.acme.lib.Greeting", true, Greet.class.getClassLoader())
                            .getMethod("of", long.class)
                            .invoke(null, n);
        }
    }
}
