"""Training, evaluation and export of the screening models.

Heavy imports (TensorFlow, scikit-learn) stay inside the modules that need
them, so ``import training.tasks`` is cheap.
"""
