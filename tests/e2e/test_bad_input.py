"""Every bad input gets a 4xx problem+json and writes nothing."""
import uuid

import pytest
import requests

from conftest import admin_query, token

CREATE = "/v1/tenants/acme/tickets"
GOOD = {"title": "A good ticket", "impact": "low", "urgency": "low"}


def counts():
    return admin_query("SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM"
                       " ticket_events), (SELECT count(*) FROM audit_log),"
                       " (SELECT count(*) FROM idempotency_keys)")[0]


@pytest.fixture
def post(http):
    headers = {"Authorization": f"Bearer {token('acme.it.frank', 'acme', 'it_staff')}"}

    def send(data=None, json=None, path=CREATE, extra=None, method="POST"):
        h = dict(headers, **(extra or {}))
        if data is not None and "Content-Type" not in h:
            h["Content-Type"] = "application/json"
        return requests.request(method, http + path, data=data, json=json, headers=h,
                                timeout=30)
    return send


def check(resp, status, field=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status and body["title"] and body["type"]
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


MALFORMED = {
    "not json": b"{title: 'x'}",
    "truncated": b'{"title": "x", "impact": ',
    "array": b'[{"title": "x"}]',
    "string": b'"hello"',
    "empty": b"",
    "duplicate keys": b'{"title": "a", "title": "b", "impact": "low", "urgency": "low"}',
    "invalid utf-8": b'{"title": "caf\xc3\x28", "impact": "low", "urgency": "low"}',
    "nul byte": b'{"title": "a\\u0000b", "impact": "low", "urgency": "low"}',
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_bodies_are_400_or_422_and_write_nothing(post, case):
    before = counts()
    resp = post(data=MALFORMED[case])
    assert resp.status_code in (400, 422), resp.text
    check(resp, resp.status_code)
    assert counts() == before


INVALID = {
    "title wrong type": ({"title": 42}, "title"),
    "title missing": ({"title": None}, "title"),
    "title empty": ({"title": ""}, "title"),
    "title too long": ({"title": "x" * 201}, "title"),
    "description too long": ({"description": "x" * 20001}, "description"),
    "impact invalid": ({"impact": "catastrophic"}, "impact"),
    "urgency wrong type": ({"urgency": ["high"]}, "urgency"),
    "category invalid": ({"category": "Robert'); DROP TABLE tickets;--"}, "category"),
    "unknown field": ({"priority": "P1"}, "priority"),
    "unknown nested field": ({"extra": {"a": 1}}, "extra"),
    "asset ids wrong type": ({"asset_ids": "1,2"}, "asset_ids"),
    "asset id negative": ({"asset_ids": [-1]}, "asset_ids[0]"),
    "asset id float": ({"asset_ids": [1.5]}, "asset_ids[0]"),
    "control characters": ({"title": "bell\u0007"}, "title"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_fields_are_422_naming_the_field_and_write_nothing(post, case):
    change, field = INVALID[case]
    body = {**GOOD, **change}
    if change.get("title", "") is None:
        del body["title"]
    before = counts()
    check(post(json=body), 422, field)
    assert counts() == before


def test_all_errors_are_reported_at_once(post):
    body = check(post(json={"title": "", "impact": "x", "urgency": 3, "colour": "red"}), 422)
    assert {e["field"] for e in body["errors"]} == {"title", "impact", "urgency", "colour"}


def test_sql_metacharacters_are_data(post):
    title = f"'; DROP TABLE tickets; -- \" \\ $1 %s {uuid.uuid4().hex[:8]}"
    resp = post(json={**GOOD, "title": title, "description": "1' OR '1'='1"})
    assert resp.status_code == 201
    assert resp.json()["title"] == title
    assert admin_query("SELECT title FROM tickets WHERE title = %s", (title,)) == [(title,)]


def test_body_over_the_limit_is_413_problem(post):
    before = counts()
    check(post(json={**GOOD, "description": "x" * (2 * 1024 * 1024)}), 413)
    assert counts() == before


@pytest.mark.parametrize("query,field", [
    ("status=opened", "status"), ("priority=P9", "priority"), ("limit=0", "limit"),
    ("limit=201", "limit"), ("limit=ten", "limit"), ("after=%%%", "after"),
    ("after=bm90LWEtbnVtYmVy", "after"), ("updated_since=yesterday", "updated_since"),
    ("staus=new", "staus"), ("status=new&status=assigned", "status"), ("side=%FF", "side"),
])
def test_bad_query_parameters_are_400_naming_them(post, query, field):
    check(post(path=f"{CREATE}?{query}", method="GET"), 400, field)


@pytest.mark.parametrize("path", [
    "/v1/tenants/ACME/tickets", "/v1/tenants/acme/tickets/ACME-0",
    "/v1/tenants/acme/tickets/ACME-99999999999", "/v1/tenants/acme/tickets/acme-1",
    "/v1/tenants/acme/tickets/ACME-1'", "/v1/tenants/a/tickets",
])
def test_malformed_ids_are_404(post, path):
    check(post(path=path, method="GET"), 404)


def test_bad_if_match_and_idempotency_key(post):
    number = admin_query("SELECT t.ticket_prefix || '-' || min(k.number) FROM tickets k"
                         " JOIN tenants t USING (tenant_id) WHERE t.slug = 'acme'"
                         " GROUP BY t.ticket_prefix")[0][0]
    url = f"{CREATE}/{number}"
    before = counts()
    check(post(path=url, method="PATCH", json={"title": "x"}, extra={"If-Match": "3"}), 400)
    check(post(path=url, method="PATCH", json={}, extra={"If-Match": "*"}), 422)
    check(post(path=url, method="PATCH", json={"status": "done"}, extra={"If-Match": "*"}),
          422, "status")
    check(post(json=GOOD, extra={"Idempotency-Key": "x" * 201}), 400)
    assert counts() == before


def test_unknown_routes_and_wrong_methods(post):
    check(post(path="/v1/tickets", method="GET"), 404)
    resp = post(path="/v1/queue", method="POST", json={})
    check(resp, 405)
    assert resp.headers["Allow"] == "GET, HEAD"
    resp = post(path=f"{CREATE}", method="DELETE")
    check(resp, 405)
    assert resp.headers["Allow"] == "GET, HEAD, POST"
