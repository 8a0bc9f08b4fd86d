"""MLflow on a git registry: a model-registry store and an artifact repository for MLflow 3.

The one place gitreg imports mlflow. ``pip install 'gitreg-registry[mlflow]'`` registers both
through entry points, so ``MLFLOW_REGISTRY_URI=gitreg:///path/to/registry`` (or
``mlflow server --registry-store-uri gitreg:///…``) makes MLflow's own registry calls
write commits and tags; see ``docs/mlflow.md``.
"""
