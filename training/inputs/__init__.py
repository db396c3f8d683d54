"""Data and tasks: ``tasks`` (the registry, the one source of truth for labels and
preprocessing), ``datasets`` (each dataset as a table), ``data`` (splits, images as arrays,
the training batches), ``encoding`` (an image's details as numbers), ``preprocess`` (a
file to pixels), ``other_kinds`` (images of other kinds, for the wrong-kind check),
``shifts`` (radiograph shifts, for the X-ray risk threshold)."""
