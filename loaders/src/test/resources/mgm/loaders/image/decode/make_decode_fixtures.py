#!/usr/bin/python3
"""Decoding fixtures: small images in every mode/format the decoder handles, with the pixels the
reference gives them: PIL 9.4's Image.open(f).convert('RGB') (what MGM's load_image does).

Run with Debian's /usr/bin/python3 (PIL 9.4, numpy) from this directory:
    /usr/bin/python3 make_decode_fixtures.py
Writes the image files, one NAME.rgb per file (raw interleaved RGB from PIL) and manifest.json.
Variants PIL cannot write (16-bit BMP, RLE BMP, GIF with frame offsets, YCCK JPEG, ...) are
written byte by byte here or by jpeg_writer.c (compiled against libjpeg when gcc is present).
"""
import io
import json
import os
import struct
import subprocess
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = os.path.join(HERE, "..", "photos")
W, H = 29, 21  # odd sizes: partial JPEG blocks, BMP row padding

manifest = {}


def content(name="chelsea.png", box=(150, 60, 330, 190), size=(W, H)):
    return Image.open(os.path.join(PHOTOS, name)).convert("RGB").crop(box).resize(size, Image.BILINEAR)


def record(fname, note, tolerance=0):
    im = Image.open(os.path.join(HERE, fname))
    rgb = im.convert("RGB")
    base = os.path.splitext(fname)[0]
    with open(os.path.join(HERE, base + "." + fname.split(".")[-1] + ".rgb"), "wb") as f:
        f.write(rgb.tobytes())
    manifest[fname] = {"width": rgb.size[0], "height": rgb.size[1], "pil_mode": im.mode,
                       "tolerance": tolerance, "note": note}


def save(im, fname, note, tolerance=0, **kw):
    im.save(os.path.join(HERE, fname), **kw)
    record(fname, note, tolerance)


def write(fname, data, note, tolerance=0):
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(data)
    record(fname, note, tolerance)


# ---------------------------------------------------------------- PNG
def png_chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


def png(w, h, bit_depth, color_type, rows, extra=b""):
    """rows: list of packed row bytes (without filter byte)."""
    raw = b"".join(b"\0" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", zlib.compress(raw))
            + png_chunk(b"IEND", b""))


def pack_bits(values, bits):
    out = bytearray()
    acc = n = 0
    for v in values:
        acc = (acc << bits) | int(v)
        n += bits
        if n == 8:
            out.append(acc)
            acc = n = 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)


rng = np.random.default_rng(2024)
photo = content()
save(photo, "png_rgb8.png", "8-bit RGB")
save(photo.convert("RGBA"), "png_rgba8.png", "RGBA: alpha dropped")
rgba = np.array(photo.convert("RGBA"))
rgba[..., 3] = rng.integers(0, 256, rgba.shape[:2])
save(Image.fromarray(rgba, "RGBA"), "png_rgba8_alpha.png", "RGBA with varying alpha: dropped, not composited")
save(photo.convert("L"), "png_grey8.png", "8-bit grey: R=G=B")
la = np.array(photo.convert("LA"))
la[..., 1] = rng.integers(0, 256, la.shape[:2])
save(Image.fromarray(la, "LA"), "png_la8.png", "grey+alpha: alpha dropped")
save(photo.convert("P", palette=Image.ADAPTIVE, colors=50), "png_p8.png", "8-bit palette")
save(photo.convert("P", palette=Image.ADAPTIVE, colors=50), "png_p8_trns.png", "palette with tRNS", transparency=3)
save(photo.convert("P", palette=Image.ADAPTIVE, colors=16), "png_p4.png", "4-bit palette", bits=4)
save(photo.convert("1"), "png_1bit.png", "1-bit (PIL mode 1)")
save(photo.convert("L"), "png_grey8_trns.png", "grey with tRNS: ignored", transparency=100)
save(photo, "png_rgb8_trns.png", "RGB with tRNS: ignored", transparency=(10, 20, 30))
for bits in (1, 2, 4):
    levels = rng.integers(0, 1 << bits, (H, W))
    rows = [pack_bits(levels[y], bits) for y in range(H)]
    write(f"png_grey{bits}.png", png(W, H, bits, 0, rows), f"{bits}-bit grey: scaled to 0..255")
levels = rng.integers(0, 4, (H, W))
write("png_grey2_trns.png", png(W, H, 2, 0, [pack_bits(levels[y], 2) for y in range(H)],
                                png_chunk(b"tRNS", struct.pack(">H", 1))), "2-bit grey with tRNS")
g16 = rng.integers(0, 65536, (H, W)).astype(np.uint16)
g16[: H // 2] = rng.integers(0, 300, (H // 2, W))  # some values under 256, which PIL keeps
write("png_grey16.png", png(W, H, 16, 0, [g16[y].astype(">u2").tobytes() for y in range(H)]),
      "16-bit grey: PIL opens as mode I and convert('RGB') clips at 255")
write("png_grey16_trns.png", png(W, H, 16, 0, [g16[y].astype(">u2").tobytes() for y in range(H)],
                                 png_chunk(b"tRNS", struct.pack(">H", 200))), "16-bit grey with tRNS: clipped too")
for name, ct, ch in (("rgb16", 2, 3), ("rgba16", 6, 4), ("la16", 4, 2)):
    v = rng.integers(0, 65536, (H, W, ch)).astype(np.uint16)
    write(f"png_{name}.png", png(W, H, 16, ct, [v[y].astype(">u2").tobytes() for y in range(H)]),
          f"16-bit {name[:-2].upper()}: high byte")
# Palette with 4 entries, indices up to 15: Pillow maps the missing entries to grey (k, k, k).
idx = rng.integers(0, 16, (H, W))
plte = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 200, 50])
write("png_p4_short_plte.png", png(W, H, 4, 3, [pack_bits(idx[y], 4) for y in range(H)], png_chunk(b"PLTE", plte)),
      "4-bit palette with 4 PLTE entries and indices up to 15")
# Adam7 interlaced RGB, written by hand (PIL's writer does not interlace).
arr = np.array(photo)
passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
raw = b""
for x0, y0, dx, dy in passes:
    sub = arr[y0::dy, x0::dx]
    if sub.size:
        raw += b"".join(b"\0" + sub[y].tobytes() for y in range(sub.shape[0]))
ihdr = struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 1)
write("png_interlaced.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw))
      + png_chunk(b"IEND", b""), "Adam7 interlaced RGB")
icc = Image.open(os.path.join(PHOTOS, "rocket.jpg")).info["icc_profile"]
save(photo, "png_iccp.png", "RGB with an ICC profile: ignored, as PIL does", icc_profile=icc)
gama = png_chunk(b"gAMA", struct.pack(">I", 100000))
write("png_gama.png", png(W, H, 8, 2, [arr[y].tobytes() for y in range(H)], gama), "RGB with gAMA 1.0: ignored")

# ---------------------------------------------------------------- JPEG
save(photo, "jpeg_420.jpg", "YCbCr 4:2:0", quality=90, subsampling=2)
save(photo, "jpeg_422.jpg", "YCbCr 4:2:2", quality=90, subsampling=1)
save(photo, "jpeg_444.jpg", "YCbCr 4:4:4", quality=90, subsampling=0)
save(photo, "jpeg_progressive.jpg", "progressive", quality=85, progressive=True)
save(photo, "jpeg_restart.jpg", "restart markers", quality=85, restart_marker_blocks=1)
save(photo.convert("L"), "jpeg_grey.jpg", "grey", quality=90)
save(photo, "jpeg_icc.jpg", "with an ICC profile: ignored, as PIL does", quality=90, icc_profile=icc)
cmyk = np.array(photo.convert("CMYK"))
cmyk[..., 3] = np.linspace(0, 200, W, dtype=np.uint8)[None, :]
save(Image.fromarray(cmyk, "CMYK"), "jpeg_cmyk.jpg", "CMYK (Adobe, inverted as Photoshop writes it)", quality=95)
exif = Image.Exif()
exif[0x0112] = 6  # orientation: rotate 90 (neither PIL's open nor MGM applies it)
save(photo, "jpeg_exif_rotated.jpg", "EXIF orientation 6: not applied", quality=90, exif=exif.tobytes())

tool = os.path.join("/tmp", "mgm_jpeg_writer")
if subprocess.call(["gcc", "-O1", "-o", tool, os.path.join(HERE, "jpeg_writer.c"), "-ljpeg"]) == 0:
    tmp = os.path.join("/tmp", "mgm_jpeg_in.raw")
    (255 - cmyk).tofile(tmp)  # stored polarity: Adobe-inverted
    subprocess.check_call([tool, tmp, str(W), str(H), os.path.join(HERE, "jpeg_ycck.jpg"), "ycck"])
    record("jpeg_ycck.jpg", "YCCK (Adobe transform 2), written by libjpeg")
    arr.tofile(tmp)
    subprocess.check_call([tool, tmp, str(W), str(H), os.path.join(HERE, "jpeg_adobe_rgb.jpg"), "rgb"])
    record("jpeg_adobe_rgb.jpg", "RGB components (Adobe transform 0), written by libjpeg")
    subprocess.check_call([tool, tmp, str(W), str(H), os.path.join(HERE, "jpeg_no_jfif.jpg"), "nojfif"])
    record("jpeg_no_jfif.jpg", "YCbCr without a JFIF marker (component ids 1,2,3), written by libjpeg")
    # The same file with its Adobe marker moved after the frame header: libjpeg still honours it.
    segs, pos = [], 2
    d = open(os.path.join(HERE, "jpeg_adobe_rgb.jpg"), "rb").read()
    while d[pos + 1] != 0xDA:
        n = struct.unpack(">H", d[pos + 2:pos + 4])[0]
        segs.append(d[pos:pos + 2 + n])
        pos += 2 + n
    adobe = [x for x in segs if x[1] == 0xEE]
    # Component ids 1, 2, 3 (instead of 'R', 'G', 'B'), so that only the Adobe marker says RGB.
    rest = [x[:10] + b"\x01" + x[11:13] + b"\x02" + x[14:16] + b"\x03" + x[17:] if x[1] == 0xC0 else x
            for x in segs if x[1] != 0xEE]
    sos = d[pos:pos + 5] + b"\x01" + d[pos + 6:pos + 7] + b"\x02" + d[pos + 8:pos + 9] + b"\x03" + d[pos + 10:]
    write("jpeg_adobe_after_sof.jpg", d[:2] + b"".join(rest) + b"".join(adobe) + sos,
          "RGB components with ids 1,2,3, Adobe marker (transform 0) after the SOF")
    subprocess.check_call([tool, tmp, str(W), str(H), os.path.join(HERE, "jpeg_440.jpg"), "440"])
    record("jpeg_440.jpg", "YCbCr 4:4:0 (chroma halved vertically), written by libjpeg")
else:
    print("gcc/libjpeg not available: keeping the committed libjpeg-written JPEGs")
    for f, note in (("jpeg_ycck.jpg", "YCCK (Adobe transform 2), written by libjpeg"),
                    ("jpeg_adobe_rgb.jpg", "RGB components (Adobe transform 0), written by libjpeg"),
                    ("jpeg_no_jfif.jpg", "YCbCr without a JFIF marker (component ids 1,2,3), written by libjpeg"),
                    ("jpeg_440.jpg", "YCbCr 4:4:0 (chroma halved vertically), written by libjpeg")):
        record(f, note)


# Pillow's CMYK -> RGB for every (ink, black) pair: cmyk_to_rgb.bin[k * 256 + ink] = R of CMYK (ink, 0, 0, k).
ink, black = np.meshgrid(np.arange(256), np.arange(256))
grid = np.zeros((256, 256, 4), dtype=np.uint8)
grid[..., 0] = ink
grid[..., 3] = black
np.array(Image.fromarray(grid, "CMYK").convert("RGB"))[..., 0].tofile(os.path.join(HERE, "cmyk_to_rgb.bin"))

# ---------------------------------------------------------------- GIF
def lzw_literals(indices, min_code_size):
    """LZW data that only uses literal codes, with a clear code often enough that the code width
    never grows: valid GIF data any decoder reads."""
    clear, eoi = 1 << min_code_size, (1 << min_code_size) + 1
    width = min_code_size + 1
    codes = [clear]
    run = 0
    for v in indices:
        if run == (1 << min_code_size) - 2:
            codes.append(clear)
            run = 0
        codes.append(int(v))
        run += 1
    codes.append(eoi)
    acc = nbits = 0
    out = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += width
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc)
    blocks = b"".join(bytes([len(out[i:i + 255])]) + bytes(out[i:i + 255]) for i in range(0, len(out), 255))
    return bytes([min_code_size]) + blocks + b"\0"


def gif(screen, frames, global_palette=None, background=0):
    """frames: list of dicts(x, y, idx (HxW array), local_palette, transparency, interlace, code_size)."""
    sw, sh = screen
    flags = 0
    gct = b""
    if global_palette is not None:
        n = len(global_palette) // 3
        bits = max(1, (n - 1).bit_length())
        flags = 0x80 | (bits - 1) | ((bits - 1) << 4)
        gct = global_palette + bytes(3 * (1 << bits) - len(global_palette))
    out = b"GIF89a" + struct.pack("<HHBBB", sw, sh, flags, background, 0) + gct
    for fr in frames:
        idx = fr["idx"]
        fh, fw = idx.shape
        if fr.get("transparency") is not None:
            out += b"\x21\xf9\x04" + struct.pack("<BHB", 1, 10, fr["transparency"]) + b"\0"
        iflags = 0
        lct = b""
        if fr.get("local_palette") is not None:
            n = len(fr["local_palette"]) // 3
            bits = max(1, (n - 1).bit_length())
            iflags = 0x80 | (bits - 1)
            lct = fr["local_palette"] + bytes(3 * (1 << bits) - len(fr["local_palette"]))
        rows = list(range(fh))
        if fr.get("interlace"):
            iflags |= 0x40
            rows = list(range(0, fh, 8)) + list(range(4, fh, 8)) + list(range(2, fh, 4)) + list(range(1, fh, 2))
        out += b"\x2c" + struct.pack("<HHHHB", fr["x"], fr["y"], fw, fh, iflags) + lct
        out += lzw_literals(np.concatenate([idx[r] for r in rows]), fr.get("code_size", 8))
    return out + b"\x3b"


save(photo.convert("P", palette=Image.ADAPTIVE, colors=64), "gif_basic.gif", "palette GIF written by PIL")
frames = [photo.convert("P", palette=Image.ADAPTIVE, colors=32), photo.rotate(90).convert("P", palette=Image.ADAPTIVE)]
frames[0].save(os.path.join(HERE, "gif_animated.gif"), save_all=True, append_images=frames[1:], duration=100)
record("gif_animated.gif", "animated: first frame only")
pal8 = bytes(rng.integers(0, 256, 24, dtype=np.uint8))
small = rng.integers(0, 16, (9, 13))  # indices up to 15 with an 8-entry palette
write("gif_offset_trns.gif", gif((W, H), [dict(x=5, y=4, idx=small, transparency=6, code_size=4)], pal8),
      "frame smaller than the screen at (5,4), transparent index 6 fills the rest; indices past the palette are grey")
write("gif_offset_no_trns.gif", gif((W, H), [dict(x=3, y=2, idx=small, code_size=4)], pal8, background=2),
      "frame smaller than the screen, no transparency: index 0 fills the rest (not the background)")
write("gif_frame_beyond_screen.gif", gif((10, 8), [dict(x=4, y=3, idx=small, code_size=4)], pal8),
      "frame extends past the logical screen: the canvas grows")
local = bytes(rng.integers(0, 256, 48, dtype=np.uint8))
idx16 = rng.integers(0, 16, (H, W))
write("gif_local_palette.gif", gif((W, H), [dict(x=0, y=0, idx=idx16, local_palette=local, code_size=4)], pal8),
      "local colour table overrides the global one")
write("gif_interlaced.gif", gif((W, H), [dict(x=0, y=0, idx=idx16, local_palette=local, interlace=True, code_size=4)]),
      "interlaced rows")
write("gif_no_palette.gif", gif((W, H), [dict(x=0, y=0, idx=rng.integers(0, 256, (H, W)), code_size=8)]),
      "no colour table: indices are grey levels")


# ---------------------------------------------------------------- BMP
def bmp(w, h, bits, pixel_rows, palette=None, compression=0, header=40, masks=None, top_down=False, data=None):
    """pixel_rows: list (top row first) of packed row bytes; data: pre-encoded (RLE) pixel bytes."""
    if data is None:
        stride = ((w * bits + 31) // 32) * 4
        rows = pixel_rows if top_down else list(reversed(pixel_rows))
        data = b"".join(r + bytes(stride - len(r)) for r in rows)
    pal = b""
    if palette is not None:
        n = len(palette) // 3
        for i in range(n):
            r, g, b_ = palette[3 * i:3 * i + 3]
            pal += bytes([b_, g, r]) + (b"" if header == 12 else b"\0")
    if header == 12:
        info = struct.pack("<IHHHH", 12, w, h, 1, bits)
    else:
        info = struct.pack("<IiiHHIIiiII", header, w, -h if top_down else h, 1, bits, compression, len(data),
                           2835, 2835, (len(palette) // 3) if palette else 0, 0)
        if header > 40:
            m = list(masks or (0, 0, 0, 0)) + [0] * 4
            info += struct.pack("<IIII", *m[:4]) + bytes(header - 56)
        elif masks is not None:
            info += struct.pack("<III", *masks[:3])
    off = 14 + len(info) + len(pal)
    return b"BM" + struct.pack("<IHHI", off + len(data), 0, 0, off) + info + pal + data


save(photo, "bmp_24.bmp", "24-bit")
save(photo.convert("RGBA"), "bmp_32.bmp", "32-bit written by PIL (alpha ignored)")
save(photo.convert("P", palette=Image.ADAPTIVE, colors=100), "bmp_p8.bmp", "8-bit palette")
save(photo.convert("L"), "bmp_grey.bmp", "8-bit grey palette")
save(photo.convert("1"), "bmp_1bit.bmp", "1-bit")
pal16 = bytes(rng.integers(0, 256, 48, dtype=np.uint8))
idx4 = rng.integers(0, 16, (H, W))
write("bmp_p4.bmp", bmp(W, H, 4, [pack_bits(idx4[y], 4) for y in range(H)], pal16), "4-bit palette")
pal5 = bytes(rng.integers(0, 256, 15, dtype=np.uint8))
write("bmp_p4_short_palette.bmp", bmp(W, H, 4, [pack_bits(idx4[y], 4) for y in range(H)], pal5),
      "4-bit pixels, 5 palette colours: indices past them are grey")
write("bmp_p4_os2.bmp", bmp(W, H, 4, [pack_bits(idx4[y], 4) for y in range(H)], pal16, header=12),
      "OS/2 12-byte header, 3-byte palette entries")
v16 = rng.integers(0, 65536, (H, W)).astype("<u2")
write("bmp_555.bmp", bmp(W, H, 16, [v16[y].tobytes() for y in range(H)]), "16-bit 5-5-5")
write("bmp_565.bmp", bmp(W, H, 16, [v16[y].tobytes() for y in range(H)], compression=3, masks=(0xF800, 0x7E0, 0x1F)),
      "16-bit 5-6-5 bit fields")
bgrx = np.concatenate([arr[..., ::-1], rng.integers(0, 256, (H, W, 1), dtype=np.uint8)], axis=2)
write("bmp_top_down.bmp", bmp(W, H, 32, [bgrx[y].tobytes() for y in range(H)], top_down=True),
      "negative height (rows top-down), 32-bit BGRX")
write("bmp_v5_bgra.bmp", bmp(W, H, 32, [bgrx[y].tobytes() for y in range(H)], compression=3, header=124,
                             masks=(0xFF0000, 0xFF00, 0xFF, 0xFF000000)), "124-byte header, BGRA bit fields")


def rle8(idx):
    out = b""
    for y in range(idx.shape[0] - 1, -1, -1):  # bottom-up
        row = idx[y]
        x = 0
        while x < len(row):
            n = 1
            while x + n < len(row) and row[x + n] == row[x] and n < 255:
                n += 1
            out += bytes([n, row[x]])
            x += n
        out += b"\0\0"
    return out + b"\0\1"


def rle4(idx):
    out = b""
    for y in range(idx.shape[0] - 1, -1, -1):
        row = idx[y]
        x = 0
        while x < len(row):
            n = min(2, len(row) - x)  # runs of one or two alternating pixels
            a, b_ = row[x], row[x + 1] if n == 2 else 0
            out += bytes([n, (a << 4) | b_])
            x += n
        out += b"\0\0"
    return out + b"\0\1"


blocky = np.repeat(rng.integers(0, 50, (H, (W + 3) // 4)), 4, axis=1)[:, :W]
pal50 = bytes(rng.integers(0, 256, 150, dtype=np.uint8))
write("bmp_rle8.bmp", bmp(W, H, 8, None, pal50, compression=1, data=rle8(blocky)), "RLE8 compressed")
write("bmp_rle4.bmp", bmp(W, H, 4, None, pal16, compression=2, data=rle4(idx4)), "RLE4 compressed")

# ---------------------------------------------------------------- WebP
save(photo, "webp_lossless.webp", "lossless", lossless=True)
save(Image.fromarray(rgba, "RGBA"), "webp_lossless_alpha.webp", "lossless with alpha: dropped", lossless=True)
# Lossy: the Java decoder differs from libwebp (no fancy chroma upsampling); tolerance measured, see README.
photo.save(os.path.join(HERE, "webp_animated.webp"), save_all=True, append_images=[photo.rotate(180)], duration=100,
           lossless=True)
record("webp_animated.webp", "animated (lossless frames): first frame")
save(photo, "webp_lossy.webp", "lossy (VP8)", tolerance=-1, quality=80)
save(Image.fromarray(rgba, "RGBA"), "webp_lossy_alpha.webp", "lossy with alpha (VP8X + ALPH)", tolerance=-1, quality=80)

with open(os.path.join(HERE, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=1, sort_keys=True)
print(len(manifest), "fixtures")
