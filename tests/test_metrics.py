"""Curve and weight metrics of invlearn.core.metrics."""

import numpy as np
import pytest
import torch

from invlearn.core.groups import c4_rotations
from invlearn.duan.metrics import double_descent, first_crossing, orbit_spread, settling_epoch
from invlearn.core.metrics import invariant_proportion, noninvariant_norm, seed_band
from invlearn.flinth.metrics import line_through_origin, power_law_exponent

EPOCHS = np.arange(0, 100)


def test_noninvariant_norm_and_proportion_split_w():
    group = c4_rotations(4)
    w = torch.randn(3, 16, dtype=torch.float64)
    projector = group.projector()
    inv, perp = w @ projector, w - w @ projector
    assert float(noninvariant_norm(w, projector)) == pytest.approx(float(torch.linalg.matrix_norm(perp)))
    assert float(invariant_proportion(w, projector)) == pytest.approx(float((inv**2).sum() / (w**2).sum()))
    assert float(noninvariant_norm(inv, projector)) < 1e-12
    assert float(invariant_proportion(inv, projector)) == pytest.approx(1.0)


def test_orbit_spread_absolute_and_relative():
    entries = np.array([[1.0, 2.0, 3.0, 2.0], [10.0, 10.0, 10.0, 10.0]])
    assert orbit_spread(entries).tolist() == [2.0, 0.0]
    assert orbit_spread(entries, relative=True).tolist() == [1.0, 0.0]


def test_settling_and_crossing_epochs():
    curve = np.minimum(EPOCHS / 50.0, 1.0)  # reaches 1 at epoch 50
    assert settling_epoch(EPOCHS, curve, tol=0.1) == 45  # |e/50 - 1| <= 0.1 from e = 45
    assert first_crossing(EPOCHS, curve, 0.5) == 25.0
    assert first_crossing(EPOCHS, curve, 2.0) == float("inf")
    assert settling_epoch(EPOCHS, np.ones(100), tol=0.01) == 0


def test_double_descent_detects_only_the_three_phase_shape():
    t = EPOCHS / 99.0
    three_phase = np.concatenate([1 - t[:30], 0.71 + 0.5 * (t[30:60] - t[30]), 0.86 - 2 * (t[60:] - t[60])])
    found = double_descent(EPOCHS, three_phase, rise=0.05)
    assert found["found"] and found["epoch_min"] == 29 and found["epoch_max"] == 60  # 0.86 at epoch 60
    assert not double_descent(EPOCHS, 1 - t, rise=0.05)["found"]  # monotone
    assert not double_descent(EPOCHS, np.concatenate([1 - t[:50], t[50:]]), rise=0.05)["found"]  # ends on the rise


def test_seed_band_minmax_and_sd():
    values = np.array([[1.0, 3.0], [2.0, 2.0]])
    mean, lo, hi = seed_band(values)
    assert mean.tolist() == [2.0, 2.0] and lo.tolist() == [1.0, 2.0] and hi.tolist() == [3.0, 2.0]
    _, lo_sd, hi_sd = seed_band(values, band="sd")
    assert lo_sd[0] == pytest.approx(2 - np.sqrt(2)) and hi_sd[1] == 2.0
    with pytest.raises(ValueError):
        seed_band(values, band="iqr")


def test_line_through_origin_and_power_law_exponent():
    x = np.linspace(0.0, 2.0, 21)
    slope, resid = line_through_origin(x, 0.4 * x)
    assert slope == pytest.approx(0.4) and resid < 1e-12
    _, resid_sqrt = line_through_origin(x, np.sqrt(x))
    assert resid_sqrt > 0.05
    assert power_law_exponent(x, 3 * x) == pytest.approx(1.0)
    assert power_law_exponent(x, np.sqrt(x)) == pytest.approx(0.5)  # x = 0 is dropped
