import numpy as np
import pytest
import torch

from invlearn.core.data import downsample, draw_subset, orbit_augment
from invlearn.duan.problem import mnist_problem
from invlearn.duan.linear import train_linear_methods
from invlearn.core.groups import c4_rotations
from invlearn.core.metrics import accuracy
from invlearn.core.models import BatchedMLP
from invlearn.duan.theory import hardwired_optimum, squared_error, truncate_svd
from invlearn.core.training import (
    SecondMoments,
    TrainConfig,
    batched_loss,
    invariance_penalty,
    linear_mse_from_moments,
    train,
)


@pytest.fixture(scope="module")
def problem():
    return mnist_problem(n_samples=200, seed=1)


def test_mnist_problem_is_real_seeded_and_excludes_nine(problem):
    assert problem.x.shape == (200, 196) and problem.x_aug.shape == (800, 196)
    assert int(problem.labels.max()) <= 8 and len(set(problem.labels.tolist())) == 9
    assert 0 <= float(problem.x.min()) and float(problem.x.max()) <= 1
    again = mnist_problem(n_samples=200, seed=1)
    assert torch.equal(again.x, problem.x)
    other = mnist_problem(n_samples=200, seed=2)
    assert not torch.equal(other.x, problem.x)


def test_subset_is_a_permutation_draw_not_a_slice():
    labels = np.repeat(np.arange(10), 500)
    idx = draw_subset(labels, 100, seed=0, exclude_digits=(9,))
    assert len(set(labels[idx].tolist())) == 9 and 9 not in labels[idx]
    held_out = draw_subset(labels, 100, seed=1, exclude_digits=(9,), exclude=idx)
    assert not set(idx) & set(held_out)


def test_downsampling_commutes_with_rotation():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(1, 28, 28)).astype(np.uint8)
    np.testing.assert_allclose(downsample(np.rot90(img, 1, axes=(1, 2)).copy()), np.rot90(downsample(img), 1, axes=(1, 2)))


def test_orbit_augment_layout():
    g = c4_rotations(4, dtype=torch.float32)
    x = torch.randn(3, 16)
    xs, ys = orbit_augment(x, torch.tensor([0, 1, 2]), g)
    assert xs.shape == (12, 16) and ys.tolist() == [0, 1, 2] * 4
    assert torch.equal(xs[3:6], x @ g.rho[1].T)


def test_training_reduces_loss_and_is_deterministic(problem):
    cfg = TrainConfig(epochs=20, loss="mse", lr=1e-2)
    runs = []
    for _ in range(2):
        model = BatchedMLP((196, 5, 9), seeds=[0, 1])
        runs.append((train(model, problem.x, problem.y, cfg), model.end_to_end().detach()))
    (h1, w1), (h2, w2) = runs
    assert np.all(h1.loss[-1] < 0.9 * h1.loss[0])
    assert np.array_equal(h1.loss, h2.loss) and torch.equal(w1, w2)


@pytest.mark.parametrize("loss,batch_size,optimizer", [("mse", None, "adam"), ("ce", 64, "sgd")])
def test_batched_configurations_equal_separate_runs(problem, loss, batch_size, optimizer):
    cfg = TrainConfig(epochs=5, loss=loss, lr=1e-2, batch_size=batch_size, optimizer=optimizer, momentum=0.9)
    target = problem.y if loss == "mse" else problem.labels
    G = problem.group.constraint().float()
    lambdas, seeds = [0.0, 0.1, 1.0], [3, 4, 5]
    batched = BatchedMLP((196, 5, 9), seeds=seeds)
    train(batched, problem.x, target, cfg, penalty=invariance_penalty(G, lambdas))
    for k, (lam, seed) in enumerate(zip(lambdas, seeds)):
        single = BatchedMLP((196, 5, 9), seeds=[seed])
        train(single, problem.x, target, cfg, penalty=invariance_penalty(G, [lam]))
        torch.testing.assert_close(batched.end_to_end()[k], single.end_to_end()[0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dims,hardwired", [((196, 5, 9), False), ((196, 7, 5, 9), True), ((196, 9), False)])
def test_second_moment_loss_equals_sample_loss_with_gradients(problem, dims, hardwired):
    basis = problem.group.orbit_basis().float() if hardwired else None
    model = BatchedMLP(dims, seeds=[0, 1], basis=basis)
    by_samples = batched_loss(model(problem.x_aug), problem.y_aug, "mse")
    grads_samples = torch.autograd.grad(by_samples.sum(), list(model.weights))
    by_moments = linear_mse_from_moments(model, SecondMoments.of(problem.x_aug, problem.y_aug))
    grads_moments = torch.autograd.grad(by_moments.sum(), list(model.weights))
    torch.testing.assert_close(by_moments, by_samples, rtol=1e-5, atol=1e-7)
    for a, b in zip(grads_moments, grads_samples):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_second_moment_training_follows_sample_training(problem):
    G = problem.group.constraint().float()
    ends = []
    for second_moments in (False, True):
        model = BatchedMLP((196, 5, 9), seeds=[0, 1])
        cfg = TrainConfig(epochs=50, loss="mse", lr=1e-2, second_moments=second_moments)
        history = train(model, problem.x, problem.y, cfg, penalty=invariance_penalty(G, [0.0, 0.1]))
        ends.append((history.loss, model.end_to_end().detach()))
    np.testing.assert_allclose(ends[1][0], ends[0][0], rtol=1e-4)
    torch.testing.assert_close(ends[1][1], ends[0][1], rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError):
        train(BatchedMLP((196, 5, 9), seeds=[0]), problem.x, problem.labels, TrainConfig(1, loss="ce", second_moments=True))


def test_initialisation_matches_torch_linear():
    torch.manual_seed(7)
    first = torch.nn.Linear(196, 5, bias=False).weight.detach()
    second = torch.nn.Linear(5, 9, bias=False).weight.detach()
    model = BatchedMLP((196, 5, 9), seeds=[7])
    assert torch.equal(model.weights[0][0], first) and torch.equal(model.weights[1][0], second)


def test_constrained_model_is_invariant(problem):
    g = problem.group
    model = BatchedMLP((196, 5, 9), seeds=[0], basis=g.orbit_basis().float())
    w = model.end_to_end()[0].double()
    assert torch.allclose(w @ g.constraint().double(), torch.zeros(9, 196, dtype=torch.float64), atol=1e-6)


def test_hardwired_closed_form_beats_random_invariant_low_rank_maps(problem):
    g = problem.group
    x, y = problem.x.double(), problem.y.double()
    w = hardwired_optimum(x, y, g.orbit_basis("orthonormal").double(), rank=5, ridge=1e-9)
    assert int(torch.linalg.matrix_rank(w, atol=1e-8)) == 5
    assert float((w @ g.constraint().double()).abs().max()) < 1e-9
    best = squared_error(w, x, y)
    gen = torch.Generator().manual_seed(0)
    basis = g.orbit_basis("orthonormal").double()
    for _ in range(20):
        v = w @ basis.T + 0.05 * torch.randn(9, 49, generator=gen, dtype=torch.float64)
        assert squared_error(truncate_svd(v, 5) @ basis, x, y) >= best - 1e-9
    # training the constrained network approaches the closed-form loss from above
    runs = train_linear_methods(problem, methods=("constrained",), epochs=400, lr=1e-2)
    trained_mse = float(runs.loss["constrained"][-1, 0])  # nn.MSELoss: mean over n x 9 entries
    closed_mse = best / y.numel()
    assert closed_mse - 1e-6 <= trained_mse < closed_mse * 1.05
    assert float(accuracy(problem.x_aug.double() @ w.T, problem.labels_aug)) > 0.3


def test_train_steps_is_plain_sgd_with_gradient_transform_and_callbacks():
    from invlearn.core.training import train_steps

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1, bias=False)
    w0 = model.weight.detach().clone()
    xs = [torch.randn(4, 3, dtype=torch.float32) for _ in range(5)]
    mask = torch.tensor([[1.0, 0.0, 1.0]])
    seen = []

    def loss_fn(m, x):
        return (m(x) ** 2).mean()

    def keep_masked(m):
        m.weight.grad.mul_(mask)

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = train_steps(model, xs, loss_fn, opt, grad_transform=keep_masked,
                         callbacks=[lambda k, m, l: seen.append((k, m.weight.detach().clone()))])
    w = w0.clone()
    for k, x in enumerate(xs):
        assert abs(losses[k] - float(((x @ w.T) ** 2).mean())) < 1e-6
        grad = 2 * ((x @ w.T) * x).mean(dim=0, keepdim=True)
        w = w - 0.1 * grad * mask
        assert torch.allclose(seen[k + 1][1], w, atol=1e-6)
    assert [k for k, _ in seen] == list(range(6)) and torch.equal(seen[0][1], w0)
    assert torch.equal(model.weight.detach()[0, 1], w0[0, 1])
