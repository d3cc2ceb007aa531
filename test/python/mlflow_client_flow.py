"""The main flow of the `mlflow` client, spoken over HTTP with the standard library only.

Usage: python3 mlflow_client_flow.py URL TOKEN
Walks what `mlflow.set_experiment`, `start_run`, `log_param(s)`, `log_metric(s)`, `log_artifact` (single and
multipart), `register_model` and `set_registered_model_alias` send, checks every answer, and exits non-zero on the
first surprise.
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

URL, TOKEN = sys.argv[1].rstrip("/"), sys.argv[2]
API = URL + "/api/2.0/mlflow"
checks = 0


def call(method, path, body=None, raw=None, content_type="application/json", expect=200):
    global checks
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    if status != expect:
        sys.exit(f"{method} {path}: HTTP {status}, expected {expect}: {payload[:300]!r}")
    checks += 1
    if raw is None and payload[:1] in (b"{", b"["):
        return json.loads(payload)
    return payload


def put_part(url, data, headers, expect=200):
    """`requests.put(credential.url, data=..., headers=credential.headers)`: no Trainyard credential; the ETag."""
    global checks
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, etag = response.status, response.headers.get("ETag", "")
    except urllib.error.HTTPError as error:
        status, etag = error.code, ""
    if status != expect:
        sys.exit(f"PUT {url}: HTTP {status}, expected {expect}")
    checks += 1
    return etag


def check(condition, what):
    global checks
    if not condition:
        sys.exit("check failed: " + what)
    checks += 1


now = int(time.time() * 1000)
name = f"python-flow-{now}"

# mlflow.set_experiment: get-by-name answers 404, then create.
missing = call("GET", f"{API}/experiments/get-by-name?experiment_name={urllib.parse.quote(name)}", expect=404)
check(missing["error_code"] == "RESOURCE_DOES_NOT_EXIST", "get-by-name of a missing experiment says RESOURCE_DOES_NOT_EXIST")
experiment_id = call("POST", f"{API}/experiments/create", {"name": name})["experiment_id"]
experiment = call("GET", f"{API}/experiments/get?experiment_id={experiment_id}")["experiment"]
check(experiment["name"] == name and experiment["lifecycle_stage"] == "active", "the experiment reads back")

# mlflow.start_run
run = call("POST", f"{API}/runs/create", {
    "experiment_id": experiment_id, "user_id": "flow", "run_name": "flow-run", "start_time": now,
    "tags": [{"key": "mlflow.user", "value": "flow"}, {"key": "mlflow.source.type", "value": "LOCAL"}],
})["run"]
run_id = run["info"]["run_id"]
check(run["info"]["status"] == "RUNNING", "a new run is RUNNING")
artifact_uri = run["info"]["artifact_uri"]
check(artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts", "the run's artifact URI")

# log_param, log_metric, log_metrics/log_params (log-batch), set_tag
call("POST", f"{API}/runs/log-parameter", {"run_id": run_id, "run_uuid": run_id, "key": "lr", "value": "0.01"})
for step in range(10):
    call("POST", f"{API}/runs/log-metric", {"run_id": run_id, "key": "loss", "value": 1 / (step + 1), "timestamp": now + step, "step": step})
call("POST", f"{API}/runs/log-batch", {
    "run_id": run_id,
    "metrics": [{"key": "acc", "value": 0.5 + i / 100, "timestamp": now + i, "step": i} for i in range(50)],
    "params": [{"key": "opt", "value": "adam"}, {"key": "batch", "value": "32"}],
    "tags": [{"key": "stage", "value": "flow"}],
})
call("POST", f"{API}/runs/set-tag", {"run_id": run_id, "key": "note", "value": "hello"})
changed = call("POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.02"}, expect=400)
check(changed["error_code"] == "INVALID_PARAMETER_VALUE", "a logged param cannot change")
too_many = call("POST", f"{API}/runs/log-batch", {
    "run_id": run_id, "metrics": [{"key": "x", "value": 1, "timestamp": now, "step": i} for i in range(1001)],
}, expect=400)
check(too_many["error_code"] == "INVALID_PARAMETER_VALUE", "more than 1000 metrics in a batch is refused")

# log_artifact through the artifact proxy
artifacts = f"{URL}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts"
binary = bytes(range(256)) * 64
call("PUT", f"{artifacts}/hello.txt", raw=b"hello artifact\n", content_type="text/plain")
call("PUT", f"{artifacts}/weights/model.bin", raw=binary, content_type="application/octet-stream")
listing = call("GET", f"{URL}/api/2.0/mlflow-artifacts/artifacts?path={urllib.parse.quote(f'{experiment_id}/{run_id}/artifacts')}")
check({f["path"] for f in listing["files"]} == {"hello.txt", "weights"}, "the artifact listing")
check(call("GET", f"{artifacts}/weights/model.bin") == binary, "a binary artifact downloads byte for byte")
call("GET", f"{artifacts}/..%2F..%2Fetc%2Fpasswd", expect=400)

# log_artifact of a large file with MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true: create the upload in the artifact
# folder naming the local file, PUT each part to its pre-signed URL (a thread pool: any order), complete, download.
part_size = 64 * 1024
weights = bytes((i * 7) % 251 for i in range(part_size * 2 + 1000))
mpu = f"{URL}/api/2.0/mlflow-artifacts/mpu"
folder = f"{experiment_id}/{run_id}/artifacts/big"
created = call("POST", f"{mpu}/create/{folder}", {"path": "/tmp/flow/weights.bin", "num_parts": 3})
credentials = created["credentials"]
check([c["part_number"] for c in credentials] == [1, 2, 3], "three part URLs, numbered from 1")
check(all(c["url"].startswith(f"{URL}/api/2.0/mlflow-artifacts/mpu/part/") for c in credentials), "absolute part URLs on this server")
put_part(credentials[0]["url"].split("?")[0], b"unsigned", {}, expect=403)
parts = []
for credential in reversed(credentials):
    start = (credential["part_number"] - 1) * part_size
    etag = put_part(credential["url"], weights[start:start + part_size], credential.get("headers", {}))
    parts.append({"part_number": credential["part_number"], "etag": etag, "url": credential["url"]})
parts.sort(key=lambda part: part["part_number"])
call("POST", f"{mpu}/complete/{folder}", {"path": "/tmp/flow/weights.bin", "upload_id": created["upload_id"], "parts": parts})
check(call("GET", f"{artifacts}/big/weights.bin") == weights, "a multipart upload downloads byte for byte")

# end_run
info = call("POST", f"{API}/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now + 1000})["run_info"]
check(info["status"] == "FINISHED", "the run finished")
data = call("GET", f"{API}/runs/get?run_id={run_id}")["run"]["data"]
check({p["key"]: p["value"] for p in data["params"]} == {"lr": "0.01", "opt": "adam", "batch": "32"}, "params read back")
latest = {m["key"]: m for m in data["metrics"]}
check(latest["loss"]["step"] == 9 and latest["acc"]["value"] == 0.99, "the latest metric values")

# search_runs and get_metric_history
found = call("POST", f"{API}/runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.acc > 0.5 and params.opt = 'adam'", "max_results": 100})
check([r["info"]["run_id"] for r in found["runs"]] == [run_id], "search finds the run by metric and param")
history = call("GET", f"{API}/metrics/get-history?run_id={run_id}&metric_key=loss")["metrics"]
check([m["step"] for m in history] == list(range(10)), "the loss history has every step")
call("GET", f"{API}/runs/get?run_id={'0' * 32}", expect=404)

# register_model and set_registered_model_alias
model = f"flow-model-{now}"
call("POST", f"{API}/registered-models/create", {"name": model})
version = call("POST", f"{API}/model-versions/create", {"name": model, "source": f"runs:/{run_id}/weights", "run_id": run_id})["model_version"]
check(version["version"] == "1", "the first version is 1")
call("POST", f"{API}/registered-models/alias", {"name": model, "alias": "champion", "version": "1"})
by_alias = call("GET", f"{API}/registered-models/alias?name={model}&alias=champion")["model_version"]
check(by_alias["run_id"] == run_id, "the alias points at the version of this run")
uri = call("GET", f"{API}/model-versions/get-download-uri?name={model}&version=1")["artifact_uri"]
check(uri == f"{artifact_uri}/weights", "the version downloads from the run's artifacts")

print(f"mlflow client flow: {checks} checks passed")
