package sluice;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.TableDescriptor;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TablePipeline;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.types.utils.DataTypeUtils;

/**
 * Sluice's SQL runner: the program of the jar that Sluice uploads to a Flink session
 * cluster (the PyPI build of Flink has no SQL Gateway) and runs through the REST API
 * ({@code /jars/{id}/plan} for a dry-run validation, {@code /jars/{id}/run} to deploy).
 *
 * <p>Program arguments: flags first, then one argument per SQL statement, each base64
 * (standard alphabet) of its UTF-8 text, so no quoting ever breaks on the way through
 * REST (a base64 argument never starts with {@code --}). Statements are split by
 * Sluice, not here. Flags:
 * <ul>
 *   <li>{@code --pipeline-name=<name>} sets {@code pipeline.name};
 *   <li>{@code --jar=<path>} adds a jar the JobManager holds (an artifact Sluice
 *       uploaded) with {@code ADD JAR}: the table environment puts it on the job's user
 *       classpath, so the TaskManagers load its classes too;
 *   <li>{@code --function=<name>=<class>} creates a temporary catalog function from a
 *       class of those jars (a function registered from a UDF artifact), in the current
 *       catalog and database; as a catalog function it cannot shadow a built-in one;
 *   <li>{@code --capture-url=<url>} and {@code --capture-token=<token>} (both or neither)
 *       turn on debug mode, below.
 * </ul>
 *
 * <p>Debug mode (a debug run: Sluice has already replaced the options of every sink table
 * with the {@code sluice-capture} connector and of sampled source tables with
 * {@code sluice-sample}, both in this jar, see {@link CaptureSinkFactory} and
 * {@link SampleSourceFactory}): each top-level SELECT / WITH / VALUES statement N is
 * planned with {@code sqlQuery} where it stands and inserted, in the same StatementSet as
 * the INSERTs, into an anonymous {@code sluice-capture} table with the query's columns,
 * url and token from the flags and target {@code statement:N}; so its rows (with their
 * {@code -U}/{@code +U}/{@code -D} changes) go to Sluice too. A debug script may hold only
 * SELECTs. The job also gets {@code restart-strategy.type: none}, so a runtime failure
 * ends it FAILED rather than restarting and sending the same rows again, and
 * {@code execution.checkpointing.checkpoints-after-tasks-finish: false}, so it finishes
 * as soon as its bounded inputs are done instead of at the next periodic checkpoint (a
 * SET in the script still wins). Without the flags a top-level query is refused, as a
 * deployment would have nowhere to put its rows.
 *
 * <p>Each statement except the INSERTs (and, in debug mode, the queries) runs at once
 * through {@code executeSql} (DDL, USE, SHOW...); {@code SET 'k' = 'v'} sets the table
 * config and {@code RESET ['k']} removes what was set, because a plain
 * TableEnvironment's {@code executeSql} accepts neither (only the SQL client and gateway
 * do). All INSERTs, including those in {@code EXECUTE STATEMENT SET BEGIN ... END;}, go
 * into one StatementSet, executed once: one Flink job per script.
 *
 * <p>Every error is thrown, never caught or printed: Flink's REST handlers then answer
 * with the stack trace in {@code errors}, whose last "Caused by:" carries the engine's
 * message ({@code /jars/{id}/run}: 400; {@code /jars/{id}/plan}: 500 with
 * "Internal server error." first, on both 1.20.5 and 2.3.0).
 * (Catching Throwable would also swallow the exception Flink uses to abort the
 * program after the plan has been captured in {@code /jars/{id}/plan}.)
 *
 * <p>The source stays Java 11 compatible and is compiled with {@code javac --release 11}:
 * Flink 1.20 runs on Java 11 or 17 and Flink 2.x on Java 11+, so a class file of
 * version 55 loads on every JVM either version runs on, and {@code --release} also
 * checks that only the Java 11 API is used. It uses only Table and DataStream API
 * present in both 1.20 and 2.x (no SourceFunction/SinkFunction, no
 * {@code open(Configuration)}), so one jar serves both engine versions.
 */
public final class SqlRunner {

    private static final String PIPELINE_NAME_FLAG = "--pipeline-name=";
    private static final String JAR_FLAG = "--jar=";
    private static final String FUNCTION_FLAG = "--function=";
    private static final String CAPTURE_URL_FLAG = "--capture-url=";
    private static final String CAPTURE_TOKEN_FLAG = "--capture-token=";

    /** SET 'key' = 'value' (quotes inside doubled, as in SQL); optional trailing ';'. */
    private static final Pattern SET =
            Pattern.compile(
                    "SET\\s+'((?:[^']|'')*)'\\s*=\\s*'((?:[^']|'')*)'\\s*;?",
                    Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    /** EXECUTE STATEMENT SET BEGIN ... END (optional trailing ';'). */
    private static final Pattern STATEMENT_SET =
            Pattern.compile(
                    "EXECUTE\\s+STATEMENT\\s+SET\\s+BEGIN\\s+(.*?)\\s*END\\s*;?",
                    Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    private SqlRunner() {}

    public static void main(String[] args) throws Exception {
        String pipelineName = null;
        String captureUrl = null;
        String captureToken = null;
        List<String> jars = new ArrayList<>();
        List<String> functions = new ArrayList<>();
        List<String> statements = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.startsWith(PIPELINE_NAME_FLAG)) {
                pipelineName = arg.substring(PIPELINE_NAME_FLAG.length());
            } else if (arg.startsWith(JAR_FLAG)) {
                jars.add(arg.substring(JAR_FLAG.length()));
            } else if (arg.startsWith(FUNCTION_FLAG)) {
                functions.add(arg.substring(FUNCTION_FLAG.length()));
            } else if (arg.startsWith(CAPTURE_URL_FLAG)) {
                captureUrl = arg.substring(CAPTURE_URL_FLAG.length());
            } else if (arg.startsWith(CAPTURE_TOKEN_FLAG)) {
                captureToken = arg.substring(CAPTURE_TOKEN_FLAG.length());
            } else {
                statements.add(decode(arg, i));
            }
        }
        if (statements.isEmpty()) {
            throw new IllegalArgumentException(
                    "Sluice SQL runner: no SQL statements given (program arguments must be"
                            + " base64 encoded statements)");
        }
        if ((captureUrl == null) != (captureToken == null)
                || (captureUrl != null && captureUrl.isEmpty())) {
            throw new IllegalArgumentException(
                    "Sluice SQL runner: debug mode needs both --capture-url=<url> (not empty)"
                            + " and --capture-token=<token>");
        }
        Capture capture = captureUrl == null ? null : new Capture(captureUrl, captureToken);

        TableEnvironment tEnv =
                TableEnvironment.create(EnvironmentSettings.newInstance().inStreamingMode().build());
        if (pipelineName != null && !pipelineName.isEmpty()) {
            tEnv.getConfig().set("pipeline.name", pipelineName);
        }
        if (capture != null) {
            // A debug job that fails at runtime ends FAILED instead of restarting (with
            // checkpointing on, Flink's default is to restart without end): each restart
            // would replay the sample rows and send them again.
            tEnv.getConfig().set("restart-strategy.type", "none");
            // A task whose bounded input ended finishes at once instead of waiting for
            // the next periodic checkpoint (a debug job with two pipelines otherwise
            // took one checkpoint interval longer). A debug run keeps no state.
            tEnv.getConfig().set("execution.checkpointing.checkpoints-after-tasks-finish", "false");
            // A SET in the script may still choose otherwise for either.
        }

        for (String jar : jars) {
            tEnv.executeSql("ADD JAR '" + jar.replace("'", "''") + "'");
        }
        for (String function : functions) {
            int eq = function.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException(
                        "Sluice SQL runner: --function must be <name>=<class>: " + function);
            }
            String name = function.substring(0, eq);
            String className = function.substring(eq + 1);
            try {
                tEnv.executeSql(
                        "CREATE TEMPORARY FUNCTION `"
                                + name.replace("`", "``")
                                + "` AS '"
                                + className.replace("'", "''")
                                + "' LANGUAGE JAVA");
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "Sluice SQL runner: the registered function "
                                + name
                                + " (class "
                                + className
                                + ") cannot be created: "
                                + e.getMessage(),
                        e);
            }
        }

        List<Insert> inserts = new ArrayList<>();
        Set<String> setKeys = new LinkedHashSet<>();
        for (int index = 1; index <= statements.size(); index++) {
            try {
                run(tEnv, statements.get(index - 1), index, inserts, setKeys, capture);
            } catch (RuntimeException e) {
                throw new StatementFailed(index, 0, e);
            }
        }

        if (inserts.isEmpty()) {
            throw new IllegalArgumentException(
                    capture == null
                            ? "Sluice SQL runner: the script has no INSERT statement, so there is"
                                    + " no job to run (add INSERT INTO <sink> SELECT ...)"
                            : "Sluice SQL runner: the script has no INSERT or SELECT statement, so"
                                    + " a debug run has nothing to show");
        }
        StatementSet set = tEnv.createStatementSet();
        for (Insert insert : inserts) {
            try {
                if (insert.pipeline != null) {
                    set.add(insert.pipeline);
                } else {
                    set.addInsertSql(insert.sql);
                }
            } catch (RuntimeException e) {
                throw new StatementFailed(insert.statement, insert.part, e);
            }
        }
        try {
            set.execute();
        } catch (RuntimeException e) {
            // Translating the set as a whole (sinks and their factories, changelog modes,
            // column types against the sink's) names no statement: find the INSERT that
            // fails on its own. (The exception that ends a dry run once the plan is taken
            // is an Error, not caught here.)
            throw whichInsert(tEnv, inserts, e);
        }
    }

    /**
     * An INSERT to run: its SQL, or for a captured query (debug mode) the insert of its
     * table into the capture sink; and where it came from.
     */
    private static final class Insert {
        final String sql;
        final TablePipeline pipeline;
        /** 1-based statement of the script. */
        final int statement;
        /** 1-based INSERT within a statement set; 0 for a statement of its own. */
        final int part;

        Insert(String sql, int statement, int part) {
            this.sql = sql;
            this.pipeline = null;
            this.statement = statement;
            this.part = part;
        }

        Insert(TablePipeline pipeline, int statement) {
            this.sql = null;
            this.pipeline = pipeline;
            this.statement = statement;
            this.part = 0;
        }

        /** Plans this INSERT alone (nothing runs); throws what makes it fail. */
        void explain(TableEnvironment tEnv) {
            if (pipeline != null) {
                pipeline.explain();
            } else {
                tEnv.explainSql(sql);
            }
        }
    }

    /** Debug mode: where the capture sinks send rows ({@code --capture-url/-token}). */
    private static final class Capture {
        final String url;
        final String token;

        Capture(String url, String token) {
            this.url = url;
            this.token = token;
        }

        /**
         * The query's results, inserted into an anonymous {@code sluice-capture} table
         * with the query's columns (time attributes as plain timestamps: a sink column
         * is no time attribute), target {@code statement:N}.
         */
        TablePipeline pipeline(Table query, int statement) {
            Schema.Builder schema = Schema.newBuilder();
            for (Column column : query.getResolvedSchema().getColumns()) {
                schema.column(
                        column.getName(), DataTypeUtils.removeTimeAttribute(column.getDataType()));
            }
            TableDescriptor descriptor =
                    TableDescriptor.forConnector(CaptureSinkFactory.IDENTIFIER)
                            .schema(schema.build())
                            .option(CaptureSinkFactory.URL.key(), url)
                            .option(CaptureSinkFactory.TOKEN.key(), token)
                            .option(CaptureSinkFactory.TARGET.key(), "statement:" + statement)
                            .build();
            return query.insertInto(descriptor);
        }
    }

    /**
     * The failure of the first INSERT that fails when explained on its own (explaining
     * plans it, without running anything), marked with its statement; else the set's.
     */
    private static RuntimeException whichInsert(
            TableEnvironment tEnv, List<Insert> inserts, RuntimeException whole) {
        for (Insert insert : inserts) {
            try {
                insert.explain(tEnv);
            } catch (RuntimeException e) {
                return new StatementFailed(insert.statement, insert.part, e);
            }
        }
        return whole;
    }

    /**
     * Marks the statement a failure came from as "[statement N]" (1-based, in the order
     * Sluice sent them), or "[statement N, insert K]" for the K-th INSERT of a statement
     * set, so Sluice can show the error at that statement. The cause stays attached: its
     * message is the engine's own words.
     */
    static final class StatementFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StatementFailed(int index, int part, RuntimeException cause) {
            super(
                    "[statement "
                            + index
                            + (part > 0 ? ", insert " + part : "")
                            + "] "
                            + cause.getMessage(),
                    cause);
        }
    }

    /** Runs or collects one statement; INSERTs are only collected, with their origin. */
    private static void run(
            TableEnvironment tEnv,
            String statement,
            int index,
            List<Insert> inserts,
            Set<String> setKeys,
            Capture capture) {
        String sql = stripTrailingSemicolons(statement.trim());
        String head = keywords(sql);
        if (head.trim().isEmpty()) {
            return; // only comments / whitespace
        }
        if (head.startsWith("SET ")) {
            Matcher m = SET.matcher(stripLeadingComments(sql));
            if (!m.matches()) {
                throw new IllegalArgumentException(
                        "Sluice SQL runner: unsupported SET statement, write SET 'key' = 'value': "
                                + sql);
            }
            tEnv.getConfig().set(unquote(m.group(1)), unquote(m.group(2)));
            setKeys.add(unquote(m.group(1)));
        } else if (head.startsWith("RESET ")) {
            reset(tEnv, stripLeadingComments(sql), setKeys);
        } else if (head.startsWith("INSERT ") || head.startsWith("EXECUTE INSERT ")) {
            String body = stripLeadingComments(sql);
            if (head.startsWith("EXECUTE ")) {
                body = body.substring("EXECUTE".length()).trim();
            }
            inserts.add(new Insert(body, index, 0));
        } else if (head.startsWith("EXECUTE STATEMENT SET ")) {
            Matcher m = STATEMENT_SET.matcher(stripLeadingComments(sql));
            if (!m.matches()) {
                throw new IllegalArgumentException(
                        "Sluice SQL runner: cannot read statement set, write"
                                + " EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END: "
                                + sql);
            }
            int part = 0;
            for (String inner : split(m.group(1))) {
                String innerHead = keywords(inner);
                if (innerHead.trim().isEmpty()) {
                    continue;
                }
                part++;
                if (!innerHead.startsWith("INSERT ")) {
                    throw new IllegalArgumentException(
                            "Sluice SQL runner: a statement set may hold only INSERT statements: "
                                    + inner);
                }
                inserts.add(new Insert(stripLeadingComments(inner), index, part));
            }
        } else if (head.startsWith("SELECT ")
                || head.startsWith("WITH ")
                || head.startsWith("VALUES ")
                || head.startsWith("(")) {
            if (capture != null) {
                // Planned here, at its place in the script (later DDL cannot change it);
                // run in the one StatementSet with the INSERTs.
                Table query = tEnv.sqlQuery(stripLeadingComments(sql));
                inserts.add(new Insert(capture.pipeline(query, index), index));
                return;
            }
            // executeSql would submit a separate job that collects results nowhere.
            throw new IllegalArgumentException(
                    "Sluice SQL runner: a bare query cannot be deployed; write its results"
                            + " to a table with INSERT INTO: "
                            + sql);
        } else {
            tEnv.executeSql(sql);
        }
    }

    /** RESET 'key' (optional trailing ';'). */
    private static final Pattern RESET_KEY =
            Pattern.compile("RESET\\s+'((?:[^']|'')*)'\\s*;?", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    /**
     * RESET 'key' removes a key from the table config (back to its default); a plain RESET
     * removes every key the script's SET statements set (not the pipeline name Sluice
     * gives). Like SET, the SQL client's statement, which a plain TableEnvironment does
     * not take.
     */
    private static void reset(TableEnvironment tEnv, String sql, Set<String> setKeys) {
        Configuration config = tEnv.getConfig().getConfiguration();
        if (sql.trim().equalsIgnoreCase("RESET")) {
            for (String key : setKeys) {
                config.removeKey(key);
            }
            setKeys.clear();
            return;
        }
        Matcher m = RESET_KEY.matcher(sql);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "Sluice SQL runner: unsupported RESET statement, write RESET 'key' or RESET: "
                            + sql);
        }
        config.removeKey(unquote(m.group(1)));
    }

    private static String decode(String arg, int index) {
        try {
            return new String(Base64.getDecoder().decode(arg.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "Sluice SQL runner: program argument " + index + " is not valid base64", e);
        }
    }

    private static String unquote(String s) {
        return s.replace("''", "'");
    }

    private static String stripTrailingSemicolons(String sql) {
        String s = sql;
        while (s.endsWith(";")) {
            s = s.substring(0, s.length() - 1).trim();
        }
        return s;
    }

    /** Removes leading "-- ..." line comments and "/* ... *\/" block comments. */
    static String stripLeadingComments(String sql) {
        String s = sql.trim();
        while (true) {
            if (s.startsWith("--")) {
                int nl = s.indexOf('\n');
                s = nl < 0 ? "" : s.substring(nl + 1).trim();
            } else if (s.startsWith("/*")) {
                int end = s.indexOf("*/");
                s = end < 0 ? "" : s.substring(end + 2).trim();
            } else {
                return s;
            }
        }
    }

    /** The statement's start, comments dropped, upper case, whitespace runs as one space. */
    private static String keywords(String sql) {
        String s = stripLeadingComments(sql);
        s = s.length() > 64 ? s.substring(0, 64) : s;
        return s.replaceAll("\\s+", " ").toUpperCase(Locale.ROOT) + " ";
    }

    /** Splits on ';' outside '...', "...", `...`, -- and /* *\/ comments. */
    static List<String> split(String body) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int n = body.length();
        for (int i = 0; i < n; i++) {
            char c = body.charAt(i);
            if (c == '\'' || c == '"' || c == '`') {
                int j = i + 1;
                while (j < n) {
                    if (body.charAt(j) == c) {
                        if (j + 1 < n && body.charAt(j + 1) == c) {
                            j += 2; // doubled quote
                            continue;
                        }
                        break;
                    }
                    j++;
                }
                int end = Math.min(j, n - 1);
                cur.append(body, i, end + 1);
                i = end;
            } else if (c == '-' && i + 1 < n && body.charAt(i + 1) == '-') {
                int nl = body.indexOf('\n', i);
                int end = nl < 0 ? n - 1 : nl;
                cur.append(body, i, end + 1);
                i = end;
            } else if (c == '/' && i + 1 < n && body.charAt(i + 1) == '*') {
                int close = body.indexOf("*/", i + 2);
                int end = close < 0 ? n - 1 : close + 1;
                cur.append(body, i, end + 1);
                i = end;
            } else if (c == ';') {
                out.add(cur.toString().trim());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (cur.toString().trim().length() > 0) {
            out.add(cur.toString().trim());
        }
        return out;
    }
}
