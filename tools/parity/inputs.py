"""The parity inputs: real photographs, the two made images, and texts that stress tokenizers."""
import os
import shutil

from export import images

PHOTOS = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "horse.png", "hubble_deep_field.jpg",
          "rocket.jpg"]
TEXTS = [
    "a ginger tabby cat looking to the side",
    "a rocket lifting off from its launch pad with a plume of smoke",
    "A Smiling ASTRONAUT in a white spacesuit, an American flag behind her!",
    "dog",
    "",
    "rock &amp; roll at the café — naïve   spacing, Ünïcödé, 東京の猫, emoji 🚀",
    " ".join(["a very long caption that keeps going and going"] * 14),  # truncated by every tokenizer
]


def write_images(out, subset=None):
    """Copies the photographs and makes transparent.png and rotated.jpg into out; returns the
    paths. subset: the number of images to use (the real-size runs use fewer)."""
    os.makedirs(out, exist_ok=True)
    paths = []
    for name in PHOTOS:
        dst = os.path.join(out, name)
        shutil.copy(os.path.join(images.PHOTOS, name), dst)
        paths.append(dst)
    for name, make in images.GENERATED.items():
        dst = os.path.join(out, name)
        make(dst)
        paths.append(dst)
    if subset:  # keep the made images: they are what the alpha and EXIF handling is checked on
        paths = paths[: max(subset - 2, 0)] + paths[-2:]
    return paths
