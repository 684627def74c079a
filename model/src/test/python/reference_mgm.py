#!/usr/bin/python3
"""Independent PyTorch reference of the whole MGM pipeline, stage by stage, written from the MGM
repository's semantics (mm_utils.process_images, clip_encoder, openclip_encoder, mgm_arch
unified_resampler / encode_images, prepare_inputs_labels_for_multimodal) and HF / timm math.
Not derived from our Java code.

Towers and mining run in float32 (torch 1.13 on the CPU has no fp16 convolutions); the decoder
runs in the checkpoint's dtype as reference_decoder does.

  /usr/bin/python3 reference_mgm.py --root ROOT --model work_dirs/MGM/MGM-tiny-vicuna \
      --image chelsea.png --ids 1,319,-200,13,1724 --out DIR

writes DIR/{hr,lr,clip,convnext,mined,projected,logits}.npy (+ greedy.json with --greedy N).
"""
import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import reference_decoder as dec
import st_io

IMAGE_TOKEN = -200


# ----------------------------------------------------------------------------- preprocessing

def expand2square(img, bg):
    w, h = img.size
    if w == h:
        return img
    if w > h:
        out = Image.new(img.mode, (w, w), bg)
        out.paste(img, (0, (w - h) // 2))
        return out
    out = Image.new(img.mode, (h, h), bg)
    out.paste(img, ((h - w) // 2, 0))
    return out


def clip_preprocess(img, size, mean, std):
    """HF CLIPImageProcessor with size/crop overridden to `size`: PIL bicubic shortest edge,
    centre crop, rescale (float64 * 1/255 -> float32), normalise in float32. CHW."""
    w, h = img.size
    if w <= h:
        nw, nh = size, int(size * h / w)
    else:
        nw, nh = int(size * w / h), size
    img = img.resize((nw, nh), resample=Image.BICUBIC)
    left, top = (nw - size) // 2, (nh - size) // 2
    img = img.crop((left, top, left + size, top + size))
    a = (np.asarray(img).astype(np.float64) * (1 / 255)).astype(np.float32)
    a = (a - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


def preprocess(path, cfg, mean, std):
    img = Image.open(path).convert("RGB")
    if cfg.get("image_aspect_ratio", "pad") == "pad":
        img = expand2square(img, tuple(int(x * 255) for x in mean))
    hr = clip_preprocess(img, cfg["image_size_aux"], mean, std)[None]
    grid = cfg.get("image_grid", 1)
    lr = F.interpolate(hr, size=[336 * grid, 336 * grid], mode="bilinear", align_corners=False)
    if grid > 1:
        crops = lr.reshape(3, grid, 336, grid, 336).permute(1, 3, 0, 2, 4).reshape(-1, 3, 336, 336)
        images = [crops]
        if cfg.get("image_global", False):
            images.append(F.interpolate(lr, size=[336, 336], mode="bilinear", align_corners=False))
        lr = torch.cat(images, dim=0)
    return hr, lr


# ----------------------------------------------------------------------------- CLIP (HF CLIPVisionModel)

def clip_forward(t, vcfg, images, select_layer, select_feature, prefix):
    d = vcfg["hidden_size"]
    heads = vcfg["num_attention_heads"]
    eps = vcfg.get("layer_norm_eps", 1e-5)
    act = vcfg.get("hidden_act", "quick_gelu")
    p = prefix
    g = lambda name: t[p + name].float()
    x = F.conv2d(images, g("embeddings.patch_embedding.weight"), stride=vcfg["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    cls = g("embeddings.class_embedding").expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + g("embeddings.position_embedding.weight")[None]
    x = F.layer_norm(x, (d,), g("pre_layrnorm.weight"), g("pre_layrnorm.bias"), eps)
    hidden = [x]
    hd = d // heads
    n, s, _ = x.shape
    for i in range(vcfg["num_hidden_layers"]):
        q = "encoder.layers.%d." % i
        r = x
        h = F.layer_norm(x, (d,), g(q + "layer_norm1.weight"), g(q + "layer_norm1.bias"), eps)
        qs = F.linear(h, g(q + "self_attn.q_proj.weight"), g(q + "self_attn.q_proj.bias")) * hd ** -0.5
        ks = F.linear(h, g(q + "self_attn.k_proj.weight"), g(q + "self_attn.k_proj.bias"))
        vs = F.linear(h, g(q + "self_attn.v_proj.weight"), g(q + "self_attn.v_proj.bias"))
        qs, ks, vs = [z.view(n, s, heads, hd).transpose(1, 2) for z in (qs, ks, vs)]
        a = torch.softmax(qs @ ks.transpose(-1, -2), dim=-1) @ vs
        a = a.transpose(1, 2).reshape(n, s, d)
        x = r + F.linear(a, g(q + "self_attn.out_proj.weight"), g(q + "self_attn.out_proj.bias"))
        r = x
        h = F.layer_norm(x, (d,), g(q + "layer_norm2.weight"), g(q + "layer_norm2.bias"), eps)
        h = F.linear(h, g(q + "mlp.fc1.weight"), g(q + "mlp.fc1.bias"))
        h = h * torch.sigmoid(1.702 * h) if act == "quick_gelu" else F.gelu(h)
        x = r + F.linear(h, g(q + "mlp.fc2.weight"), g(q + "mlp.fc2.bias"))
        hidden.append(x)
    feats = hidden[select_layer]
    return feats[:, 1:] if select_feature == "patch" else feats


# ----------------------------------------------------------------------------- ConvNeXt (timm)

def ln2d(x, w, b):
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), w, b, 1e-6).permute(0, 3, 1, 2)


def convnext_forward(t, image, stem, stages):
    g = lambda name: t[name].float()
    x = F.conv2d(image, g(stem + "0.weight"), g(stem + "0.bias"), stride=g(stem + "0.weight").shape[-1])
    x = ln2d(x, g(stem + "1.weight"), g(stem + "1.bias"))
    outs = []
    s = 0
    while (stages + "%d.blocks.0.conv_dw.weight" % s) in t:
        p = stages + "%d." % s
        if (p + "downsample.1.weight") in t:
            x = ln2d(x, g(p + "downsample.0.weight"), g(p + "downsample.0.bias"))
            x = F.conv2d(x, g(p + "downsample.1.weight"), g(p + "downsample.1.bias"), stride=2)
        b = 0
        while (p + "blocks.%d.conv_dw.weight" % b) in t:
            q = p + "blocks.%d." % b
            c = x.shape[1]
            k = g(q + "conv_dw.weight").shape[-1]
            y = F.conv2d(x, g(q + "conv_dw.weight"), g(q + "conv_dw.bias"), padding=k // 2, groups=c)
            y = y.permute(0, 2, 3, 1)
            y = F.layer_norm(y, (c,), g(q + "norm.weight"), g(q + "norm.bias"), 1e-6)
            y = F.linear(F.gelu(F.linear(y, g(q + "mlp.fc1.weight"), g(q + "mlp.fc1.bias"))),
                         g(q + "mlp.fc2.weight"), g(q + "mlp.fc2.bias"))
            y = y.permute(0, 3, 1, 2) * g(q + "gamma").reshape(1, -1, 1, 1)
            x = x + y
            b += 1
        outs.append(x)
        s += 1
    size = outs[0].shape[-2:]
    maps = [outs[0]] + [F.interpolate(o.float(), size=size, mode="bilinear", align_corners=False) for o in outs[1:]]
    return torch.cat(maps, dim=1)


# ----------------------------------------------------------------------------- mining + projector (mgm_arch)

def seq_ln_linear(t, prefix, x):
    w = t[prefix + "0.weight"].float()
    x = F.layer_norm(x, (w.shape[0],), w, t[prefix + "0.bias"].float(), 1e-5)
    return F.linear(x, t[prefix + "1.weight"].float(), t[prefix + "1.bias"].float())


def unified_resampler(t, images, images_aux):
    n, tok, _ = images.shape
    pn = int(tok ** 0.5)
    ps = images_aux.shape[-1] // pn
    c = images_aux.shape[1]
    aux = images_aux.permute(0, 2, 3, 1)
    aux = aux.reshape(n, pn, ps, pn, ps, c).permute(0, 1, 3, 2, 4, 5).reshape(n, pn * pn, ps * ps, c)
    q = seq_ln_linear(t, "model.vlm_uni_query_projector.", images)
    k = seq_ln_linear(t, "model.vlm_uni_aux_projector.", aux)
    v = seq_ln_linear(t, "model.vlm_uni_val_projector.", aux)
    att = q[:, :, None] @ (k.transpose(-1, -2) / math.sqrt(k.shape[-1]))
    att = torch.nan_to_num(att)
    return (att.softmax(-1) @ v).mean(2)


def encode_images(t, cfg, clip_feats, hr_map):
    grid = cfg.get("image_grid", 1)
    if grid == 1:
        return clip_feats + unified_resampler(t, clip_feats, hr_map)
    crops = grid * grid
    grid_feats, global_feats = clip_feats[:crops], clip_feats[crops:]
    global_aux = F.interpolate(hr_map.float(), scale_factor=1 / 2, mode="bilinear", align_corners=False)
    c, side = hr_map.shape[1], hr_map.shape[-1] // grid
    grid_aux = hr_map.reshape(1, c, grid, side, grid, side).permute(0, 2, 4, 1, 3, 5).flatten(1, 2).flatten(0, 1)
    g = global_feats + unified_resampler(t, global_feats, global_aux)
    q = grid_feats + unified_resampler(t, grid_feats, grid_aux)
    return torch.cat([g, q.reshape(1, -1, q.shape[-1])], dim=1).reshape(1, -1, q.shape[-1])


def project(t, cfg, x):
    kind = cfg.get("mm_projector_type", "linear")
    if kind == "linear":
        return F.linear(x, t["model.mm_projector.weight"].float(), t["model.mm_projector.bias"].float())
    depth = int(kind[3:kind.index("x")])
    for i in range(depth):
        if i:
            x = F.gelu(x)
        x = F.linear(x, t["model.mm_projector.%d.weight" % (2 * i)].float(), t["model.mm_projector.%d.bias" % (2 * i)].float())
    return x


# ----------------------------------------------------------------------------- splice + decoder

def splice(c, w, ids, image_feats):
    """prepare_inputs_labels_for_multimodal: each -200 takes the next image's features."""
    parts, text, k = [], [], 0
    for i in ids + [None]:
        if i is None or i == IMAGE_TOKEN:
            if text:
                parts.append(dec.embed(c, w, text).float())
                text = []
            if i == IMAGE_TOKEN:
                parts.append(image_feats[k].float())
                k += 1
        else:
            text.append(i)
    return torch.cat(parts, dim=0)


def load_tower_folders(root, cfg):
    clip_dir = os.path.join(root, cfg["mm_vision_tower"])
    aux_dir = os.path.join(root, cfg["mm_vision_tower_aux"])
    with open(os.path.join(clip_dir, "config.json")) as f:
        ccfg = json.load(f)
    vcfg = ccfg.get("vision_config", ccfg)
    clip_t = st_io.read_folder(clip_dir)
    aux_bin = os.path.join(aux_dir, "open_clip_pytorch_model.bin")
    aux_t = torch.load(aux_bin, map_location="cpu") if os.path.exists(aux_bin) else st_io.read_file(
        os.path.join(aux_dir, "open_clip_model.safetensors"))
    with open(os.path.join(aux_dir, "open_clip_config.json")) as f:
        ocfg = json.load(f)
    return vcfg, clip_t, aux_t, ocfg, clip_dir


def tower_weights(cfg, model_t, clip_t, aux_t):
    """Which tower weights MGM runs with (mgm_arch.initialize_uni_modules): CLIP tensors saved in the
    checkpoint (model.vision_tower.vision_tower.*) replace the folder's; the checkpoint's ConvNeXt
    (model.vision_tower_aux.vision_stem/stages.*) is used only when optimize_vision_tower_aux is set.
    Returns (clip tensors, clip prefix, convnext tensors, stem prefix, stages prefix)."""
    copy = "model.vision_tower.vision_tower."
    if any(k.startswith(copy + "vision_model.") for k in model_t):
        clip = (model_t, copy + "vision_model.")
    else:
        clip = (clip_t, "vision_model.")
    if cfg.get("optimize_vision_tower_aux", False) and "model.vision_tower_aux.vision_stem.0.weight" in model_t:
        aux = (model_t, "model.vision_tower_aux.vision_stem.", "model.vision_tower_aux.vision_stages.")
    else:
        aux = (aux_t, "visual.trunk.stem.", "visual.trunk.stages.")
    return clip + aux


def clip_mean_std(clip_dir, ocfg):
    """The image processor is built from the CLIP folder (VideoFramesProcessor.from_pretrained), so its
    preprocessor_config.json gives mean/std; train.py asserts they equal open_clip's preprocess_cfg."""
    path = os.path.join(clip_dir, "preprocessor_config.json")
    if os.path.exists(path):
        with open(path) as f:
            p = json.load(f)
        return p["image_mean"], p["image_std"]
    return ocfg["preprocess_cfg"]["mean"], ocfg["preprocess_cfg"]["std"]


def tokenizer_image_token(tok, prompt):
    """mm_utils.tokenizer_image_token: tokenise the chunks between "<image>" separately, keep the first
    chunk's BOS, drop the BOS of the others, join with -200."""
    chunks = [tok.encode(c) for c in prompt.split("<image>")]
    offset = 1 if chunks and chunks[0] and chunks[0][0] == tok.bos else 0
    ids = [chunks[0][0]] if offset else []
    for i, c in enumerate(chunks):
        if i:
            ids.append(IMAGE_TOKEN)
        ids.extend(c[offset:])
    return ids


class Pipeline:
    """Every stage of MGM on one model folder and one image, in order."""

    def __init__(self, root, model, compute_dtype=None):
        self.model_dir = os.path.join(root, model)
        with open(os.path.join(self.model_dir, "config.json")) as f:
            self.cfg = json.load(f)
        vcfg, clip_t, aux_t, ocfg, clip_dir = load_tower_folders(root, self.cfg)
        self.vcfg = vcfg
        self.mean, self.std = clip_mean_std(clip_dir, ocfg)
        self.c, self.w = dec.load(self.model_dir, None, compute_dtype)
        self.clip_t, self.clip_prefix, self.aux_t, self.stem, self.stages = tower_weights(self.cfg, self.w.t, clip_t, aux_t)

    def run(self, image, ids):
        out = {}
        with torch.no_grad():
            hr, lr = preprocess(image, self.cfg, self.mean, self.std)
            out["hr"], out["lr"] = hr, lr
            feats = clip_forward(self.clip_t, self.vcfg, lr, self.cfg.get("mm_vision_select_layer", -2),
                                 self.cfg.get("mm_vision_select_feature", "patch"), self.clip_prefix)
            out["clip"] = feats
            hr_map = convnext_forward(self.aux_t, hr, self.stem, self.stages)
            out["convnext"] = hr_map
            mined = encode_images(self.w.t, self.cfg, feats, hr_map)
            out["mined"] = mined
            projected = project(self.w.t, self.cfg, mined)
            out["projected"] = projected
            embeds = splice(self.c, self.w, ids, projected)
            out["embeds"] = embeds
            out["logits"] = dec.forward(self.c, self.w, embeds)
        return out

    def greedy(self, embeds, steps):
        seq, out = embeds, []
        with torch.no_grad():
            for _ in range(steps):
                nxt = int(torch.argmax(dec.forward(self.c, self.w, seq)[-1]))
                out.append(nxt)
                seq = torch.cat([seq, dec.embed(self.c, self.w, [nxt]).float()], dim=0)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--model", required=True, help="model folder relative to root")
    ap.add_argument("--image", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--greedy", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    pipe = Pipeline(a.root, a.model)
    ids = [int(s) for s in a.ids.split(",")]
    out = pipe.run(a.image, ids)
    for name in ("hr", "lr", "clip", "convnext", "mined", "projected", "logits"):
        np.save(os.path.join(a.out, name + ".npy"), out[name].detach().float().numpy())
    if a.greedy:
        with open(os.path.join(a.out, "greedy.json"), "w") as f:
            json.dump({"ids": ids, "greedy": pipe.greedy(out["embeds"], a.greedy)}, f)


if __name__ == "__main__":
    main()
