"""The performance page's charts: training, confusion, ROC and precision–recall, reliability
and calibration, the details' effect and the collections left out (see :mod:`webapp.charts`
for what every chart shares)."""

from __future__ import annotations

import math
from collections.abc import Callable

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from webapp.charts import (
    ACCENT,
    MUTED,
    PALETTE,
    SEQUENTIAL,
    SOFT,
    TEMPLATE,
    UNIT_AXIS,
    VARIANT_NAMES,
    Chart,
    Labels,
    finished,
    new_figure,
    plain_name,
    running_list,
    wrap,
)
from webapp.i18n import N_, localise_figures, measured, translate_text
from webapp.i18n import gettext as _


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
        figure = new_figure(
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
        charts.append(finished(f"chart-{slug}", title, caption, figure))
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
    return finished(
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
    counts = new_figure(height, **axes)
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
    normalised = new_figure(height, **axes)
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
        finished(
            "chart-confusion-counts",
            _("Confusion matrix (counts)"),
            _(
                "Each row is the true kind and each column what the model said: the diagonal "
                "holds the right answers and the other cells show which kinds it mixes up."
            ),
            counts,
        ),
        finished(
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
    figure = new_figure(
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
    return finished(
        "chart-roc",
        _("ROC curve per kind"),
        _(
            "The nearer a curve runs to the top-left corner (AUC near 1), the better the model ranks "
            "images of that kind above all others; the dashed diagonal is guessing."
        ),
        figure,
    )


def precision_recall(curves: dict, labels: Labels, order: list[str]) -> Chart:
    figure = new_figure(
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
    return finished(
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
    figure = new_figure(
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
    return finished(
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
    figure = new_figure(
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
    return finished(
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
    figure = new_figure(
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
        given = running_list([plain_name(name) for name in field_names])
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
    return finished("chart-metadata-effect", _("Effect of the details"), caption, figure)


def held_out_sources(loso: dict, name: Callable[[str], str]) -> Chart:
    """Balanced accuracy on each collection's test images of leave_one_source_out.json:
    the model trained on every collection vs the one trained without that collection
    (``name(source)``: how the page calls it, in English; translated here)."""
    sources = list(loso["sources"])
    categories = [wrap(translate_text(name(source))) for source in sources]
    figure = new_figure(
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
    return finished(
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
