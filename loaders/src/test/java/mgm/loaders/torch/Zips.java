package mgm.loaders.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** Builds and takes apart zip files with java.util.zip, an independent zip implementation. */
final class Zips {
    private Zips() {}

    /** All entries of a zip, in order. */
    static Map<String, byte[]> read(Path file) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(file.toFile())) {
            for (Enumeration<? extends ZipEntry> en = z.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                out.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** A zip of {@code entries}; names listed in {@code deflated} are compressed, the rest stored. */
    static byte[] write(Map<String, byte[]> entries, java.util.Set<String> deflated) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (deflated.contains(e.getKey())) {
                    ze.setMethod(ZipEntry.DEFLATED);
                } else {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    ze.setCompressedSize(e.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                zip.putNextEntry(ze);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Offset of the end-of-central-directory record (no archive comment). */
    static int eocd(byte[] zip) {
        return zip.length - 22;
    }

    /** Offset of the central directory entry of {@code name}. */
    static int central(byte[] zip, String name) {
        ByteBuffer b = le(zip);
        int p = b.getInt(eocd(zip) + 16);
        int count = b.getShort(eocd(zip) + 10) & 0xFFFF;
        for (int i = 0; i < count; i++) {
            int n = b.getShort(p + 28) & 0xFFFF;
            int m = b.getShort(p + 30) & 0xFFFF;
            int k = b.getShort(p + 32) & 0xFFFF;
            if (new String(zip, p + 46, n, java.nio.charset.StandardCharsets.UTF_8).equals(name)) {
                return p;
            }
            p += 46 + n + m + k;
        }
        throw new IllegalArgumentException(name);
    }

    /**
     * The same archive with a ZIP64 end record and locator, its classic end record saying "see
     * ZIP64" (0xFFFF / 0xFFFFFFFF), as writers do for archives over 4 GiB or 65535 entries.
     */
    static byte[] toZip64(byte[] zip) {
        ByteBuffer b = le(zip);
        int eocd = eocd(zip);
        long count = b.getShort(eocd + 10) & 0xFFFF;
        long cdSize = b.getInt(eocd + 12) & 0xFFFFFFFFL;
        long cdOffset = b.getInt(eocd + 16) & 0xFFFFFFFFL;
        ByteBuffer out = ByteBuffer.allocate(eocd + 56 + 20 + 22).order(ByteOrder.LITTLE_ENDIAN);
        out.put(zip, 0, eocd);
        long rec = out.position();
        out.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(count).putLong(count).putLong(cdSize).putLong(cdOffset);
        out.putInt(0x07064b50).putInt(0).putLong(rec).putInt(1);
        out.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 0xFFFF).putShort((short) 0xFFFF)
                .putInt(0xFFFFFFFF).putInt(0xFFFFFFFF).putShort((short) 0);
        return out.array();
    }
}
