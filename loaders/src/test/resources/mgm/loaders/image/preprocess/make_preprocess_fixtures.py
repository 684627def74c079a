#!/usr/bin/python3
"""Preprocessing fixtures from the reference pipeline, re-run step by step with PIL 9.4, numpy and
torch 1.13 exactly as MGM + HF transformers do them:

  mgm/mm_utils.py expand2square(img, tuple(int(x*255) for x in image_mean))
  transformers CLIPImageProcessor.preprocess with size = crop_size = image_size_aux:
      resize: get_resize_output_image_size(shortest edge) then PIL.Image.resize(BICUBIC) on uint8
      center_crop, rescale (uint8 * 1/255 in float64, then float32), normalize ((x - mean) / std, float32)
  mgm/serve/cli.py: F.interpolate(bilinear, align_corners=False) to 336 * image_grid; for HD the
      2x2 row-major crops + F.interpolate of the 672 image to 336, appended last.

Run from this directory:  /usr/bin/python3 make_preprocess_fixtures.py [--full DIR]
Writes fixtures.json (hashes, sums, synthetic resize outputs) and small .f32 sample grids
(little-endian float32). With --full DIR it also writes the full tensors there (not committed) so
that PreprocessFullReferenceTest can report the max difference over every element.
"""
import base64
import hashlib
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = os.path.join(HERE, "..", "photos")
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
CROP = 336
FULL = sys.argv[sys.argv.index("--full") + 1] if "--full" in sys.argv else None
if FULL:
    os.makedirs(FULL, exist_ok=True)


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def expand2square(pil_img, background_color):  # mgm/mm_utils.py
    width, height = pil_img.size
    if width == height:
        return pil_img
    elif width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    else:
        result = Image.new(pil_img.mode, (height, height), background_color)
        result.paste(pil_img, ((height - width) // 2, 0))
        return result


def resize_output_size(h, w, size):  # transformers get_resize_output_image_size(default_to_square=False)
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)


def center_crop(image, size):  # transformers image_transforms.center_crop on HWC
    orig_h, orig_w = image.shape[:2]
    ch, cw = size
    top, left = (orig_h - ch) // 2, (orig_w - cw) // 2
    bottom, right = top + ch, left + cw
    if top >= 0 and bottom <= orig_h and left >= 0 and right <= orig_w:
        return image[top:bottom, left:right]
    new_h, new_w = max(ch, orig_h), max(cw, orig_w)
    new = np.zeros((new_h, new_w) + image.shape[2:], dtype=image.dtype)
    tp, lp = (new_h - orig_h) // 2, (new_w - orig_w) // 2
    new[tp:tp + orig_h, lp:lp + orig_w] = image
    top, bottom, left, right = top + tp, bottom + tp, left + lp, right + lp
    return new[max(0, top):min(new_h, bottom), max(0, left):min(new_w, right)]


def clip_preprocess(img, size):
    """CLIPImageProcessor.preprocess(img) with size/crop = size: (uint8 HWC after crop, float32 CHW)."""
    arr = np.array(img.convert("RGB"))
    oh, ow = resize_output_size(arr.shape[0], arr.shape[1], size)
    resized = np.array(Image.fromarray(arr).resize((ow, oh), resample=Image.BICUBIC, reducing_gap=None))
    cropped = center_crop(resized, (size, size))
    x = (cropped * (1 / 255)).astype(np.float32)
    x = (x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
    return cropped, np.ascontiguousarray(x.transpose(2, 0, 1))


def low_res(hr, grid, use_global):
    t = torch.from_numpy(hr)[None]
    lr = F.interpolate(t, size=[CROP * grid, CROP * grid], mode="bilinear", align_corners=False)
    if grid < 2:
        return lr.numpy()
    raw = lr.reshape(3, grid, CROP, grid, CROP).permute(1, 3, 0, 2, 4).reshape(-1, 3, CROP, CROP)
    if use_global:
        g = F.interpolate(lr, size=[CROP, CROP], mode="bilinear", align_corners=False)
        raw = torch.cat([raw, g], dim=0)
    return raw.contiguous().numpy()


def sample(t, stride, offset, name):
    """t[..., offset::stride, offset::stride] saved as float32 little-endian; returns its description."""
    s = np.ascontiguousarray(t[..., offset::stride, offset::stride]).astype("<f4")
    s.tofile(os.path.join(HERE, name))
    return {"file": name, "stride": stride, "offset": offset, "shape": list(s.shape)}


def sums(t):
    """float64 sum per leading index and channel, flattened."""
    return [float(x) for x in t.astype(np.float64).reshape(-1, t.shape[-3], t.shape[-2] * t.shape[-1]).sum(-1).ravel()]


CASES = [
    # name, photo, crop box (None = whole), image_size_aux, grid, global, aspect
    ("chelsea_768", "chelsea.png", None, 768, 1, False, "pad"),
    ("coffee_768", "coffee.png", None, 768, 1, False, "pad"),
    ("astronaut_768", "astronaut.png", None, 768, 1, False, "pad"),
    ("rocket_768", "rocket.jpg", None, 768, 1, False, "pad"),
    ("chelsea_portrait_768", "chelsea.png", (120, 0, 321, 300), 768, 1, False, "pad"),
    ("chelsea_portrait_768_crop", "chelsea.png", (120, 0, 321, 300), 768, 1, False, "resize_and_crop"),
    ("coffee_768_crop", "coffee.png", None, 768, 1, False, "resize_and_crop"),
    ("chelsea_1536_hd", "chelsea.png", None, 1536, 2, True, "pad"),
    ("astronaut_1536_hd", "astronaut.png", None, 1536, 2, True, "pad"),
]

fixtures = {"mean": MEAN, "std": STD, "crop_size": CROP, "cases": {}, "resize": {}}

v = np.arange(256, dtype=np.uint8)[:, None]
lut = ((v * (1 / 255)).astype(np.float32) - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)
lut.T.astype("<f4").tofile(os.path.join(HERE, "normalise_lut.f32"))  # [3, 256]
fixtures["normalise_lut"] = "normalise_lut.f32"
fixtures["pad_colour"] = [int(x * 255) for x in MEAN]

for name, photo, box, size, grid, use_global, aspect in CASES:
    img = Image.open(os.path.join(PHOTOS, photo)).convert("RGB")  # mgm/serve/cli.py load_image
    decoded_sha = sha(np.array(img))
    if box is not None:
        img = img.crop(box)
    entry = {"photo": photo, "box": box, "image_size_aux": size, "image_grid": grid, "image_global": use_global,
             "aspect": aspect, "decoded_sha256": decoded_sha}
    if aspect == "pad":
        padded = expand2square(img, tuple(int(x * 255) for x in MEAN))
        entry["padded_size"] = list(padded.size)
        entry["padded_sha256"] = sha(np.array(padded))
        src = padded
    else:
        src = img
    cropped, hr = clip_preprocess(src, size)
    entry["pixels_sha256"] = sha(cropped)
    entry["hr_shape"] = list(hr.shape)
    entry["hr_sums"] = sums(hr)
    entry["hr_sample"] = sample(hr, 24, 5, name + "_hr.f32")
    lr = low_res(hr, grid, use_global)
    entry["lr_shape"] = list(lr.shape)
    entry["lr_sums"] = sums(lr)
    entry["lr_sample"] = sample(lr, 8 if grid == 1 else 16, 3, name + "_lr.f32")
    if FULL:
        hr.astype("<f4").tofile(os.path.join(FULL, name + "_hr.f32"))
        lr.astype("<f4").tofile(os.path.join(FULL, name + "_lr.f32"))
        cropped.tofile(os.path.join(FULL, name + "_pixels.rgb"))
    fixtures["cases"][name] = entry
    print(name, "hr", hr.shape, "lr", lr.shape)


# ---------------------------------------------------------------- synthetic resizes
def xorshift_image(w, h, seed):
    """Bytes from xorshift32 (x ^= x << 13; x ^= x >> 17; x ^= x << 5; byte = x >> 24), row-major RGB;
    the Java test generates the same."""
    out = np.empty(w * h * 3, dtype=np.uint8)
    x = seed & 0xFFFFFFFF
    for i in range(out.size):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x >> 24
    return out.reshape(h, w, 3)


def gradient_image(w, h):
    """R = x * 255 // (w - 1), G = y * 255 // (h - 1), B = (x + y) % 256 (integers, same in Java)."""
    xs = np.arange(w)[None, :].repeat(h, 0)
    ys = np.arange(h)[:, None].repeat(w, 1)
    r = xs * 255 // max(w - 1, 1)
    g = ys * 255 // max(h - 1, 1)
    b = (xs + ys) % 256
    return np.stack([r, g, b], -1).astype(np.uint8)


RESIZES = [
    # name, kind, seed, src w, src h, dst w, dst h
    ("noise_upscale", "noise", 1, 37, 23, 768, 768),
    ("noise_downscale", "noise", 2, 1000, 700, 333, 517),
    ("noise_mixed", "noise", 3, 300, 20, 50, 200),
    ("noise_1x9_to_5x3", "noise", 4, 1, 9, 5, 3),
    ("noise_9x1_to_1x1", "noise", 5, 9, 1, 1, 1),
    ("noise_1x1_to_7x7", "noise", 6, 1, 1, 7, 7),
    ("noise_1x40_to_1x13", "noise", 7, 1, 40, 1, 13),
    ("noise_width_only", "noise", 8, 64, 48, 100, 48),
    ("noise_height_only", "noise", 9, 64, 48, 64, 17),
    ("noise_same_size", "noise", 10, 31, 17, 31, 17),
    ("gradient_up", "gradient", 0, 640, 480, 768, 576),
    ("gradient_down_big_factor", "gradient", 0, 1500, 1100, 37, 29),
]
for name, kind, seed, sw, sh, dw, dh in RESIZES:
    src = xorshift_image(sw, sh, seed) if kind == "noise" else gradient_image(sw, sh)
    out = np.array(Image.fromarray(src).resize((dw, dh), resample=Image.BICUBIC, reducing_gap=None))
    entry = {"kind": kind, "seed": seed, "src": [sw, sh], "dst": [dw, dh], "sha256": sha(out),
             "input_sha256": sha(src)}
    if out.size <= 4096:
        entry["pixels_base64"] = base64.b64encode(out.tobytes()).decode()
    fixtures["resize"][name] = entry
    print(name, src.shape, "->", out.shape)

with open(os.path.join(HERE, "fixtures.json"), "w") as f:
    json.dump(fixtures, f, indent=1)
