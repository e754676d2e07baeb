package com.acme.udf;

import org.apache.flink.table.functions.AggregateFunction;

/** The sum of a BIGINT column. */
public class LongSum extends AggregateFunction<Long, LongSum.Acc> {
    /** The running sum. */
    public static class Acc {
        public long sum;
    }

    @Override
    public Acc createAccumulator() {
        return new Acc();
    }

    @Override
    public Long getValue(Acc acc) {
        return acc.sum;
    }

    public void accumulate(Acc acc, Long value) {
        if (value != null) {
            acc.sum += value;
        }
    }
}
