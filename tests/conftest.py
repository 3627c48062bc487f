import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("INVLEARN_PROGRESS", "0")


def invlearn(*args: str, cwd: Path = ROOT, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the CLI as a user would (``python -m invlearn``)."""
    return subprocess.run(
        [sys.executable, "-m", "invlearn", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
