"""Turn an image file into the raw pixels the model takes.

The model does its own resizing (cropping to its aspect ratio or squashing, as the
task's ``resize`` says) and rescaling (inside the graph), so the only steps here
are the ones a browser does too: decode, apply the EXIF orientation, put
transparent pixels on white, and shrink very large images (the same limit ``static/js/classifier.js`` uses).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

# The browser shrinks anything whose longer side exceeds this many times the
# model's longer side (and at least MIN_MAX_SIDE) before handing it over;
# Python does the same. The two shrink with different filters, so dataset
# images (200×150) are kept below the limit and reach both sides unchanged.
MAX_SIDE_FACTOR = 2
MIN_MAX_SIDE = 512


def decode_image(source, max_side: int | None = None) -> np.ndarray:
    """Decode a path or bytes to an RGB uint8 array (H, W, 3)."""
    from PIL import Image, ImageOps

    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else bytes(source)
    with Image.open(io.BytesIO(data)) as im:
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "P", "PA"):
            im = im.convert("RGBA")
            background = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(background, im)
        im = im.convert("RGB")
        if max_side and max(im.size) > max_side:
            scale = max_side / max(im.size)
            im = im.resize(
                (max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.BILINEAR
            )
        return np.asarray(im, dtype=np.uint8)


def max_side_for(image_size: tuple[int, int]) -> int:
    return max(MIN_MAX_SIDE, MAX_SIDE_FACTOR * max(image_size))
