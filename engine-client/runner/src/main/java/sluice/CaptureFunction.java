package sluice;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.table.connector.RuntimeConverter;
import org.apache.flink.table.connector.sink.DynamicTableSink.DataStructureConverter;
import org.apache.flink.table.data.RowData;
import org.apache.flink.types.Row;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime of {@code sluice-capture}: turns each row into JSON and hands it to a
 * background daemon thread that POSTs batches to Sluice, every 200 ms or 200 rows,
 * whichever comes first, and once more on close. Emits nothing.
 *
 * <p>Each POST: {@code Authorization: Bearer <token>}, {@code Content-Type:
 * application/json}, body
 * {@code {"target":"<target>","columns":["c1","c2"],"rows":[{"kind":"+I","values":["1",null]}]}}:
 * every value a string ({@code String.valueOf}; arrays as {@code [a, b]}) or null, the
 * kind one of {@code +I -U +U -D}. Answers: 2xx, taken; 410, the run is over, so nothing
 * more is sent (rows that follow are dropped); anything else or no answer, the batch is
 * tried again up to 3 times with a short backoff and then dropped (a debug run shows
 * what it can; it never fails the job over a lost batch).
 *
 * <p>At most {@link #MAX_PENDING} rows wait to be sent: beyond that the task waits for
 * the sender (backpressure), so a fast source cannot fill the heap.
 *
 * <p>Opened through {@code open(OpenContext)}, which Flink 1.20 (that also knows the old
 * {@code open(Configuration)}) and 2.x both call.
 */
final class CaptureFunction extends RichFlatMapFunction<RowData, RowData> {
    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(CaptureFunction.class);

    static final int BATCH_ROWS = 200;
    static final long BATCH_MILLIS = 200;
    static final int MAX_PENDING = 10 * BATCH_ROWS;
    static final int RETRIES = 3;
    static final long BACKOFF_MILLIS = 200;
    /** How long close() waits for the last batches before giving up on them. */
    static final long CLOSE_WAIT_MILLIS = 30_000;

    private final String url;
    private final String token;
    private final String target;
    private final ArrayList<String> columns;
    private final DataStructureConverter converter;

    private transient Sender sender;

    CaptureFunction(
            String url,
            String token,
            String target,
            List<String> columns,
            DataStructureConverter converter) {
        this.url = url;
        this.token = token;
        this.target = target;
        this.columns = new ArrayList<>(columns);
        this.converter = converter;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        converter.open(RuntimeConverter.Context.create(CaptureFunction.class.getClassLoader()));
        StringBuilder head = new StringBuilder("{\"target\":");
        quote(head, target);
        head.append(",\"columns\":[");
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) {
                head.append(',');
            }
            quote(head, columns.get(i));
        }
        head.append("],\"rows\":[");
        sender = new Sender(new URL(url), token, head.toString());
        Thread thread = new Thread(sender, "sluice-capture " + target);
        thread.setDaemon(true);
        sender.thread = thread;
        thread.start();
    }

    @Override
    public void flatMap(RowData value, Collector<RowData> out) throws Exception {
        if (sender.isStopped()) {
            return;
        }
        Row row = (Row) converter.toExternal(value);
        StringBuilder json = new StringBuilder("{\"kind\":\"");
        json.append(kind(value.getRowKind())).append("\",\"values\":[");
        int arity = row.getArity();
        for (int i = 0; i < arity; i++) {
            if (i > 0) {
                json.append(',');
            }
            Object field = row.getField(i);
            if (field == null) {
                json.append("null");
            } else {
                quote(json, text(field));
            }
        }
        json.append("]}");
        sender.add(json.toString());
    }

    @Override
    public void close() throws Exception {
        if (sender != null) {
            sender.close();
        }
    }

    static String kind(RowKind kind) {
        switch (kind) {
            case INSERT:
                return "+I";
            case UPDATE_BEFORE:
                return "-U";
            case UPDATE_AFTER:
                return "+U";
            case DELETE:
                return "-D";
            default:
                return kind.shortString();
        }
    }

    /** A field as text: String.valueOf, except arrays, which have no useful toString. */
    static String text(Object field) {
        if (field instanceof Object[]) {
            return Arrays.deepToString((Object[]) field);
        } else if (field instanceof byte[]) {
            return Arrays.toString((byte[]) field);
        } else if (field.getClass().isArray()) {
            String nested = Arrays.deepToString(new Object[] {field}); // "[[1, 2]]"
            return nested.substring(1, nested.length() - 1);
        }
        return String.valueOf(field);
    }

    /** Appends s as a JSON string. */
    static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                default:
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    /** The background sender of one parallel instance. */
    static final class Sender implements Runnable {
        private final URL url;
        private final String token;
        /** The body up to the rows: {"target":…,"columns":[…],"rows":[ */
        private final String head;
        private final ArrayDeque<String> pending = new ArrayDeque<>();
        private final Object lock = new Object();
        private boolean closing;
        private volatile boolean stopped;
        Thread thread;

        Sender(URL url, String token, String head) {
            this.url = url;
            this.token = token;
            this.head = head;
        }

        boolean isStopped() {
            return stopped;
        }

        /** Queues a row; waits while {@link #MAX_PENDING} rows are queued. */
        void add(String row) throws InterruptedException {
            synchronized (lock) {
                while (!stopped && pending.size() >= MAX_PENDING) {
                    lock.wait(BATCH_MILLIS);
                }
                if (stopped) {
                    return;
                }
                pending.addLast(row);
                if (pending.size() >= BATCH_ROWS) {
                    lock.notifyAll();
                }
            }
        }

        /** Sends what is queued and waits for it (up to {@link #CLOSE_WAIT_MILLIS}). */
        void close() {
            synchronized (lock) {
                closing = true;
                lock.notifyAll();
            }
            try {
                thread.join(CLOSE_WAIT_MILLIS);
            } catch (InterruptedException e) {
                // Cancelled: the rest is not wanted.
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                stop();
                thread.interrupt();
            }
        }

        private void stop() {
            synchronized (lock) {
                stopped = true;
                pending.clear();
                lock.notifyAll();
            }
        }

        @Override
        public void run() {
            try {
                while (true) {
                    List<String> batch = new ArrayList<>();
                    synchronized (lock) {
                        long deadline = System.currentTimeMillis() + BATCH_MILLIS;
                        while (!stopped && !closing && pending.size() < BATCH_ROWS) {
                            long left = deadline - System.currentTimeMillis();
                            if (left <= 0) {
                                break;
                            }
                            lock.wait(left);
                        }
                        if (stopped || (closing && pending.isEmpty())) {
                            return;
                        }
                        while (batch.size() < BATCH_ROWS && !pending.isEmpty()) {
                            batch.add(pending.pollFirst());
                        }
                        lock.notifyAll();
                    }
                    if (!batch.isEmpty()) {
                        send(batch);
                    }
                }
            } catch (InterruptedException e) {
                stop();
            }
        }

        private void send(List<String> batch) throws InterruptedException {
            StringBuilder body = new StringBuilder(head);
            for (int i = 0; i < batch.size(); i++) {
                if (i > 0) {
                    body.append(',');
                }
                body.append(batch.get(i));
            }
            body.append("]}");
            byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
            for (int attempt = 0; attempt <= RETRIES; attempt++) {
                if (attempt > 0) {
                    Thread.sleep(BACKOFF_MILLIS << (attempt - 1));
                }
                if (stopped) {
                    return;
                }
                int status;
                try {
                    status = post(bytes);
                } catch (IOException e) {
                    LOG.warn("Sluice capture: POST to {} failed: {}", url, e.toString());
                    continue;
                }
                if (status >= 200 && status < 300) {
                    return;
                }
                if (status == 410) {
                    LOG.info("Sluice capture: the debug run is over (410); sending stops");
                    stop();
                    return;
                }
                LOG.warn("Sluice capture: POST to {} answered {}", url, status);
            }
            LOG.warn("Sluice capture: dropped {} rows after {} retries", batch.size(), RETRIES);
        }

        private int post(byte[] body) throws IOException {
            // No disconnect() at the end: it would close the connection the next POST can reuse.
            HttpURLConnection connection = (HttpURLConnection) url.openConnection();
            connection.setConnectTimeout(5_000);
            connection.setReadTimeout(10_000);
            connection.setRequestMethod("POST");
            connection.setDoOutput(true);
            connection.setRequestProperty("Authorization", "Bearer " + token);
            connection.setRequestProperty("Content-Type", "application/json");
            connection.setFixedLengthStreamingMode(body.length);
            try (OutputStream out = connection.getOutputStream()) {
                out.write(body);
            }
            int status = connection.getResponseCode();
            // Read the answer to its end so the connection can be kept alive.
            InputStream in =
                    status >= 400 ? connection.getErrorStream() : connection.getInputStream();
            if (in != null) {
                try (InputStream answer = in) {
                    byte[] skip = new byte[1024];
                    while (answer.read(skip) >= 0) {
                        // discard
                    }
                }
            }
            return status;
        }
    }
}
