"""Image preprocessing as the bundle manifest describes it, with PIL: the reference for Go.

Both resize modes of the contract: `squash` (mPLUG, BLIP: bicubic resize of the whole image to
S x S) and `shorter_side_center_crop` (CLIP: torchvision's Resize(S) then CenterCrop(S): the shorter
side to S, the longer one scaled and truncated to an integer, the crop offset rounded half to even).
JPEG EXIF orientation is applied and alpha is composited on white, as the Go decoder does.

The golden images are real photographs kept in the repository (encoder/testdata/photos): a
landscape RGB PNG, an RGBA PNG and a JPEG, so that decode, alpha, both resize modes and the crop
offset are all compared.
"""
import os
import shutil

import numpy as np
from PIL import Image, ImageOps

MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP's, also used by mPLUG and BLIP
STD = (0.26862954, 0.26130258, 0.27577711)
SQUASH = "squash"
CENTER_CROP = "shorter_side_center_crop"

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PHOTOS = os.path.join(ROOT, "encoder", "testdata", "photos")
GOLDEN_PHOTOS = [
    ("chelsea.png", "a ginger tabby cat looking to the side"),
    ("horse.png", "a black silhouette of a galloping horse"),
    ("rocket.jpg", "a rocket lifting off from its launch pad with a plume of smoke"),
]


def open_rgb(path):
    """Decodes path to an RGB PIL image: EXIF orientation (JPEG), alpha on white."""
    with Image.open(path) as im:
        if im.format == "JPEG":
            im = ImageOps.exif_transpose(im)
        im.load()
        if im.mode in ("RGBA", "LA", "P", "PA"):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            return Image.alpha_composite(bg, im).convert("RGB")
        return im.convert("RGB")


def crop_box(w, h, s):
    """torchvision Resize(s) + CenterCrop(s): the resized size and the crop's left and top."""
    rw, rh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
    return rw, rh, int(round((rw - s) / 2.0)), int(round((rh - s) / 2.0))


def resize(im, size, mode):
    if mode == SQUASH:
        return im.resize((size, size), Image.BICUBIC)
    if mode == CENTER_CROP:
        rw, rh, left, top = crop_box(im.width, im.height, size)
        return im.resize((rw, rh), Image.BICUBIC).crop((left, top, left + size, top + size))
    raise ValueError(f"unknown resize mode {mode!r}")


def pixels(path, size, mode, mean=MEAN, std=STD):
    """float32 [3,S,S]: decode, resize, scale to [0,1], normalise."""
    x = np.asarray(resize(open_rgb(path), size, mode), dtype=np.float32) / 255.0
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    return x.transpose(2, 0, 1).copy()


def copy_golden_photos(out_dir):
    """Copies the golden photos into out_dir/golden; returns [(bundle path, caption)]."""
    os.makedirs(os.path.join(out_dir, "golden"), exist_ok=True)
    rows = []
    for name, caption in GOLDEN_PHOTOS:
        shutil.copy(os.path.join(PHOTOS, name), os.path.join(out_dir, "golden", name))
        rows.append(("golden/" + name, caption))
    return rows
