"""The baseline of the verifier service benchmark: a bare Flask JSON echo endpoint."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo() -> Response:
    return jsonify(request.get_json())


@app.get("/health")
def health() -> Response:
    return jsonify(status="ok")
