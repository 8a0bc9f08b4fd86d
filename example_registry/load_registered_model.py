"""The seed tutorial's load_registered_model.py with gitreg in place of mlflow."""

import numpy as np

import gitreg.pyfunc

model_name = "LogisticRegression"

model_version = 2
model = gitreg.pyfunc.load_model(model_uri=f"models:/{model_name}/{model_version}")

# by stage
stage = "Production"
model_in_production = gitreg.pyfunc.load_model(model_uri=f"models:/{model_name}/{stage}")

X = np.array([[1], [2], [3]])
Y = model.predict(X)
print(Y)
print(f"{stage} holds version {model_in_production.metadata.version}: {model_in_production.predict(X)}")
