"""Experiments that were measured and not shipped, and the measurements made on shipped models.

``training/`` builds the shipped models and never imports this package; each module here
imports the product and passes what it varies into ``training.fitting.train.train`` (a loss, soft
targets, a row filter, a balance, a batch transform, a starting network). See README.md
for what each one measured and where its log is. Run them as ``python -m research.<name>``.
"""
