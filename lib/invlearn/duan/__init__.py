"""Duan & Montúfar (2026), *Learning invariance in deep linear networks* (spec ``duan_montufar.md``).

Modules
-------
problem    the MNIST problem: 1,000 digits pooled to 14×14, C4 acting on pixels, augmentation
linear     deep linear networks trained with DA, hard-wired or regularized (Figs 1–9)
nonlinear  two-layer nonlinear networks and the invariance discrepancy (App. C.3, Figs 10–11)
theory     closed-form optima and critical points (Fig 5, Thms 6, 9, 12, Prop 13)
metrics    curve readings (settling, crossing, double descent, orbit spread) and ε_inv
plots      the paper's page-specific plots

Imports only :mod:`invlearn.core`.
"""
