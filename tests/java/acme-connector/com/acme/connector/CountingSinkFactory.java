package com.acme.connector;

import java.util.Collections;
import java.util.Set;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.SinkV2Provider;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DynamicTableSinkFactory;

/** A tenant's own sink connector, 'connector' = 'acme-discard': takes every row, keeps none. */
public class CountingSinkFactory implements DynamicTableSinkFactory {
    public static final String IDENTIFIER = "acme-discard";

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Collections.emptySet();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Collections.emptySet();
    }

    @Override
    public DynamicTableSink createDynamicTableSink(Context context) {
        return new Discard();
    }

    /** The sink: every change accepted, written nowhere. */
    static final class Discard implements DynamicTableSink {
        @Override
        public ChangelogMode getChangelogMode(ChangelogMode requested) {
            return requested;
        }

        @Override
        public SinkRuntimeProvider getSinkRuntimeProvider(Context context) {
            return SinkV2Provider.of(new DiscardingSink<RowData>());
        }

        @Override
        public DynamicTableSink copy() {
            return new Discard();
        }

        @Override
        public String asSummaryString() {
            return "acme-discard";
        }
    }
}
