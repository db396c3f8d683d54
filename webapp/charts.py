"""What the charts of the report pages share: the look, the chart and the kinds' names.

The figures themselves are built per page: :mod:`webapp.performance_charts` and
:mod:`webapp.data_charts`.

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
from dataclasses import dataclass

import plotly.graph_objects as go

from webapp.i18n import (
    N_,
    _translate,
    current_language,
    localise_figures,
    number_marks,
    translate_text,
)

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
    # as running text names them ("split by the cause given in the file name"; running_list)
    N_("cause given in the file name"),
    N_("how the label was confirmed"),
    N_("source collection"),
    N_("age"),
    N_("sex"),
    N_("body site"),
    N_("Bacteria"),
    N_("Virus"),
    N_("None"),
    N_("Histo"),
    N_("Follow up"),
    N_("Consensus"),
    N_("Confocal"),
)


def running_list(names: list[str]) -> str:
    """Names of the task's details or recorded columns ("Age", "Body site") as a list in
    running text, in the page's language: "age, body site"; each name as the catalogue has it
    in running text (its lower-case English), else as it has the name."""

    def running(name: str) -> str:
        if current_language() == "en":
            return name.lower()
        text, known = _translate(name.lower())
        return text if known else translate_text(name)

    return ", ".join(running(name) for name in names)


def plain_name(field_label: str) -> str:
    """A detail's label without its unit, for running text: "Age (years)" → "Age"."""
    return re.sub(r"\s*\(.*?\)", "", field_label)


# Axes of shares from 0 to 1, a little wider than the data so that the two "0%" labels do
# not meet at the corner and the curves are not cut at 100%.
UNIT_AXIS = {"range": [-0.02, 1.02], "tickformat": ".0%", "tickvals": [0, 0.2, 0.4, 0.6, 0.8, 1]}


def new_figure(height: int, **layout) -> go.Figure:
    return go.Figure(layout=go.Layout(template=TEMPLATE, height=height, **layout))


def finished(chart_id: str, title: str, caption: str, figure: go.Figure) -> Chart:
    if current_language() != "en":  # the axes' and hover labels' numbers: "0,5", "1.431"
        decimal, group, _space = number_marks(current_language())
        figure.update_layout(separators=decimal + group)
    return Chart(chart_id, title, caption, figure.to_json(), height=figure.layout.height)


def whole_percent(fraction: float) -> str:
    return localise_figures(f"{fraction * 100:.0f}%")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


VARIANT_NAMES = {"without_metadata": N_("without details"), "with_metadata": N_("with details")}
