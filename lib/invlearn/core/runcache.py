"""A store of training runs keyed by their protocol, shared by the pages that plot different readings of one run.

A run is a set of named arrays (per-epoch logs, final values) plus a small JSON ``meta`` record. Its **id** is a
digest of its *protocol*: a JSON-able mapping of every argument that affects the computation (optimiser settings,
seeds, epochs, a digest of the data, ...) to which :func:`run_id` adds the installed torch and numpy versions. A
caller also puts a :func:`source_digest` of the modules that compute the run into the protocol, so that editing
them gives new runs rather than stale ones.

:meth:`RunCache.get_or_compute` returns the stored run when there is one, and otherwise computes and stores it
under a per-run file lock: two processes asking for the same run at once compute it once, the second waits and
loads. Files are written to a temporary name and renamed (atomic on POSIX), so a reader never sees half a run.

The store's folder is :data:`~invlearn.core.settings.RUN_CACHE_ENV` (``off`` disables the store), by default
``~/.cache/invlearn/runs``; the book's runner points it at ``<repo>/.cache/runs``. Import-light: no torch.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import numpy as np

from invlearn.core.settings import RUN_CACHE_ENV, RUN_CACHE_OFF

__all__ = ["CachedRun", "RunCache", "run_id", "source_digest", "array_digest", "default_cache_dir"]

_META = "__meta__"


def default_cache_dir() -> Path | None:
    """``$INVLEARN_RUN_CACHE``, ``None`` when it says ``off`` (or ``0``), ``~/.cache/invlearn/runs`` when unset."""
    value = os.environ.get(RUN_CACHE_ENV)
    if value is None or value == "":
        return Path.home() / ".cache" / "invlearn" / "runs"
    if value.strip().lower() in RUN_CACHE_OFF:
        return None
    return Path(value).expanduser()


def _jsonable(value: Any) -> Any:
    """Canonical JSON form: tuples as lists, numpy scalars/arrays as Python numbers/lists."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"a protocol entry must be JSON-able, not {type(value).__name__}: {value!r}")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def run_id(protocol: Mapping[str, Any]) -> str:
    """The id of the run a protocol describes: 24 hex digits of the SHA-256 of its canonical JSON, the installed
    torch and numpy versions included. Every entry counts: a changed entry gives another run."""
    record = {"protocol": _jsonable(protocol), "versions": {p: _version(p) for p in ("torch", "numpy")}}
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def source_digest(modules: Iterable[ModuleType]) -> str:
    """SHA-256 (16 hex digits) of the source files of ``modules``, in the order given."""
    h = hashlib.sha256()
    for module in modules:
        path = Path(module.__file__ or "")
        h.update(module.__name__.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def array_digest(*arrays: Any) -> str:
    """SHA-256 (16 hex digits) of arrays' dtypes, shapes and bytes (numpy arrays or anything with ``.numpy()``)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a))
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class CachedRun:
    """A run from the store.

    Attributes:
        run_id: the id of its protocol (:func:`run_id`).
        arrays: name -> array, as computed.
        meta: the JSON record stored with it (the protocol under ``"protocol"``).
        computed: ``True`` when this call computed it, ``False`` when it was loaded.
    """

    run_id: str
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    computed: bool = True

    @property
    def status(self) -> str:
        """``"computed"`` or ``"reused"``."""
        return "computed" if self.computed else "reused"


class RunCache:
    """Runs stored as ``<root>/<run id>.npz`` (arrays and the JSON meta record), locked by ``<run id>.lock``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @classmethod
    def from_env(cls) -> RunCache | None:
        """The store named by :data:`~invlearn.core.settings.RUN_CACHE_ENV`; ``None`` when it is ``off``."""
        root = default_cache_dir()
        return None if root is None else cls(root)

    def path(self, rid: str) -> Path:
        return self.root / f"{rid}.npz"

    def load(self, rid: str) -> CachedRun | None:
        """The stored run ``rid``, or ``None`` (absent or unreadable)."""
        path = self.path(rid)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files if k != _META}
                meta = json.loads(str(data[_META]))
        except (OSError, ValueError, KeyError):
            return None
        return CachedRun(rid, arrays, meta, computed=False)

    def save(self, rid: str, arrays: Mapping[str, Any], meta: Mapping[str, Any]) -> Path:
        """Write a run atomically (temporary file in the store, then rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        payload = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v) for k, v in arrays.items()}
        if _META in payload:
            raise ValueError(f"{_META!r} is reserved")
        payload[_META] = np.asarray(json.dumps(_jsonable(meta), sort_keys=True))
        fd, tmp = tempfile.mkstemp(prefix=f".{rid}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **payload)
                f.flush()
                os.fsync(f.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; a shared store must be readable by the others
            os.replace(tmp, self.path(rid))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path(rid)

    @contextmanager
    def lock(self, rid: str) -> Iterator[None]:
        """Exclusive lock of run ``rid`` across processes (``flock``; released when the holder exits)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f"{rid}.lock", "a") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def get_or_compute(
        self,
        protocol: Mapping[str, Any],
        compute: Callable[[], tuple[Mapping[str, Any], Mapping[str, Any]]],
        accept: Callable[[CachedRun], bool] | None = None,
    ) -> CachedRun:
        """The run of ``protocol``: loaded when stored (and ``accept``-ed), else computed once and stored.

        Args:
            protocol: every argument that affects the run (JSON-able); its digest is the run id.
            compute: ``() -> (arrays, meta)``; called at most once, under the run's lock.
            accept: whether a stored run serves this call (e.g. it logged every metric asked for); a refused run
                is recomputed and replaced.
        """
        rid = run_id(protocol)
        accept = accept or (lambda run: True)
        found = self.load(rid)
        if found is not None and accept(found):
            return found
        with self.lock(rid):
            found = self.load(rid)  # another process may have computed it while we waited
            if found is not None and accept(found):
                return found
            arrays, meta = compute()
            meta = {**_jsonable(meta), "protocol": _jsonable(protocol)}
            self.save(rid, arrays, meta)
        stored = self.load(rid)
        if stored is None:
            raise OSError(f"run {rid} was written to {self.path(rid)} but cannot be read back")
        return CachedRun(rid, stored.arrays, stored.meta, computed=True)
