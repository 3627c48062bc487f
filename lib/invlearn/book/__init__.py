"""The book machinery: execute figure notebooks, run sweeps, write and read result files, build the scorecard.

Modules
-------
runner     papermill execution with validation, profiles, a cache that follows the imports, atomic outputs
deps       what a page depends on: its import closure (static analysis), the MNIST it reads, versions
sweep      a notebook over a grid of parameters and seeds, locally or on Dask
cli        the ``invlearn`` command
results    the per-notebook result file (written by the notebooks, read by the scorecard)
scorecard  one row per page: claim, checks, findings

Imports no paper package: it knows notebooks, parameters and files, not the science.
"""
