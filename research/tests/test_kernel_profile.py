"""research.kernel_profile: two exports timed in turns on the page, and where the time
goes kernel by kernel, from tfjs' own profile."""

from __future__ import annotations

import pytest

from research.tests.conftest import research_report
from training.inputs.data import PROJECT_ROOT

SKIN = PROJECT_ROOT / "static" / "tfjs_model" / "skin_lesion"
XRAY = PROJECT_ROOT / "static" / "tfjs_model" / "chest_xray"


@pytest.mark.browser
def test_each_model_is_timed_and_its_kernels_listed():
    summary = research_report(
        "kernel_profile", "--rounds", "1", "--runs", "3", "--model", str(XRAY), "--model", str(SKIN)
    )
    xray, skin = summary[str(XRAY)], summary[str(SKIN)]
    assert all(len(m["median_ms_per_turn"]) == 1 for m in (xray, skin))
    assert "FusedConv2D" in xray["kernel_ms"] and sum(xray["kernel_ms"].values()) > 0
    # The skin export is folded (training/exporting/fold.py): no batch-norm kernels are left, and
    # padding and unfused depthwise kernels only where the fold had to keep a padding
    # (an odd side at the model's input size: tests/test_fold.py counts them).
    assert "FusedDepthwiseConv2D" in skin["kernel_ms"]
    assert not {"FusedBatchNorm", "BatchNormalization"} & set(skin["kernel_ms"])
    if "PadV2" not in skin["kernel_ms"]:
        assert not {"DepthwiseConv2dNative", "Relu6"} & set(skin["kernel_ms"])
