package mgm.tools.serve;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters, written in Prometheus' text exposition format (version 0.0.4) for
 * {@code GET /metrics}. Everything is prefixed {@code mgm_}.
 */
final class Metrics {
    /** Seconds; spans a tiny model's milliseconds to a big model's minutes-long answers. */
    private static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

    private final Map<String, AtomicLong> requests = new TreeMap<>();
    private final Map<String, AtomicLong> completions = new TreeMap<>();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final DoubleAdder decodeSeconds = new DoubleAdder();
    private volatile double lastDecodeTokensPerSecond;
    private volatile double lastPrefillTokensPerSecond;
    private final Histogram requestSeconds = new Histogram("mgm_request_duration_seconds",
            "Time from admission to the last byte of a chat completion.");
    private final Histogram queueSeconds = new Histogram("mgm_queue_wait_seconds",
            "Time a chat completion waited for the model.");
    private final Histogram firstTokenSeconds = new Histogram("mgm_time_to_first_token_seconds",
            "Time from admission to the first generated token (queue, image encoding and prefill included).");
    private final IntSupplier waiting;
    private final IntSupplier running;
    private final int capacity;

    Metrics(IntSupplier waiting, IntSupplier running, int capacity) {
        this.waiting = waiting;
        this.running = running;
        this.capacity = capacity;
    }

    /** One HTTP request answered; {@code route} is a known path or "other". */
    void request(String route, int status) {
        String key = "route=\"" + route + "\",status=\"" + status + "\"";
        synchronized (requests) {
            requests.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
        }
    }

    /** A finished (or abandoned) generation: finish reason stop, length, cancelled or error. */
    void completion(String finishReason) {
        synchronized (completions) {
            completions.computeIfAbsent("finish_reason=\"" + finishReason + "\"", k -> new AtomicLong()).incrementAndGet();
        }
    }

    void tokens(int prompt, int generated, long decodeNanos, double decodeTokensPerSecond, double prefillTokensPerSecond) {
        promptTokens.addAndGet(prompt);
        generatedTokens.addAndGet(generated);
        decodeSeconds.add(decodeNanos / 1e9);
        if (generated > 1) {
            lastDecodeTokensPerSecond = decodeTokensPerSecond;
        }
        lastPrefillTokensPerSecond = prefillTokensPerSecond;
    }

    void requestDuration(long nanos) {
        requestSeconds.observe(nanos / 1e9);
    }

    void queueWait(long nanos) {
        queueSeconds.observe(nanos / 1e9);
    }

    void firstToken(long nanos) {
        firstTokenSeconds.observe(nanos / 1e9);
    }

    String exposition() {
        StringBuilder sb = new StringBuilder(4096);
        family(sb, "mgm_http_requests_total", "counter", "HTTP requests answered, by route and status code.");
        synchronized (requests) {
            requests.forEach((k, v) -> sb.append("mgm_http_requests_total{").append(k).append("} ").append(v.get()).append('\n'));
        }
        family(sb, "mgm_completions_total", "counter", "Chat completions ended, by finish reason (cancelled: the client "
                + "went away; error: failed).");
        synchronized (completions) {
            completions.forEach((k, v) -> sb.append("mgm_completions_total{").append(k).append("} ").append(v.get()).append('\n'));
        }
        counter(sb, "mgm_prompt_tokens_total", "Prompt positions processed, image tokens included.", promptTokens.get());
        counter(sb, "mgm_generated_tokens_total", "Tokens generated.", generatedTokens.get());
        family(sb, "mgm_decode_seconds_total", "counter", "Time spent in decode steps (rate of generated tokens over "
                + "this is the decode speed).");
        sb.append("mgm_decode_seconds_total ").append(number(decodeSeconds.sum())).append('\n');
        gauge(sb, "mgm_decode_tokens_per_second", "Decode speed of the last answer with more than one token.",
                lastDecodeTokensPerSecond);
        gauge(sb, "mgm_prefill_tokens_per_second", "Prefill speed of the last prompt.", lastPrefillTokensPerSecond);
        gauge(sb, "mgm_queue_length", "Requests waiting for the model.", waiting.getAsInt());
        gauge(sb, "mgm_queue_capacity", "Requests that may wait before new ones get 429 (--queue).", capacity);
        gauge(sb, "mgm_requests_running", "Requests generating now (0 or 1).", running.getAsInt());
        requestSeconds.write(sb);
        queueSeconds.write(sb);
        firstTokenSeconds.write(sb);
        return sb.toString();
    }

    private static void family(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long value) {
        family(sb, name, "counter", help);
        sb.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, double value) {
        family(sb, name, "gauge", help);
        sb.append(name).append(' ').append(number(value)).append('\n');
    }

    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v); // Prometheus reads Go float syntax: 0.005, 1.5E-7, NaN
    }

    /** A cumulative histogram with fixed buckets. */
    private static final class Histogram {
        private final String name;
        private final String help;
        private final long[] counts = new long[BUCKETS.length];
        private long count;
        private double sum;

        Histogram(String name, String help) {
            this.name = name;
            this.help = help;
        }

        synchronized void observe(double seconds) {
            for (int i = 0; i < BUCKETS.length; i++) {
                if (seconds <= BUCKETS[i]) {
                    counts[i]++;
                }
            }
            count++;
            sum += seconds;
        }

        synchronized void write(StringBuilder sb) {
            family(sb, name, "histogram", help);
            for (int i = 0; i < BUCKETS.length; i++) {
                sb.append(name).append("_bucket{le=\"").append(number(BUCKETS[i])).append("\"} ").append(counts[i]).append('\n');
            }
            sb.append(name).append("_bucket{le=\"+Inf\"} ").append(count).append('\n');
            sb.append(name).append("_sum ").append(number(sum)).append('\n');
            sb.append(name).append("_count ").append(count).append('\n');
        }
    }
}
