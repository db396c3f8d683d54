"""The words of the report tables, in the page's language.

``reports/<task>/tables.json`` (``training.reporting.site_tables``) holds figures, ids and keys; this
module words them: each key's English is here (marked for the catalogue, translated with
gettext), the names of kinds, collections and the wrong-kind check's kinds of image come
from the task's metadata.json, and every figure is written the way of the page's language
(:func:`webapp.i18n.localise_figures`). :class:`Words` turns a stored table into the table
``templates/_table.html`` prints, and a section's facts into the facts the templates print.

A word of tables.json: a key (``"accuracy"``), a key with its figures and ids
(``{"key": "focus_flagged", "label": "mel"}``), or an id: ``{"label": id}``,
``{"kind": id}``, ``{"source": id}``, ``{"where": id}``, ``{"figure": text}``,
``{"run": {"backbone", "epochs", "again", "settings", "this_model"}}``.
"""

from __future__ import annotations

from webapp.catalog import field_names, sentence
from webapp.charts import running_list
from webapp.i18n import N_, gettext, localise_figures, localised, translate_text

# key → English (each a msgid of the catalogue).
WORDS = {
    # columns and rows
    "measure": N_("Measure"),
    "test_result": N_("Test result"),
    "test_results": N_("Test results"),
    "accuracy": N_("Accuracy"),
    "accuracy_help": N_("share of test images given the right kind"),
    "balanced_accuracy": N_("Balanced accuracy"),
    "balanced_accuracy_help": N_("the mean of the per-kind sensitivities"),
    "macro_auc": N_("Mean AUC"),
    "macro_auc_help": N_("ranking quality averaged over the kinds"),
    "macro_f1": N_("Mean F1"),
    "macro_f1_help": N_("balance of precision and sensitivity, averaged"),
    "kind": N_("Kind"),
    "test_images": N_("Test images"),
    "sensitivity": N_("Sensitivity"),
    "specificity": N_("Specificity"),
    "precision": N_("Precision"),
    "auc": N_("AUC"),
    "images": N_("Images"),
    "answers": N_("Answers"),
    "count_images": N_("Images"),
    "count_train": N_("Training"),
    "count_val": N_("Validation"),
    "count_test": N_("Test"),
    "ece_before": N_("ECE before"),
    "ece_after": N_("ECE after"),
    "nll_before": N_("NLL before"),
    "nll_after": N_("NLL after"),
    "calibration_validation": N_("Validation (T fitted here)"),
    "calibration_test": N_("Test"),
    "serious_flagged": N_("Serious kinds flagged"),
    "others_not_flagged": N_("Others not flagged"),
    "others_not_flagged_help": N_(
        "specificity: the images of every other kind that got the reassuring sentence"
    ),
    "all_flagged": N_("All images flagged"),
    "as_they_are": N_("As they are"),
    "processed_mean": N_("Mean of the processed"),
    "processed_worst": N_("Worst of the processed"),
    "processed_worst_help": N_(
        "the lowest figure of each column, not always from the same processing"
    ),
    "before_spared": N_("Before: others spared"),
    "now_spared": N_("Now: others spared"),
    "processed_mean_short": N_("Processed: mean"),
    "processed_worst_short": N_("Processed: worst"),
    "kind_of_image": N_("Kind of image"),
    "doubted_by_mistake": N_("Its own test images, doubted by mistake"),
    "unsure_flagged": N_("Images called unsure"),
    "unsure_flagged_help": N_("the share of all test images that got the warning"),
    "unsure_accuracy_flagged": N_("Right when unsure"),
    "unsure_accuracy_flagged_help": N_("top answer right, on the images with the warning"),
    "unsure_accuracy_not_flagged": N_("Right otherwise"),
    "unsure_accuracy_not_flagged_help": N_("top answer right, on the images without it"),
    "unsure_accuracy_all": N_("Right overall"),
    "unsure_accuracy_all_help": N_("top answer right, on all test images"),
    "test_images_unsure": N_("Test images called unsure"),
    "view": N_("View"),
    "validation_images": N_("Validation images"),
    "balanced_accuracy_test": N_("Balanced accuracy (test)"),
    "macro_auc_test": N_("Mean AUC (test)"),
    "accuracy_test": N_("Accuracy (test)"),
    "balanced_accuracy_val": N_("Balanced accuracy (validation)"),
    "macro_auc_val": N_("Mean AUC (validation)"),
    "collection_left_out": N_("Collection left out"),
    "kinds_present": N_("Kinds present"),
    "model_reference": N_("Trained with it"),
    "model_held_out": N_("Never saw it"),
    "model_all": N_("Never saw it, all its images"),
    "balanced_accuracy_reference": N_("Bal. acc., trained with it"),
    "balanced_accuracy_held_out": N_("Bal. acc., never saw it"),
    "balanced_accuracy_all": N_("Bal. acc., never saw it, all its images"),
    "macro_auc_reference": N_("AUC, trained with it"),
    "macro_auc_held_out": N_("AUC, never saw it"),
    "macro_auc_all": N_("AUC, never saw it, all its images"),
    "split": N_("Split"),
    "run": N_("Run"),
    "backbone": N_("Backbone"),
    "epochs": N_("Epochs"),
    "val_balanced_accuracy": N_("Validation balanced accuracy"),
    "val_macro_auc": N_("Validation mean AUC"),
    "test_balanced_accuracy": N_("Test balanced accuracy"),
    "test_macro_auc": N_("Test mean AUC"),
    "weights_float16": N_("Weights, float16"),
    "training_time": N_("Training"),
    # titles
    "in_brief": N_("In brief"),
    "kind_by_kind": N_("Kind by kind"),
    "counts_per_kind": N_("Counts per kind"),
    "calibration": N_("Calibration"),
    "on_test_images": N_("On the test images"),
    "on_test_images_processed": N_("On the test images, processed"),
    "before_and_now": N_("Before and now"),
    "wrong_kind": N_("The wrong kind of image"),
    "framed_differently": N_("Framed differently"),
    "never_saw": N_("A clinic or camera it never saw"),
    "each_split": N_("Each split"),
    "backbones_compared": N_("Backbones compared"),
    # captions
    "risk_caption": N_(
        "On the test images: how many of the serious cases got the sentence, and how many of "
        "the others did not."
    ),
    "risk_shifts_caption": N_(
        "On the test images as they are and processed as another hospital's equipment "
        "might: how many of the serious cases got the sentence, and how many of the "
        "others did not."
    ),
    "risk_change_caption": N_(
        "The risk sentence of the version before and of this one on the same test images, "
        "as they are and processed as in the table above."
    ),
    "wrong_kind_caption": N_(
        "Share of each kind of image the checks caught (higher is better), and the share of "
        "the model's own test images they doubted by mistake (lower is better)."
    ),
    "unsure_caption": N_(
        "On the test images: how many got the warning, and how often the top answer was "
        "right with and without it."
    ),
    "views_caption": N_(
        "On the test images, and in smaller print on the validation images (used in choosing "
        "the model)."
    ),
    "views_caption_image_only": N_(
        "Given the image alone. On the test images, and in smaller print on the validation "
        "images (used in choosing the model)."
    ),
    "sources_caption": N_(
        "Given the image alone, on each collection's test images: the model trained with it "
        "and the one that never saw it; and that one on all the collection's images."
    ),
    "cv_caption": N_("Balanced accuracy and mean AUC on each split's test images."),
    "backbones_caption": N_(
        "One view, image only, on this task's own split; chosen on validation, the test "
        "column for reference only."
    ),
    # with figures and ids
    "headline_caption": N_(
        "On %(n)s test images. With %(kinds)s kinds, guessing would give a balanced accuracy "
        "of %(chance)s and an AUC of 0.50."
    ),
    "headline_caption_details": N_(
        "On %(n)s test images, given the image only and the image with the details "
        "(%(fields)s). With %(kinds)s kinds, guessing would give a balanced accuracy of "
        "%(chance)s and an AUC of 0.50."
    ),
    "per_class_caption": N_(
        "%(variant)s: of the test images of each kind, the share the model found "
        "(sensitivity); of the others, the share it rightly did not call that kind "
        "(specificity); of the images it called that kind, the share that were (precision)."
    ),
    "counts_caption": N_(
        "Images per kind, the distinct %(groups)s they show, and how the saved split divides "
        "the images into training, validation and test."
    ),
    "calibration_caption": N_(
        "Before and after dividing the scores by T = %(temperature)s; lower is better for both."
    ),
    "focus_flagged": N_("%(label)s flagged"),
    "focus_sensitivity_help": N_("sensitivity for %(label)s (of %(n)s images)"),
    "serious_sensitivity_help": N_("sensitivity for %(labels)s together (of %(n)s)"),
    "all_flagged_help": N_("the share of all test images that got “%(sentence)s”"),
    "before_caught": N_("Before: %(label)s caught"),
    "now_caught": N_("Now: %(label)s caught"),
    "method_used": N_("%(method)s (used)"),
}

VARIANTS = {"without_metadata": N_("Image only"), "with_metadata": N_("Image and details")}
CV_COLUMNS = {
    ("cv_balanced_accuracy", "without_metadata"): N_("Balanced accuracy, image only"),
    ("cv_balanced_accuracy", "with_metadata"): N_("Balanced accuracy, with %(fields)s"),
    ("cv_macro_auc", "without_metadata"): N_("Mean AUC, image only"),
    ("cv_macro_auc", "with_metadata"): N_("Mean AUC, with %(fields)s"),
}
# training.inputs.shifts.HELD_OUT: (row name, help).
SHIFTS = {
    "equalize": (N_("Grey levels spread evenly"), N_("global histogram equalisation")),
    "clahe": (
        N_("Local contrast evened out"),
        N_("contrast-limited adaptive histogram equalisation (CLAHE), as many X-ray systems apply"),
    ),
    "sharpen": (N_("Edges sharpened"), N_("an unsharp mask, like a vendor's edge enhancement")),
    "jpeg_25": (N_("Strongly compressed"), N_("saved again as a JPEG of quality 25")),
    "crop_10": (N_("Tighter field"), N_("a tenth of the image cut from every side")),
    "pad_12": (N_("Wider field"), N_("a black border of 12% on every side")),
}
# The wrong-kind checks of wrong_kind.json: (name, in running text, help).
METHODS = {
    "in_kind_head": (
        N_("In-kind check"),
        N_("in-kind check"),
        N_(
            "a small extra output of the network, trained to tell images of this kind from "
            "other images"
        ),
    ),
    "max_probability": (
        N_("Top-probability rule"),
        N_("top-probability rule"),
        N_("doubt when no kind gets a high probability"),
    ),
}
# framings.json's framings: (name, help).
FRAMINGS = {
    "as_given": (N_("As given"), N_("the image as it is, answered as the site answers it")),
    "one_view": (
        N_("One view"),
        N_("the image alone, without the mirror images the site adds: a quarter of the work"),
    ),
    "centre_square_crop": (
        N_("Centre-square crop"),
        N_("the image cut to its centred square first, i.e. framed more tightly"),
    ),
    "mean_of_4_mirrors": (
        N_("Mean of 4 mirrors"),
        N_("the mean answer for the image and its three mirror images; not used by the site"),
    ),
}
# A figure with its unit (a cell's "unit", a duration's).
UNITS = {
    "megabytes": N_("%(figure)s MB"),
    "minutes": N_("%(figure)s min"),
    "seconds": N_("%(figure)s seconds"),
    "hours": N_("%(figure)s hours"),
}
DURATION_MINUTES = N_("%(figure)s minutes")
POINTS = {
    "lower": N_("%(figure)s points lower"),
    "higher": N_("%(figure)s points higher"),
    "same": N_("no different"),
}
AUC_CHANGE = {"lower": N_("%(figure)s lower"), "higher": N_("%(figure)s higher")}
# What metadata.json's copy of a rule differs in (facts' "installed").
INSTALLED = {
    "temperature": N_("temperature"),
    "risk_threshold": N_("risk threshold"),
    "wrong_kind_threshold": N_("wrong-kind threshold"),
    "unsure_threshold": N_("unsure threshold"),
}
SPLITS = {"validation": N_("validation"), "test": N_("test")}
# Sections of tables.json whose facts are figures only, shown as they are; every other
# section's facts get their words from Words._facts_<section>.
PLAIN_FACTS = ("headline", "cross_validation", "backbones")
# What a task's split keeps apart (metadata.json's split_group, else "case"), as the tables
# and sentences name them.
GROUPS = (
    N_("lesion"),
    N_("patient"),
    N_("slide"),
    N_("case"),
    N_("lesions"),
    N_("patients"),
    N_("slides"),
    N_("cases"),
    N_("Lesions"),
    N_("Patients"),
    N_("Slides"),
    N_("Cases"),
)


def _(text: str, **figures) -> str:
    return gettext(text, **figures)


def in_words(names: list[str]) -> str:
    """["A"] → "A", ["A", "B", "C"] → "A, B and C" (in the page's language)."""
    if len(names) == 1:
        return names[0]
    return _("%(first)s and %(last)s", first=", ".join(names[:-1]), last=names[-1])


class Words:
    """The words of one task's tables, from its metadata.json, in the page's language."""

    def __init__(self, metadata: dict, data: dict | None = None):
        self.metadata = metadata
        self.categories = (data or {}).get("categories") or {}
        self.labels = {label["id"]: label["name"] for label in metadata.get("labels") or []}
        self.kinds = (metadata.get("wrong_kind") or {}).get("kind_names") or {}
        self.sources = {s["id"]: s for s in metadata.get("sources") or []}
        self.group = metadata.get("split_group") or "case"

    # ---- names -------------------------------------------------------------------------

    def label(self, label_id: str) -> str:
        return translate_text(self.labels.get(label_id, label_id))

    def labels_in_words(self, ids: list[str]) -> str:
        return in_words([self.label(i) for i in ids])

    def fields(self) -> str:
        """The details the model takes, in running text ("age, sex, body site")."""
        return running_list(field_names(self.metadata))

    def source(self, source_id: str) -> str:
        return translate_text((self.sources.get(source_id) or {}).get("name") or source_id)

    def kind(self, kind_id: str) -> str:
        """A kind of image of the wrong-kind check, as a row's name ("Document or
        screenshot")."""
        name = str(self.kinds.get(kind_id, kind_id))
        whole = translate_text(sentence(name))
        return whole if whole != sentence(name) else sentence(translate_text(name))

    def method(self, method_id: str, running: bool = False) -> str:
        fallback = method_id.replace("_", " ").capitalize()
        name, lower, _help = METHODS.get(method_id, (fallback, fallback.lower(), ""))
        return _(lower if running else name)

    def method_help(self, method_id: str) -> str:
        return _(METHODS[method_id][2]) if method_id in METHODS else ""

    def run(self, run: dict) -> str:
        name = _("%(network)s, %(epochs)s epochs", network=run["backbone"], epochs=run["epochs"])
        if run.get("again"):
            name = (
                f"{name}, {run['settings']}"
                if run.get("settings")
                else _(
                    "%(network)s, %(epochs)s epochs, other settings",
                    network=run["backbone"],
                    epochs=run["epochs"],
                )
            )
        if run.get("this_model"):
            name = _("%(name)s (this model)", name=name)
        return name

    # ---- words -------------------------------------------------------------------------

    def say(self, word) -> str | None:
        """The text of a word of tables.json (see the module's docstring)."""
        if word is None:
            return None
        if isinstance(word, str):
            if word in ("counts_caption", "all_flagged_help", "count_groups"):
                return self._keyed({"key": word})
            return _(WORDS[word]) if word in WORDS else word
        if "label" in word and "key" not in word:
            return self.label(word["label"])
        if "kind" in word:
            return self.kind(word["kind"])
        if "source" in word:
            return self.source(word["source"])
        if "where" in word:
            where = (self.sources.get(word["where"]) or {}).get("where")
            return translate_text(where) if where else None
        if "figure" in word:
            return localise_figures(word["figure"])
        if "run" in word:
            return self.run(word["run"])
        return self._keyed(dict(word))

    def _keyed(self, word: dict) -> str | None:
        key = word.pop("key")
        if key == "variant":
            return _(VARIANTS[word["variant"]])
        if key in ("cv_balanced_accuracy", "cv_macro_auc"):
            return _(CV_COLUMNS[key, word["variant"]], fields=self.fields())
        if key in ("shift", "shift_help"):
            name, help = SHIFTS.get(word["shift"], (word["shift"], None))
            return _(name) if key == "shift" else (_(help) if help else None)
        if key in ("view", "view_help"):
            fallback = (word["view"].replace("_", " ").capitalize(), "")
            name, help = FRAMINGS.get(word["view"], fallback)
            return _(name) if key == "view" else (_(help) if help else None)
        if key == "method":
            return self.method(word["method"])
        if key == "count_groups":  # "Lesions", of metadata.json's split_group
            return translate_text(f"{self.group.capitalize()}s")
        if key == "method_used":
            return _(WORDS[key], method=self.method(word["method"]))
        figures = {}
        for name, value in word.items():
            if name == "label":
                figures[name] = self.label(value)
            elif name == "labels":
                figures[name] = self.labels_in_words(value)
            elif name == "variant":
                figures[name] = self.say(value)
            else:
                figures[name] = value
        if key in ("headline_caption_details",):
            figures["fields"] = self.fields()
        if key == "counts_caption":
            figures["groups"] = translate_text(f"{self.group}s")
        if key == "all_flagged_help":
            figures["sentence"] = self.risk_message("high")
        return _(WORDS[key], **figures)

    def risk_message(self, which: str) -> str:
        return translate_text(((self.metadata.get("risk") or {}).get("messages") or {}).get(which))

    def unit(self, figure: str, unit: str) -> str:
        return _(UNITS[unit], figure=figure)

    def points(self, change: dict | None) -> str | None:
        if change is None:
            return None
        return (
            _(POINTS[change["way"]], figure=change["points"])
            if change["points"]
            else _(POINTS["same"])
        )

    def installed(self, other: dict | None) -> str | None:
        """ "temperature (0.84, not 0.85)": metadata.json's copy of a rule and the measured one."""
        if other is None:
            return None
        return _(
            "%(what)s (%(installed)s, not %(measured)s)",
            what=_(INSTALLED[other["what"]]),
            installed=other["installed"] or _("none"),
            measured=other["measured"] or _("none"),
        )

    # ---- tables ------------------------------------------------------------------------

    def table(self, stored: dict | None) -> dict | None:
        """The table ``templates/_table.html`` prints: every word in the page's language."""
        if stored is None:
            return None
        columns = [{**c, "name": self.say(c["name"])} for c in stored["columns"]]
        groups = stored.get("groups")
        if groups:
            groups = [{**g, "name": self.say(g["name"])} if "name" in g else g for g in groups]
        rows = []
        for row in stored["rows"]:
            cells = []
            for i, cell in enumerate(row["cells"]):
                made = {**cell, "label": self.say(cell.get("label")) or columns[i + 1]["name"]}
                if cell.get("unit") and cell.get("text") is not None:
                    made["text"] = self.unit(cell["text"], cell["unit"])
                else:
                    made["text"] = localised(cell.get("text"))
                if "labels" in cell:
                    made["abbrs"] = [{"text": i, "title": self.label(i)} for i in cell["labels"]]
                cells.append(made)
            rows.append(
                {
                    **row,
                    "header": self.say(row["header"]),
                    "help": self.say(row.get("help")),
                    "cells": cells,
                }
            )
        return {
            **stored,
            "title": self.say(stored["title"]),
            "caption": self.say(stored["caption"]),
            "columns": columns,
            "groups": groups,
            "rows": rows,
        }

    # ---- facts -------------------------------------------------------------------------

    def facts(self, section: str, facts: dict | None) -> dict | None:
        """A section's facts with their words (names, lists, changes) in the page's language."""
        if facts is None:
            return None
        if section in PLAIN_FACTS:
            return facts
        worded = getattr(self, f"_facts_{section}", None)
        if worded is None:  # a renamed section would otherwise show raw figures
            raise KeyError(f"no words for the facts of section {section!r}")
        return worded(dict(facts))

    def _facts_training(self, facts: dict) -> dict:
        duration = facts.get("duration")
        if duration:
            text = DURATION_MINUTES if duration["unit"] == "minutes" else UNITS[duration["unit"]]
            facts["duration"] = _(text, figure=duration["figure"])
        return facts

    def _facts_data(self, facts: dict) -> dict:
        facts["per_label"] = [
            {"name": self.label(item["id"]), "count": item["count"]}
            for item in facts.get("per_label") or []
        ]
        recorded = [
            N_("Age") if key == "age" else str((self.categories.get(key) or {}).get("title", key))
            for key in facts.get("recorded") or []
        ]
        facts["recorded"] = running_list(recorded) if recorded else None
        return facts

    def _facts_calibration(self, facts: dict) -> dict:
        worse = [
            _(
                "the %(metric)s on %(split)s",
                metric=w["metric"].upper(),
                split=_(SPLITS[w["split"]]),
            )
            for w in facts.get("worse") or []
        ]
        facts["worse"] = (
            None
            if not worse
            else worse[0]
            if len(worse) == 1
            else _("%(first)s or %(last)s", first=", ".join(worse[:-1]), last=worse[-1])
        )
        facts["installed"] = self.installed(facts.get("installed"))
        return facts

    def _facts_risk(self, facts: dict) -> dict:
        facts["labels"] = self.labels_in_words(facts["labels"])
        facts["focus"] = self.label(facts["focus"])
        facts["high"], facts["low"] = self.risk_message("high"), self.risk_message("low")
        facts["installed"] = self.installed(facts.get("installed"))
        return facts

    def _facts_wrong_kind(self, facts: dict) -> dict:
        def method(item):
            return {
                **item,
                "name": self.method(item["method"], running=True),
                "help": self.method_help(item["method"]),
            }

        facts["chosen"] = method(facts["chosen"])
        facts["others"] = [method(item) for item in facts.get("others") or []]
        facts["installed"] = self.installed(facts.get("installed"))
        return facts

    def _facts_unsure(self, facts: dict) -> dict:
        facts["installed"] = self.installed(facts.get("installed"))
        return facts

    def _facts_framings(self, facts: dict) -> dict:
        for view in ("crop", "mirrors", "one_view"):
            if facts.get(view):
                facts[view] = {**facts[view], "change": self.points(facts[view]["change"])}
        return facts

    def _facts_sources(self, facts: dict) -> dict:
        facts["weighted_drop"] = self.points(facts["weighted_drop"])
        facts["mean_drop"] = self.points(facts["mean_drop"])
        change = facts.get("mean_auc_drop")
        if change:
            facts["mean_auc_drop"] = _(AUC_CHANGE[change["way"]], figure=change["figure"])
        if facts.get("largest"):
            largest = facts["largest"]
            facts["largest"] = {
                "name": self.source(largest["source"]),
                "drop": self.points(largest["drop"]),
            }
        few = [
            _(
                "%(name)s (%(n)s test images of %(kinds)s kinds)",
                name=self.source(item["source"]),
                n=item["n"],
                kinds=item["kinds"],
            )
            for item in facts.get("few") or []
        ]
        facts["few"] = in_words(few) if few else None
        facts["names"] = {source: self.source(source) for source in facts.get("sources") or []}
        return facts


# Words that arrive written, translated whole where they are shown (translate_text): the
# titles of data.json's recorded columns and chart titles made from them, metadata.json's
# training settings (the model card), and the default SITE_NAME of webapp.config.
ARRIVING = (
    N_("Confusion matrix (counts)"),
    N_("Confusion matrix (share of each row)"),
    N_("Loss"),
    N_("How the label was confirmed"),
    N_("Source collection"),
    N_("sampling"),
    N_("weights"),
    N_("standard"),
    N_("light"),
    N_("In-browser screener"),
    N_("none"),
)
