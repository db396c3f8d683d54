"""The one-cycle policy (Smith 2018; fastai's ``fit_one_cycle``) as a pure function of the step.

Learning rate: cosine warm-up from ``max_lr / div_factor`` to ``max_lr`` over the
first ``pct_start`` of the steps, then cosine annealing down to
``max_lr / (div_factor * final_div_factor)``. Momentum (Adam's β1) moves the
other way: from ``momentum[0]`` down to ``momentum[1]`` at the peak and back.
"""

from __future__ import annotations

import math


def _cos(start: float, end: float, fraction: float) -> float:
    return end + (start - end) / 2 * (1 + math.cos(math.pi * fraction))


def one_cycle(
    step: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.25,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    momentum: tuple[float, float] = (0.95, 0.85),
) -> tuple[float, float]:
    """Return ``(learning_rate, momentum)`` for ``step`` in ``[0, total_steps]``."""
    if total_steps < 2:
        raise ValueError(f"total_steps must be at least 2, got {total_steps}")
    if not 0 <= step <= total_steps:
        raise ValueError(f"step must be in [0, {total_steps}], got {step}")
    if max_lr <= 0:
        raise ValueError(f"max_lr must be positive, got {max_lr}")
    if not 0 < pct_start < 1:
        raise ValueError(f"pct_start must be in (0, 1), got {pct_start}")
    if div_factor < 1 or final_div_factor < 1:
        raise ValueError("div_factor and final_div_factor must be >= 1")
    high_mom, low_mom = momentum
    if not 0 <= low_mom <= high_mom < 1:
        raise ValueError(f"momentum must be (high, low) with 0 <= low <= high < 1, got {momentum}")

    start_lr = max_lr / div_factor
    end_lr = start_lr / final_div_factor
    warm = pct_start * total_steps
    if step <= warm:
        fraction = step / warm
        return _cos(start_lr, max_lr, fraction), _cos(high_mom, low_mom, fraction)
    fraction = (step - warm) / (total_steps - warm)
    return _cos(max_lr, end_lr, fraction), _cos(low_mom, high_mom, fraction)
