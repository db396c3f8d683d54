"""The task registry and the metadata encoding (Python side)."""

import re
from pathlib import Path

import numpy as np
import pytest

from training.inputs.encoding import blank_metadata, encode_metadata, field_slices
from training.inputs.tasks import TASKS, get_task

ROOT = Path(__file__).resolve().parent.parent


def test_skin_lesion_labels_are_the_ham10000_codes():
    task = get_task("skin_lesion")
    assert task.label_ids == ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]
    assert all(label.name and label.description for label in task.labels)
    assert {l.id for l in task.labels if l.malignant} == {"akiec", "bcc", "mel"}


def test_unknown_task_names_the_known_ones():
    with pytest.raises(KeyError, match="skin_lesion"):
        get_task("skin")


def test_blank_metadata_is_all_unknown():
    task = get_task("skin_lesion")
    blank = blank_metadata(task)
    age, sex, site = (blank[s] for s in field_slices(task))
    assert list(age) == [0.0, 1.0]  # no value, missing flag set
    assert list(sex) == [0, 0, 1]  # male, female, unknown
    assert site[-1] == 1 and site[:-1].sum() == 0
    assert blank.shape == (task.metadata_size,)


def test_encoding_of_given_values():
    task = get_task("skin_lesion")
    vector = encode_metadata(task, {"age": 45, "sex": "Female", "site": "lower extremity"})
    age, sex, site = (vector[s] for s in field_slices(task))
    assert age == pytest.approx([0.45, 0.0])
    assert list(sex) == [0, 1, 0]
    spec = task.metadata_fields[2]
    assert site[spec.values.index("lower extremity")] == 1 and site.sum() == 1


@pytest.mark.parametrize(
    "values", [{"age": None}, {"age": float("nan")}, {"sex": "unknown"}, {"site": ""}, {}]
)
def test_missing_values_encode_as_unknown(values):
    task = get_task("skin_lesion")
    np.testing.assert_array_equal(encode_metadata(task, values), blank_metadata(task))


@pytest.mark.parametrize(
    "values, message",
    [
        ({"age": 121}, "between 0 and 120"),
        ({"age": -1}, "between 0 and 120"),
        ({"age": "old"}, "must be a number"),
        ({"age": True}, "must be a number"),
        ({"age": "0x10"}, "must be a number"),
        ({"sex": "x"}, "male, female"),
        ({"site": "elbow"}, "abdomen"),
        ({"colour": "red"}, "unknown metadata field"),
    ],
)
def test_bad_values_are_refused_with_a_readable_message(values, message):
    with pytest.raises(ValueError, match=message):
        encode_metadata(get_task("skin_lesion"), values)


def test_only_the_registry_names_a_task():
    """Nothing in the code outside training/inputs/tasks.py may mention a particular task."""
    words = re.compile(r"\bskin", re.IGNORECASE)
    offenders = []
    for folder in ("training", "webapp", "static/js", "scripts"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".js", ".html", ".sh") or path.name == "tasks.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if words.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "task-specific wording outside the registry:\n" + "\n".join(offenders)


def test_every_task_has_a_loader_and_labels():
    for task in TASKS.values():
        assert task.loader is not None and len(task.labels) >= 2
        assert len(set(task.label_ids)) == len(task.label_ids)
