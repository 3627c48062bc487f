"""Environment variables understood by invlearn (kept import-light: the CLI reads them without torch)."""

MNIST_ENV = "INVLEARN_MNIST_DIR"
"""Folder with the four MNIST IDX files (or torchvision's ``MNIST/raw`` below it)."""

OUTPUT_ENV = "INVLEARN_OUTPUT_DIR"
"""Where a running notebook writes its result file and figures; the runner points it at a staging folder."""

PROGRESS_ENV = "INVLEARN_PROGRESS"
"""``0`` turns training progress bars off (the runner does, so executed pages stay clean)."""

CHECKS_ENV = "INVLEARN_CHECKS"
"""``record``: :func:`invlearn.book.results.assert_checks` records failed checks instead of raising (sweep points);
anything else, or unset: it raises."""

PROFILE_ENV = "INVLEARN_PROFILE"
"""The profile the runner executes a notebook under (sweep pages read their sweep's folder for it)."""

RUN_CACHE_ENV = "INVLEARN_RUN_CACHE"
"""Folder of the store of training runs shared across pages (:mod:`invlearn.core.runcache`); ``off`` disables it;
unset: ``~/.cache/invlearn/runs``. The runner points it at ``<repo root>/.cache/runs`` unless it is disabled."""

RUN_CACHE_OFF = frozenset({"off", "0", "none", "false"})
"""Values of :data:`RUN_CACHE_ENV` (any case) that disable the store of training runs."""
