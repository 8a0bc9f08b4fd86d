"""Anchor scripts: run by the python that has MLflow or GTO installed (often
another venv), each prints its results as JSON lines on stdout. They import
nothing from gitreg or from the benchmarks package."""
