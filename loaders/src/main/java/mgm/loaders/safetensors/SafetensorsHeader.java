package mgm.loaders.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import mgm.loaders.CheckpointException;
import mgm.loaders.JsonFiles;
import mgm.runtime.DType;

/**
 * The parsed and validated JSON header of a safetensors file. Everything a tensor view needs is
 * checked here, before any data is touched: known dtypes, non-negative shapes whose byte size
 * matches the offsets, offsets inside the data area and not overlapping, string metadata.
 */
final class SafetensorsHeader {
    /** The reference implementation's limit; real headers are a few hundred KB. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    /** One tensor: dtype and shape as used (quantised tensors already decoded), bytes [begin, end) of the data area. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    final Map<String, Entry> entries;
    final Map<String, String> metadata;

    private SafetensorsHeader(Map<String, Entry> entries, Map<String, String> metadata) {
        this.entries = Collections.unmodifiableMap(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Checks the 8-byte length prefix against the file size; returns the header length. */
    static long checkLength(Path file, long headerLength, long fileSize) {
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " is beyond the " + MAX_HEADER_BYTES + "-byte limit (not a safetensors file, or corrupted)");
        }
        if (8 + headerLength > fileSize) {
            throw new CheckpointException(file, "header length " + headerLength + " runs past the end of the "
                    + fileSize + "-byte file (truncated?)");
        }
        if (headerLength < 2) {
            throw new CheckpointException(file, "header of " + headerLength + " bytes cannot hold a JSON object");
        }
        return headerLength;
    }

    /** Parses header bytes; {@code dataSize} is the byte count after the header. */
    static SafetensorsHeader parse(Path file, byte[] json, long dataSize) {
        if (json[0] != '{') {
            throw new CheckpointException(file, "header does not start with '{' (not a safetensors file, or corrupted)");
        }
        JsonNode root = JsonFiles.parse(json, file, "safetensors header");
        if (!root.isObject()) {
            throw new CheckpointException(file, "header must be a JSON object, not " + JsonFiles.typeOf(root));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, Entry> raw = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                metadata = metadata(file, e.getValue());
            } else {
                raw.put(e.getKey(), entry(file, e.getKey(), e.getValue(), dataSize));
            }
        }
        checkOverlaps(file, raw.values());
        return new SafetensorsHeader(applyQuantMarkers(file, raw, metadata), metadata);
    }

    private static Map<String, String> metadata(Path file, JsonNode node) {
        if (node.isNull()) {
            return new LinkedHashMap<>();
        }
        if (!node.isObject()) {
            throw new CheckpointException(file, "__metadata__ must be an object of strings, not " + JsonFiles.typeOf(node));
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(file, "__metadata__ value of '" + e.getKey() + "' must be a string, not "
                        + JsonFiles.typeOf(e.getValue()));
            }
            m.put(e.getKey(), e.getValue().textValue());
        }
        return m;
    }

    private static Entry entry(Path file, String name, JsonNode node, long dataSize) {
        String what = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new CheckpointException(file, what + " must be described by an object, not " + JsonFiles.typeOf(node));
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new CheckpointException(file, what + " has no dtype string");
        }
        DType dtype = SafetensorsDTypes.fromName(dt.textValue());
        if (dtype == null) {
            String why = SafetensorsDTypes.isKnownButUnsupported(dt.textValue()) ? "unsupported" : "unknown";
            throw new CheckpointException(file, what + " has " + why + " dtype '" + dt.textValue() + "' (supported: "
                    + SafetensorsDTypes.supported() + ")");
        }
        long[] shape = longs(file, what, "shape", node.get("shape"), -1);
        long[] offsets = longs(file, what, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw new CheckpointException(file, what + " data_offsets [" + begin + ", " + end + "] are not inside the "
                    + dataSize + "-byte data area");
        }
        long bytes;
        try {
            long n = 1;
            for (long s : shape) {
                n = Math.multiplyExact(n, s);
            }
            bytes = Math.multiplyExact(n, (long) dtype.blockBytes());
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, what + " shape " + Arrays.toString(shape) + " is too large");
        }
        if (bytes != end - begin) {
            throw new CheckpointException(file, what + " is " + dtype + " " + Arrays.toString(shape) + " = " + bytes
                    + " bytes, but its data_offsets span " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** An array of non-negative integers ({@code count} of them, or any number when -1). */
    private static long[] longs(Path file, String what, String key, JsonNode node, int count) {
        if (node == null || !node.isArray()) {
            throw new CheckpointException(file, what + " has no " + key + " array");
        }
        if (count >= 0 && node.size() != count) {
            throw new CheckpointException(file, what + " " + key + " must have " + count + " entries, not " + node.size());
        }
        if (node.size() > 64) {
            throw new CheckpointException(file, what + " " + key + " has " + node.size() + " dimensions");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new CheckpointException(file, what + " " + key + " entry " + v + " is not a non-negative integer");
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void checkOverlaps(Path file, Iterable<Entry> entries) {
        List<Entry> sorted = new ArrayList<>();
        for (Entry e : entries) {
            if (e.end > e.begin) {
                sorted.add(e);
            }
        }
        sorted.sort(Comparator.comparingLong(Entry::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1);
            Entry b = sorted.get(i);
            if (b.begin < a.end) {
                throw new CheckpointException(file, "tensors '" + a.name + "' [" + a.begin + ", " + a.end + ") and '"
                        + b.name + "' [" + b.begin + ", " + b.end + ") overlap");
            }
        }
    }

    /** Turns U8 tensors marked by {@link QuantMarker} metadata back into Q8_0/Q4_0 tensors. */
    private static Map<String, Entry> applyQuantMarkers(Path file, Map<String, Entry> raw, Map<String, String> metadata) {
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            if (!m.getKey().startsWith(QuantMarker.PREFIX)) {
                continue;
            }
            String name = m.getKey().substring(QuantMarker.PREFIX.length());
            Entry e = raw.get(name);
            if (e == null) {
                throw new CheckpointException(file, "metadata '" + m.getKey() + "' marks a tensor that is not in the file");
            }
            DType q = QuantMarker.dtype(m.getValue());
            if (q == null) {
                throw new CheckpointException(file, "metadata '" + m.getKey() + "' names unknown quantisation '"
                        + m.getValue() + "' (supported: Q8_0, Q4_0)");
            }
            long[] logical = e.dtype == DType.U8 ? QuantMarker.logicalShape(q, e.shape) : null;
            if (logical == null) {
                throw new CheckpointException(file, "tensor '" + name + "' is marked " + q + " but is stored as " + e.dtype
                        + " " + Arrays.toString(e.shape) + ", not U8 rows of whole " + q.blockBytes() + "-byte blocks");
            }
            raw.put(name, new Entry(name, q, logical, e.begin, e.end));
        }
        return raw;
    }
}
