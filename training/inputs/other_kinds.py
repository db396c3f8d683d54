"""Images that are *not* of a task's kind, for fitting and measuring the doubt rule.

Each kind comes in two disjoint parts, ``fit`` and ``test``:

- the other tasks' images (their own train and test splits),
- everyday photos: scikit-image's bundled sample pictures and faces (one set
  of source pictures for fitting, others for testing, random crops of each),
- documents and screenshots: rendered text and interface mock-ups, plus
  scikit-image's scanned page and text pictures (test only),
- blank or uniform images: flat colours, gradients, slightly noisy,
- noise.

All images are uint8 RGB at the task's input size (the model crops and
resizes anything else the same way).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.inputs.tasks import TASKS, Task

# scikit-image sample pictures (public domain or CC0, see skimage/data/README.txt).
PHOTOS_FIT = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "camera.png",
    "coins.png",
    "horse.png",
    "brick.png",
    "grass.png",
)
PHOTOS_TEST = (
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "moon.png",
    "gravel.png",
    "color.png",
    "logo.png",
    "clock_motion.png",
)
DOCUMENTS_TEST = ("page.png", "text.png")

KIND_NAMES = {
    **{task.id: task.kind_name for task in TASKS.values()},
    "photo": "everyday photo",
    "document": "document or screenshot",
    "blank": "blank or uniform image",
    "noise": "random noise",
}


def _skimage_picture(name: str) -> np.ndarray:
    import skimage.data
    from PIL import Image

    with Image.open(Path(skimage.data.__file__).parent / name) as im:
        return np.asarray(im.convert("RGB"))


def _resize(pixels: np.ndarray, size_hw) -> np.ndarray:
    from PIL import Image

    h, w = size_hw
    return np.asarray(Image.fromarray(pixels).resize((w, h), Image.BILINEAR))


def random_crops(pictures: list[np.ndarray], n: int, size_hw, rng) -> np.ndarray:
    """``n`` crops (10–100 % of the side, any position) of the pictures, resized."""
    out = []
    for i in range(n):
        picture = pictures[i % len(pictures)]
        h, w = picture.shape[:2]
        scale = rng.uniform(0.3, 1.0)
        ch, cw = max(8, int(h * scale)), max(8, int(w * scale * rng.uniform(0.75, 1.33)))
        cw = min(cw, w)
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        crop = picture[y : y + ch, x : x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out.append(_resize(np.ascontiguousarray(crop), size_hw))
    return np.stack(out)


def faces(part: str) -> list[np.ndarray]:
    """scikit-image's 200 small face photos (LFW subset): first half fit, second test."""
    import skimage.data

    stack = np.load(Path(skimage.data.__file__).parent / "lfw_subset.npy")
    stack = stack[:100] if part == "fit" else stack[100:]
    return [np.repeat((face * 255).astype(np.uint8)[..., None], 3, axis=2) for face in stack]


def documents(n: int, size_hw, rng) -> np.ndarray:
    """Mock screenshots and documents: text lines, bars, boxes on a light or dark page."""
    from PIL import Image, ImageDraw

    h, w = size_hw
    out = []
    for _ in range(n):
        scale = int(rng.integers(1, 4))
        W, H = max(w, 192) * scale, max(h, 144) * scale
        dark = rng.random() < 0.3
        background = tuple(
            int(v) for v in (rng.integers(0, 50, 3) if dark else rng.integers(215, 256, 3))
        )
        ink = tuple(int(v) for v in (rng.integers(180, 256, 3) if dark else rng.integers(0, 90, 3)))
        image = Image.new("RGB", (W, H), background)
        draw = ImageDraw.Draw(image)
        if rng.random() < 0.6:  # a title bar
            draw.rectangle(
                [0, 0, W, int(H * rng.uniform(0.05, 0.15))],
                fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
            )
        y = int(H * 0.18)
        while y < H - 10:
            if rng.random() < 0.15:  # a box or a button
                x0 = int(rng.integers(0, W // 2))
                draw.rectangle(
                    [x0, y, x0 + int(rng.integers(20, W // 2)), y + 20],
                    outline=ink,
                    fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
                )
                y += 28
                continue
            words = " ".join(
                "".join(chr(int(c)) for c in rng.integers(97, 123, rng.integers(2, 9)))
                for _ in range(int(rng.integers(3, 12)))
            )
            draw.text((int(rng.integers(2, 20)), y), words, fill=ink)
            y += int(rng.integers(12, 22))
        out.append(_resize(np.asarray(image), size_hw))
    return np.stack(out)


def blanks(n: int, size_hw, rng) -> np.ndarray:
    """Flat colours and smooth gradients, with a little sensor-like noise."""
    h, w = size_hw
    out = np.empty((n, h, w, 3), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        if rng.random() < 0.5:
            t = np.zeros((h, w))
        else:
            angle = rng.uniform(0, 2 * np.pi)
            t = np.cos(angle) * xx / w + np.sin(angle) * yy / h
            t = (t - t.min()) / max(1e-6, np.ptp(t))
        image = a + (b - a) * t[..., None] + rng.normal(0, rng.uniform(0, 6), (h, w, 3))
        out[i] = np.clip(image, 0, 255).astype(np.uint8)
    return out


def noise(n: int, size_hw, rng) -> np.ndarray:
    """Colour or grey noise, fine or blocky."""
    h, w = size_hw
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        block = int(rng.choice([1, 2, 4, 8]))
        small = rng.integers(
            0, 256, (-(-h // block), -(-w // block), 1 if rng.random() < 0.3 else 3)
        )
        big = np.repeat(np.repeat(small, block, 0), block, 1)[:h, :w]
        out[i] = np.broadcast_to(big, (h, w, 3)).astype(np.uint8)
    return out


def other_task_images(task: Task, other: Task, part: str, n: int, size_hw, data_dir, seed: int):
    """``n`` images of ``other``'s train (part 'fit') or test (part 'test') split."""
    from training.inputs.data import PROJECT_ROOT, data_root, load_images, read_split, split_dataset

    table = other.load(data_root(data_dir))
    split_file = PROJECT_ROOT / "reports" / other.id / "split.csv"
    split = read_split(table, split_file) if split_file.is_file() else split_dataset(table)
    rows = table[split == ("train" if part == "fit" else "test")]
    rows = rows.sample(min(n, len(rows)), random_state=seed)
    return np.asarray(load_images(rows["path"], size_hw))


def other_kinds(
    task: Task, part: str, size_hw, data_dir=None, n: int = 300, seed: int = 0
) -> dict[str, np.ndarray]:
    """``{kind: uint8 images}`` of every kind that is not ``task``'s, for ``part`` fit/test."""
    if part not in ("fit", "test"):
        raise ValueError("part must be 'fit' or 'test'")
    rng = np.random.default_rng(seed + (0 if part == "fit" else 1000))
    kinds = {}
    for other in TASKS.values():
        if other.id != task.id:
            kinds[other.id] = other_task_images(task, other, part, n, size_hw, data_dir, seed)
    pictures = [_skimage_picture(name) for name in (PHOTOS_FIT if part == "fit" else PHOTOS_TEST)]
    kinds["photo"] = random_crops(pictures + faces(part), n, size_hw, rng)
    docs = documents(n, size_hw, rng)
    if part == "test":
        scans = random_crops(
            [_skimage_picture(name) for name in DOCUMENTS_TEST], n // 3, size_hw, rng
        )
        docs = np.concatenate([docs[: n - len(scans)], scans])
    kinds["document"] = docs
    kinds["blank"] = blanks(n, size_hw, rng)
    kinds["noise"] = noise(n, size_hw, rng)
    return kinds
