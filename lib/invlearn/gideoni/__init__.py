"""Gideoni (2023), *Implicitly learned invariance and equivariance in linear regression* (spec ``gideoni.md``).

Modules
-------
experiments  linear regression under reflections and swaps, incomplete orbits, label noise (Figs 1–4); the
             empirical weight kernel of an MLP and kernelised S₃ representations (Fig 5, Table 1)
plots        model lines of the fitted regressions

Imports only :mod:`invlearn.core`.
"""
