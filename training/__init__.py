"""Training, evaluation and export of the shipped screening models.

Only what builds the shipped models lives here; experiments that were measured and not
shipped are in ``research/``, which imports this package (never the reverse).

Heavy imports (TensorFlow, scikit-learn) stay inside the modules that need
them, so ``import training.tasks`` is cheap.
"""
