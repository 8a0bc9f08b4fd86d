"""The seed tutorial's train.py with gitreg in place of mlflow.

Each run trains the LogisticRegression, logs its score and registers it as a
new version of 'LogisticRegression' (the first run creates the model).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

import gitreg
import gitreg.sklearn

if __name__ == "__main__":
    X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 1, 0])
    lr = LogisticRegression()
    lr.fit(X, y)
    score = lr.score(X, y)
    print("Score: %s" % score)
    gitreg.log_metric("score", score)
    run_id = gitreg.active_run().info.run_uuid

    gitreg.sklearn.log_model(lr, "model", registered_model_name="LogisticRegression")
    print("Model saved in run %s" % run_id)
