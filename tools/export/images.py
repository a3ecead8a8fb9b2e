"""Image preprocessing as the bundle manifest describes it, with PIL: the reference for Go.

The manifest's image section names every choice an upstream loader makes (docs/models.md):
- `resize`: `squash` (mPLUG, BLIP, SigLIP: bicubic resize of the whole image to S x S) or
  `shorter_side_center_crop` (CLIP: the shorter side to S, the longer one scaled and truncated to
  an integer, then a centre crop);
- `crop_rounding`: the crop offset as torchvision rounds it (`half_even`, Python's round of
  (R - S) / 2) or as the Hugging Face image processors do (`floor`, (R - S) // 2);
- `alpha`: `composite` on `alpha_background` (the default model), `drop` (PIL's convert("RGB")
  before resizing: ModelScope, BLIP, the Hugging Face processors) or `drop_after_resize` (OpenAI
  CLIP and open_clip resize and crop the image as decoded, then convert; PIL resizes RGBA
  premultiplied and paletted images with NEAREST);
- `exif_transpose`: whether the JPEG's EXIF orientation is applied first.

The golden images are real photographs kept in the repository (encoder/testdata/photos), plus
two made from them at export time: a PNG whose left part is transparent black (composite and
drop differ there) and a JPEG stored sideways with EXIF orientation 6.
"""
import os
import shutil

import numpy as np
from PIL import Image, ImageOps

MEAN = (0.48145466, 0.4578275, 0.40821073)  # CLIP's, also used by mPLUG and BLIP
STD = (0.26862954, 0.26130258, 0.27577711)
SQUASH = "squash"
CENTER_CROP = "shorter_side_center_crop"
HALF_EVEN, FLOOR = "half_even", "floor"
COMPOSITE, DROP, DROP_AFTER_RESIZE = "composite", "drop", "drop_after_resize"

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PHOTOS = os.path.join(ROOT, "encoder", "testdata", "photos")
GOLDEN_PHOTOS = [
    ("chelsea.png", "a ginger tabby cat looking to the side"),
    ("horse.png", "a black silhouette of a galloping horse"),
    ("rocket.jpg", "a rocket lifting off from its launch pad with a plume of smoke"),
    ("transparent.png", "a cup of coffee on a saucer, half of the picture transparent"),
    ("rotated.jpg", "a rocket lifting off, stored sideways with an EXIF orientation"),
]


def make_transparent(path):
    """coffee.png as RGBA: the left 40% fully transparent with black colour channels, then a
    strip of partial alpha; the rest opaque."""
    im = Image.open(os.path.join(PHOTOS, "coffee.png")).convert("RGBA")
    a = np.asarray(im).copy()
    w = a.shape[1]
    a[:, : int(0.4 * w)] = 0
    ramp = np.linspace(0, 255, int(0.2 * w)).astype(np.uint8)
    a[:, int(0.4 * w): int(0.4 * w) + len(ramp), 3] = ramp
    Image.fromarray(a, "RGBA").save(path)


def make_rotated(path):
    """rocket.jpg stored rotated a quarter turn, with EXIF orientation 6 (rotate 90 clockwise to
    display): upright only when the orientation is applied."""
    im = Image.open(os.path.join(PHOTOS, "rocket.jpg")).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    im.save(path, quality=92, exif=exif.tobytes())


GENERATED = {"transparent.png": make_transparent, "rotated.jpg": make_rotated}


def open_image(path, alpha=COMPOSITE, exif_transpose=True):
    """Decodes path as the manifest says: EXIF orientation (JPEG) when asked, and for composite
    and drop an RGB image; for drop_after_resize the image stays as decoded."""
    with Image.open(path) as im:
        if exif_transpose and im.format == "JPEG":
            im = ImageOps.exif_transpose(im)
        im.load()
        if alpha == COMPOSITE:
            if im.mode in ("RGBA", "LA", "P", "PA"):
                im = im.convert("RGBA")
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                return Image.alpha_composite(bg, im).convert("RGB")
            return im.convert("RGB")
        if alpha == DROP:
            return im.convert("RGB")
        if alpha == DROP_AFTER_RESIZE:
            return im.copy()
        raise ValueError(f"unknown alpha mode {alpha!r}")


def open_rgb(path):
    """Decodes path to an RGB PIL image: EXIF orientation (JPEG), alpha on white."""
    return open_image(path)


def crop_box(w, h, s, rounding=HALF_EVEN):
    """Resize(s) + CenterCrop(s): the resized size and the crop's left and top."""
    rw, rh = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
    if rounding == FLOOR:
        return rw, rh, (rw - s) // 2, (rh - s) // 2
    return rw, rh, int(round((rw - s) / 2.0)), int(round((rh - s) / 2.0))


def resize(im, size, mode, rounding=HALF_EVEN):
    if mode == SQUASH:
        return im.resize((size, size), Image.BICUBIC)
    if mode == CENTER_CROP:
        rw, rh, left, top = crop_box(im.width, im.height, size, rounding)
        return im.resize((rw, rh), Image.BICUBIC).crop((left, top, left + size, top + size))
    raise ValueError(f"unknown resize mode {mode!r}")


def pixels(path, size, mode, mean=MEAN, std=STD, alpha=COMPOSITE, exif_transpose=True, rounding=HALF_EVEN):
    """float32 [3,S,S]: decode, resize, scale to [0,1], normalise."""
    im = resize(open_image(path, alpha, exif_transpose), size, mode, rounding)
    x = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    return x.transpose(2, 0, 1).copy()


def copy_golden_photos(out_dir):
    """Copies (or makes) the golden photos into out_dir/golden; returns [(bundle path, caption)]."""
    os.makedirs(os.path.join(out_dir, "golden"), exist_ok=True)
    rows = []
    for name, caption in GOLDEN_PHOTOS:
        dst = os.path.join(out_dir, "golden", name)
        if name in GENERATED:
            GENERATED[name](dst)
        else:
            shutil.copy(os.path.join(PHOTOS, name), dst)
        rows.append(("golden/" + name, caption))
    return rows
