"""gitreg's benchmark suite: ``python -m benchmarks --help``. See docs/benchmarks.md."""
