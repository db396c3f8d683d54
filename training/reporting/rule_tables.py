"""The screener's rules in ``tables.json`` (``training.reporting.site_tables``): the risk summary
(risk.json, and risk_previous.json of the version before), the check for the wrong kind of
image (wrong_kind.json) and the "model is unsure" warning (unsure.json)."""

from __future__ import annotations

import math

from training.reporting.table_format import (
    VARIANTS,
    cell,
    column,
    count,
    installed_differs,
    measure,
    number,
    percent,
    row,
    table,
    word,
)


def _rule_table(
    table_id: str, css: str, caption, test: list[dict], shares: list, counts: list
) -> dict:
    """A rule's test figures, one column per variant: shares (key, name, help), then counts
    (key, name)."""
    several = len(test) > 1
    names = [word("variant", variant=c["variant"]) if several else "test_result" for c in test]
    rows = [
        row(name, [cell(percent(c[key]), metric=key, variant=c["variant"]) for c in test], help)
        for key, name, help in shares
    ]
    rows += [
        row(
            name,
            [
                cell(
                    count(c[key]) if c[key] is not None else None, metric=key, variant=c["variant"]
                )
                for c in test
            ],
        )
        for key, name in counts
    ]
    columns = [column("measure", numeric=False)] + [column(n) for n in names]
    return table(table_id, "on_test_images", caption, columns, rows, css, stack=False)


RISK_THRESHOLD_CAP = 0.5  # training.steps.risk never sets the threshold above one half


def _shift_figures(measured: dict) -> tuple[list, dict | None]:
    """(per shift: (name, focus sensitivity, specificity)), and their means and worst
    (None without shifts), of one risk.json-like ``shifts.test``."""
    rows = [
        (name, measure(m["focus_sensitivity"]), measure(m["specificity"]))
        for name, m in measured.items()
    ]
    if not rows:
        return rows, None
    return rows, {
        "focus_sensitivity": sum(r[1] for r in rows) / len(rows),
        "specificity": sum(r[2] for r in rows) / len(rows),
        "worst_focus_sensitivity": min(r[1] for r in rows),
        "worst_specificity": min(r[2] for r in rows),
    }


def risk_shifts(risk: dict, focus: str) -> tuple[dict, list]:
    """Facts and the table of the risk rule on the test images under the held-out shifts
    (risk.json → shifts), if it has them. A shift's row is named by its key (a name of
    training.inputs.shifts.HELD_OUT), which the site words."""
    shifts = risk.get("shifts")
    if not shifts:
        return {}, []
    rows, summary = _shift_figures(shifts["test"])
    if summary is None:
        return {}, []
    unshifted = risk["test"]["without_metadata"]
    per_condition = shifts["threshold_per_condition"]
    threshold = number(risk["threshold"])

    def line(header, sensitivity, specificity, help=None, **data):
        cells = [
            cell(percent(sensitivity), metric="focus_sensitivity"),
            cell(percent(specificity), metric="specificity"),
        ]
        return row(header, cells, help, **data)

    table_rows = [
        line(
            "as_they_are",
            measure(unshifted["focus_sensitivity"]),
            measure(unshifted["specificity"]),
            condition="none",
        )
    ]
    for name, sensitivity, specificity in rows:
        shift = word("shift", shift=name)
        help = word("shift_help", shift=name)
        table_rows.append(line(shift, sensitivity, specificity, help, condition=name))
    table_rows += [
        line(
            "processed_mean",
            summary["focus_sensitivity"],
            summary["specificity"],
            condition="mean",
        ),
        line(
            "processed_worst",
            summary["worst_focus_sensitivity"],
            summary["worst_specificity"],
            "processed_worst_help",
            condition="worst",
        ),
    ]
    facts = {
        "shifts": len(rows),
        "set_by_shifts": threshold < RISK_THRESHOLD_CAP
        and threshold < number(per_condition["none"]),
        "shift_mean_sensitivity": percent(summary["focus_sensitivity"]),
        "shift_mean_specificity": percent(summary["specificity"]),
    }
    columns = [
        column("images", numeric=False),
        column(word("focus_flagged", label=focus)),
        column("others_not_flagged"),
    ]
    return facts, [
        table(
            "risk-shifts",
            "on_test_images_processed",
            "risk_shifts_caption",
            columns,
            table_rows,
            "risk-shifts-table",
            stack=False,
        )
    ]


def risk_change(previous: dict, risk: dict, focus: str) -> tuple[dict, list]:
    """Facts and the table of the risk rule before (risk_previous.json: the version it
    replaced, the same images) and now, unshifted and under the held-out shifts."""
    before_rows, before = _shift_figures((previous.get("shifts") or {}).get("test") or {})
    after_rows, after = _shift_figures((risk.get("shifts") or {}).get("test") or {})
    if before is None or after is None or [r[0] for r in before_rows] != [r[0] for r in after_rows]:
        raise ValueError("risk_previous.json and risk.json are not of the same shifts")
    b0, a0 = previous["test"]["without_metadata"], risk["test"]["without_metadata"]
    columns = [
        column("test_images", numeric=False),
        column(word("before_caught", label=focus)),
        column("before_spared"),
        column(word("now_caught", label=focus)),
        column("now_spared"),
    ]

    def line(header, b_sens, b_spec, a_sens, a_spec, **data):
        figures = [
            (b_sens, "focus_sensitivity", "before"),
            (b_spec, "specificity", "before"),
            (a_sens, "focus_sensitivity", "now"),
            (a_spec, "specificity", "now"),
        ]
        cells = [cell(percent(v), metric=m, version=version) for v, m, version in figures]
        return row(header, cells, **data)

    rows = [
        line(
            "as_they_are",
            measure(b0["focus_sensitivity"]),
            measure(b0["specificity"]),
            measure(a0["focus_sensitivity"]),
            measure(a0["specificity"]),
            condition="none",
        ),
        line(
            "processed_mean_short",
            before["focus_sensitivity"],
            before["specificity"],
            after["focus_sensitivity"],
            after["specificity"],
            condition="mean",
        ),
        line(
            "processed_worst_short",
            before["worst_focus_sensitivity"],
            before["worst_specificity"],
            after["worst_focus_sensitivity"],
            after["worst_specificity"],
            condition="worst",
        ),
    ]
    facts = {
        "previous_version": str(previous["version"]),
        "previous_threshold": percent(number(previous["threshold"])),
    }
    return facts, [
        table(
            "risk-change",
            "before_and_now",
            "risk_change_caption",
            columns,
            rows,
            "risk-change-table",
            stack=False,
        )
    ]


def risk(risk: dict, metadata: dict, previous: dict | None = None) -> tuple[dict, list]:
    focus = risk["focus"]
    serious = [label for label in risk["labels"] if label != focus]
    if focus not in risk["labels"]:
        raise ValueError(f"the focus label {focus!r} is not among {risk['labels']!r}")
    threshold = number(risk["threshold"])
    figures = ("focus_sensitivity", "sensitivity", "specificity", "flagged")
    test = [
        {
            "variant": variant,
            **{key: measure(measured[key]) for key in figures},
            **{key: measured.get(key) for key in ("n", "n_focus", "n_malignant")},
        }
        for variant, measured in ((v, risk["test"].get(v)) for v in VARIANTS)
        if measured
    ]
    if not test:
        raise ValueError("risk.json holds no test figures")
    validation = risk["validation"]
    labels = [focus, *serious]
    shares = [
        (
            "focus_sensitivity",
            word("focus_flagged", label=focus),
            word("focus_sensitivity_help", label=focus, n=test[0]["n_focus"]),
        )
    ]
    if serious:
        shares.append(
            (
                "sensitivity",
                "serious_flagged",
                word("serious_sensitivity_help", labels=labels, n=test[0]["n_malignant"]),
            )
        )
    shares += [
        ("specificity", "others_not_flagged", "others_not_flagged_help"),
        ("flagged", "all_flagged", "all_flagged_help"),
    ]
    facts = {
        "labels": labels,
        "several": bool(serious),
        "focus": focus,
        "threshold": percent(threshold),
        "target": f"{number(risk['target_focus_sensitivity']) * 100:.0f}%",
        "capped": math.isclose(threshold, RISK_THRESHOLD_CAP),
        "validation_flagged": percent(measure(validation.get("focus_sensitivity"))),
        "validation_n_focus": validation.get("n_focus"),
        "installed": installed_differs(metadata, "risk", "threshold", threshold, "risk_threshold"),
    }
    shifted_facts, shifted_tables = risk_shifts(risk, focus)
    facts.update(shifted_facts)
    if previous is not None and shifted_tables:
        change_facts, change_tables = risk_change(previous, risk, focus)
        facts.update(change_facts)
        shifted_tables += change_tables
    return facts, [
        _rule_table("risk", "risk-table", "risk_caption", test, shares, [("n", "test_images")]),
        *shifted_tables,
    ]


# The checks for the wrong kind of image measured in wrong_kind.json, the site's order.
WRONG_KIND_METHODS = ("in_kind_head", "max_probability")


def wrong_kind(wrong_kind: dict, metadata: dict) -> tuple[dict, list]:
    chosen = wrong_kind["method"]
    ids = [chosen] + [
        m for m in WRONG_KIND_METHODS if m != chosen and isinstance(wrong_kind.get(m), dict)
    ]
    tests = {m: wrong_kind[m]["test"] for m in ids}
    kinds = [
        {
            "id": kind,
            "n": tests[chosen]["n_per_kind"].get(kind),
            "rates": {m: measure(tests[m]["detection_rate"].get(kind)) for m in ids},
        }
        for kind in wrong_kind["kind_names"]
    ]
    methods = []
    for m in ids:
        rates = [kind["rates"][m] for kind in kinds if kind["rates"][m] is not None]
        methods.append(
            {
                "id": m,
                "false_alarm_rate": number(tests[m]["false_alarm_rate"]),
                "n_in_kind": tests[m]["n_in_kind"],
                "lowest": min(rates),
                "mean": sum(rates) / len(rates),
            }
        )
    first = methods[0]
    target = measure(wrong_kind.get("false_alarm_target"))
    facts = {
        "target": f"{(target or first['false_alarm_rate']) * 100:.0f}%",
        # The head warns below its own decision boundary (training.steps.wrong_kind.HEAD_THRESHOLD),
        # not at a quantile of validation scores (a model made before that rule: False).
        "boundary": wrong_kind.get("threshold_rule") == "boundary",
        "chosen": {
            "method": chosen,
            "caught_all": first["lowest"] >= 1,
            "lowest": percent(first["lowest"]),
            "false_alarms": percent(first["false_alarm_rate"]),
            "n_in_kind": first["n_in_kind"],
        },
        "others": [
            {
                "method": m["id"],
                "lowest": percent(m["lowest"]),
                "mean": percent(m["mean"]),
                "false_alarms": percent(m["false_alarm_rate"]),
            }
            for m in methods[1:]
        ],
        "better": all(first["mean"] > other["mean"] for other in methods[1:]),
        "synthetic": any(kind["id"] in ("photo", "document") for kind in kinds),
        "installed": installed_differs(
            metadata,
            "wrong_kind",
            "threshold",
            number(tests[chosen]["threshold"]),
            "wrong_kind_threshold",
        ),
    }

    def rates(figure):
        return [
            cell(percent(figure(m)), word("method", method=m["id"]), method=m["id"])
            for m in methods
        ]

    rows = [
        row(
            {"kind": kind["id"]},
            [cell(kind["n"], metric="n")] + rates(lambda m, kind=kind: kind["rates"][m["id"]]),
            kind=kind["id"],
        )
        for kind in kinds
    ]
    rows.append(
        row(
            "doubted_by_mistake",
            [cell(first["n_in_kind"], metric="n")] + rates(lambda m: m["false_alarm_rate"]),
            css="wrong-kind-false-alarms",
            kind="in_kind",
        )
    )
    columns = [column("kind_of_image", numeric=False), column("images")] + [
        column(word("method_used" if m["id"] == chosen else "method", method=m["id"]))
        for m in methods
    ]
    return facts, [
        table("wrong_kind", "wrong_kind", "wrong_kind_caption", columns, rows, "wrong-kind-table")
    ]


UNSURE_SHARES = ("flagged", "accuracy_flagged", "accuracy_not_flagged", "accuracy_all")


def unsure(unsure: dict, metadata: dict) -> tuple[dict, list]:
    threshold = unsure["threshold"]
    if threshold is not None:
        threshold = number(threshold)
    test = [
        {
            "variant": variant,
            "n": int(number(measured["n"])),
            "n_flagged": int(number(measured["n_flagged"])),
            **{key: measure(measured[key]) for key in UNSURE_SHARES},
        }
        for variant, measured in ((v, unsure["test"].get(v)) for v in VARIANTS)
        if measured
    ]
    if not test:
        raise ValueError("unsure.json holds no test figures")
    validation = unsure["validation"]
    # A threshold of None (never unsure) is compared too: metadata.json's copy may have one.
    installed = (metadata.get("unsure") or {}).get("threshold", threshold)
    if threshold is not None and installed is not None:
        other = installed_differs(metadata, "unsure", "threshold", threshold, "unsure_threshold")
    elif installed != threshold:

        def written(value):
            return None if value is None else f"{value:.4g}"

        other = {
            "what": "unsure_threshold",
            "installed": written(installed),
            "measured": written(threshold),
        }
    else:
        other = None
    facts = {
        "threshold": percent(threshold),
        "validation_right": percent(measure(validation.get("accuracy_flagged"))),
        "validation_n_flagged": validation.get("n_flagged"),
        "test_right": percent(test[0]["accuracy_all"]),
        "test_n": test[0]["n"],
        "installed": other,
    }
    tables = []
    if threshold is not None:
        shares = [(key, f"unsure_{key}", f"unsure_{key}_help") for key in UNSURE_SHARES]
        counts = [("n_flagged", "test_images_unsure"), ("n", "test_images")]
        tables.append(_rule_table("unsure", "unsure-table", "unsure_caption", test, shares, counts))
    return facts, tables
