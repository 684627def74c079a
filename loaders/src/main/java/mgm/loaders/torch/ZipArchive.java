package mgm.loaders.torch;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import mgm.loaders.CheckpointException;

/**
 * A read-only view of a zip archive held in a memory-mapped file: the central directory (with
 * ZIP64), each entry's data located through its local header, stored entries as slices of the
 * mapping, deflated entries inflated under {@link ZipLimits}. Every offset and size is checked
 * against the file before use.
 */
final class ZipArchive {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;
    static final int STORED = 0;
    static final int DEFLATED = 8;

    /** One entry: where its (possibly compressed) bytes are and how large it is once read. */
    record Entry(String name, int method, long compressedSize, long size, long dataOffset, int crc) {}

    private final Path file;
    private final MemorySegment data;
    private final ZipLimits limits;
    private final Map<String, Entry> entries;
    private long inflated;

    private ZipArchive(Path file, MemorySegment data, ZipLimits limits, Map<String, Entry> entries) {
        this.file = file;
        this.data = data;
        this.limits = limits;
        this.entries = Collections.unmodifiableMap(entries);
    }

    /** Parses the archive's directory; {@code data} is the whole file. */
    static ZipArchive read(Path file, MemorySegment data, ZipLimits limits) {
        long size = data.byteSize();
        long eocd = findEocd(file, data);
        long count = u16(data, eocd + 10);
        long cdSize = u32(data, eocd + 12);
        long cdOffset = u32(data, eocd + 16);
        long cdLimit = eocd;
        if (count == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL) {
            long loc = eocd - 20;
            if (loc < 0 || data.get(U32, loc) != ZIP64_LOCATOR_SIG) {
                throw bad(file, "ZIP64 fields without a ZIP64 locator");
            }
            long rec = data.get(U64, loc + 8);
            if (rec < 0 || rec > loc - 56 || data.get(U32, rec) != ZIP64_EOCD_SIG) {
                throw bad(file, "ZIP64 end record offset " + rec + " is invalid");
            }
            count = data.get(U64, rec + 32);
            cdSize = data.get(U64, rec + 40);
            cdOffset = data.get(U64, rec + 48);
            cdLimit = rec;
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > cdLimit || cdSize > cdLimit - cdOffset) {
            throw bad(file, "central directory [" + cdOffset + ", +" + cdSize + ") lies outside the " + size + "-byte file");
        }
        if (count < 0 || count > limits.maxEntries() || count > cdSize / 46) {
            throw bad(file, "central directory claims " + count + " entries in " + cdSize + " bytes");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        long p = cdOffset;
        long end = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (p + 46 > end || data.get(U32, p) != CENTRAL_SIG) {
                throw bad(file, "central directory entry " + i + " is corrupt");
            }
            int flags = u16(data, p + 8);
            int method = u16(data, p + 10);
            int crc = data.get(U32, p + 16);
            long csize = u32(data, p + 20);
            long usize = u32(data, p + 24);
            int nameLen = u16(data, p + 28);
            int extraLen = u16(data, p + 30);
            int commentLen = u16(data, p + 32);
            long local = u32(data, p + 42);
            long next = p + 46 + nameLen + extraLen + commentLen;
            if (next > end) {
                throw bad(file, "central directory entry " + i + " runs past the directory");
            }
            String name = name(file, data, p + 46, nameLen);
            // ZIP64 extended information: the 64-bit values of the fields that read 0xFFFFFFFF, in this order.
            long[] big = zip64(file, data, p + 46 + nameLen, extraLen, name,
                    usize == 0xFFFFFFFFL, csize == 0xFFFFFFFFL, local == 0xFFFFFFFFL);
            usize = usize == 0xFFFFFFFFL ? big[0] : usize;
            csize = csize == 0xFFFFFFFFL ? big[1] : csize;
            local = local == 0xFFFFFFFFL ? big[2] : local;
            if ((flags & 1) != 0) {
                throw bad(file, "entry '" + name + "' is encrypted");
            }
            if (method != STORED && method != DEFLATED) {
                throw bad(file, "entry '" + name + "' uses compression method " + method + " (only stored and deflate are read)");
            }
            if (method == STORED && csize != usize) {
                throw bad(file, "stored entry '" + name + "' has sizes " + csize + " and " + usize);
            }
            long dataOffset = localData(file, data, local, name, nameLen, p + 46, cdOffset);
            if (csize < 0 || usize < 0 || csize > cdOffset - dataOffset) {
                throw bad(file, "entry '" + name + "' data (" + csize + " bytes at " + dataOffset
                        + ") runs past the archive data");
            }
            if (entries.put(name, new Entry(name, method, csize, usize, dataOffset, crc)) != null) {
                throw bad(file, "entry '" + name + "' appears twice");
            }
            p = next;
        }
        return new ZipArchive(file, data, limits, entries);
    }

    Map<String, Entry> entries() {
        return entries;
    }

    /** The bytes of a stored entry, as a slice of the mapping (zero copy). */
    MemorySegment stored(Entry e) {
        return data.asSlice(e.dataOffset(), e.size());
    }

    /** A small entry read onto the heap (inflated if needed), CRC-checked. */
    byte[] readSmall(Entry e, long maxBytes, String what) {
        if (e.size() > maxBytes) {
            throw bad(file, what + " '" + e.name() + "' is " + e.size() + " bytes, more than the " + maxBytes + " allowed");
        }
        byte[] out = new byte[(int) e.size()];
        MemorySegment dst = MemorySegment.ofArray(out);
        if (e.method() == STORED) {
            MemorySegment.copy(stored(e), 0, dst, 0, e.size());
        } else {
            inflate(e, dst);
        }
        CRC32 crc = new CRC32();
        crc.update(out);
        if ((int) crc.getValue() != e.crc()) {
            throw bad(file, "entry '" + e.name() + "' fails its CRC check (corrupted)");
        }
        return out;
    }

    /** A deflated entry inflated into memory from {@code arena}, within the limits; CRC-checked. */
    MemorySegment inflateTo(Entry e, Arena arena) {
        MemorySegment dst = arena.allocate(Math.max(1, e.size()), 64).asSlice(0, e.size());
        inflate(e, dst);
        CRC32 crc = new CRC32();
        for (long done = 0; done < e.size(); done += 1L << 30) {
            crc.update(dst.asSlice(done, Math.min(1L << 30, e.size() - done)).asByteBuffer());
        }
        if ((int) crc.getValue() != e.crc()) {
            throw bad(file, "entry '" + e.name() + "' fails its CRC check (corrupted)");
        }
        return dst;
    }

    /** Checks the zip-bomb limits before a single byte is inflated. */
    void checkInflatable(Entry e) {
        if (e.size() > ZipLimits.RATIO_EXEMPT_BYTES && e.size() / Math.max(1, e.compressedSize()) > limits.maxRatio()) {
            throw bad(file, "entry '" + e.name() + "' would inflate " + e.compressedSize() + " bytes to " + e.size()
                    + " (ratio above " + limits.maxRatio() + "): refusing a possible zip bomb");
        }
        synchronized (this) {
            if (e.size() > limits.maxInflatedBytes() - inflated) {
                throw bad(file, "inflating entry '" + e.name() + "' (" + e.size() + " bytes) would pass the limit of "
                        + limits.maxInflatedBytes() + " inflated bytes per file: refusing a possible zip bomb");
            }
            inflated += e.size();
        }
    }

    private void inflate(Entry e, MemorySegment dst) {
        checkInflatable(e);
        Inflater inf = new Inflater(true);
        try {
            long in = 0;
            long done = 0;
            byte[] probe = new byte[1];
            int idle = 0;
            while (true) {
                if (inf.needsInput()) {
                    if (in == e.compressedSize()) {
                        throw bad(file, "entry '" + e.name() + "' deflate data ends early (" + done + " of "
                                + e.size() + " bytes): corrupted or truncated");
                    }
                    long chunk = Math.min(e.compressedSize() - in, 1 << 30);
                    inf.setInput(data.asSlice(e.dataOffset() + in, chunk).asByteBuffer());
                    in += chunk;
                }
                int n = done < e.size()
                        ? inf.inflate(dst.asSlice(done, Math.min(e.size() - done, 1 << 30)).asByteBuffer())
                        : inf.inflate(probe);
                if (done == e.size() && n > 0) {
                    throw bad(file, "entry '" + e.name() + "' inflates to more than the " + e.size()
                            + " bytes it declares: refusing a possible zip bomb");
                }
                done += n;
                if (inf.finished()) {
                    if (done < e.size()) {
                        throw bad(file, "entry '" + e.name() + "' inflates to " + done + " bytes, fewer than the "
                                + e.size() + " it declares (corrupted)");
                    }
                    return;
                }
                if (inf.needsDictionary()) {
                    throw bad(file, "entry '" + e.name() + "' needs a preset deflate dictionary");
                }
                idle = n == 0 && !inf.needsInput() ? idle + 1 : 0;
                if (idle > 16) {
                    throw bad(file, "entry '" + e.name() + "' deflate data makes no progress (corrupted)");
                }
            }
        } catch (DataFormatException ex) {
            throw bad(file, "entry '" + e.name() + "' has corrupt deflate data: " + ex.getMessage());
        } finally {
            inf.end();
        }
    }

    // ------------------------------------------------------------------ parsing helpers

    private static long findEocd(Path file, MemorySegment data) {
        long size = data.byteSize();
        if (size < 22) {
            throw bad(file, "only " + size + " bytes: too short for a zip archive");
        }
        long stop = Math.max(0, size - 22 - 0xFFFF);
        for (long p = size - 22; p >= stop; p--) {
            if (data.get(U32, p) == EOCD_SIG && p + 22 + u16(data, p + 20) == size) {
                if (u16(data, p + 4) != 0 || u16(data, p + 6) != 0) {
                    throw bad(file, "multi-disk zip archives are not supported");
                }
                return p;
            }
        }
        throw bad(file, "no zip end-of-central-directory record (truncated or not a zip archive)");
    }

    private static long[] zip64(Path file, MemorySegment data, long at, int len, String name,
                                boolean needSize, boolean needCsize, boolean needOffset) {
        long[] out = new long[3];
        if (!needSize && !needCsize && !needOffset) {
            return out;
        }
        long p = at;
        long end = at + len;
        while (p + 4 <= end) {
            int id = u16(data, p);
            int n = u16(data, p + 2);
            if (p + 4 + n > end) {
                break;
            }
            if (id == 1) {
                long q = p + 4;
                long qEnd = q + n;
                boolean[] need = {needSize, needCsize, needOffset};
                for (int i = 0; i < 3; i++) {
                    if (need[i]) {
                        if (q + 8 > qEnd) {
                            throw bad(file, "entry '" + name + "' has a short ZIP64 extra field");
                        }
                        out[i] = data.get(U64, q);
                        q += 8;
                    }
                }
                return out;
            }
            p += 4 + n;
        }
        throw bad(file, "entry '" + name + "' needs a ZIP64 extra field and has none");
    }

    /** Finds where an entry's data starts from its local header, which must repeat the central name. */
    private static long localData(Path file, MemorySegment data, long local, String name, int nameLen,
                                  long centralName, long cdOffset) {
        if (local < 0 || local > cdOffset - 30 || data.get(U32, local) != LOCAL_SIG) {
            throw bad(file, "entry '" + name + "' points to a missing local header at " + local);
        }
        int localNameLen = u16(data, local + 26);
        int localExtraLen = u16(data, local + 28);
        long start = local + 30 + localNameLen + localExtraLen;
        if (localNameLen != nameLen || start > cdOffset
                || data.asSlice(local + 30, nameLen).mismatch(data.asSlice(centralName, nameLen)) != -1) {
            throw bad(file, "entry '" + name + "' local header does not match the central directory");
        }
        return start;
    }

    private static String name(Path file, MemorySegment data, long at, int len) {
        byte[] b = data.asSlice(at, len).toArray(ValueLayout.JAVA_BYTE);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "an entry name is not valid UTF-8");
        }
    }

    private static int u16(MemorySegment data, long at) {
        return data.get(U16, at) & 0xFFFF;
    }

    private static long u32(MemorySegment data, long at) {
        return data.get(U32, at) & 0xFFFFFFFFL;
    }

    static CheckpointException bad(Path file, String problem) {
        return new CheckpointException(file, problem);
    }
}
