"""The torch device of a Flinth & Ohlsson / Nordenfors & Flinth training run (a module of its own, so that pages
that read no MNIST do not import the MNIST batch module)."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device = "cpu") -> torch.device:
    """The torch device of a training run, checked before any tensor moves.

    Every random draw of the experiments stays on a CPU ``torch.Generator`` and only the drawn tensors move, so a run
    on ``"cuda"`` sees the same initialisations, batch orders, rotations and permutations as on ``"cpu"``; its numbers
    differ from the CPU's by float round-off only.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or a ``torch.device`` of those types.
    Returns:
        the ``torch.device``.
    Raises:
        ValueError: an unreadable name; a device type other than cpu and cuda (the distances to E are computed in
            float64, which MPS lacks); cuda when ``torch.cuda.is_available()`` is false or the index does not exist.
    """
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device {device!r} is not a torch device name; use 'cpu' or 'cuda'") from err
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device {str(resolved)!r} is not supported: use 'cpu' or 'cuda' (the distances need float64)")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {str(resolved)!r} was requested but torch.cuda.is_available() is False: run on a machine with "
                "an NVIDIA GPU and a CUDA build of PyTorch, or pass device='cpu'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(resolved)!r} does not exist: {torch.cuda.device_count()} CUDA device(s) visible")
    return resolved
