"""Hyperparameter search for any registered model: a Hyperopt space per model family, searched
on this machine (``local``) or through Ray Tune (``ray``), with the best settings kept as recipe
overrides that ``train`` applies by default.

A family declares what to search next to its recipe as a :class:`Tunable` (plain data: recipe
setting -> range) and hands its ``tune`` command to :func:`search.tune_command`.
"""
