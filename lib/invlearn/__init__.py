"""invlearn: the shared library behind the invariance-learning reproduction book.

Three layers; a test (``tests/test_layers.py``) enforces that each imports only from the layers below it:

``invlearn.core``
    groups, models, the one training engine, generic metrics, MNIST data, plotting style and generic panels.
``invlearn.duan``, ``invlearn.gideoni``, ``invlearn.flinth``
    one package per paper: its problem setup, experiments, closed forms and page-specific plots. A paper package
    imports only ``invlearn.core``.
``invlearn.book``
    the book machinery: the notebook runner, sweeps, the command line, result files and the scorecard. It imports
    no paper package and, at import time, nothing heavier than the standard library and YAML.
"""

__version__ = "0.2.0"
