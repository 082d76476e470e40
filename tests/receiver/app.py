"""The tutorial's dashboard receiver, written as its Flask app is: POST /update_data with the
form fields `tag` and `tag_count`, each a Python list literal read with ast.literal_eval,
answering 201 `success` (400 `error` without `tag_count`).

For the tests it also appends every accepted payload to the JSON-lines file $RECEIVED, and
has /slow (answers after ?s= seconds) and /json (records a JSON body).
Run: python app.py PORT (0 picks a free port); the bound port is printed on stdout once the
server listens.
"""
import ast
import json
import os
import sys
import time

from flask import Flask, request

app = Flask(__name__)
RECEIVED = os.environ["RECEIVED"]


def record(payload):
    with open(RECEIVED, "a", encoding="utf-8") as f:
        f.write(json.dumps(payload, ensure_ascii=False) + "\n")


@app.route("/update_data", methods=["POST"])
def update_data():
    if not request.form or "tag_count" not in request.form:
        return "error", 400
    tags = ast.literal_eval(request.form["tag"])
    counts = ast.literal_eval(request.form["tag_count"])
    record({"tag": tags, "tag_count": counts})
    return "success", 201


@app.route("/slow", methods=["POST"])
def slow():
    time.sleep(float(request.args.get("s", "2")))
    return "success", 201


@app.route("/json", methods=["POST"])
def json_body():
    record(request.get_json())
    return "success", 201


if __name__ == "__main__":
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()
