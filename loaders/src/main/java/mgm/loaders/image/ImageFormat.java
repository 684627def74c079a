package mgm.loaders.image;

/** The image formats {@link ImageDecoder} reads, recognised by their leading bytes. */
public enum ImageFormat {
    PNG("png"),
    JPEG("jpeg"),
    GIF("gif"),
    BMP("bmp"),
    WEBP("webp");

    private final String imageIoName;

    ImageFormat(String imageIoName) {
        this.imageIoName = imageIoName;
    }

    /** The ImageIO format name whose readers decode this format. */
    String imageIoName() {
        return imageIoName;
    }

    /** The format whose signature {@code head} starts with, or null if none matches. */
    public static ImageFormat detect(byte[] head) {
        if (startsWith(head, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return PNG;
        }
        if (startsWith(head, 0, 0xFF, 0xD8, 0xFF)) {
            return JPEG;
        }
        if (startsWith(head, 0, 'G', 'I', 'F', '8', '7', 'a') || startsWith(head, 0, 'G', 'I', 'F', '8', '9', 'a')) {
            return GIF;
        }
        if (startsWith(head, 0, 'B', 'M')) {
            return BMP;
        }
        if (startsWith(head, 0, 'R', 'I', 'F', 'F') && startsWith(head, 8, 'W', 'E', 'B', 'P')) {
            return WEBP;
        }
        return null;
    }

    private static boolean startsWith(byte[] data, int at, int... expected) {
        if (data.length < at + expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if ((data[at + i] & 0xFF) != expected[i]) {
                return false;
            }
        }
        return true;
    }
}
