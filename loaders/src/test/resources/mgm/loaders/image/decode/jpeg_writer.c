/*
 * Writes JPEG variants PIL cannot write, with libjpeg (the library PIL decodes with), for the
 * decoding fixtures: 4-component YCCK, 3-component RGB (Adobe transform 0) and YCbCr without a
 * JFIF marker, and YCbCr 4:4:0 (chroma halved vertically only). Input: raw interleaved samples (CMYK
 * in the file's polarity, or RGB).
 *   jpeg_writer IN.raw WIDTH HEIGHT OUT.jpg ycck|rgb|nojfif|440
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s IN.raw WIDTH HEIGHT OUT.jpg ycck|rgb|nojfif|440\n", argv[0]);
        return 2;
    }
    int w = atoi(argv[2]), h = atoi(argv[3]);
    const char *kind = argv[5];
    int comps = strcmp(kind, "ycck") == 0 ? 4 : 3;
    size_t n = (size_t)w * h * comps;
    unsigned char *buf = malloc(n);
    FILE *in = fopen(argv[1], "rb");
    if (!in || fread(buf, 1, n, in) != n) {
        fprintf(stderr, "cannot read %zu bytes from %s\n", n, argv[1]);
        return 1;
    }
    fclose(in);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    FILE *out = fopen(argv[4], "wb");
    jpeg_stdio_dest(&c, out);
    c.image_width = w;
    c.image_height = h;
    c.input_components = comps;
    c.in_color_space = comps == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    if (strcmp(kind, "ycck") == 0) {
        jpeg_set_colorspace(&c, JCS_YCCK);
    } else if (strcmp(kind, "rgb") == 0) {
        jpeg_set_colorspace(&c, JCS_RGB);
    } else if (strcmp(kind, "440") == 0) {
        c.comp_info[0].h_samp_factor = 1;
        c.comp_info[0].v_samp_factor = 2;
    } else {
        c.write_JFIF_header = FALSE;
    }
    jpeg_set_quality(&c, 90, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = buf + (size_t)c.next_scanline * w * comps;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    fclose(out);
    jpeg_destroy_compress(&c);
    free(buf);
    return 0;
}
