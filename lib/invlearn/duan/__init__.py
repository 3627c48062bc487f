"""Duan & Montúfar (2026), *Learning invariance in deep linear networks* (spec ``duan_montufar.md``).

Modules
-------
problem    the MNIST problem: 1,000 digits pooled to 14×14, C4 acting on pixels, augmentation
linear     deep linear networks trained with DA, hard-wired or regularized (Figs 1–9)
nonlinear  two-layer nonlinear networks and the invariance discrepancy (App. C.3, Figs 10–11)
theory     closed-form optima and critical points (Fig 5, Thms 6, 9, 12, Prop 13)
metrics    curve readings (settling, crossing, double descent, orbit spread) and ε_inv
plots      the paper's page-specific plots
pages      what the MSE pages of Figs 1–4 share with their cross-entropy twins (Figs 6–9): runs from the
           run store, curves, figures, the checks both twins assert

Imports only :mod:`invlearn.core`.
"""
