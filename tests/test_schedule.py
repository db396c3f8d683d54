"""The one-cycle policy, checked at warm-up, peak and end."""

import pytest

from training.fitting.schedule import one_cycle

TOTAL, MAX_LR = 1000, 2e-3


def test_starts_low_with_high_momentum():
    lr, momentum = one_cycle(0, TOTAL, MAX_LR)
    assert lr == pytest.approx(MAX_LR / 25)
    assert momentum == pytest.approx(0.95)


def test_warm_up_midpoint_is_halfway_on_the_cosine():
    lr, momentum = one_cycle(125, TOTAL, MAX_LR, pct_start=0.25)
    assert lr == pytest.approx((MAX_LR / 25 + MAX_LR) / 2)
    assert momentum == pytest.approx(0.90)


def test_peak_at_pct_start_with_low_momentum():
    lr, momentum = one_cycle(250, TOTAL, MAX_LR, pct_start=0.25)
    assert lr == pytest.approx(MAX_LR)
    assert momentum == pytest.approx(0.85)


def test_ends_far_below_the_start():
    lr, momentum = one_cycle(TOTAL, TOTAL, MAX_LR)
    assert lr == pytest.approx(MAX_LR / 25 / 1e4)
    assert momentum == pytest.approx(0.95)


def test_rises_then_falls_monotonically():
    lrs = [one_cycle(s, TOTAL, MAX_LR)[0] for s in range(TOTAL + 1)]
    peak = lrs.index(max(lrs))
    assert peak == 250
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1 : peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1 :]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(step=-1), "step"),
        (dict(step=TOTAL + 1), "step"),
        (dict(total_steps=1), "total_steps"),
        (dict(max_lr=0), "max_lr"),
        (dict(pct_start=1.0), "pct_start"),
        (dict(momentum=(0.8, 0.9)), "momentum"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    args = dict(step=0, total_steps=TOTAL, max_lr=MAX_LR) | kwargs
    with pytest.raises(ValueError, match=message):
        one_cycle(**args)
