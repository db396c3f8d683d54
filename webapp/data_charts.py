"""The data page's charts: images per kind, their groups, ages, recorded categories and the
split (see :mod:`webapp.charts` for what every chart shares)."""

from __future__ import annotations

import plotly.graph_objects as go

from webapp.charts import (
    ACCENT,
    PALETTE,
    SEQUENTIAL,
    SOFT,
    Chart,
    Labels,
    finished,
    new_figure,
    value_name,
    whole_percent,
    wrap,
)
from webapp.i18n import N_, localise_figures, translate_text
from webapp.i18n import gettext as _


def class_distribution(data: dict, labels: Labels) -> Chart:
    order = data.get("labels") or labels.ids
    counts = [data["images_per_label"].get(i, 0) for i in order]
    total = sum(counts) or 1
    names = [labels.name(i) for i in order]
    figure = new_figure(
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
    return finished("chart-classes", _("Images per kind"), caption, figure)


def images_and_groups(data: dict, labels: Labels, group: str) -> Chart:
    order = data.get("labels") or labels.ids
    names = [wrap(labels.name(i)) for i in order]
    images = [data["images_per_label"].get(i, 0) for i in order]
    groups = [data["groups_per_label"].get(i, 0) for i in order]
    # What the split keeps together ("lesion"), in the page's language.
    one, many = translate_text(group), translate_text(f"{group}s")
    figure = new_figure(
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
    return finished(
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
    figure = new_figure(
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
    return finished(chart_id, title, caption, figure)


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
    figure = new_figure(
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
    return finished(chart_id, title, caption, figure)


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
    figure = new_figure(
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
    shares = " / ".join(whole_percent(totals[part] / whole) for part in ("train", "val", "test"))
    return finished(
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
