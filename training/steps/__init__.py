"""The steps after training, each a step of ``python -m training.release``: ``tta`` (the
test-time mirrors), ``calibration``, ``risk`` (the risk summary's threshold),
``wrong_kind`` (the wrong-kind check), ``unsure`` (the "model is unsure" threshold), and the
lesion outline: ``outline_net`` (its network), ``outline`` (its command, export and report),
``outline_browser`` (it in Chromium)."""
