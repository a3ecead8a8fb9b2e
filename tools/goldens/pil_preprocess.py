"""Pillow reference outputs of the manifest's image preprocessing modes, for the Go tests.

Regenerate (from the repository root; Debian's Pillow 9.4 and numpy, nothing else):

    /usr/bin/python3 tools/goldens/pil_preprocess.py

It writes encoder/testdata/preprocess/<case>/input.<ext>, small synthetic images built
deterministically, and one <mode>.json per preprocessing mode of the case:

    {"spec": {...the manifest's image section...}, "rgb": "<base64 of the S x S x 3 bytes>"}

"rgb" is the 8-bit RGB image after decoding, alpha handling and resizing, before normalisation,
as the upstream loaders compute it with Pillow (docs/models.md, ImageSpec in
encoder/manifest.go):

- alpha "composite": RGBA, LA and P images composited on white with Image.alpha_composite
  (Glimpse's default), then resized;
- alpha "drop": img.convert("RGB") first (ModelScope mPLUG, BLIP, Hugging Face processors);
- alpha "drop_after_resize": torchvision Resize + CenterCrop on the image as decoded, then
  convert("RGB") (OpenAI CLIP, open_clip): Pillow resizes RGBA and LA premultiplied, and P
  (and 1) images with NEAREST;
- exif_transpose: ImageOps.exif_transpose first (JPEG only) unless false;
- crop_rounding "half_even": torchvision's int(round((R - S) / 2)); "floor": Hugging Face's
  (R - S) // 2. The resized size is int(S * long / short) either way.
"""
import base64
import io
import json
import os
import sys

import numpy as np
import PIL
from PIL import Image, ImageOps

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "encoder", "testdata", "preprocess")
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


def spec(size, resize="squash", **extra):
    s = {"size": size, "resize": resize, "interpolation": "bicubic", "mean": MEAN, "std": STD}
    s.update(extra)
    return s


def crop_box(w, h, s, rounding):
    """torchvision Resize(s) (shorter side to s, the longer one truncated) and the centre crop's
    offset."""
    rw, rh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
    if rounding == "floor":
        return rw, rh, (rw - s) // 2, (rh - s) // 2
    return rw, rh, int(round((rw - s) / 2.0)), int(round((rh - s) / 2.0))


def preprocess(path, sp):
    """The S x S 8-bit RGB array of the file at path under the image section sp."""
    with Image.open(path) as im:
        if sp.get("exif_transpose", True) and im.format == "JPEG":
            im = ImageOps.exif_transpose(im)
        im.load()
        alpha = sp.get("alpha", "composite")
        if alpha == "composite":
            if im.mode in ("RGBA", "LA", "P", "PA"):
                im = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", im.size, (255, 255, 255, 255)), im)
            im = im.convert("RGB")
        elif alpha == "drop":
            im = im.convert("RGB")
        elif alpha != "drop_after_resize":
            raise ValueError(alpha)
        s = sp["size"]
        if sp["resize"] == "squash":
            im = im.resize((s, s), Image.BICUBIC)
        else:
            rw, rh, left, top = crop_box(im.width, im.height, s, sp.get("crop_rounding", "half_even"))
            if (rw, rh) != im.size:  # torchvision returns the image itself when nothing changes
                im = im.resize((rw, rh), Image.BICUBIC)
            im = im.crop((left, top, left + s, top + s))
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def pattern(w, h, seed):
    """An opaque w x h RGB array: smooth gradients plus noise, so resampling errors show."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x * 37 + y * 91) % 256], -1)
    rgb = rgb + rng.randint(-40, 41, size=rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def save_png(path, im):
    im.save(path, "PNG", optimize=False)


def make_rgba_transparent(path):
    """RGBA 29x19: fully transparent black columns next to opaque colour, a transparent block
    whose stored colour is red, and a band of partial alpha."""
    a = np.dstack([pattern(29, 19, 1), np.full((19, 29), 255, np.uint8)])
    a[:, :7] = 0                                  # (0,0,0,0): black under drop, white under composite
    a[2:9, 9:14] = (255, 0, 0, 0)                 # invisible red
    a[11:, 14:22, 3] = np.linspace(0, 255, 8).astype(np.uint8)[None, :]  # alpha ramp
    a[4:8, 22:, 3] = 100
    save_png(path, Image.fromarray(a, "RGBA"))


def make_rgba_upscale(path):
    """RGBA 7x5, upscaled: bicubic overshoot makes premultiplied colours exceed their alpha."""
    a = np.dstack([pattern(7, 5, 2), np.full((5, 7), 255, np.uint8)])
    a[:, 0] = 0
    a[1, 2:5] = (250, 250, 10, 0)
    a[2:, 3, 3] = (1, 30, 200)
    a[0, 5:, 3] = 0
    save_png(path, Image.fromarray(a, "RGBA"))


def make_rgba_one_axis(path):
    """RGBA 12x20 for S=12: squash resizes only vertically; the centre crop's Resize is the
    identity, so Pillow never premultiplies."""
    a = np.dstack([pattern(12, 20, 3), np.full((20, 12), 255, np.uint8)])
    a[:6, :4] = 0
    a[8:14, 3:9, 3] = np.array([0, 1, 60, 128, 200, 254], np.uint8)[:, None]
    a[15:, 6:] = (40, 200, 120, 0)
    save_png(path, Image.fromarray(a, "RGBA"))


def make_la_gradient(path):
    """LA 23x17: a gray ramp under an alpha ramp, with a transparent black corner."""
    y, x = np.mgrid[0:17, 0:23]
    l = (x * 11 + y * 5) % 256
    al = np.clip(x * 255 // 22 + (y % 3) * 20, 0, 255)
    a = np.dstack([l, al]).astype(np.uint8)
    a[:5, :5] = 0
    save_png(path, Image.fromarray(a, "LA"))


def paletted(w, h, seed, colours):
    rng = np.random.RandomState(seed)
    idx = rng.randint(0, len(colours), size=(h, w)).astype(np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette([c for rgb in colours for c in rgb])
    return im


def make_palette_trns(path):
    """P 23x17 with a tRNS chunk: index 0 transparent (stored colour green), index 1 half."""
    im = paletted(23, 17, 4, [(30, 160, 90), (200, 40, 40), (20, 20, 220), (250, 250, 250), (0, 0, 0)])
    im.save(path, "PNG", transparency=bytes([0, 128, 255, 255, 255]))


def make_palette_nearest(path):
    """Opaque P 6x10 for S=9: Pillow resizes it with NEAREST to 9x15 (scale 2/3), where the
    accumulated source positions differ from the closed form int((x + 0.5) * 2/3)."""
    paletted(6, 10, 5, [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 0, 0), (255, 255, 255)]).save(path, "PNG")


def make_jpeg(orientation):
    def make(path):
        """RGB 24x16 stored, quadrants of distinct colours, EXIF orientation set: upright only
        when the orientation is applied. 4:4:4 so decoders differ only by the IDCT."""
        a = np.zeros((16, 24, 3), np.uint8)
        a[:8, :12] = (230, 30, 30)
        a[:8, 12:] = (30, 200, 40)
        a[8:, :12] = (40, 40, 220)
        a[8:, 12:] = (240, 230, 40)
        a[:, :3] = (250, 250, 250)
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(a, "RGB").save(path, "JPEG", quality=95, subsampling=0, exif=exif.tobytes())
    return make


def make_crop_odd(path):
    """RGB 30x24 for S=12: resized to 15x12, the crop's left is round(1.5) = 2 (half_even) or
    1 (floor)."""
    save_png(path, Image.fromarray(pattern(30, 24, 6), "RGB"))


CASES = [
    ("rgba_transparent", "png", make_rgba_transparent, {
        "composite": spec(12),
        "drop": spec(12, alpha="drop"),
        "drop_after_resize": spec(12, alpha="drop_after_resize"),
        "drop_after_resize_crop": spec(12, "shorter_side_center_crop", alpha="drop_after_resize"),
        "drop_crop_floor": spec(12, "shorter_side_center_crop", alpha="drop", crop_rounding="floor"),
    }),
    ("rgba_upscale", "png", make_rgba_upscale, {
        "composite": spec(12),
        "drop": spec(12, alpha="drop"),
        "drop_after_resize": spec(12, alpha="drop_after_resize"),
    }),
    ("rgba_one_axis", "png", make_rgba_one_axis, {
        "composite": spec(12),
        "drop_after_resize": spec(12, alpha="drop_after_resize"),
        "drop_after_resize_crop": spec(12, "shorter_side_center_crop", alpha="drop_after_resize"),
        "composite_crop": spec(12, "shorter_side_center_crop"),
    }),
    ("la_gradient", "png", make_la_gradient, {
        "composite": spec(10),
        "drop": spec(10, alpha="drop"),
        "drop_after_resize": spec(10, alpha="drop_after_resize"),
    }),
    ("palette_trns", "png", make_palette_trns, {
        "composite": spec(9, "shorter_side_center_crop"),
        "drop": spec(9, "shorter_side_center_crop", alpha="drop"),
        "drop_after_resize": spec(9, "shorter_side_center_crop", alpha="drop_after_resize"),
    }),
    ("palette_nearest", "png", make_palette_nearest, {
        "drop": spec(9, "shorter_side_center_crop", alpha="drop"),
        "drop_after_resize": spec(9, "shorter_side_center_crop", alpha="drop_after_resize"),
        "drop_after_resize_squash": spec(9, alpha="drop_after_resize"),
    }),
    ("jpeg_orientation_6", "jpg", make_jpeg(6), {
        "exif_transpose": spec(12, "shorter_side_center_crop"),
        "raw": spec(12, "shorter_side_center_crop", exif_transpose=False),
    }),
    ("jpeg_orientation_3", "jpg", make_jpeg(3), {
        "exif_transpose": spec(12, "shorter_side_center_crop"),
        "raw": spec(12, "shorter_side_center_crop", exif_transpose=False),
    }),
    ("crop_odd", "png", make_crop_odd, {
        "half_even": spec(12, "shorter_side_center_crop"),
        "floor": spec(12, "shorter_side_center_crop", crop_rounding="floor"),
    }),
]


def check_nearest_case():
    """palette_nearest must exercise the accumulated positions: some column of the 9-wide
    output reads another source column than the closed form would."""
    a0, xo, differs = 6 / 9, 6 / 9 * 0.5, False
    for x in range(9):
        differs |= int(xo) != int((x + 0.5) * a0)
        xo += a0
    assert differs, "palette_nearest no longer tests Pillow's accumulated NEAREST positions"


def main():
    if not PIL.__version__.startswith("9.4"):
        print(f"warning: Pillow {PIL.__version__}, the goldens were made with 9.4", file=sys.stderr)
    check_nearest_case()
    for name, ext, make, modes in CASES:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        src = os.path.join(d, "input." + ext)
        make(src)
        outs = {}
        for mode, sp in modes.items():
            rgb = preprocess(src, sp)
            assert rgb.shape == (sp["size"], sp["size"], 3), rgb.shape
            outs[mode] = rgb
            with open(os.path.join(d, mode + ".json"), "w") as f:
                json.dump({"spec": sp, "rgb": base64.b64encode(rgb.tobytes()).decode()}, f, indent=1)
                f.write("\n")
        # Every mode of a case must change the output, or a mode the Go code ignored would pass.
        names = list(outs)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                assert not np.array_equal(outs[a], outs[b]), f"{name}: {a} and {b} give the same pixels"
        print(name, ", ".join(f"{m}" for m in names))


if __name__ == "__main__":
    main()
