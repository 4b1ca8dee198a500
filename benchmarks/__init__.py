"""Benchmarks of sklearn-ae against PCA & co.: scripts, not tests.

A package so that the scripts share code by ordinary imports (``benchmarks._common``,
``benchmarks.metrics``, ...) and measure with :mod:`sklearn_ae.evaluation`, as the CLI
does. Run them as modules from the repository root, e.g.
``python -m benchmarks.bench_defaults --quick``; see benchmarks/README.md.
"""
