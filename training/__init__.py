"""Training, evaluation and export of the shipped screening models.

Only what builds the shipped models lives here; experiments that were measured and not
shipped are in ``research/``, which imports this package (never the reverse).

The modules by stage, a package each, in the order ``python -m training.release TASK``
uses them (each package's docstring lists its modules):

- ``training.inputs``: data and tasks (``tasks``, the registry; ``datasets``, ``data``,
  ``encoding``, ``preprocess``, ``other_kinds``, ``shifts``);
- ``training.fitting``: model and training (``config``, ``model``, ``layers``,
  ``schedule``, ``train``, ``runs``, ``evaluate``);
- ``training.steps``: the steps after training (``tta``, ``calibration``, ``risk``,
  ``wrong_kind``, ``unsure``, ``outline_net``, ``outline``, ``outline_browser``);
- ``training.exporting``: export and its checks (``fold``, ``export``, ``convert``,
  ``parity``, ``browser``, ``outside``);
- ``training.reporting``: the figures the site reads (``curves``, ``describe``,
  ``site_tables``, ``table_format``, ``rule_tables``, ``elsewhere_tables``);
- ``training.release``: the chain, one command per task.

No package re-exports another's names: import a module where it lives.
Heavy imports (TensorFlow, scikit-learn) stay inside the modules that need
them, so ``import training.inputs.tasks`` is cheap.
"""
