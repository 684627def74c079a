package mgm.loaders.safetensors;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import mgm.loaders.CheckpointException;
import mgm.runtime.JsonStrings;
import mgm.runtime.Tensor;

/**
 * Writes safetensors files the way the reference implementation does (tensor order, compact
 * JSON, header padded with spaces to a multiple of 8), atomically: the data goes to a temporary
 * file beside the target, which is renamed over it only when complete.
 *
 * <p>Any host tensor can be written; strided views are written in row-major order. Q8_0/Q4_0
 * tensors are stored as U8 rows plus a {@link QuantMarker} metadata entry.
 */
public final class SafetensorsWriter {
    private static final int CHUNK = 1 << 20;

    private SafetensorsWriter() {}

    /** Writes {@code tensors} (in any order; the file order is the reference's) with optional {@code metadata}. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Layout layout = Layout.of(tensors, metadata);
        Path tmp = null;
        try {
            tmp = AtomicFiles.temp(file);
            writeTo(tmp, layout);
            AtomicFiles.commit(tmp, file);
        } catch (IOException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw new CheckpointException(file, "cannot write: " + e, e);
        } catch (RuntimeException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        }
    }

    /** Writes a complete file at {@code path} (no rename), forcing it to disk. */
    static void writeTo(Path path, Layout layout) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.CREATE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, layout.header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(layout.header));
            for (String name : layout.order) {
                writeData(ch, layout.tensors.get(name));
            }
            ch.force(true);
        }
    }

    /** The tensors in file order with their header. */
    static final class Layout {
        final List<String> order;
        final Map<String, Tensor> tensors;
        final byte[] header;
        final long dataBytes;

        private Layout(List<String> order, Map<String, Tensor> tensors, byte[] header, long dataBytes) {
            this.order = order;
            this.tensors = tensors;
            this.header = header;
            this.dataBytes = dataBytes;
        }

        static Layout of(Map<String, Tensor> tensors, Map<String, String> metadata) {
            Map<String, String> meta = new TreeMap<>();
            if (metadata != null) {
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    if (m.getKey() == null || m.getValue() == null) {
                        throw new IllegalArgumentException("safetensors metadata keys and values must not be null");
                    }
                    if (m.getKey().startsWith(QuantMarker.PREFIX)) {
                        throw new IllegalArgumentException("metadata key '" + m.getKey() + "' is reserved for quantised tensors");
                    }
                    meta.put(m.getKey(), m.getValue());
                }
            }
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                check(e.getKey(), e.getValue());
                if (e.getValue().dtype().isQuantized()) {
                    meta.put(QuantMarker.key(e.getKey()), e.getValue().dtype().name());
                }
            }
            List<String> order = new ArrayList<>(tensors.keySet());
            order.sort(Comparator.<String>comparingInt(n -> -SafetensorsDTypes.writeRank(tensors.get(n).dtype()))
                    .thenComparing(SafetensorsWriter::compareUtf8));

            StringBuilder json = new StringBuilder("{");
            if (!meta.isEmpty() || metadata != null) {
                json.append("\"__metadata__\":{");
                boolean first = true;
                for (Map.Entry<String, String> m : meta.entrySet()) {
                    json.append(first ? "" : ",").append(JsonStrings.quote(m.getKey())).append(':').append(JsonStrings.quote(m.getValue()));
                    first = false;
                }
                json.append('}');
            }
            long offset = 0;
            for (String name : order) {
                Tensor t = tensors.get(name);
                long bytes = t.byteSize();
                long[] shape = t.dtype().isQuantized() ? QuantMarker.storedShape(t.dtype(), t.shape()) : t.shape();
                json.append(json.length() > 1 ? "," : "").append(JsonStrings.quote(name)).append(":{\"dtype\":\"")
                        .append(SafetensorsDTypes.name(t.dtype())).append("\",\"shape\":[");
                for (int i = 0; i < shape.length; i++) {
                    json.append(i == 0 ? "" : ",").append(shape[i]);
                }
                json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
                offset += bytes;
            }
            json.append('}');
            byte[] raw = json.toString().getBytes(StandardCharsets.UTF_8);
            byte[] header = Arrays.copyOf(raw, (raw.length + 7) / 8 * 8);
            Arrays.fill(header, raw.length, header.length, (byte) ' ');
            return new Layout(List.copyOf(order), Map.copyOf(tensors), header, offset);
        }

        /** Total file size. */
        long fileBytes() {
            return 8 + header.length + dataBytes;
        }
    }

    private static void check(String name, Tensor t) {
        if (name == null || t == null) {
            throw new IllegalArgumentException("safetensors tensor names and tensors must not be null");
        }
        if (name.equals("__metadata__")) {
            throw new IllegalArgumentException("'__metadata__' cannot name a tensor");
        }
        t.checkAlive("write safetensors '" + name + "'");
        if (!t.device().isHost()) {
            throw new IllegalArgumentException("write safetensors: tensor '" + name + "' " + t.describe()
                    + " is not in host memory; copy it to the host first");
        }
        if (t.dtype().isQuantized() && t.rank() == 0) {
            throw new IllegalArgumentException("write safetensors: quantised tensor '" + name + "' has no dimensions");
        }
    }

    /** Writes the tensor's elements in row-major order: contiguous data in large slices, strided data in rows. */
    static void writeData(FileChannel ch, Tensor t) throws IOException {
        if (t.numel() == 0) {
            return;
        }
        MemorySegment seg = t.storage().segment();
        if (t.isContiguous()) {
            long start = t.byteOffset();
            long size = t.byteSize();
            for (long done = 0; done < size; done += 256L << 20) {
                writeFully(ch, seg.asSlice(start + done, Math.min(256L << 20, size - done)).asByteBuffer());
            }
            return;
        }
        int rank = t.rank();
        long[] shape = t.shape();
        long[] strides = t.strides();
        boolean lastContiguous = strides[rank - 1] == 1 || shape[rank - 1] == 1;
        int outerDims = lastContiguous ? rank - 1 : rank;
        long runElements = lastContiguous ? shape[rank - 1] : 1;
        long runBytes = t.dtype().byteSize(runElements);
        byte[] staging = new byte[CHUNK];
        MemorySegment stage = MemorySegment.ofArray(staging);
        int filled = 0;
        long[] idx = new long[outerDims];
        while (true) {
            long e = t.offset();
            for (int d = 0; d < outerDims; d++) {
                e += idx[d] * strides[d];
            }
            long from = t.byteOffsetOf(e);
            for (long done = 0; done < runBytes; ) {
                if (filled == staging.length) {
                    writeFully(ch, ByteBuffer.wrap(staging, 0, filled));
                    filled = 0;
                }
                int n = (int) Math.min(runBytes - done, staging.length - filled);
                MemorySegment.copy(seg, from + done, stage, filled, n);
                filled += n;
                done += n;
            }
            int d = outerDims - 1;
            while (d >= 0 && ++idx[d] == shape[d]) {
                idx[d--] = 0;
            }
            if (d < 0) {
                break;
            }
        }
        writeFully(ch, ByteBuffer.wrap(staging, 0, filled));
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Byte order of the UTF-8 encodings, which is how the reference (Rust strings) sorts names. */
    static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
