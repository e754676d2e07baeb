package sluice;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.ProviderContext;
import org.apache.flink.table.connector.sink.DataStreamSinkProvider;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.abilities.SupportsWritingMetadata;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.DataType;

/**
 * The {@code sluice-capture} connector: a sink that sends every row it is given to Sluice
 * over HTTP, so a debug run shows what a job writes (a sink table whose options Sluice
 * replaced) or what a query yields (a top-level SELECT of the script, captured by the
 * runner in debug mode).
 *
 * <p>Options, all required: {@code 'url'} (where to POST), {@code 'token'} (sent as
 * {@code Authorization: Bearer <token>}), {@code 'target'} (what the rows belong to: a
 * table name or {@code statement:N}). It takes every changelog mode the planner asks
 * for, so an updating query's {@code -U}/{@code +U} rows arrive as they are produced.
 * Columns are the table's physical columns, then its persisted metadata columns (any
 * metadata key is accepted, so a sink DDL that wrote Kafka headers still plans).
 *
 * <p>At runtime (see {@link CaptureFunction}) each row becomes a Row through the sink
 * context's converter and each field a string; batches are POSTed as
 * {@code {"target":…,"columns":[…],"rows":[{"kind":"+I","values":[…]}]}}.
 *
 * <p>Built on the DataStream API (a function ahead of a discarding Sink V2) rather than
 * SinkFunction, which Flink 2.x removed: the same classes run on 1.20 and 2.x.
 */
public final class CaptureSinkFactory implements DynamicTableSinkFactory {

    public static final String IDENTIFIER = "sluice-capture";

    public static final ConfigOption<String> URL =
            ConfigOptions.key("url")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Where rows are POSTed.");

    public static final ConfigOption<String> TOKEN =
            ConfigOptions.key("token")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Bearer token of every POST.");

    public static final ConfigOption<String> TARGET =
            ConfigOptions.key("target")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("What the rows belong to: a table name or statement:N.");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        Set<ConfigOption<?>> options = new HashSet<>();
        options.add(URL);
        options.add(TOKEN);
        options.add(TARGET);
        return options;
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Collections.emptySet();
    }

    @Override
    public DynamicTableSink createDynamicTableSink(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        ReadableConfig options = helper.getOptions();
        ResolvedSchema schema = context.getCatalogTable().getResolvedSchema();
        List<String> physicalNames = new ArrayList<>();
        Map<String, DataType> metadata = new LinkedHashMap<>();
        Map<String, String> metadataColumns = new LinkedHashMap<>();
        for (Column column : schema.getColumns()) {
            if (column.isPhysical()) {
                physicalNames.add(column.getName());
            } else if (column instanceof Column.MetadataColumn && column.isPersisted()) {
                Column.MetadataColumn m = (Column.MetadataColumn) column;
                String key = m.getMetadataKey().orElse(m.getName());
                if (!metadata.containsKey(key)) {
                    metadata.put(key, m.getDataType());
                    metadataColumns.put(key, m.getName());
                }
            }
        }
        return new CaptureSink(
                options.get(URL),
                options.get(TOKEN),
                options.get(TARGET),
                context.getPhysicalRowDataType(),
                physicalNames,
                metadata,
                metadataColumns,
                Collections.<String>emptyList());
    }

    /** The sink of one table; {@code metadataKeys} are those the planner asked to write. */
    static final class CaptureSink implements DynamicTableSink, SupportsWritingMetadata {
        private final String url;
        private final String token;
        private final String target;
        private final DataType physicalRowType;
        private final List<String> physicalNames;
        private final Map<String, DataType> metadata;
        private final Map<String, String> metadataColumns;
        private List<String> metadataKeys;
        private DataType consumedRowType;

        CaptureSink(
                String url,
                String token,
                String target,
                DataType physicalRowType,
                List<String> physicalNames,
                Map<String, DataType> metadata,
                Map<String, String> metadataColumns,
                List<String> metadataKeys) {
            this.url = url;
            this.token = token;
            this.target = target;
            this.physicalRowType = physicalRowType;
            this.physicalNames = physicalNames;
            this.metadata = metadata;
            this.metadataColumns = metadataColumns;
            this.metadataKeys = metadataKeys;
            this.consumedRowType = physicalRowType;
        }

        @Override
        public ChangelogMode getChangelogMode(ChangelogMode requestedMode) {
            return requestedMode;
        }

        @Override
        public SinkRuntimeProvider getSinkRuntimeProvider(Context context) {
            List<String> columns = new ArrayList<>(physicalNames);
            for (String key : metadataKeys) {
                columns.add(metadataColumns.get(key));
            }
            CaptureFunction function =
                    new CaptureFunction(
                            url,
                            token,
                            target,
                            columns,
                            context.createDataStructureConverter(consumedRowType));
            return new DataStreamSinkProvider() {
                @Override
                public DataStreamSink<?> consumeDataStream(
                        ProviderContext providerContext, DataStream<RowData> input) {
                    // The function posts and emits nothing; the discarding sink only ends
                    // the pipeline (a DataStream needs a sink to be part of the job).
                    return input.flatMap(function, input.getType())
                            .name("Sluice capture: " + target)
                            .sinkTo(new DiscardingSink<RowData>())
                            .name("Sluice capture end");
                }
            };
        }

        @Override
        public Map<String, DataType> listWritableMetadata() {
            return metadata;
        }

        @Override
        public void applyWritableMetadata(List<String> keys, DataType consumedDataType) {
            this.metadataKeys = new ArrayList<>(keys);
            this.consumedRowType = consumedDataType;
        }

        @Override
        public DynamicTableSink copy() {
            CaptureSink copy =
                    new CaptureSink(
                            url,
                            token,
                            target,
                            physicalRowType,
                            physicalNames,
                            metadata,
                            metadataColumns,
                            metadataKeys);
            copy.consumedRowType = consumedRowType;
            return copy;
        }

        @Override
        public String asSummaryString() {
            return "Sluice capture (" + target + ")";
        }
    }
}
