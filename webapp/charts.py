"""Plotly figures for the performance and data pages, built from the report files.

Every builder takes the parsed JSON of a report file (see ``webapp.reports``)
and the task's labels from its metadata.json, and returns a :class:`Chart`:
a title, a one-sentence caption that says what to read from the figure (with
the figure's own numbers where it helps) and the figure as Plotly JSON, which
``static/js/charts.js`` draws with the partial plotly.js bundle of
``static/vendor/plotly`` (scatter, bar and heatmap traces only: a chart of another
trace type needs a larger bundle, see ``scripts/vendor_plotly.sh``).
Nothing here knows a particular task: names, counts and the word for what a
split keeps together (lesion, patient, …) all come from the files (only the catalogue
is told, by :data:`RECORDED_WORDS`, of a few words the shipped data records).

Every word a person reads (titles, captions, axes, legends, hover labels, notes) is in the
page's language: written here in English with ``gettext`` (``%(name)s`` placeholders,
numbers formatted here), and the text that arrives written (the kinds' names, the data's
recorded values) translated with :func:`webapp.i18n.translate_text`. So a figure is built
inside the request, for its language; Plotly's own syntax (``%{x:.1%}``) is never part of a
msgid but passed in as a placeholder's value or added around the translated words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from webapp.i18n import (
    _translate,
    current_language,
    localise_figures,
    measured,
    number_marks,
    translate_text,
)
from webapp.i18n import gettext as _
from webapp.report_text import N_

# Okabe & Ito's colour-blind-safe palette, yellow last (hard to see as a line on white).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#222222", "#F0E442"]
ACCENT = "#2f6f73"  # the site's accent (static/css/site.css)
SOFT = "#9fc5c7"
MUTED = "#8a939b"
SEQUENTIAL = [[0.0, "#f4f8f8"], [0.5, "#7fb2b5"], [1.0, "#1f4f52"]]

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={
            "family": "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
            "sans-serif",
            "size": 13,
            "color": "#212529",
        },
        colorway=PALETTE,
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        xaxis={
            "gridcolor": "#e9ecef",
            "linecolor": "#adb5bd",
            "zeroline": False,
            "automargin": True,
            "title": {"standoff": 8},
        },
        yaxis={
            "gridcolor": "#e9ecef",
            "linecolor": "#adb5bd",
            "zeroline": False,
            "automargin": True,
            "title": {"standoff": 8},
        },
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "x": 0,
            "xanchor": "left",
            "font": {"size": 12},
        },
        hoverlabel={"font": {"size": 13}},
        hovermode="closest",
    )
)


@dataclass
class Chart:
    """One figure of a page: drawn from ``figure`` (Plotly JSON), or the reason it is not."""

    id: str
    title: str
    caption: str = ""
    figure: str | None = None
    problem: str | None = None
    height: int | None = None  # of the figure, kept free on the page until it is drawn


class Labels:
    """The task's labels (from metadata.json) in model order: names and a colour each."""

    def __init__(self, labels: list[dict]):
        self.ids = [label["id"] for label in labels]
        self._names = {label["id"]: label["name"] for label in labels}

    def name(self, label_id: str) -> str:
        """The kind's name in the page's language."""
        return translate_text(self._names.get(label_id, label_id))

    def colour(self, label_id: str) -> str:
        index = self.ids.index(label_id) if label_id in self.ids else len(self.ids)
        return PALETTE[index % len(PALETTE)]


def wrap(text: str, width: int = 18) -> str:
    """Break a long name into lines (Plotly's <br>) so a phone keeps room for the bars."""
    lines, line = [], ""
    for word in str(text).split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "<br>".join(lines + [line]) if line else str(text)


def value_name(value: str) -> str:
    """A recorded value of the data ("lower extremity", "hand", "none") in the page's
    language: the catalogue's entry for it capitalised (the form of the details' options and
    of a legend, "Lower extremity"), else for it as it is, else the value as recorded (a
    collection's name)."""
    if current_language() == "en":
        return value
    capitalised, known = _translate(value[:1].upper() + value[1:])
    return capitalised if known else translate_text(value)


# Words of the shipped datasets' recorded columns (reports/<task>/data.json: a column's title
# and values) that no other source puts in the catalogue, marked here so that the data page's
# charts can show them translated (tests/test_i18n.py checks that each one is).
RECORDED_WORDS = (
    N_("Cause given in the file name"),
    N_("Bacteria"),
    N_("Virus"),
    N_("None"),
    N_("Histo"),
    N_("Follow up"),
    N_("Consensus"),
    N_("Confocal"),
)


def plain_name(field_label: str) -> str:
    """A detail's label without its unit, for running text: "Age (years)" → "Age"."""
    return re.sub(r"\s*\(.*?\)", "", field_label)


# Axes of shares from 0 to 1, a little wider than the data so that the two "0%" labels do
# not meet at the corner and the curves are not cut at 100%.
UNIT_AXIS = {"range": [-0.02, 1.02], "tickformat": ".0%", "tickvals": [0, 0.2, 0.4, 0.6, 0.8, 1]}


def _figure(height: int, **layout) -> go.Figure:
    return go.Figure(layout=go.Layout(template=TEMPLATE, height=height, **layout))


def _chart(chart_id: str, title: str, caption: str, figure: go.Figure) -> Chart:
    if current_language() != "en":  # the axes' and hover labels' numbers: "0,5", "1.431"
        decimal, group, _space = number_marks(current_language())
        figure.update_layout(separators=decimal + group)
    return Chart(chart_id, title, caption, figure.to_json(), height=figure.layout.height)


def _percent(fraction: float) -> str:
    return localise_figures(f"{fraction * 100:.0f}%")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


VARIANT_NAMES = {"without_metadata": N_("without details"), "with_metadata": N_("with details")}


# ---- performance page ------------------------------------------------------------------


def training_curves(history: dict, has_details: bool) -> list[Chart]:
    """Loss, accuracy and balanced accuracy per epoch, training vs validation."""
    epochs = history["epochs"]
    x = list(range(1, len(epochs["loss"]) + 1))
    selected = history.get("selected_epoch")
    panels = [
        (
            "loss",
            _("Loss"),
            "loss",
            _("Loss"),
            _(
                "Both should fall; a validation loss that turns back up while the training loss "
                "keeps falling means the model has begun to memorise its training images."
            ),
        ),
        (
            "accuracy",
            _("Accuracy"),
            "accuracy",
            _("Accuracy"),
            _(
                "Accuracy counts every image alike, so it mostly follows the commonest kind; "
                "balanced accuracy (next) weighs every kind the same."
            ),
        ),
        (
            "balanced-accuracy",
            _("Balanced accuracy"),
            "balanced_accuracy",
            _("Balanced accuracy"),
            _(
                "The mean of the per-kind sensitivities; the model kept is the marked epoch, "
                "where validation balanced accuracy without details was highest."
            )
            if has_details
            else _(
                "The mean of the per-kind sensitivities; the model kept is the marked epoch, "
                "where validation balanced accuracy was highest."
            ),
        ),
    ]
    charts = []
    for slug, title, key, axis, caption in panels:
        figure = _figure(
            300,
            xaxis={"title": {"text": _("Epoch")}, "dtick": 1 if len(x) <= 15 else None},
            yaxis={"title": {"text": axis}, "tickformat": ".0%" if key != "loss" else None},
            hovermode="x unified",
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=epochs[key],
                name=_("training"),
                mode="lines+markers",
                line={"color": PALETTE[1]},
            )
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=epochs[f"val_{key}"],
                name=_("validation"),
                mode="lines+markers",
                line={"color": PALETTE[0]},
            )
        )
        blanked = epochs.get("val_balanced_accuracy_no_metadata")
        if key == "balanced_accuracy" and has_details and blanked:
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=blanked,
                    name=_("validation, no details"),
                    mode="lines+markers",
                    line={"color": PALETTE[0], "dash": "dot"},
                )
            )
        if selected:
            figure.add_vline(x=selected, line={"color": MUTED, "dash": "dash", "width": 1})
            figure.add_annotation(
                x=selected,
                y=0,
                yref="paper",
                text=_("kept"),
                showarrow=False,
                xanchor="right",
                yanchor="bottom",
                xshift=-3,
                font={"color": MUTED, "size": 11},
                bgcolor="#ffffff",
            )
        charts.append(_chart(f"chart-{slug}", title, caption, figure))
    return charts


def schedule(history: dict) -> Chart:
    """The learning rate and momentum actually used, per step (shown in epochs)."""
    sampled = history["schedule"]
    per_epoch = history.get("steps_per_epoch") or 1
    x = [step / per_epoch for step in sampled["step"]]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.update_layout(template=TEMPLATE, height=300, hovermode="x unified")
    figure.add_trace(
        go.Scatter(
            x=x,
            y=sampled["learning_rate"],
            name=_("learning rate"),
            mode="lines",
            line={"color": ACCENT, "width": 2.5},
        ),
        secondary_y=False,
    )
    if sampled.get("momentum"):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=sampled["momentum"],
                name=_("momentum (β₁)"),
                mode="lines",
                line={"color": PALETTE[1], "dash": "dot"},
            ),
            secondary_y=True,
        )
        figure.update_yaxes(title_text=_("Momentum"), secondary_y=True, showgrid=False)
    figure.update_yaxes(title_text=_("Learning rate"), exponentformat="power", secondary_y=False)
    figure.update_xaxes(title_text=_("Epoch"))
    peak = max(sampled["learning_rate"])
    return _chart(
        "chart-schedule",
        _("Learning rate and momentum"),
        _(
            "The learning rate climbs to its peak (%(peak)s) early in training and then anneals "
            "towards zero while the momentum moves the opposite way, so the model explores first "
            "and settles at the end.",
            peak=format(peak, ".2g"),
        ),
        figure,
    )


def confusion_matrices(result: dict, labels: Labels, label_order: list[str]) -> list[Chart]:
    """Counts and row-normalised shares; rows are the true kind, columns the answer."""
    matrix = result["confusion_matrix"]
    ids = list(label_order)
    names = [labels.name(i) for i in ids]
    rows = [sum(row) for row in matrix]
    shares = [
        [count / total if total else None for count in row] for row, total in zip(matrix, rows)
    ]
    hover_names = [[[names[r], names[c]] for c in range(len(ids))] for r in range(len(ids))]
    height = max(320, 120 + 44 * len(ids))
    axes = {
        "xaxis": {
            "title": {"text": _("Model said")},
            "side": "bottom",
            "type": "category",
            "showgrid": False,
        },
        "yaxis": {
            "title": {"text": _("True kind")},
            "autorange": "reversed",
            "type": "category",
            "showgrid": False,
        },
    }
    # The hover label's first lines: "True: Melanoma<br>Model said: Melanocytic nevus (mole)".
    said = (
        _("True: %(kind)s", kind="%{customdata[0]}")
        + "<br>"
        + _("Model said: %(kind)s", kind="%{customdata[1]}")
    )
    counts = _figure(height, **axes)
    counts.add_trace(
        go.Heatmap(
            z=matrix,
            x=ids,
            y=ids,
            colorscale=SEQUENTIAL,
            showscale=False,
            customdata=hover_names,
            texttemplate="%{z}",
            zmin=0,
            xgap=1,
            ygap=1,
            hovertemplate=said + "<br>" + _("%(count)s images", count="%{z}") + "<extra></extra>",
        )
    )
    normalised = _figure(height, **axes)
    normalised.add_trace(
        go.Heatmap(
            z=shares,
            x=ids,
            y=ids,
            colorscale=SEQUENTIAL,
            showscale=False,
            zmin=0,
            zmax=1,
            customdata=[
                [[names[r], names[c], matrix[r][c]] for c in range(len(ids))]
                for r in range(len(ids))
            ],
            texttemplate="%{z:.0%}",
            xgap=1,
            ygap=1,
            hovertemplate=said
            + "<br>"
            + _(
                "%(share)s of the row (%(count)s images)",
                share="%{z:.1%}",
                count="%{customdata[2]}",
            )
            + "<extra></extra>",
        )
    )
    return [
        _chart(
            "chart-confusion-counts",
            _("Confusion matrix (counts)"),
            _(
                "Each row is the true kind and each column what the model said: the diagonal "
                "holds the right answers and the other cells show which kinds it mixes up."
            ),
            counts,
        ),
        _chart(
            "chart-confusion-normalised",
            _("Confusion matrix (share of each row)"),
            _(
                "The same matrix with each row divided by its total, so the diagonal is each "
                "kind's sensitivity whatever its size, and a pale diagonal cell is a kind often "
                "missed."
            ),
            normalised,
        ),
    ]


def _diagonal(figure: go.Figure, name: str) -> None:
    """The dashed line from (0, 0) to (1, 1): guessing (ROC) or perfect calibration."""
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=name,
            line={"color": MUTED, "dash": "dash", "width": 1},
            hoverinfo="skip",
        )
    )


def _per_class_curves(per_class: dict, labels: Labels, order: list[str]):
    for label_id in order:
        curve = per_class.get(label_id)
        if curve:
            yield label_id, curve


def roc(curves: dict, labels: Labels, order: list[str]) -> Chart:
    figure = _figure(
        440,
        xaxis={"title": {"text": _("False-positive rate (1 − specificity)")}, **UNIT_AXIS},
        yaxis={"title": {"text": _("Sensitivity")}, **UNIT_AXIS},
    )
    _diagonal(figure, _("chance"))
    for label_id, curve in _per_class_curves(curves["per_class"], labels, order):
        figure.add_trace(
            go.Scatter(
                x=curve["roc"]["fpr"],
                y=curve["roc"]["tpr"],
                mode="lines",
                name=localise_figures(
                    f"{labels.name(label_id)} (AUC {measured(curve['roc']['auc'], 2)})"
                ),
                line={"color": labels.colour(label_id), "width": 2},
                hovertemplate=labels.name(label_id)
                + "<br>"
                + _("false positives %(share)s", share="%{x:.1%}")
                + "<br>"
                + _("sensitivity %(share)s", share="%{y:.1%}")
                + "<extra></extra>",
            )
        )
    return _chart(
        "chart-roc",
        _("ROC curve per kind"),
        _(
            "The nearer a curve runs to the top-left corner (AUC near 1), the better the model ranks "
            "images of that kind above all others; the dashed diagonal is guessing."
        ),
        figure,
    )


def precision_recall(curves: dict, labels: Labels, order: list[str]) -> Chart:
    figure = _figure(
        440,
        xaxis={"title": {"text": _("Sensitivity (recall)")}, **UNIT_AXIS},
        yaxis={"title": {"text": _("Precision")}, **UNIT_AXIS},
    )
    for label_id, curve in _per_class_curves(curves["per_class"], labels, order):
        pr = curve["pr"]
        figure.add_trace(
            go.Scatter(
                x=pr["recall"],
                y=pr["precision"],
                mode="lines",
                name=localise_figures(
                    f"{labels.name(label_id)} (AP {measured(pr['average_precision'], 2)})"
                ),
                line={"color": labels.colour(label_id), "width": 2},
                hovertemplate=labels.name(label_id)
                + "<br>"
                + _("sensitivity %(share)s", share="%{x:.1%}")
                + "<br>"
                + _("precision %(share)s", share="%{y:.1%}")
                + "<br>"
                + _("(guessing: %(share)s)", share=format(pr['prevalence'], ".1%"))
                + "<extra></extra>",
            )
        )
    return _chart(
        "chart-precision-recall",
        _("Precision–recall curve per kind"),
        _(
            "Precision is how often the model is right when it names a kind; rare kinds sit lower "
            "even when ranked well, because guessing would be right only as often as the kind "
            "occurs (AP: the area under each curve)."
        ),
        figure,
    )


def _confidence_hover(count_text: str, count: str, mean: str) -> str:
    """The hover label's lines of a reliability bin: its range of confidence and how many
    answers it holds (``count_text``: a msgid with %(low)s, %(high)s and %(count)s), their
    mean confidence and the share right (``count``, ``mean``: Plotly's references)."""
    return (
        _(count_text, low="%{customdata[0]:.0%}", high="%{customdata[1]:.0%}", count=count)
        + "<br>"
        + _("mean confidence %(share)s", share=mean)
        + "<br>"
        + _("right %(share)s", share="%{y:.1%}")
        + "<extra></extra>"
    )


def reliability(curves: dict) -> Chart:
    bins = curves["reliability"]
    centres = [(lo + hi) / 2 for lo, hi in zip(bins["bin_lower"], bins["bin_upper"])]
    widths = [hi - lo for lo, hi in zip(bins["bin_lower"], bins["bin_upper"])]
    figure = _figure(
        380,
        xaxis={"title": {"text": _("Confidence in the top answer")}, **UNIT_AXIS},
        yaxis={"title": {"text": _("Share right")}, **UNIT_AXIS},
        bargap=0.08,
    )
    figure.add_trace(
        go.Bar(
            x=centres,
            y=bins["accuracy"],
            width=widths,
            name=_("share right"),
            marker={"color": ACCENT},
            customdata=[
                [lo, hi, n, conf]
                for lo, hi, n, conf in zip(
                    bins["bin_lower"], bins["bin_upper"], bins["count"], bins["confidence"]
                )
            ],
            hovertemplate=_confidence_hover(
                N_("confidence %(low)s–%(high)s: %(count)s images"),
                "%{customdata[2]}",
                "%{customdata[3]:.1%}",
            ),
        )
    )
    _diagonal(figure, _("perfectly calibrated"))
    return _chart(
        "chart-reliability",
        _("Reliability (calibration)"),
        _(
            "A bar below the diagonal means the model was more confident than it was right "
            "(over-confident) at that confidence; the expected calibration error, %(ece)s, "
            "is the average gap, weighted by the number of images.",
            ece=format(bins['ece'], ".3f"),
        ),
        figure,
    )


def calibration(calibration: dict) -> Chart:
    """The reliability diagram of calibration.json's test split, before and after dividing
    the network's scores by the temperature: share right against mean confidence per bin,
    each point as large as the number of test answers in it."""
    temperature = calibration["temperature"]
    test = calibration["test"]
    largest = max(row["count"] for when in ("before", "after") for row in test[when]["bins"])
    figure = _figure(
        400,
        xaxis={"title": {"text": _("Confidence in the top answer")}, **UNIT_AXIS},
        yaxis={"title": {"text": _("Share right")}, **UNIT_AXIS},
    )
    _diagonal(figure, _("perfectly calibrated"))
    for when, name, colour, dash in (
        ("before", _("before calibration"), PALETTE[1], "dot"),
        (
            "after",
            _("after (scores ÷ %(temperature)s), as shown", temperature=format(temperature, ".2f")),
            ACCENT,
            "solid",
        ),
    ):
        bins = test[when]["bins"]
        figure.add_trace(
            go.Scatter(
                x=[row["confidence"] for row in bins],
                y=[row["accuracy"] for row in bins],
                mode="lines+markers",
                name=localise_figures(f"{name}: ECE {measured(test[when]['ece'], 3)}"),
                line={"color": colour, "dash": dash, "width": 2},
                marker={
                    "color": colour,
                    "size": [5 + 19 * math.sqrt(row["count"] / largest) for row in bins],
                },
                customdata=[[row["low"], row["high"], row["count"]] for row in bins],
                hovertemplate=name
                + "<br>"
                + _confidence_hover(
                    N_("confidence %(low)s–%(high)s: %(count)s answers"),
                    "%{customdata[2]:,}",
                    "%{x:.1%}",
                ),
            )
        )
    return _chart(
        "chart-calibration",
        _("Reliability before and after calibration"),
        _(
            "Each point is one range of confidence, larger where it holds more test answers; a "
            "point below the dashed diagonal means the model was right less often than it was "
            "confident. Dividing the scores by T = %(temperature)s moved the test ECE from "
            "%(before)s to %(after)s.",
            temperature=format(temperature, ".2f"),
            before=format(test['before']['ece'], ".3f"),
            after=format(test['after']['ece'], ".3f"),
        ),
        figure,
    )


def metadata_effect(report: dict, labels: Labels, field_names: list[str]) -> Chart:
    """Sensitivity per kind (and their mean, the balanced accuracy) without vs with details."""
    order = report.get("labels") or labels.ids
    categories = [_("Mean of the kinds")] + [wrap(labels.name(i)) for i in order]
    figure = _figure(
        110 + 52 * len(categories),
        barmode="group",
        xaxis={
            "title": {"text": _("Sensitivity")},
            "range": [0, 1.15],
            "tickformat": ".0%",
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
        },
        yaxis={"autorange": "reversed", "type": "category"},
        bargap=0.25,
    )
    for variant, colour in (("without_metadata", SOFT), ("with_metadata", ACCENT)):
        result = report[variant]
        values = [result["balanced_accuracy"]] + [
            (result["per_class"].get(i) or {}).get("sensitivity") for i in order
        ]
        variant_name = _(VARIANT_NAMES[variant])
        figure.add_trace(
            go.Bar(
                y=categories,
                x=values,
                orientation="h",
                name=variant_name,
                marker={"color": colour},
                texttemplate="%{x:.0%}",
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{y}}<br>{variant_name}: %{{x:.1%}}<extra></extra>",
            )
        )
    if field_names:
        # "age, sex, body site": the catalogue holds the shipped lists whole.
        given = translate_text(", ".join(plain_name(name) for name in field_names).lower())
        caption = _(
            "Where the dark bar is longer than the pale one, giving %(given)s helped the model "
            "find that kind; the top pair is the balanced accuracy.",
            given=given,
        )
    else:
        caption = _(
            "Where the dark bar is longer than the pale one, giving the details helped the model "
            "find that kind; the top pair is the balanced accuracy."
        )
    return _chart("chart-metadata-effect", _("Effect of the details"), caption, figure)


def held_out_sources(loso: dict, name: Callable[[str], str]) -> Chart:
    """Balanced accuracy on each collection's test images of leave_one_source_out.json:
    the model trained on every collection vs the one trained without that collection
    (``name(source)``: how the page calls it, in English; translated here)."""
    sources = list(loso["sources"])
    categories = [wrap(translate_text(name(source))) for source in sources]
    figure = _figure(
        max(300, 110 + 52 * len(categories)),
        barmode="group",
        xaxis={
            "title": {"text": _("Balanced accuracy on its test images")},
            "range": [0, 1.15],
            "tickformat": ".0%",
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
        },
        yaxis={"autorange": "reversed", "type": "category"},
        bargap=0.25,
    )
    shown = []
    for key, trace_name, colour in (
        ("reference", _("trained with it"), SOFT),
        ("held_out", _("never saw it"), ACCENT),
    ):
        values = [loso["sources"][s]["test_split"][key]["balanced_accuracy"] for s in sources]
        counts = [loso["sources"][s]["test_split"][key]["n"] for s in sources]
        shown.append(values)
        figure.add_trace(
            go.Bar(
                y=categories,
                x=values,
                orientation="h",
                name=trace_name,
                customdata=counts,
                marker={"color": colour},
                texttemplate="%{x:.0%}",
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{y}}<br>{trace_name}: %{{x:.1%}} "
                + _("(%(count)s test images)", count="%{customdata:,}")
                + "<extra></extra>",
            )
        )
    fell = sum(with_it > without for with_it, without in zip(*shown))
    return _chart(
        "chart-held-out-sources",
        _("Trained with and without each collection"),
        _(
            "Where the dark bar is shorter than the pale one (%(fell)s of the %(count)s "
            "collections), the model did worse on that collection's test images when it had never "
            "seen the collection.",
            fell=fell,
            count=len(sources),
        ),
        figure,
    )


# ---- data page --------------------------------------------------------------------------


def class_distribution(data: dict, labels: Labels) -> Chart:
    order = data.get("labels") or labels.ids
    counts = [data["images_per_label"].get(i, 0) for i in order]
    total = sum(counts) or 1
    names = [labels.name(i) for i in order]
    figure = _figure(
        90 + 44 * len(order),
        xaxis={"title": {"text": _("Images")}},
        yaxis={"autorange": "reversed", "type": "category"},
        showlegend=False,
    )
    figure.add_trace(
        go.Bar(
            y=[wrap(name) for name in names],
            x=counts,
            orientation="h",
            marker={"color": [labels.colour(i) for i in order]},
            text=[localise_figures(f"{n:,} ({n / total:.0%})") for n in counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: " + _("%(count)s images", count="%{x:,}") + "<extra></extra>",
        )
    )
    figure.update_xaxes(range=[0, max(counts) * 1.6 if max(counts) else 1], nticks=4)
    common, rare = (
        max(range(len(order)), key=counts.__getitem__),
        min(range(len(order)), key=counts.__getitem__),
    )
    if counts[common] == counts[rare]:
        caption = _(
            "Every kind has %(count)s of the %(total)s images, so no kind outweighs another in "
            "training or in the plain accuracy.",
            count=format(counts[common], ","),
            total=format(total, ","),
        )
    else:
        caption = _(
            "%(common)s alone makes up %(common_share)s of the %(total)s images and %(rare)s "
            "only %(rare_share)s, so plain accuracy would reward favouring the common kinds; "
            "that is why balanced accuracy is reported.",
            common=names[common],
            common_share=format(counts[common] / total, ".0%"),
            total=format(total, ","),
            rare=names[rare],
            rare_share=format(counts[rare] / total, ".1%"),
        )
    return _chart("chart-classes", _("Images per kind"), caption, figure)


def images_and_groups(data: dict, labels: Labels, group: str) -> Chart:
    order = data.get("labels") or labels.ids
    names = [wrap(labels.name(i)) for i in order]
    images = [data["images_per_label"].get(i, 0) for i in order]
    groups = [data["groups_per_label"].get(i, 0) for i in order]
    # What the split keeps together ("lesion"), in the page's language.
    one, many = translate_text(group), translate_text(f"{group}s")
    figure = _figure(
        110 + 52 * len(order),
        barmode="group",
        xaxis={"title": {"text": _("Count")}, "nticks": 4},
        yaxis={"autorange": "reversed", "type": "category"},
        bargap=0.25,
    )
    figure.add_trace(
        go.Bar(
            y=names,
            x=images,
            orientation="h",
            name=_("images"),
            marker={"color": ACCENT},
            hovertemplate="%{y}: " + _("%(count)s images", count="%{x:,}") + "<extra></extra>",
        )
    )
    figure.add_trace(
        go.Bar(
            y=names,
            x=groups,
            orientation="h",
            name=many,
            marker={"color": SOFT},
            customdata=[n / g if g else None for n, g in zip(images, groups)],
            hovertemplate="%{y}: "
            + _(
                "%(count)s %(groups)s (%(per_group)s images each)",
                count="%{x:,}",
                groups=many,
                per_group="%{customdata:.2f}",
            )
            + "<extra></extra>",
        )
    )
    return _chart(
        "chart-groups",
        _("Images and %(groups)s per kind", groups=many),
        _(
            "Where the dark bar is longer, some %(groups)s have more than one image; the split "
            "keeps every image of a %(group)s in one part, so no test image shows a %(group)s "
            "the model trained on.",
            groups=many,
            group=one,
        ),
        figure,
    )


# Heat maps below have gaps between cells (xgap, ygap): besides reading better, that keeps
# plotly.js from drawing them as one pixelated image with a style="" attribute, which the
# site's Content-Security-Policy blocks.


def _share_heatmap(
    chart_id: str,
    title: str,
    caption: str,
    rows: list[str],
    counts: dict,
    order: list[str],
    labels: Labels,
    row_title: str,
) -> Chart:
    """y: the rows (values or bins), x: kinds; colour and text: share of the kind's images."""
    columns = [[counts.get(i, [0] * len(rows))[r] for i in order] for r in range(len(rows))]
    totals = [sum(counts.get(i, [0] * len(rows))) for i in order]
    shares = [[n / t if t else None for n, t in zip(row, totals)] for row in columns]
    kinds = {"title": {"text": _("Kind")}, "type": "category", "showgrid": False, "side": "top"}
    # The columns are named by the kinds' ids ("mel", "pneumonia"): short, and the same in
    # every language unless the id is a word the catalogue knows.
    ticks = [value_name(i) for i in order]
    if ticks != order:
        kinds.update(tickmode="array", tickvals=order, ticktext=ticks)
    figure = _figure(
        130 + 30 * len(rows),
        xaxis=kinds,
        yaxis={
            "title": {"text": row_title},
            "type": "category",
            "autorange": "reversed",
            "showgrid": False,
        },
    )
    figure.add_trace(
        go.Heatmap(
            z=shares,
            x=order,
            y=rows,
            colorscale=SEQUENTIAL,
            showscale=False,
            zmin=0,
            customdata=[[[labels.name(i), n] for i, n in zip(order, row)] for row in columns],
            texttemplate="%{z:.0%}",
            xgap=1,
            ygap=1,
            hovertemplate="%{customdata[0]}, %{y}: "
            + _(
                "%(count)s images (%(share)s of the kind)",
                count="%{customdata[1]:,}",
                share="%{z:.1%}",
            )
            + "<extra></extra>",
        )
    )
    return _chart(chart_id, title, caption, figure)


def _share_bars(
    chart_id: str,
    title: str,
    caption: str,
    values: list[str],
    counts: dict,
    order: list[str],
    labels: Labels,
) -> Chart:
    """One 100% bar per kind, split by ``values``."""
    names = [wrap(labels.name(i)) for i in order]
    totals = [sum(counts.get(i, [])) for i in order]
    figure = _figure(
        120 + 40 * len(order),
        barmode="stack",
        xaxis={
            "title": {"text": _("Share of the kind's images")},
            "range": [0, 1],
            "tickformat": ".0%",
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
        },
        yaxis={"autorange": "reversed", "type": "category"},
        uniformtext={"minsize": 10, "mode": "hide"},
        legend={"traceorder": "normal"},
    )
    for v, value in enumerate(values):
        raw = [(counts.get(i) or [0] * len(values))[v] for i in order]
        figure.add_trace(
            go.Bar(
                y=names,
                x=[n / t if t else 0 for n, t in zip(raw, totals)],
                orientation="h",
                name=value,
                customdata=raw,
                marker={"color": PALETTE[v % len(PALETTE)]},
                texttemplate="%{x:.0%}",
                textposition="inside",
                insidetextanchor="middle",
                textangle=0,
                hovertemplate=f"%{{y}}, {value}: "
                + _("%(count)s images (%(share)s)", count="%{customdata:,}", share="%{x:.1%}")
                + "<extra></extra>",
            )
        )
    return _chart(chart_id, title, caption, figure)


def age_by_class(data: dict, labels: Labels) -> Chart:
    age = data["age"]
    order = data.get("labels") or labels.ids
    return _share_heatmap(
        "chart-age",
        _("Age by kind"),
        _(
            "Each column spreads one kind's images over the age bands (each column adds up to "
            "100%), so read down a column to see at what ages that kind was photographed."
        ),
        [value_name(band) for band in age["bins"]],
        age["counts"],
        order,
        labels,
        _("Age (years)"),
    )


def category_by_class(key: str, category: dict, data: dict, labels: Labels) -> Chart:
    """One recorded column of the dataset (sex, site, …) by kind: bars for a few values,
    a heat map for many."""
    order = data.get("labels") or labels.ids
    title = category["title"]
    values = [value_name(str(v).replace("_", " ")) for v in category["values"]]
    # The column's name inside a sentence: the catalogue's entry for it in lower case (a
    # phrase, "cause given in the file name"), else for the title (a noun, "Sex").
    column = title[0].lower() + title[1:]
    column = translate_text(column) if translate_text(column) != column else value_name(column)
    caption = _(
        "Each kind's images divided by %(column)s; kinds that differ strongly here were "
        "collected differently, and a model can learn such differences as shortcuts that do "
        "not hold elsewhere.",
        column=column,
    )
    chart_title = _("%(category)s by kind", category=translate_text(title))
    if len(values) <= 5:
        return _share_bars(
            f"chart-{key}", chart_title, caption, values, category["counts"], order, labels
        )
    return _share_heatmap(
        f"chart-{key}",
        chart_title,
        caption,
        values,
        category["counts"],
        order,
        labels,
        translate_text(title),
    )


SPLIT_NAMES = {"train": N_("training"), "val": N_("validation"), "test": N_("test")}
# A part's images in a hover label, whole (German makes one word of them: "Testbilder").
SPLIT_IMAGES = {
    "train": N_("%(count)s training images"),
    "val": N_("%(count)s validation images"),
    "test": N_("%(count)s test images"),
}


def split_sizes(split: dict, labels: Labels, order: list[str], group: str) -> Chart:
    names = [wrap(labels.name(i)) for i in order]
    figure = _figure(
        110 + 40 * len(order),
        barmode="stack",
        xaxis={"title": {"text": _("Images")}, "nticks": 4},
        yaxis={"autorange": "reversed", "type": "category"},
        uniformtext={"minsize": 10, "mode": "hide"},
        legend={"traceorder": "normal"},
    )
    colours = {"train": ACCENT, "val": PALETTE[1], "test": PALETTE[0]}
    for part in ("train", "val", "test"):
        counts = [(split.get(part) or {}).get(i, 0) for i in order]
        figure.add_trace(
            go.Bar(
                y=names,
                x=counts,
                orientation="h",
                name=_(SPLIT_NAMES[part]),
                marker={"color": colours[part]},
                texttemplate="%{x:,}",
                textposition="inside",
                insidetextanchor="middle",
                textangle=0,
                hovertemplate="%{y}: " + _(SPLIT_IMAGES[part], count="%{x:,}") + "<extra></extra>",
            )
        )
    totals = {part: sum((split.get(part) or {}).values()) for part in ("train", "val", "test")}
    whole = sum(totals.values()) or 1
    shares = " / ".join(_percent(totals[part] / whole) for part in ("train", "val", "test"))
    return _chart(
        "chart-split",
        _("Training, validation and test images per kind"),
        _(
            "The saved split (%(shares)s of the images) keeps each %(group)s in one part; the "
            "test images are the ones behind every figure on the performance page.",
            shares=shares,
            group=translate_text(group),
        ),
        figure,
    )
