"""Trainyard's scoring server: serves one scikit-learn model over HTTP with MLflow's scoring protocol.

The model (mounted read-only at /model):
  /model/model.pkl   a scikit-learn estimator or pipeline written by pickle.dump (protocol 5 or lower)
  /model/MLmodel     optional, MLflow's YAML: when present, flavors.sklearn.pickled_model names the pickle, so
                     a folder written by mlflow.sklearn.save_model / log_model (cloudpickle, which plain pickle
                     reads for plain scikit-learn objects) serves unchanged
  /model/model/...   the same one level down, as in a run's artifact folder logged under artifact_path "model"

The protocol:
  GET  /ping, /health  200 {"status": "ready"} once the model is loaded; 503 {"status": "loading" | "failed",
                       "message": ...} before, or when it could not be loaded
  POST /invocations    Content-Type application/json, one of
                         {"dataframe_split": {"columns": [...], "data": [[...], ...], "index": [...]}}
                         {"dataframe_records": [{"column": value, ...}, ...]}
                         {"instances": [...]} or {"inputs": [...]}: rows (lists), records (objects) or single
                           values (one feature per row); "inputs" may also be an object of columns
                       plus an optional "params" object ({"predict_method": "predict_proba"} asks for class
                       probabilities; other params are ignored); or Content-Type text/csv with a header row.
                       Answers 200 {"predictions": [...]}; 400 {"error_code": "BAD_REQUEST", "message": ...} for
                       input that cannot be read or that the model refuses; 415 for any other content type;
                       413 for a body over 100 MiB; 503 while the model is not loaded.
Rows without column names take the model's feature names (feature_names_in_), and named columns are put in the
model's order. Tracebacks go to stderr, never to the caller.

Environment: PORT (default 8080). SIGTERM (or SIGINT) stops accepting connections, lets requests in flight
finish, and exits 0.
"""

import io
import json
import math
import os
import pickle
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

MODEL_ROOT = Path("/model")
DEFAULT_PICKLE = "model.pkl"
READABLE_SERIALIZATIONS = {"pickle", "cloudpickle"}
INPUT_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PREDICT_METHODS = ("predict", "predict_proba")
MAX_BODY_BYTES = 100 * 1024 * 1024
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"


def log(message):
    print(f"score: {message}", file=sys.stderr, flush=True)


class BadRequest(Exception):
    """Input the caller must fix: answered with `status` and MLflow's error shape."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class ModelNotServable(Exception):
    pass


# --- finding and loading the model -------------------------------------------------------------------------


def mlmodel_flavors(text):
    """The scalar settings of each flavor in an MLmodel file: {"sklearn": {"pickled_model": "model.pkl", ...}}.

    MLflow writes MLmodel with yaml.safe_dump in block style, so the `flavors:` block is plain `key: value`
    lines indented by nesting; that is all this reads, without needing PyYAML.
    """
    flavors = {}
    inside, flavor_indent, flavor, setting_indent = False, None, None, None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            inside = stripped == "flavors:"
            continue
        if not inside:
            continue
        key, _, value = stripped.partition(":")
        if flavor_indent is None or indent <= flavor_indent:
            flavor_indent, flavor, setting_indent = indent, key.strip(), None
            flavors[flavor] = {}
            continue
        setting_indent = setting_indent or indent
        if indent == setting_indent and value.strip():
            flavors[flavor][key.strip()] = value.strip().strip("'\"")
    return flavors


def pickle_named_by_mlmodel(folder):
    mlmodel = folder / "MLmodel"
    flavors = mlmodel_flavors(mlmodel.read_text(encoding="utf-8"))
    sklearn = flavors.get("sklearn")
    if sklearn is None:
        raise ModelNotServable(f"{mlmodel} has no sklearn flavor (it has {', '.join(flavors) or 'none'}): this server serves scikit-learn models")
    serialization = sklearn.get("serialization_format", "pickle")
    if serialization not in READABLE_SERIALIZATIONS:
        raise ModelNotServable(f"{mlmodel} says the model is saved as {serialization}; this server reads pickle and cloudpickle")
    name = PurePosixPath(sklearn.get("pickled_model", DEFAULT_PICKLE))
    if name.is_absolute() or ".." in name.parts:
        raise ModelNotServable(f"{mlmodel} names {name} as the model file, which is outside {folder}")
    return folder / name


def find_model_file(root):
    if not root.is_dir():
        raise ModelNotServable(f"no model folder at {root}: mount a folder holding {DEFAULT_PICKLE} (and optionally MLmodel) there")
    for folder in (root, root / "model"):
        if (folder / "MLmodel").is_file():
            return pickle_named_by_mlmodel(folder)
        if (folder / DEFAULT_PICKLE).is_file():
            return folder / DEFAULT_PICKLE
    raise ModelNotServable(f"no model in {root}: expected {DEFAULT_PICKLE} or an MLmodel file in {root} or {root / 'model'}")


class ModelState:
    """The model and where loading it stands; loaded once, in the background, while /ping answers 503."""

    def __init__(self):
        self.status = "loading"
        self.message = f"loading the model from {MODEL_ROOT}"
        self.model = None

    def load(self):
        started = time.monotonic()
        try:
            path = find_model_file(MODEL_ROOT)
            if not path.is_file():
                raise ModelNotServable(f"the model file {path} does not exist")
            with path.open("rb") as file:
                model = pickle.load(file)
            if not callable(getattr(model, "predict", None)):
                raise ModelNotServable(f"{path} holds a {type(model).__name__}, which has no predict method")
        except ModelNotServable as error:
            self.fail(str(error))
        except Exception as error:
            traceback.print_exc()
            self.fail(f"could not load the model: {type(error).__name__}: {error}")
        else:
            self.model, self.status = model, "ready"
            self.message = f"{type(model).__name__} from {path}"
            log(f"loaded {self.message} in {time.monotonic() - started:.2f} s")

    def fail(self, message):
        self.status, self.message = "failed", message
        log(message)


# --- reading a request into model input ---------------------------------------------------------------------


def feature_names(model):
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(name) for name in names]


def rows_frame(model, rows, columns=None, index=None):
    """Rows of values as model input: named by `columns`, else by the model's feature names when they fit."""
    if columns is None:
        names = feature_names(model)
        if names is not None and all(isinstance(row, list) and len(row) == len(names) for row in rows):
            columns = names
    if columns is None and index is None:
        return np.asarray(rows)
    return pd.DataFrame(rows, columns=columns, index=index)


def tensor_input(model, value, key):
    """`instances` or `inputs`: rows, records, single values per row, or (inputs only) an object of columns."""
    if isinstance(value, dict) and key == "inputs":
        return pd.DataFrame(value)
    if not isinstance(value, list):
        raise BadRequest(f'"{key}" must be a list of rows' + (" or an object of columns" if key == "inputs" else ""))
    if value and all(isinstance(item, dict) for item in value):
        return pd.DataFrame(value)
    if any(isinstance(item, dict) for item in value):
        raise BadRequest(f'"{key}" mixes records (objects) with other values: send all rows as lists or all as objects')
    return rows_frame(model, [item if isinstance(item, list) else [item] for item in value])


def json_input(model, payload):
    if not isinstance(payload, dict):
        kind = "a list" if isinstance(payload, list) else f"a {type(payload).__name__}"
        raise BadRequest(f"The input must be a JSON object with exactly one of the input fields {list(INPUT_FORMATS)}. Received {kind}.")
    present = [key for key in INPUT_FORMATS if key in payload]
    if len(present) != 1:
        raise BadRequest(
            f"The input must be a JSON object with exactly one of the input fields {list(INPUT_FORMATS)}. "
            f"Received an object with input fields: {list(payload)}."
        )
    key = present[0]
    value = payload[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or not isinstance(value.get("data"), list):
            raise BadRequest('"dataframe_split" must be an object with "data" (a list of rows) and optionally "columns" and "index"')
        return rows_frame(model, value["data"], value.get("columns"), value.get("index"))
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(record, dict) for record in value):
            raise BadRequest('"dataframe_records" must be a list of objects, one per row')
        return pd.DataFrame(value)
    return tensor_input(model, value, key)


def in_model_order(model, data):
    """Named columns in the order the model was fitted with (scikit-learn refuses another order)."""
    names = feature_names(model)
    if names is None or not isinstance(data, pd.DataFrame):
        return data
    data.columns = [str(column) for column in data.columns]
    return data[names] if set(names).issubset(data.columns) else data


def predict_method(model, params):
    if params is None:
        return model.predict
    if not isinstance(params, dict):
        raise BadRequest('"params" must be an object')
    name = params.get("predict_method", "predict")
    if name not in PREDICT_METHODS:
        raise BadRequest(f'"predict_method" must be one of {list(PREDICT_METHODS)}, not {json.dumps(name)}')
    method = getattr(model, name, None)
    if not callable(method):
        raise BadRequest(f"the model ({type(model).__name__}) has no {name}")
    return method


# --- answering ----------------------------------------------------------------------------------------------


def json_safe(value):
    """Predictions as plain JSON: NumPy and pandas values become Python ones, NaN and infinities become null."""
    if isinstance(value, pd.DataFrame):
        return json_safe(value.to_dict(orient="records"))
    if isinstance(value, (pd.Series, pd.Index)):
        value = value.to_numpy()
    if hasattr(value, "toarray"):
        value = value.toarray()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biu" or (value.dtype.kind == "f" and np.isfinite(value).all()):
            return value.tolist()
        return [json_safe(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value if value is None or isinstance(value, (str, int)) else str(value)


def media_type(header):
    """The media type of a Content-Type header, or a BadRequest(415) for a charset other than UTF-8."""
    kind, *parameters = [part.strip() for part in (header or "").split(";")]
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise BadRequest(f"the scoring server reads only UTF-8, not {value.strip()}", status=415)
    return kind.lower()


def score(model, content_type, body):
    kind = media_type(content_type)
    if kind not in (JSON_TYPE, CSV_TYPE):
        raise BadRequest(f"This predictor only supports the following content types: {[CSV_TYPE, JSON_TYPE]}. Got {json.dumps(content_type or '')}.", status=415)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the body is not UTF-8: {error}") from None
    params = None
    try:
        if kind == CSV_TYPE:
            data = pd.read_csv(io.StringIO(text))
        else:
            try:
                payload = json.loads(text)
            except json.JSONDecodeError as error:
                raise BadRequest(f"Failed to parse input from JSON. Ensure that input is a valid JSON formatted string. Error: {error}") from None
            data = json_input(model, payload)
            params = payload.get("params")
    except BadRequest:
        raise
    except Exception as error:
        traceback.print_exc()
        what = "CSV with a header row" if kind == CSV_TYPE else "a table"
        raise BadRequest(f"Failed to read the input as {what}: {type(error).__name__}: {error}") from None
    method = predict_method(model, params)
    try:
        predictions = method(in_model_order(model, data))
    except Exception as error:
        traceback.print_exc()
        raise BadRequest(
            "Encountered an error while evaluating the model. Verify that the input is compatible with the model "
            f"for inference. {type(error).__name__}: {error}"
        ) from None
    return {"predictions": json_safe(predictions)}


class ScoringServer(ThreadingHTTPServer):
    """Threads that the close waits for, and idle keep-alive connections that a stop closes at once."""

    daemon_threads = False
    request_queue_size = 128

    def __init__(self, address, state):
        super().__init__(address, ScoringHandler)
        self.state = state
        self.stopping = False
        self.connections = {}
        self.connections_lock = threading.Lock()

    def set_busy(self, handler, busy):
        """Marks a connection busy or idle; False when the server is stopping (the connection should close)."""
        with self.connections_lock:
            self.connections[handler] = busy
            return not self.stopping

    def forget(self, handler):
        with self.connections_lock:
            self.connections.pop(handler, None)

    def close_idle_connections(self):
        with self.connections_lock:
            self.stopping = True
            idle = [handler for handler, busy in self.connections.items() if not busy]
        for handler in idle:
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ScoringHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "trainyard-score/1"
    error_content_type = JSON_TYPE
    error_message_format = '{"error_code": "BAD_REQUEST", "message": "%(message)s"}'

    def setup(self):
        super().setup()
        if not self.server.set_busy(self, False):
            # Accepted just before the stop: one request may still be on its way, but an idle client must not
            # hold the exit up.
            self.connection.settimeout(1.0)

    def finish(self):
        self.server.forget(self)
        super().finish()

    def parse_request(self):
        if not self.server.set_busy(self, True):
            self.close_connection = True
        return super().parse_request()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        finally:
            if not self.server.set_busy(self, False):
                self.close_connection = True

    def log_request(self, code="-", size="-"):
        if isinstance(code, int) and code >= 400:
            super().log_request(code, size)

    def send_json(self, status, payload):
        body = json.dumps(payload, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection or self.server.stopping:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_error_json(self, status, code, message):
        self.send_json(status, {"error_code": code, "message": message})

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise BadRequest("Content-Length is not a number of bytes")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise BadRequest(f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB", status=413)
        return self.rfile.read(length)

    def read_chunked(self):
        chunks, total = [], 0
        while True:
            try:
                size = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise BadRequest("malformed chunked body") from None
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise BadRequest(f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB", status=413)
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def health(self):
        state = self.server.state
        if state.status == "ready":
            self.send_json(200, {"status": "ready"})
        else:
            self.send_json(503, {"status": state.status, "message": state.message})

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/ping", "/health"):
            self.health()
        else:
            self.send_error_json(404, "ENDPOINT_NOT_FOUND", f"no endpoint GET {path}: try GET /ping or POST /invocations")

    def do_POST(self):
        try:
            body = self.read_body()
            path = self.path.split("?", 1)[0]
            state = self.server.state
            if path != "/invocations":
                self.send_error_json(404, "ENDPOINT_NOT_FOUND", f"no endpoint POST {path}: try POST /invocations")
            elif state.status != "ready":
                self.send_json(503, {"error_code": "SERVICE_UNAVAILABLE", "status": state.status, "message": state.message})
            else:
                self.send_json(200, score(state.model, self.headers.get("Content-Type"), body))
        except BadRequest as error:
            self.send_error_json(error.status, "BAD_REQUEST", str(error))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.send_error_json(500, "INTERNAL_ERROR", "the scoring server failed on this request; its log has the details")


def listen_port():
    text = os.environ.get("PORT", "8080")
    if not text.isdigit() or not 0 < int(text) < 65536:
        log(f"PORT must be a TCP port number (1-65535), not {text!r}")
        sys.exit(2)
    return int(text)


def main():
    port = listen_port()
    state = ModelState()
    server = ScoringServer(("0.0.0.0", port), state)

    def stop(signum, _frame):
        log(f"{signal.Signals(signum).name}: finishing requests in flight, then exiting")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=state.load, name="model-load", daemon=True).start()
    log(f"listening on 0.0.0.0:{port}")
    server.serve_forever(poll_interval=0.1)
    server.close_idle_connections()
    server.server_close()
    log("stopped")


if __name__ == "__main__":
    main()
