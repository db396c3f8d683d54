"""The task registry: the one place that defines each screening task.

A task names its labels (ids, human names, one-line descriptions), the image
size the model sees, the metadata fields and their encoding, and the loader of
its dataset. Everything else (training, export, the site, the browser) reads
these definitions, mostly through the exported ``metadata.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Label:
    id: str
    name: str
    description: str
    malignant: bool = False


@dataclass(frozen=True)
class NumberField:
    """A number, scaled to ``value / scale``, plus a 'missing' flag slot."""

    name: str
    label: str
    minimum: float
    maximum: float
    scale: float

    @property
    def size(self) -> int:
        return 2

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "kind": "number",
            "minimum": self.minimum,
            "maximum": self.maximum,
            "scale": self.scale,
            "slots": ["value / scale", "missing"],
            "size": self.size,
        }


@dataclass(frozen=True)
class CategoryField:
    """One-hot over ``values``; anything missing or unknown sets the ``unknown`` slot."""

    name: str
    label: str
    values: tuple[str, ...]
    value_names: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.values) + 1

    def to_json(self) -> dict:
        names = self.value_names or tuple(v.capitalize() for v in self.values)
        return {
            "name": self.name,
            "label": self.label,
            "kind": "category",
            "values": list(self.values),
            "value_names": list(names),
            "slots": [*self.values, "unknown"],
            "size": self.size,
        }


RESIZE_MODES = ("crop", "squash")


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    image_kind: str
    kind_name: str  # a short name of the image kind ("chest X-ray")
    labels: tuple[Label, ...]
    image_size: tuple[int, int]  # (height, width) the network sees
    metadata_fields: tuple = ()
    dataset_dir: str = ""  # relative to the data root
    loader: Callable | None = field(default=None, compare=False, repr=False)
    min_image_side: int = 32
    group_name: str = "case"  # what a split keeps together: lesion, patient, slide
    upright: bool = False  # images have a fixed orientation (no flips/turns)
    grayscale: bool = False  # the model turns colour input grey (trained on grey)
    # How the graph brings an image of any shape to ``image_size`` (RESIZE_MODES):
    # "crop" keeps the centred crop at the input's aspect ratio, then resizes it (the
    # sides or the top and bottom of another shape are lost); "squash" resizes the whole
    # image, as training images squashed to ``image_size`` were made. Written into
    # metadata.json (inputs.image.resize), where the browser places the heatmap by it.
    resize: str = "crop"
    # Risk summary (training.steps.risk): "worth showing to a doctor" when the summed
    # probability of the labels marked ``malignant`` reaches a threshold chosen on
    # validation so that ``risk_focus`` is caught with ``risk_sensitivity``.
    risk_focus: str = ""
    risk_sensitivity: float = 0.9
    # Held-out processings (names of training.inputs.shifts.HELD_OUT) under each of which the risk
    # threshold must also reach ``risk_sensitivity`` on validation (training.steps.risk).
    risk_shifts: tuple[str, ...] = ()
    risk_messages: tuple[str, str] = (
        "Worth showing to a doctor soon.",
        "Nothing worrying found — see a doctor if in doubt.",
    )
    # The collections the images come from (a dataset's "source" of each image, as
    # the leave-one-source-out experiment names them): (id, short name, where it was taken),
    # read by training.reporting.site_tables for the pages' tables; a source not listed keeps its id.
    sources: tuple[tuple[str, str, str], ...] = ()
    # The folder of the dataset's lesion masks (one PNG per image, same stem; 0 background,
    # 255 lesion): the task gets an outline network (training.steps.outline).
    masks_dir: str = ""
    # Images of the same kind from elsewhere, to measure with only (never trained on;
    # training.exporting.outside): a folder of the data root with images/ and labels.csv
    # (image_id, source, dx), and its sources as ``sources`` names them.
    outside_dir: str = ""
    outside_sources: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self):
        if self.resize not in RESIZE_MODES:
            raise ValueError(
                f"task {self.id!r}: resize must be one of {RESIZE_MODES}, got {self.resize!r}"
            )

    @property
    def label_ids(self) -> list[str]:
        return [label.id for label in self.labels]

    @property
    def metadata_size(self) -> int:
        return sum(f.size for f in self.metadata_fields)

    def load(self, data_root):
        """Return the task's dataset table (a pandas DataFrame, see ``training.inputs.data``)."""
        from pathlib import Path

        return self.loader(Path(data_root) / self.dataset_dir, self)


HAM10000_SITES = (
    "abdomen",
    "acral",
    "back",
    "chest",
    "ear",
    "face",
    "foot",
    "genital",
    "hand",
    "lower extremity",
    "neck",
    "scalp",
    "trunk",
    "upper extremity",
)

HAM10000_SOURCES = (
    (
        "rosendahl",
        "Queensland practice",
        "a dermatology practice in Queensland, Australia (the Rosendahl collection)",
    ),
    (
        "vidir_modern",
        "Vienna, newer dermatoscopes",
        "Medical University of Vienna (ViDIR group), newer dermatoscopes",
    ),
    (
        "vidir_molemax",
        "Vienna, MoleMax",
        "Medical University of Vienna (ViDIR group), the MoleMax device",
    ),
    ("vienna_dias", "Vienna, older DIAS", "Vienna, the older DIAS device"),
)


def _ham10000_loader(folder, task):
    from training.inputs.datasets import load_ham10000

    return load_ham10000(folder, task)


SKIN_LESION = Task(
    id="skin_lesion",
    title="Skin lesion screener",
    image_kind="a dermatoscopic (magnified, contact-lit) photo of one skin lesion",
    kind_name="dermatoscopic lesion photo",
    labels=(
        Label(
            "akiec",
            "Actinic keratosis / Bowen's disease",
            "Sun-damage patches that can turn into squamous cell skin cancer.",
            True,
        ),
        Label(
            "bcc",
            "Basal cell carcinoma",
            "The most common skin cancer; grows slowly and rarely spreads.",
            True,
        ),
        Label(
            "bkl",
            "Benign keratosis",
            "Harmless growths such as seborrhoeic keratoses and sun spots.",
            False,
        ),
        Label(
            "df", "Dermatofibroma", "A harmless firm bump in the skin, often on the legs.", False
        ),
        Label(
            "mel",
            "Melanoma",
            "A dangerous skin cancer of pigment cells; needs prompt attention.",
            True,
        ),
        Label(
            "nv",
            "Melanocytic nevus (mole)",
            "An ordinary mole; by far the most common finding.",
            False,
        ),
        Label(
            "vasc",
            "Vascular lesion",
            "Harmless blood-vessel growths such as cherry angiomas.",
            False,
        ),
    ),
    image_size=(150, 200),  # HAM10000's own 200 × 150 (research/skin_lesion/experiments.md)
    metadata_fields=(
        NumberField("age", "Age (years)", 0, 120, 100.0),
        CategoryField("sex", "Sex", ("male", "female"), ("Male", "Female")),
        CategoryField(
            "site", "Body site", HAM10000_SITES, tuple(s.capitalize() for s in HAM10000_SITES)
        ),
    ),
    dataset_dir="ham10000",
    loader=_ham10000_loader,
    group_name="lesion",
    sources=HAM10000_SOURCES,
    masks_dir="masks",
    outside_dir="outside_dermoscopy",
    outside_sources=(
        ("derm7pt", "Derm7pt", "Derm7pt (Kawahara et al. 2019): lesion-centred square crops"),
        ("ph2", "PH2", "PH2 (Hospital Pedro Hispano, Portugal; Mendonça et al. 2013)"),
    ),
    risk_focus="mel",
    risk_sensitivity=0.9,
    risk_messages=(
        "Worth showing to a dermatologist soon.",
        "Looks benign — keep an eye on it, and see a doctor if it changes.",
    ),
)


def _chest_xray_patient(file_name: str) -> str | None:
    """Kermany et al.: 'person123_bacteria_456.jpeg', 'IM-0115-0001.jpeg', 'NORMAL2-IM-0383-0001.jpeg'."""
    import re

    match = re.match(r"(person\d+)_", file_name) or re.match(r"((?:NORMAL2-)?IM-\d+)-", file_name)
    return match.group(1) if match else None


def _chest_xray_loader(folder, task):
    from training.inputs.datasets import load_class_folders

    table = load_class_folders(
        folder / "train", task, {"normal": "NORMAL", "pneumonia": "PNEUMONIA"}, _chest_xray_patient
    )
    # 'person12_bacteria_34' / 'person5_virus_11': the cause, as recorded in the file name.
    table["cause"] = (
        table["image_id"].str.extract(r"_(bacteria|virus)_", expand=False).fillna("none")
    )
    return table


def _malaria_slide(file_name: str) -> str | None:
    """NIH thin smears: 'C100P61ThinF_IMG_20150918_144104_cell_162.png' → 'C100P61ThinF'."""
    return file_name.split("_", 1)[0] if "_" in file_name else None


def _malaria_loader(folder, task):
    from training.inputs.datasets import load_class_folders

    return load_class_folders(
        folder, task, {"parasitized": "Parasitized", "uninfected": "Uninfected"}, _malaria_slide
    )


CHEST_XRAY = Task(
    id="chest_xray",
    title="Pneumonia screener (chest X-ray)",
    image_kind="a frontal chest X-ray of a child",
    kind_name="chest X-ray",
    labels=(
        Label("normal", "No pneumonia seen", "The lungs look clear on this X-ray.", False),
        Label(
            "pneumonia",
            "Pneumonia",
            "Patchy or dense areas in the lungs typical of a bacterial or viral infection.",
            True,
        ),
    ),
    image_size=(224, 224),
    # The X-rays here are squares squashed from originals of many shapes (224×224, see
    # training.inputs.data.load_images): an upload at its own shape is squashed alike, not cropped
    # (research/chest_xray/README.md: a crop loses NORMAL recall on tall X-rays).
    resize="squash",
    dataset_dir="chest_xray",
    loader=_chest_xray_loader,
    group_name="patient",
    upright=True,
    risk_focus="pneumonia",
    risk_shifts=("equalize", "clahe", "sharpen", "jpeg_25", "crop_10", "pad_12"),
    risk_sensitivity=0.95,
    risk_messages=(
        "Worth showing to a doctor soon: the X-ray may show pneumonia.",
        "No sign of pneumonia found — a child who seems ill still needs a doctor.",
    ),
)

MALARIA = Task(
    id="malaria",
    title="Malaria screener (blood-cell image)",
    image_kind="a microscope crop of one red blood cell from a stained thin smear",
    kind_name="blood-cell crop",
    labels=(
        Label(
            "parasitized",
            "Parasitized",
            "The cell holds malaria parasites (Plasmodium), stained dark.",
            True,
        ),
        Label("uninfected", "Uninfected", "No parasite is visible in the cell.", False),
    ),
    image_size=(112, 112),
    dataset_dir="malaria",
    loader=_malaria_loader,
    group_name="slide",
    grayscale=True,
    risk_focus="parasitized",
    risk_sensitivity=0.95,
    risk_messages=(
        "This cell looks parasitized — have the smear read by a trained microscopist.",
        "No parasite seen in this cell — one cell says little about the blood.",
    ),
)

TASKS: dict[str, Task] = {task.id: task for task in (SKIN_LESION, CHEST_XRAY, MALARIA)}


def get_task(task_id: str) -> Task:
    try:
        return TASKS[task_id]
    except KeyError:
        raise KeyError(f"unknown task {task_id!r}; known tasks: {', '.join(TASKS)}") from None
