"""Flinth & Ohlsson (2023–2025) and Nordenfors & Flinth (2025): equivariant vs augmented training dynamics
(spec ``flinth_nordenfors.md``). The two papers share the machinery, so they share this package.

Modules
-------
c4cnn    C4-invariant CNNs with kernel supports and bases, projections onto 𝓔, stacked nets
data     MNIST images for the CNNs, the batch makers of spec §4, batch losses and evaluation
a1       experiment A1: C4 CNN on MNIST, Cross / Skew / Non-Unitary
a2       experiment A2: S₁₀ graph connectivity networks (equivariant, augmented, nominal)
b1       experiment B1: the penalised projection error under augmentation
metrics  curve fits used by the pages
plots    run panels of A1, B1 and A2

Imports only :mod:`invlearn.core`.
"""
