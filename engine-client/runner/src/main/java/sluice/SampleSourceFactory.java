package sluice;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.flink.api.common.functions.FilterFunction;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.ProviderContext;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DataStreamScanProvider;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.connector.source.ScanTableSource;
import org.apache.flink.table.connector.source.abilities.SupportsReadingMetadata;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableSourceFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.runtime.typeutils.RowDataSerializer;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.Collector;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;

/**
 * The {@code sluice-sample} connector: a bounded source of sample rows that Sluice puts in
 * place of a source table's options for a debug run.
 *
 * <p>Options: {@code 'rows'} (required), base64 (standard alphabet) of UTF-8 text, one
 * row a line; {@code 'format'} (required), the format that reads each line (Sluice gives
 * {@code json}: one object per line keyed by column name), with that format's own
 * options ({@code 'json.ignore-parse-errors'}, …). Blank lines are skipped.
 *
 * <p>Each line is decoded with the format's runtime decoder into RowData of the table's
 * physical row type when the job is planned, so a line the format cannot read fails the
 * script with the table and line named. Metadata columns are read like physical ones, by
 * column name from the same line (any metadata key is accepted, so the DDL of a Kafka
 * source with {@code METADATA FROM 'timestamp'} still plans), null when absent.
 * Watermarks declared in the DDL apply as usual: the planner assigns them after this
 * source, and the end of the bounded input fires every pending window.
 *
 * <p>Built on {@code StreamExecutionEnvironment.fromData} through a
 * {@link DataStreamScanProvider} rather than SourceFunction, which Flink 2.x removed: the
 * same classes run on 1.20 and 2.x.
 */
public final class SampleSourceFactory implements DynamicTableSourceFactory {

    public static final String IDENTIFIER = "sluice-sample";

    public static final ConfigOption<String> ROWS =
            ConfigOptions.key("rows")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Base64 of the sample rows, one a line, in 'format'.");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        Set<ConfigOption<?>> options = new HashSet<>();
        options.add(ROWS);
        options.add(FactoryUtil.FORMAT);
        return options;
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Collections.emptySet();
    }

    @Override
    public DynamicTableSource createDynamicTableSource(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        DecodingFormat<DeserializationSchema<RowData>> format =
                helper.discoverDecodingFormat(
                        DeserializationFormatFactory.class, FactoryUtil.FORMAT);
        helper.validate();
        ObjectIdentifier table = context.getObjectIdentifier();
        String text;
        try {
            text =
                    new String(
                            Base64.getDecoder()
                                    .decode(helper.getOptions().get(ROWS).replaceAll("\\s", "")),
                            StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ValidationException(
                    "sluice-sample: option 'rows' of table "
                            + table.asSummaryString()
                            + " is not valid base64",
                    e);
        }
        List<byte[]> lines = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        String[] split = text.split("\n", -1);
        for (int i = 0; i < split.length; i++) {
            String line = split[i];
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (!line.trim().isEmpty()) {
                lines.add(line.getBytes(StandardCharsets.UTF_8));
                lineNumbers.add(i + 1);
            }
        }
        ResolvedSchema schema = context.getCatalogTable().getResolvedSchema();
        List<DataTypes.Field> physical = new ArrayList<>();
        Map<String, DataType> metadata = new LinkedHashMap<>();
        Map<String, String> metadataColumns = new LinkedHashMap<>();
        for (Column column : schema.getColumns()) {
            if (column.isPhysical()) {
                physical.add(DataTypes.FIELD(column.getName(), column.getDataType()));
            } else if (column instanceof Column.MetadataColumn) {
                Column.MetadataColumn m = (Column.MetadataColumn) column;
                String key = m.getMetadataKey().orElse(m.getName());
                if (!metadata.containsKey(key)) {
                    metadata.put(key, m.getDataType());
                    metadataColumns.put(key, m.getName());
                }
            }
        }
        return new SampleSource(
                table.asSummaryString(),
                format,
                lines,
                lineNumbers,
                physical,
                metadata,
                metadataColumns,
                Collections.<String>emptyList(),
                context.getPhysicalRowDataType());
    }

    /** The source of one table; {@code metadataKeys} are those the planner asked to read. */
    static final class SampleSource implements ScanTableSource, SupportsReadingMetadata {
        private final String table;
        private final DecodingFormat<DeserializationSchema<RowData>> format;
        private final List<byte[]> lines;
        private final List<Integer> lineNumbers;
        private final List<DataTypes.Field> physical;
        private final Map<String, DataType> metadata;
        private final Map<String, String> metadataColumns;
        private List<String> metadataKeys;
        private DataType producedType;

        SampleSource(
                String table,
                DecodingFormat<DeserializationSchema<RowData>> format,
                List<byte[]> lines,
                List<Integer> lineNumbers,
                List<DataTypes.Field> physical,
                Map<String, DataType> metadata,
                Map<String, String> metadataColumns,
                List<String> metadataKeys,
                DataType producedType) {
            this.table = table;
            this.format = format;
            this.lines = lines;
            this.lineNumbers = lineNumbers;
            this.physical = physical;
            this.metadata = metadata;
            this.metadataColumns = metadataColumns;
            this.metadataKeys = metadataKeys;
            this.producedType = producedType;
        }

        @Override
        public ChangelogMode getChangelogMode() {
            return ChangelogMode.insertOnly();
        }

        @Override
        public ScanRuntimeProvider getScanRuntimeProvider(ScanContext context) {
            // What each line is decoded as: the physical columns, then the metadata the
            // planner asked for, named by column so they are read from the same line.
            List<DataTypes.Field> fields = new ArrayList<>(physical);
            for (String key : metadataKeys) {
                fields.add(DataTypes.FIELD(metadataColumns.get(key), metadata.get(key)));
            }
            DataType decoded = DataTypes.ROW(fields.toArray(new DataTypes.Field[0]));
            List<RowData> rows = decode(context, decoded);
            TypeInformation<RowData> typeInfo = context.createTypeInformation(producedType);
            int arity = fields.size();
            return new DataStreamScanProvider() {
                @Override
                public DataStream<RowData> produceDataStream(
                        ProviderContext providerContext, StreamExecutionEnvironment env) {
                    String name = "Sluice sample: " + table;
                    if (rows.isEmpty()) {
                        // fromData of no elements fails at runtime ("Reached the end of the
                        // collection", 1.20 and 2.3 alike): one placeholder row, dropped.
                        List<RowData> placeholder =
                                Collections.<RowData>singletonList(new GenericRowData(arity));
                        return env.fromData(placeholder, typeInfo)
                                .name(name)
                                .filter(new DropAll())
                                .name(name + " (empty)");
                    }
                    return env.fromData(rows, typeInfo).name(name);
                }

                @Override
                public boolean isBounded() {
                    return true;
                }
            };
        }

        private List<RowData> decode(ScanContext context, DataType decoded) {
            DeserializationSchema<RowData> decoder = format.createRuntimeDecoder(context, decoded);
            try {
                decoder.open(
                        new DeserializationSchema.InitializationContext() {
                            @Override
                            public MetricGroup getMetricGroup() {
                                return new UnregisteredMetricsGroup();
                            }

                            @Override
                            public UserCodeClassLoader getUserCodeClassLoader() {
                                return SimpleUserCodeClassLoader.create(
                                        SampleSourceFactory.class.getClassLoader());
                            }
                        });
            } catch (Exception e) {
                throw new ValidationException(
                        "sluice-sample: the format of table " + table + " cannot be opened: " + e,
                        e);
            }
            // A decoder may reuse its row object: each row is copied as it comes.
            final RowDataSerializer serializer =
                    InternalTypeInfo.of((RowType) decoded.getLogicalType()).toRowSerializer();
            final List<RowData> rows = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                try {
                    decoder.deserialize(
                            lines.get(i),
                            new Collector<RowData>() {
                                @Override
                                public void collect(RowData row) {
                                    if (row != null) {
                                        rows.add(serializer.copy(row));
                                    }
                                }

                                @Override
                                public void close() {}
                            });
                } catch (IOException | RuntimeException e) {
                    throw new ValidationException(
                            "sluice-sample: line "
                                    + lineNumbers.get(i)
                                    + " of the sample rows of table "
                                    + table
                                    + " cannot be read: "
                                    + e.getMessage(),
                            e);
                }
            }
            return rows;
        }

        /** Lets no row through. */
        static final class DropAll implements FilterFunction<RowData> {
            private static final long serialVersionUID = 1L;

            @Override
            public boolean filter(RowData row) {
                return false;
            }
        }

        @Override
        public Map<String, DataType> listReadableMetadata() {
            return metadata;
        }

        @Override
        public void applyReadableMetadata(List<String> keys, DataType producedDataType) {
            this.metadataKeys = new ArrayList<>(keys);
            this.producedType = producedDataType;
        }

        @Override
        public DynamicTableSource copy() {
            return new SampleSource(
                    table,
                    format,
                    lines,
                    lineNumbers,
                    physical,
                    metadata,
                    metadataColumns,
                    metadataKeys,
                    producedType);
        }

        @Override
        public String asSummaryString() {
            return "Sluice sample (" + lines.size() + " lines)";
        }
    }
}
