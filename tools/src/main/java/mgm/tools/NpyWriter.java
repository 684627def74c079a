package mgm.tools;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a float32 2-D array as a NumPy {@code .npy} file (format 1.0), a block of rows at a time,
 * to a temporary file that replaces the target only when every row is written.
 */
final class NpyWriter implements AutoCloseable {
    private final Path target;
    private final Path tmp;
    private final FileChannel channel;
    private final long rows;
    private final long cols;
    private long written;
    private boolean committed;

    NpyWriter(Path target, long rows, long cols) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IOException(target + ": its folder does not exist");
        }
        this.target = abs;
        this.rows = rows;
        this.cols = cols;
        this.tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        this.channel = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        channel.write(ByteBuffer.wrap(header(rows, cols)));
    }

    /** The .npy 1.0 header: magic, version, little-endian length, a Python dict literal padded to 64 bytes. */
    static byte[] header(long rows, long cols) {
        String order = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? "<" : ">";
        String dict = "{'descr': '" + order + "f4', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        int unpadded = 10 + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        String padded = dict + " ".repeat(total - unpadded) + "\n";
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) padded.length());
        b.put(padded.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** Appends rows given as a contiguous host F32 segment of {@code n * cols} floats. */
    void writeRows(MemorySegment floats, long n) throws IOException {
        if (written + n > rows || floats.byteSize() != n * cols * Float.BYTES) {
            throw new IllegalStateException("npy: " + n + " rows of " + floats.byteSize() + " bytes do not fit " + rows + "x" + cols);
        }
        ByteBuffer b = floats.asByteBuffer();
        while (b.hasRemaining()) {
            channel.write(b);
        }
        written += n;
    }

    /** Moves the finished file into place. */
    void commit() throws IOException {
        if (written != rows) {
            throw new IllegalStateException("npy: " + written + " of " + rows + " rows written");
        }
        channel.force(false);
        channel.close();
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        committed = true;
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            channel.close();
            Files.deleteIfExists(tmp);
        }
    }
}
