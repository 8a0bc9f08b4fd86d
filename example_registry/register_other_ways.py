"""The seed tutorial's other two ways of registering: register_model() on a
logged model's URI, and the client's create_registered_model() +
create_model_version()."""

import numpy as np
from sklearn.linear_model import LogisticRegression

import gitreg
import gitreg.sklearn

X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
y = np.array([0, 0, 1, 1, 1, 0])
lr = LogisticRegression().fit(X, y)

# log without registering, as `mlflow.sklearn.log_model(lr, "model")` does ...
info = gitreg.sklearn.log_model(lr, "model")
RUN_ID = info.run_id

# (2) ... and register it later from its run URI
result = gitreg.register_model(model_uri=f"runs:/{RUN_ID}/model", name="LogisticRegressionCopy")
print(f"register_model: {result.name} version {result.version} ({result.tag})")

# (3) the client: create the registered model, then a version from a source
client = gitreg.Client()
model_name = "LogisticRegressionClient"
client.create_registered_model(model_name)
result = client.create_model_version(name=model_name, source=f"runs:/{RUN_ID}/model", run_id=RUN_ID)
print(f"create_model_version: {result.name} version {result.version} ({result.tag})")
