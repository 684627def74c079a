package mgm.runtime.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Chrome trace-event file with a general JSON parser and checks what the viewers rely
 * on: the object form with a {@code traceEvents} array, complete events with every required field,
 * and slices on each track that nest (a slice that starts inside another ends inside it).
 */
public final class TraceFiles {
    private TraceFiles() {}

    /** One complete event, times in nanoseconds. */
    public record Slice(long pid, long tid, String name, String cat, long ts, long dur, JsonNode args, Slice parent) {
        public long end() {
            return ts + dur;
        }
    }

    /** Parses and validates {@code file}; returns the complete events with their parents filled in. */
    public static List<Slice> read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertTrue(root.isObject(), "the JSON object format");
        JsonNode events = root.get("traceEvents");
        assertTrue(events != null && events.isArray(), "a traceEvents array");
        Map<String, List<JsonNode>> tracks = new LinkedHashMap<>();
        for (JsonNode e : events) {
            String ph = text(e, "ph");
            assertTrue(e.get("pid").canConvertToLong(), () -> "pid of " + e);
            if (ph.equals("M")) {
                assertTrue(List.of("process_name", "thread_name").contains(text(e, "name")), () -> e.toString());
                assertTrue(e.get("args").get("name").isTextual(), () -> e.toString());
                continue;
            }
            assertEquals("X", ph, () -> "only complete events: " + e);
            for (String field : List.of("name", "cat")) {
                assertTrue(e.get(field).isTextual(), () -> field + " of " + e);
            }
            for (String field : List.of("ts", "dur", "tid")) {
                assertTrue(e.get(field).isNumber() && e.get(field).asDouble() >= 0, () -> field + " of " + e);
            }
            assertTrue(e.get("args").isObject(), () -> "args of " + e);
            tracks.computeIfAbsent(e.get("pid").asLong() + "/" + e.get("tid").asLong(), k -> new ArrayList<>()).add(e);
        }
        List<Slice> all = new ArrayList<>();
        for (List<JsonNode> track : tracks.values()) {
            List<Slice> slices = new ArrayList<>();
            for (JsonNode e : track) {
                slices.add(new Slice(e.get("pid").asLong(), e.get("tid").asLong(), text(e, "name"), text(e, "cat"),
                        nanos(e.get("ts")), nanos(e.get("dur")), e.get("args"), null));
            }
            slices.sort(Comparator.comparingLong(Slice::ts).thenComparing(Comparator.comparingLong(Slice::dur).reversed()));
            Deque<Slice> open = new ArrayDeque<>();
            for (Slice s : slices) {
                while (!open.isEmpty() && open.peek().end() <= s.ts() && !(open.peek().end() == s.ts() && s.dur() == 0
                        && open.peek().dur() == 0)) {
                    open.pop();
                }
                Slice parent = open.peek();
                if (parent != null && s.end() > parent.end()) {
                    fail("slice " + s.name() + " [" + s.ts() + ", " + s.end() + ") overlaps " + parent.name() + " ["
                            + parent.ts() + ", " + parent.end() + ") without nesting in it");
                }
                Slice withParent = new Slice(s.pid(), s.tid(), s.name(), s.cat(), s.ts(), s.dur(), s.args(), parent);
                open.push(withParent);
                all.add(withParent);
            }
        }
        return all;
    }

    private static String text(JsonNode e, String field) {
        JsonNode n = e.get(field);
        assertTrue(n != null && n.isTextual(), () -> field + " of " + e);
        return n.asText();
    }

    /** Microseconds with decimals, exactly as written, to nanoseconds. */
    private static long nanos(JsonNode micros) {
        return new BigDecimal(micros.asText()).movePointRight(3).longValueExact();
    }
}
