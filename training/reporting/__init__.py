"""Reports: ``curves`` (ROC and precision-recall), ``describe`` (the data page's figures),
``site_tables`` with ``table_format``, ``rule_tables`` and ``elsewhere_tables`` (the figures
of ``tables.json``; the words are in ``webapp``)."""
