"""The module in nginx: health, and problem+json for everything else."""
import requests


def problem(resp, status):
    assert resp.status_code == status
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status
    assert body["title"]
    return body


def test_health(http):
    resp = requests.get(f"{http}/v1/health", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.json()["status"] == "ok"


def test_head_health_has_headers_only(http):
    resp = requests.head(f"{http}/v1/health", timeout=10)
    assert resp.status_code == 200
    assert resp.content == b""
    assert int(resp.headers["Content-Length"]) > 0


def test_unknown_path_is_problem_404(http):
    for path in ("/v1/nope", "/v1/health/", "/", "/index.html", "/v1/tenants/acme/../../etc"):
        problem(requests.get(f"{http}{path}", timeout=10), 404)


def test_wrong_method_is_problem_405_with_allow(http):
    resp = requests.post(f"{http}/v1/health", json={"x": 1}, timeout=10)
    problem(resp, 405)
    assert resp.headers["Allow"] == "GET, HEAD"
    resp = requests.delete(f"{http}/v1/health", timeout=10)
    problem(resp, 405)
