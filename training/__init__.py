"""Training, evaluation and export of the shipped screening models.

Only what builds the shipped models lives here; experiments that were measured and not
shipped are in ``research/``, which imports this package (never the reverse).

The modules by stage, in the order ``python -m training.release TASK`` uses them:

- data and tasks: ``tasks`` (the registry), ``datasets`` (each dataset as a table),
  ``data`` (splits, images as arrays), ``encoding`` (metadata), ``preprocess`` (a file
  to pixels), ``other_kinds`` (images of other kinds), ``shifts`` (radiograph shifts);
- model and training: ``config`` (the recipe), ``model`` (the network, members),
  ``layers``, ``schedule``, ``train``, ``runs`` (a run folder), ``evaluate``;
- after training, each a step of the release: ``tta`` (test-time mirrors),
  ``calibration``, ``risk``, ``wrong_kind`` (the wrong-kind check), ``unsure``, and the
  lesion outline: ``outline_net`` (its network), ``outline`` (its command, export and
  report), ``outline_browser`` (it in Chromium);
- export and checks: ``fold``, ``export``, ``convert``, ``parity``, ``browser``,
  ``outside`` (images from other clinics);
- reports: ``curves``, ``describe``, ``site_tables`` with ``table_format``,
  ``rule_tables`` and ``elsewhere_tables`` (the figures of ``tables.json``; the words are
  in ``webapp``);
- the chain: ``release``.

Heavy imports (TensorFlow, scikit-learn) stay inside the modules that need
them, so ``import training.tasks`` is cheap.
"""
