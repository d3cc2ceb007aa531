"""A training job's MLflow logging, with nothing but the environment Trainyard gives the job's container.

Usage (inside the container): python3 -c "$(cat job_logs_metrics.py)" OTHER_RUN_ID
Reads MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID and MLFLOW_EXPERIMENT_ID, and sends what
`mlflow.start_run()` (resuming MLFLOW_RUN_ID), `log_param`, `log_metric`, `log_metrics` and `log_artifact` send,
with the standard library only. Then it tries to write to OTHER_RUN_ID, which must be refused. Prints one JSON line
with what it saw; exits non-zero on the first surprise.
"""
import json
import os
import sys
import urllib.error
import urllib.request

URL = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
TOKEN = os.environ["MLFLOW_TRACKING_TOKEN"]
RUN_ID = os.environ["MLFLOW_RUN_ID"]
EXPERIMENT_ID = os.environ["MLFLOW_EXPERIMENT_ID"]
OTHER_RUN_ID = sys.argv[1]


def call(method, path, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(URL + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def expect(status_and_body, status, what):
    got, body = status_and_body
    if got != status:
        sys.exit(f"{what}: HTTP {got}, expected {status}: {body}")
    return body


run = expect(call("GET", "/api/2.0/mlflow/runs/get?run_id=" + RUN_ID), 200, "runs/get")["run"]
if run["info"]["experiment_id"] != EXPERIMENT_ID:
    sys.exit(f"the run is in experiment {run['info']['experiment_id']}, not {EXPERIMENT_ID}")

expect(call("POST", "/api/2.0/mlflow/runs/log-parameter", {"run_id": RUN_ID, "key": "lr", "value": "0.01"}), 200, "log_param")
for step in range(5):
    metric = {"run_id": RUN_ID, "key": "loss", "value": 1.0 / (step + 1), "timestamp": 1_700_000_000_000 + step, "step": step}
    expect(call("POST", "/api/2.0/mlflow/runs/log-metric", metric), 200, "log_metric")
batch = {"run_id": RUN_ID, "metrics": [{"key": "accuracy", "value": 0.93, "timestamp": 1_700_000_000_100, "step": 4}]}
expect(call("POST", "/api/2.0/mlflow/runs/log-batch", batch), 200, "log_metrics")

artifact_root = run["info"]["artifact_uri"][len("mlflow-artifacts:/"):]
expect(call("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{artifact_root}/notes.txt", raw=b"trained\n", content_type="text/plain"), 200, "log_artifact")

stolen = {"run_id": OTHER_RUN_ID, "key": "loss", "value": 0.0, "timestamp": 1_700_000_000_000, "step": 0}
refused = expect(call("POST", "/api/2.0/mlflow/runs/log-metric", stolen), 403, "writing to another run")

print(json.dumps({"run_id": RUN_ID, "refused": refused}))
