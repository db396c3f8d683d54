"""research.chest_xray.decision: the candidates of decision.md and the rule's verdict."""

import numpy as np
import pytest

from research.chest_xray import decision


def _scores_at_prevalence(rng, n_normal, n_pneumonia, carried):
    """p(pneumonia) whose logit is the evidence plus log(carried): a network that
    carries a prevalence of ``carried`` pneumonia per normal."""
    y = np.array([0] * n_normal + [1] * n_pneumonia)
    # Classes N(±1, 2): the log-likelihood ratio of a score e is e itself.
    evidence = np.where(y == 1, 1.0, -1.0) + rng.normal(0, np.sqrt(2.0), len(y))
    return y, decision.sigmoid(evidence + np.log(carried))


def test_the_balanced_fit_finds_the_prevalence_the_network_carries():
    rng = np.random.default_rng(0)
    y, p = _scores_at_prevalence(rng, 2000, 6000, carried=3.0)
    a, b = decision.fit_balanced(decision.logit(p), y)
    assert a == pytest.approx(1.0, abs=0.08)
    assert b == pytest.approx(-np.log(3.0), abs=0.12)


def test_k1_shifts_by_the_log_prior_ratio_and_k0_not_at_all():
    rng = np.random.default_rng(1)
    y, p = _scores_at_prevalence(rng, 300, 900, carried=1.0)
    params = decision.candidates(p, y, np.array([0.25, 0.75]))
    assert params["K0"]["b"] == 0.0
    assert params["K1"]["b"] == pytest.approx(-np.log(3.0))
    assert params["K1"]["a"] == params["K0"]["a"] == pytest.approx(1 / params["temperature"])


def test_risk_threshold_is_the_lowest_over_conditions_and_capped():
    y = np.array([0] * 10 + [1] * 20)
    high = np.where(y == 1, np.linspace(0.8, 0.99, 30), 0.1)
    low = high - 0.3
    t, own = decision.risk_threshold(y, {"none": high, "shift": low})
    assert own["shift"] < own["none"] and t == pytest.approx(min(0.5, own["shift"]))
    t, _ = decision.risk_threshold(y, {"none": high})
    assert t == 0.5


def _judged(**ba):
    return {name: {"eligible": True, "ba_shift": value} for name, value in ba.items()}


def test_verdict_needs_a_gain_over_k0_and_prefers_k1_in_a_near_tie():
    assert decision.verdict(_judged(K0=0.90, K1=0.903, K2=0.904))["chosen"] == "K0"
    assert decision.verdict(_judged(K0=0.90, K1=0.93, K2=0.932))["chosen"] == "K1"
    assert decision.verdict(_judged(K0=0.90, K1=0.91, K2=0.93))["chosen"] == "K2"
    judged = _judged(K0=0.90, K1=0.95, K2=0.93)
    judged["K1"]["eligible"] = False
    assert decision.verdict(judged)["chosen"] == "K2"


def test_proxy_gap_finds_the_move_that_reproduces_an_outside_recall():
    from research.chest_xray import proxy_gap

    rng = np.random.default_rng(5)
    y = np.array([0] * 400 + [1] * 400)
    z = np.where(y == 1, 4.0, -4.0) + rng.normal(0, 1, 800)
    p = decision.sigmoid(z)
    moved = decision.sigmoid(z + np.where(y == 0, 2.0, 0.0))
    found = proxy_gap.gap(
        {"y": y.tolist(), "p_pneumonia": {"none": p.tolist(), "moved": moved.tolist()}},
        normal_recall=float((z[y == 0] + 2.0 < 0).mean()),
        pneumonia_recall=1.0,
    )
    assert found["needed"]["normal"] == pytest.approx(2.0, abs=0.1)
    assert found["proxy"]["moved"]["normal"] == pytest.approx(2.0)
    assert found["proxy"]["moved"]["pneumonia"] == pytest.approx(0.0)
