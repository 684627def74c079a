package mgm.loaders.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import mgm.loaders.Checkpoint;
import mgm.loaders.CheckpointException;
import mgm.loaders.NameSuggestions;
import mgm.loaders.TensorInfo;
import mgm.runtime.Storage;
import mgm.runtime.Tensor;

/**
 * One safetensors file, memory-mapped (any size) and validated on open. Tensors are zero-copy
 * views of the mapping; they stay usable until {@link #close()} unmaps the file.
 */
public final class SafetensorsFile implements Checkpoint {
    private final Path file;
    private final SafetensorsHeader header;
    private final List<String> names;
    private final Arena arena;
    private final Storage data;

    private SafetensorsFile(Path file, SafetensorsHeader header, Arena arena, Storage data) {
        this.file = file;
        this.header = header;
        this.names = List.copyOf(header.entries.keySet());
        this.arena = arena;
        this.data = data;
    }

    /** Opens, validates and maps {@code file}. */
    public static SafetensorsFile open(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(file, "only " + size + " bytes: too short for a safetensors file");
            }
            long headerLength = SafetensorsHeader.checkLength(file, readLong(ch, file), size);
            byte[] json = new byte[(int) headerLength];
            readFully(ch, ByteBuffer.wrap(json), 8, file);
            SafetensorsHeader header = SafetensorsHeader.parse(file, json, size - 8 - headerLength);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                Storage data = Storage.wrapMappedFile(all, 8 + headerLength);
                return new SafetensorsFile(file, header, arena, data);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file");
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e, e);
        }
    }

    @Override
    public Path path() {
        return file;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return header.entries.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        SafetensorsHeader.Entry e = entry(name);
        return new TensorInfo(name, e.dtype(), e.shape(), file);
    }

    @Override
    public Tensor tensor(String name) {
        SafetensorsHeader.Entry e = entry(name);
        if (!arena.scope().isAlive()) {
            throw new CheckpointException(file, "tensor '" + name + "' requested after the checkpoint was closed");
        }
        return Tensor.wrap(data, e.begin(), e.dtype(), false, e.shape());
    }

    @Override
    public Map<String, String> metadata() {
        return header.metadata;
    }

    /** Bytes [begin, end) of {@code name} within the data area (after the header). */
    public long[] dataOffsets(String name) {
        SafetensorsHeader.Entry e = entry(name);
        return new long[] {e.begin(), e.end()};
    }

    private SafetensorsHeader.Entry entry(String name) {
        SafetensorsHeader.Entry e = header.entries.get(name);
        if (e == null) {
            throw NameSuggestions.missingTensor(file, name, names);
        }
        return e;
    }

    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    private static long readLong(FileChannel ch, Path file) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, 0, file);
        return b.getLong(0);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new CheckpointException(file, "file ended while reading the header (truncated?)");
            }
            pos += n;
        }
    }
}
