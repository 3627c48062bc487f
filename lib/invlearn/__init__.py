"""invlearn: the shared library behind the invariance-learning reproduction book.

Modules
-------
groups    finite groups as representation matrices, projectors, constraint matrices, orbits
data      real MNIST (embedded or on disk), preprocessing, orbit augmentation
models    batched deep linear / two-layer networks, optionally hard-wired through an orbit basis
training  the single training engine (K independent configurations as one batched program)
c4cnn     C4-invariant CNNs with kernel supports and bases, projections onto E, MNIST batch makers
metrics   accuracy, non-invariant norm, invariant proportion
theory    closed-form optima of the linear problems
plotting  the book's figure style; functions take arrays and return figures
results   the per-notebook result file
runner    papermill execution with validation, profiles, cache and atomic outputs
"""

__version__ = "0.1.0"
