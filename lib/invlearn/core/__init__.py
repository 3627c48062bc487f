"""The core layer: what every paper's pages share.

Modules
-------
groups    finite groups as representation matrices, projectors, constraint matrices, orbits, orbit projectors
data      real MNIST (full on disk, else the embedded 5,000 digits), seeded subsets, pooling, orbit augmentation
datasource where MNIST comes from (folder, content hash, or the embedded digits), standard library only
models    batched deep linear / two-layer networks, optionally hard-wired through an orbit basis
training  the single training engine (K configurations as one batched program) and the one step loop
metrics   accuracy, non-invariant norm, invariant proportion, seed bands
plotting  the book's figure style and generic panels; functions take arrays and return figures
runcache  a store of training runs keyed by their protocol, shared across pages (file lock, atomic writes)
settings  environment variables understood by the library (import-light)

``invlearn.core`` imports nothing from the paper packages or the book.
"""
