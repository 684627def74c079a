package mgm.tools.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The exposition follows Prometheus' text format 0.0.4 rules, checked line by line. */
class MetricsTest {
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\]*\")(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\]*\")*\\})? "
                    + "(-?[0-9.]+(E-?[0-9]+)?|NaN|\\+Inf)");

    @Test
    void everyLineIsValidAndHistogramsAreCumulative() {
        Metrics m = new Metrics(() -> 3, () -> 1, 8);
        m.request("/v1/chat/completions", 200);
        m.request("/v1/chat/completions", 200);
        m.request("/v1/chat/completions", 429);
        m.completion("stop");
        m.tokens(600, 40, 2_000_000_000L, 19.5, 800.25);
        for (double s : new double[] {0.003, 0.2, 0.2, 7, 1000}) {
            m.requestDuration((long) (s * 1e9));
        }
        String text = m.exposition();
        assertTrue(text.endsWith("\n"));
        Set<String> typed = new HashSet<>();
        List<Long> buckets = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                assertTrue(typed.add(line.split(" ")[2]), "one TYPE per family: " + line);
                continue;
            }
            if (line.startsWith("# HELP ")) {
                continue;
            }
            Matcher sm = SAMPLE.matcher(line);
            assertTrue(sm.matches(), "a valid sample line: " + line);
            if (sm.group(1).equals("mgm_request_duration_seconds_bucket")) {
                buckets.add(Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        for (int i = 1; i < buckets.size(); i++) {
            assertTrue(buckets.get(i) >= buckets.get(i - 1), "cumulative buckets " + buckets);
        }
        assertEquals(5L, buckets.get(buckets.size() - 1), "+Inf counts everything");
        assertTrue(text.contains("mgm_request_duration_seconds_bucket{le=\"0.25\"} 3\n"), text);
        assertTrue(text.contains("mgm_request_duration_seconds_count 5\n"));
        assertTrue(text.contains("mgm_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 2\n"));
        assertTrue(text.contains("mgm_http_requests_total{route=\"/v1/chat/completions\",status=\"429\"} 1\n"));
        assertTrue(text.contains("mgm_generated_tokens_total 40\n"));
        assertTrue(text.contains("mgm_decode_tokens_per_second 19.5\n"));
        assertTrue(text.contains("mgm_queue_length 3\n"));
        assertTrue(text.contains("mgm_decode_seconds_total 2\n"));
    }
}
