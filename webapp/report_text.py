"""The shapes of the sentences that arrive written, for :func:`webapp.i18n.translate_text`.

The report tables (``reports/<task>/tables.json``, made by ``training.site_tables``) and
the sentences of ``webapp.reports`` are English with their figures in them ("On 1431
test images. …"). Each pattern here is the English with ``{name}`` where a part varies;
the catalogue translates the pattern, and each part is translated on its own (a figure
stays as it is; a part named with a leading underscore, such as a run's name, is kept as
it is). First match wins; the general patterns (:data:`LISTS`) come last. A sentence that
``training.site_tables`` words differently no longer matches: tests/test_i18n.py checks
that every string of every tables.json is translated.
"""

from __future__ import annotations

from webapp.i18n import N_

PATTERNS = (
    # headline
    N_(
        "On {n} test images, given the image only and the image with the details ({fields}). "
        "With {k} kinds, guessing would give a balanced accuracy of {chance} and an AUC of 0.50."
    ),
    N_(
        "On {n} test images. With {k} kinds, guessing would give a balanced accuracy of "
        "{chance} and an AUC of 0.50."
    ),
    # kind by kind
    N_(
        "{variant}: of the test images of each kind, the share the model found (sensitivity); "
        "of the others, the share it rightly did not call that kind (specificity); of the "
        "images it called that kind, the share that were (precision)."
    ),
    # counts
    N_(
        "Images per kind, the distinct {groups} they show, and how the saved split divides the "
        "images into training, validation and test."
    ),
    # calibration
    N_("Before and after dividing the scores by T = {t}; lower is better for both."),
    N_("the {metric} on {split} or the {metric2} on {split2}"),
    N_("the {metric} on {split}"),
    # risk
    N_("sensitivity for {labels} together (of {n})"),
    N_("sensitivity for {label} (of {n} images)"),
    N_("{label} flagged"),
    N_("the share of all test images that got “{sentence}”"),
    # sources
    N_("{name} ({n} test images of {k} kinds)"),
    N_("{figure} points lower"),
    N_("{figure} points higher"),
    N_("{figure} lower"),
    N_("{figure} higher"),
    N_("{figure} minutes"),
    N_("{figure} seconds"),
    N_("{figure} hours"),
    N_("{figure} MB"),
    N_("{figure} min"),
    # cross-validation, backbones
    N_("Balanced accuracy, with {fields}"),
    N_("Mean AUC, with {fields}"),
    N_("{network}, {epochs} epochs (this model)"),
    N_("{network}, {epochs} epochs, other settings"),
    N_("{network}, {epochs} epochs"),
    # reports whose file is missing or damaged
    N_("The {what} of this model ({_file}) is {reason}, so it cannot be shown here."),
    N_("This part could not be shown: {_file} does not hold what it needs."),
    N_("{problem} It is made from the report files by “{_command}”."),
    # chart titles made by webapp.charts
    N_("Images and {groups} per kind"),
    N_("{category} by kind"),
)

# Lists, tried after every pattern above (every item must be known). The catalogue holds
# the lists of the shipped tables whole; these are for other combinations.
LISTS = (
    N_("{first}, {rest}"),
    N_("{first} and {last}"),
)

# The titles webapp.charts gives its charts (the pages translate them; the text inside a
# chart, its axes, legend and caption, is not in the catalogue yet: docs/languages.md).
CHART_TITLES = (
    N_("Confusion matrix (counts)"),
    N_("Confusion matrix (share of each row)"),
    N_("Loss"),
    N_("How the label was confirmed"),
    N_("Source collection"),
    N_("sampling"),
    N_("weights"),
    N_("standard"),
    N_("light"),
)

# Whole strings that look like a pattern but are not one ("Others not flagged" is not
# "{label} flagged"): the catalogue has them whole.
WHOLE = (
    N_("Others not flagged"),
    N_("All images flagged"),
    N_("Serious kinds flagged"),
    N_("Document or screenshot"),
    N_("Blank or uniform image"),
    N_("A clinic or camera it never saw"),
)

# Words a pattern's part may be (webapp.reports: why a file cannot be shown), and the
# default SITE_NAME of webapp.config.
WORDS = (
    N_("missing"),
    N_("damaged"),
    N_("In-browser screener"),
    # what a task's split keeps apart (metadata.json's split_group, else "case")
    N_("lesion"),
    N_("patient"),
    N_("slide"),
    N_("case"),
    N_("cases"),
)
