package com.acme.jobs;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import java.util.HashSet;
import java.util.Set;

/**
 * A stateful streaming job that runs until it is stopped: an endless sequence of
 * numbers, slowed down, counted per {@code n % 10} in keyed state, the counts discarded.
 * Every stateful operator has a fixed uid, so a savepoint of one version restores into
 * the next. Uses only API present in both Flink 1.20 and Flink 2.x (no SourceFunction,
 * no open() override, whose signature differs between them).
 *
 * <p>The {@code counts} operator's gauge {@code carriedOver} shows what this run found in
 * its state: the counts of earlier runs, restored from a savepoint (0 when it started
 * empty).
 *
 * <p>Argument (optional): milliseconds to wait per number (default 5).
 */
public class StreamingCounter {

    public static void main(String[] args) throws Exception {
        long pause = args.length > 0 ? Long.parseLong(args[0]) : 5L;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(2000);
        env.fromSequence(0, Long.MAX_VALUE)
                .uid("numbers")
                .name("numbers")
                .map(new Slow(pause))
                .uid("slow")
                .name("slow")
                .keyBy(new LastDigit())
                .process(new Count())
                .uid("counts")
                .name("counts")
                .sinkTo(new DiscardingSink<>())
                .uid("discard")
                .name("discard");
        env.execute("streaming-counter");
    }

    /** Passes each number on after a pause, so the job runs slowly and forever. */
    public static class Slow implements MapFunction<Long, Long> {
        private final long pause;

        public Slow(long pause) {
            this.pause = pause;
        }

        @Override
        public Long map(Long n) throws Exception {
            if (pause > 0) {
                Thread.sleep(pause);
            }
            return n;
        }
    }

    /** The key: the number's last decimal digit. */
    public static class LastDigit implements KeySelector<Long, Long> {
        @Override
        public Long getKey(Long n) {
            return n % 10;
        }
    }

    /**
     * Counts the numbers seen per key in keyed state; emits each new count. Reports as
     * {@code carriedOver} the sum of the counts it found for each key when this run first
     * saw it.
     */
    public static class Count extends KeyedProcessFunction<Long, Long, Long> {
        private transient ValueState<Long> count;
        private transient Set<Long> keysSeen;
        private transient volatile long carriedOver;

        @Override
        public void processElement(Long n, Context ctx, Collector<Long> out) throws Exception {
            if (count == null) {
                count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
                keysSeen = new HashSet<>();
                getRuntimeContext().getMetricGroup().gauge("carriedOver", (Gauge<Long>) () -> carriedOver);
            }
            Long seen = count.value();
            if (keysSeen.add(n % 10) && seen != null) {
                carriedOver += seen;
            }
            long next = (seen == null ? 0L : seen) + 1;
            count.update(next);
            out.collect(next);
        }
    }
}
