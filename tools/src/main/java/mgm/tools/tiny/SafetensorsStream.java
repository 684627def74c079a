package mgm.tools.tiny;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import mgm.loaders.ShardIndex;
import mgm.runtime.JsonStrings;

/**
 * Writes generated tensors to safetensors files without holding them in memory: the header is
 * computed from the specs, then each tensor's values are drawn, converted and written a chunk at
 * a time (memory stays at one chunk, whatever the checkpoint size). Files follow the reference
 * library's layout ({@code __metadata__} first, tensors ordered by dtype then name, header padded
 * with spaces to 8 bytes) and HF's sharding ({@code model-00001-of-0000N.safetensors} +
 * {@code model.safetensors.index.json}, tensors packed in the order given).
 */
final class SafetensorsStream {
    /** Elements drawn per chunk. */
    private static final int CHUNK = 1 << 20;

    private SafetensorsStream() {}

    /** Bytes one element takes in {@code dtype} ("F32", "BF16", "F16") or I64 for integer tensors. */
    static int elementBytes(TensorSpec t, String dtype) {
        return t.integer() ? 8 : dtype.equals("F32") ? 4 : 2;
    }

    static long bytes(TensorSpec t, String dtype) {
        return t.numel() * elementBytes(t, dtype);
    }

    /**
     * Writes {@code tensors} into {@code folder}: one {@code singleName} file when they fit in
     * {@code maxShardBytes}, else numbered shards plus the index. Returns the files written.
     */
    static List<Path> writeSharded(Path folder, String singleName, List<TensorSpec> tensors, String dtype, long seed,
                                   long maxShardBytes) throws IOException {
        List<List<TensorSpec>> shards = split(tensors, dtype, maxShardBytes);
        List<Path> files = new ArrayList<>();
        if (shards.size() == 1) {
            Path f = folder.resolve(singleName);
            write(f, shards.get(0), dtype, seed);
            files.add(f);
            return files;
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path f = folder.resolve(name);
            write(f, shards.get(i), dtype, seed);
            files.add(f);
            for (TensorSpec t : shards.get(i)) {
                weightMap.put(t.name(), name);
                total += bytes(t, dtype);
            }
        }
        Path index = folder.resolve("model.safetensors.index.json");
        Files.writeString(index, ShardIndex.toJson(total, weightMap), StandardCharsets.UTF_8);
        files.add(index);
        return files;
    }

    /** HF's packing: in order, a new shard when the next tensor would overflow; an oversized tensor alone. */
    static List<List<TensorSpec>> split(List<TensorSpec> tensors, String dtype, long maxShardBytes) {
        List<List<TensorSpec>> shards = new ArrayList<>();
        List<TensorSpec> current = new ArrayList<>();
        long size = 0;
        for (TensorSpec t : tensors) {
            long b = bytes(t, dtype);
            if (!current.isEmpty() && size + b > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(t);
            size += b;
        }
        if (!current.isEmpty()) {
            shards.add(current);
        }
        return shards;
    }

    /** One safetensors file. */
    static void write(Path file, List<TensorSpec> tensors, String dtype, long seed) throws IOException {
        List<TensorSpec> order = new ArrayList<>(tensors);
        order.sort(Comparator.<TensorSpec>comparingInt(t -> t.integer() ? 0 : 1)
                .thenComparing((a, b) -> Arrays.compareUnsigned(a.name().getBytes(StandardCharsets.UTF_8),
                        b.name().getBytes(StandardCharsets.UTF_8))));
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (TensorSpec t : order) {
            long n = bytes(t, dtype);
            json.append(',');
            JsonStrings.quote(json, t.name(), false);
            json.append(":{\"dtype\":\"").append(t.integer() ? "I64" : dtype).append("\",\"shape\":[");
            for (int i = 0; i < t.shape().length; i++) {
                json.append(i == 0 ? "" : ",").append(t.shape()[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + n).append("]}");
            offset += n;
        }
        json.append('}');
        byte[] raw = json.toString().getBytes(StandardCharsets.UTF_8);
        byte[] header = Arrays.copyOf(raw, (raw.length + 7) / 8 * 8);
        Arrays.fill(header, raw.length, header.length, (byte) ' ');
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            writeFully(ch, ByteBuffer.wrap(header));
            float[] values = new float[CHUNK];
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (TensorSpec t : order) {
                long numel = t.numel();
                for (long start = 0; start < numel; start += CHUNK) {
                    int count = (int) Math.min(CHUNK, numel - start);
                    fillParallel(t, seed, start, values, count);
                    buf.clear();
                    encode(values, count, t.integer() ? "I64" : dtype, buf);
                    buf.flip();
                    writeFully(ch, buf);
                }
            }
        }
    }

    /** Draws a chunk on all cores (values depend only on the index, so the split does not matter). */
    private static void fillParallel(TensorSpec t, long seed, long start, float[] out, int count) {
        int slice = 1 << 16;
        if (count <= slice) {
            t.fill(seed, start, out, count);
            return;
        }
        IntStream.range(0, (count + slice - 1) / slice).parallel().forEach(s -> {
            int from = s * slice;
            int n = Math.min(slice, count - from);
            float[] part = new float[n];
            t.fill(seed, start + from, part, n);
            System.arraycopy(part, 0, out, from, n);
        });
    }

    private static void encode(float[] v, int count, String dtype, ByteBuffer buf) {
        switch (dtype) {
            case "F32" -> {
                for (int i = 0; i < count; i++) {
                    buf.putFloat(v[i]);
                }
            }
            case "BF16" -> {
                for (int i = 0; i < count; i++) {
                    buf.putShort(toBf16(v[i]));
                }
            }
            case "F16" -> {
                for (int i = 0; i < count; i++) {
                    buf.putShort(Float.floatToFloat16(v[i]));
                }
            }
            case "I64" -> {
                for (int i = 0; i < count; i++) {
                    buf.putLong((long) v[i]);
                }
            }
            default -> throw new IllegalArgumentException("dtype " + dtype);
        }
    }

    /** Round to nearest even, as torch's {@code .to(torch.bfloat16)} does. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
