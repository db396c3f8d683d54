"""Shifts of a radiograph, as another hospital's detector, processing or export would
bring them: each takes an 8-bit RGB image (H, W, 3) of a grey X-ray and a numpy
Generator, and gives back an 8-bit RGB image of the same size, the channels alike.

``training.steps.risk`` sets the X-ray screener's risk threshold on the validation images under
the ``HELD_OUT`` shifts its task names (``Task.risk_shifts``), so that its pneumonia sensitivity holds
when the image is processed differently; ``research/chest_xray/outside_proxy.py`` (the
outside-hospital proxy, which these functions come from) measures every one of them.
"""

from __future__ import annotations

import io
import math

import numpy as np

# Every shift takes an 8-bit RGB image (H, W, 3) of a grey radiograph and a numpy
# Generator, and gives back an 8-bit RGB image of the same size, the channels alike.


def _gray(image: np.ndarray) -> np.ndarray:
    """The grey image (H, W) as float: the mean of the channels (they are alike)."""
    return np.asarray(image, np.float32).mean(axis=2)


def _rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(np.clip(np.rint(gray), 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def _pil(image: np.ndarray):
    from PIL import Image

    return Image.fromarray(np.clip(np.rint(_gray(image)), 0, 255).astype(np.uint8), "L")


def _from_pil(im) -> np.ndarray:
    return _rgb(np.asarray(im.convert("L"), np.float32))


def gamma(image, rng=None, g: float = 1.0):
    """255·(x/255)^g: g < 1 brightens the mid-tones, g > 1 darkens them; 0 and 255 stay."""
    x = np.asarray(image, np.float32) / 255.0
    return np.clip(np.rint(255.0 * np.power(x, g)), 0, 255).astype(np.uint8)


def contrast(image, rng=None, c: float = 1.0):
    """(x − mean)·c + mean, the image's own mean grey, clipped."""
    x = np.asarray(image, np.float32)
    m = x.mean()
    return np.clip(np.rint((x - m) * c + m), 0, 255).astype(np.uint8)


def brightness(image, rng=None, offset: float = 0.0):
    return np.clip(np.rint(np.asarray(image, np.float32) + offset), 0, 255).astype(np.uint8)


def blur(image, rng=None, sigma: float = 1.0):
    """Gaussian blur of σ pixels."""
    from scipy import ndimage

    return _rgb(ndimage.gaussian_filter(_gray(image), sigma, mode="nearest"))


def noise(image, rng=None, sigma: float = 8.0):
    """Gaussian noise of σ grey levels, the same on every channel (one grey film)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    g = _gray(image)
    return _rgb(g + rng.normal(0.0, sigma, g.shape))


def equalize(image, rng=None):
    """Global histogram equalisation (PIL's)."""
    from PIL import ImageOps

    return _from_pil(ImageOps.equalize(_pil(image)))


def clahe(image, rng=None, tiles: int = 8, clip: float = 2.0):
    """Contrast-limited adaptive histogram equalisation (Zuiderveld; as OpenCV's
    ``createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles))``): per tile a histogram
    clipped at ``clip`` × its mean count (the excess spread evenly), its CDF as a tone
    curve, and every pixel the bilinear blend of its four nearest tiles' curves."""
    g = np.clip(np.rint(_gray(image)), 0, 255).astype(np.int64)
    h, w = g.shape
    th, tw = math.ceil(h / tiles), math.ceil(w / tiles)
    padded = np.pad(g, ((0, th * tiles - h), (0, tw * tiles - w)), mode="reflect")
    blocks = padded.reshape(tiles, th, tiles, tw).transpose(0, 2, 1, 3).reshape(tiles, tiles, -1)
    hist = np.stack(
        [
            np.stack([np.bincount(blocks[i, j], minlength=256) for j in range(tiles)])
            for i in range(tiles)
        ]
    ).astype(np.float64)  # (T, T, 256)
    limit = max(1.0, clip * th * tw / 256.0)
    excess = np.clip(hist - limit, 0, None).sum(axis=2, keepdims=True)
    hist = np.minimum(hist, limit) + excess / 256.0
    lut = np.cumsum(hist, axis=2) / (th * tw) * 255.0  # (T, T, 256)

    def axis(n, size):
        t = (np.arange(n) + 0.5) / size - 0.5
        low = np.floor(t).astype(int)
        weight = t - low
        return np.clip(low, 0, tiles - 1), np.clip(low + 1, 0, tiles - 1), weight

    y0, y1, wy = axis(h, th)
    x0, x1, wx = axis(w, tw)
    wy, wx = wy[:, None], wx[None, :]
    out = (
        (1 - wy) * (1 - wx) * lut[y0[:, None], x0[None, :], g]
        + (1 - wy) * wx * lut[y0[:, None], x1[None, :], g]
        + wy * (1 - wx) * lut[y1[:, None], x0[None, :], g]
        + wy * wx * lut[y1[:, None], x1[None, :], g]
    )
    return _rgb(out)


def sharpen(image, rng=None, radius: float = 2.0, percent: int = 150):
    """Unsharp mask (PIL's): a vendor's edge enhancement."""
    from PIL import ImageFilter

    return _from_pil(_pil(image).filter(ImageFilter.UnsharpMask(radius, percent, 0)))


def jpeg(image, rng=None, quality: int = 25):
    """Re-compressed as a grey JPEG of this quality."""
    from PIL import Image

    buffer = io.BytesIO()
    _pil(image).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as im:
        return _from_pil(im)


def crop(image, rng=None, fraction: float = 0.10):
    """``fraction`` of the side cut from every edge, resized back to the same size."""
    from PIL import Image

    h, w = image.shape[:2]
    dy, dx = round(h * fraction), round(w * fraction)
    im = _pil(image).crop((dx, dy, w - dx, h - dy)).resize((w, h), Image.BILINEAR)
    return _from_pil(im)


def pad(image, rng=None, fraction: float = 0.12):
    """A black border of ``fraction`` of the side on every edge, resized back."""
    from PIL import Image

    h, w = image.shape[:2]
    dy, dx = round(h * fraction), round(w * fraction)
    canvas = Image.new("L", (w + 2 * dx, h + 2 * dy), 0)
    canvas.paste(_pil(image), (dx, dy))
    return _from_pil(canvas.resize((w, h), Image.BILINEAR))


def aspect(image, rng=None, ratio: float = 1.3, upload: bool = False):
    """The image as it was before someone squashed it to a square: stretched to
    width / height = ``ratio``, then the centre square a crop graph's resizing keeps
    (``Resizing(crop_to_aspect_ratio=True)``), back at the same size. ratio > 1 loses the
    sides, < 1 the top and bottom. ``upload``: the stretched image itself, as an upload of
    the original would be (wider or taller than the square, its short side kept), left to
    the model's own graph to crop or squash (``--aspect upload``)."""
    from PIL import Image

    h, w = image.shape[:2]
    if upload:
        size = (round(w * ratio), h) if ratio >= 1 else (w, round(h / ratio))
        return _from_pil(_pil(image).resize(size, Image.BILINEAR))
    if ratio >= 1:
        keep = round(w / ratio)
        box = ((w - keep) // 2, 0, (w - keep) // 2 + keep, h)
    else:
        keep = round(h * ratio)
        box = (0, (h - keep) // 2, w, (h - keep) // 2 + keep)
    return _from_pil(_pil(image).crop(box).resize((w, h), Image.BILINEAR))


def _shift(function, **kwargs):
    def apply(image, rng=None):
        return function(image, rng, **kwargs)

    apply.__name__ = function.__name__
    return apply


# The proxy's "held-out" shifts (research/chest_xray/README.md): kinds of processing no
# training augmentation draws from. name → function(image, rng) → image.
HELD_OUT = {
    "equalize": _shift(equalize),
    "clahe": _shift(clahe),
    "sharpen": _shift(sharpen),
    "jpeg_25": _shift(jpeg, quality=25),
    "crop_10": _shift(crop, fraction=0.10),
    "pad_12": _shift(pad, fraction=0.12),
}


def shifted(images: np.ndarray, function, seed: int = 0) -> np.ndarray:
    """``images`` (N, H, W, 3) uint8 under ``function``; image i's random draws come from
    seed (seed, i), so a shift is the same every run."""
    return np.stack(
        [
            function(np.asarray(image), np.random.default_rng([seed, i]))
            for i, image in enumerate(images)
        ]
    )
