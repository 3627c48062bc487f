"""The device of the Flinth & Ohlsson / Nordenfors training (A1, A2, B1): ``device="cpu"`` and a ``torch.device``
give exactly the default run, an unavailable CUDA device is refused with a clear message before any training, and
the three notebooks declare the parameter."""

import numpy as np
import pytest
import torch

from conftest import ROOT
from invlearn.flinth import a1 as A1
from invlearn.flinth import a2 as A2
from invlearn.flinth import b1 as B1
from invlearn.flinth import data as FD
from invlearn.flinth.device import resolve_device

GRAPH = dict(channels=(2, 4), hidden=4)  # the narrowest graph nets of tests/test_graphs.py, halved
NOTEBOOKS = ("flinth_a1_c4_cnn_distance", "flinth_a2_graph_connectivity", "nordenfors_b1_regularised_projection_error")
CPU_DEVICES = ("cpu", torch.device("cpu"))
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available on this machine")


def _images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _equal(a, b) -> None:
    """Every numeric field of two result dataclasses (or two arrays) is bit-identical."""
    if hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            if name not in ("seconds", "layout"):
                _equal(getattr(a, name), getattr(b, name))
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _equal(a[key], b[key])
    elif a is None:
        assert b is None
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# ------------------------------------------------------------------------------------------------ the helper


@pytest.mark.parametrize("device", CPU_DEVICES)
def test_resolve_device_accepts_cpu_names_and_devices(device):
    assert resolve_device(device) == torch.device("cpu")


@no_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda")])
def test_resolve_device_refuses_cuda_without_a_gpu_and_names_the_fix(device):
    with pytest.raises(ValueError, match=r"torch\.cuda\.is_available\(\) is False.*device='cpu'"):
        resolve_device(device)


@pytest.mark.parametrize("device", ["gpu", "mps", ""])
def test_resolve_device_refuses_other_names(device):
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        resolve_device(device)


# ---------------------------------------------------------------------------------- explicit CPU = the default


@pytest.mark.parametrize("device", CPU_DEVICES)
def test_a2_run_and_controls_on_cpu_are_the_default_run(device):
    data = A2.graph_connectivity_data(20, seed=2)
    kwargs = dict(steps=2, aug_passes=2, lr=1e-2, **GRAPH)
    _equal(A2.train_graph_run(data, 1, **kwargs), A2.train_graph_run(data, 1, device=device, **kwargs))
    _equal(A2.train_graph_runs(data, [0, 1], **kwargs), A2.train_graph_runs(data, [0, 1], device=device, **kwargs))
    _equal(A2.start_gradients(data, [0, 1], **GRAPH), A2.start_gradients(data, [0, 1], device=device, **GRAPH))
    _equal(A2.augmentation_noise(data, 0, 3, **GRAPH), A2.augmentation_noise(data, 0, 3, device=device, **GRAPH))


@pytest.mark.parametrize("device", CPU_DEVICES)
def test_b1_on_cpu_is_the_default_run(device):
    x, y = _images(20, seed=4)
    kwargs = dict(gammas=[0.01, 100.0], runs=1, steps=2, lr=1e-3, batch_size=10, widths=(2, 2), sigma=1e-3, seed=5)
    default, explicit = B1.train_b1(x, y, **kwargs), B1.train_b1(x, y, device=device, **kwargs)
    _equal(default, explicit)
    assert explicit.distances.shape == (2, 2, 1, 3) and isinstance(explicit.distances, np.ndarray)


@pytest.mark.parametrize("device", CPU_DEVICES)
def test_a1_on_cpu_is_the_default_run(device):
    x, y = _images(20, seed=6)
    data = FD.ImageData(x=x, labels=y, mean=0.0, std=1.0, indices=np.arange(20), source="random")
    kwargs = dict(widths=(2, 2), equi_epochs=1, aug_epochs=1, aug_steps=2, batch_size=8, equi_lr=0.01, aug_lr=0.01,
                  orbit_steps=2, eval_images=(x[:8], y[:8]))
    for config in ("Skew", "Non-Unitary"):  # an incompatible support and the random (non-unitary) basis
        default, explicit = A1.run_a1(data, config, 0, **kwargs), A1.run_a1(data, config, 0, device=device, **kwargs)
        _equal(default, explicit)
        assert explicit.aug_distance.shape == (3,) and explicit.orbit_distance.shape == (3,)


@no_cuda
def test_every_entry_point_refuses_cuda_before_training():
    graphs = A2.graph_connectivity_data(10, seed=0)
    x, y = _images(10, seed=0)
    images = FD.ImageData(x=x, labels=y, mean=0.0, std=1.0, indices=np.arange(10), source="random")
    calls = [
        lambda: A2.train_graph_run(graphs, 0, steps=1, aug_passes=1, device="cuda", **GRAPH),
        lambda: A2.train_graph_runs(graphs, [0], steps=1, aug_passes=1, device="cuda", **GRAPH),
        lambda: A2.start_gradients(graphs, [0], device="cuda", **GRAPH),
        lambda: A2.augmentation_noise(graphs, 0, 1, device="cuda", **GRAPH),
        lambda: B1.train_b1(x, y, gammas=[1.0], runs=1, steps=1, lr=1e-3, batch_size=10, widths=(2, 2), sigma=1e-3,
                            seed=0, device="cuda"),
        lambda: A1.run_a1(images, "Cross", 0, widths=(2, 2), equi_epochs=1, aug_epochs=1, batch_size=10,
                          device="cuda"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="torch.cuda.is_available"):
            call()


# ------------------------------------------------------------------------------------------------- notebooks


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_declare_the_device_with_its_allowed_values(name):
    from invlearn.book import runner
    from invlearn.book.allowed import violation

    spec = runner.read_spec(ROOT / "notebooks" / f"{name}.py")  # papermill's reading of the parameters cell
    device = spec.parameters["device"]
    assert device.default == "cpu" and device.allowed.choices == ("cpu", "cuda")
    assert violation(device.allowed, "cuda") == "" and "not one of cpu | cuda" in violation(device.allowed, "gpu")
