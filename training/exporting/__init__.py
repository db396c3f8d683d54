"""Export and its checks: ``fold`` (batch norms folded into the convolutions), ``export``
(the ``metadata.json`` contract, the content version), ``convert`` (a run to a TF.js graph
model), ``parity`` (Python against the browser), ``browser`` (Chromium), ``outside`` (the
exported model on images from other clinics, measured only)."""
