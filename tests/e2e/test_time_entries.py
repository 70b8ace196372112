"""Time logged on tickets (POST and GET .../tickets/{id}/time-entries):
who may log and read it, what a bad entry gets (and that it writes
nothing), the ticket event and audit row each entry writes, and the
isolation the database holds."""
import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import psycopg
import pytest

from conftest import admin_query, env, run_mspctl, set_principal, tenant_doc, write_tenant

ZONE = "Pacific/Auckland"    # far from UTC: its today is not UTC's for half the day


@pytest.fixture(scope="module")
def desk(tmp_path_factory, as_user):
    tag = uuid.uuid4().hex[:6]
    made = {}
    for name in ("main", "other"):
        slug = f"time{name[0]}-{tag}"
        doc = tenant_doc(slug, "acme", timezone=ZONE)
        run_mspctl("tenant", "apply", write_tenant(tmp_path_factory.mktemp(slug), doc),
                   check=True)
        made[name] = slug
    slug = made["main"]
    run_mspctl("assign", f"tech.{tag}", slug, "technician", "L1", check=True)
    users = {
        "tech": as_user(f"tech.{tag}", "provider", "technician"),
        "it": as_user(f"it.{tag}", slug, "it_staff"),
        "auditor": as_user(f"audit.{tag}", slug, "auditor"),
        "requester": as_user(f"req.{tag}", slug, "requester"),
        "stranger": as_user(f"it.{tag}", made["other"], "it_staff"),
    }
    resp = users["requester"].post(f"/v1/tenants/{slug}/tickets",
                                   json={"title": "Printer jams", "impact": "low",
                                         "urgency": "low"})
    assert resp.status_code == 201, resp.text
    ticket = resp.json()["id"]
    return {"slug": slug, "other": made["other"], "ticket": ticket, **users,
            "url": f"/v1/tenants/{slug}/tickets/{ticket}/time-entries"}


def entries(slug):
    return admin_query("SELECT e.subject, e.side, e.minutes, e.billable, e.in_scope,"
                       " e.worked_on, e.note FROM time_entries e JOIN tenants t USING"
                       " (tenant_id) WHERE t.slug = %s ORDER BY e.entry_id", (slug,))


def test_staff_of_both_sides_log_their_own_time(desk):
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    before = len(entries(desk["slug"]))
    resp = desk["tech"].post(desk["url"], json={"minutes": 45, "note": "Cleared the jam",
                                                "in_scope": False})
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    assert {k: doc[k] for k in ("ticket", "subject", "side", "minutes", "billable",
                                "in_scope", "note", "worked_on")} == {
        "ticket": desk["ticket"], "subject": desk["tech"].sub, "side": "provider",
        "minutes": 45, "billable": True, "in_scope": False, "note": "Cleared the jam",
        "worked_on": today.isoformat()}     # the tenant's today, not UTC's
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    resp = desk["it"].post(desk["url"], json={"minutes": 20, "billable": False,
                                              "worked_on": yesterday})
    assert resp.status_code == 201, resp.text
    assert resp.json()["side"] == "internal_it" and resp.json()["worked_on"] == yesterday
    rows = entries(desk["slug"])[before:]
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (desk["tech"].sub, "provider", 45, True, False),
        (desk["it"].sub, "internal_it", 20, False, True)]

    # each entry is a ticket event staff see, and an audit row
    events = desk["tech"].get(f"/v1/tenants/{desk['slug']}/tickets/{desk['ticket']}/events")
    logged = [e for e in events.json()["items"] if e["kind"] == "time_logged"]
    assert [e["data"]["minutes"] for e in logged][-2:] == [45, 20]
    mine = desk["requester"].get(f"/v1/tenants/{desk['slug']}/tickets/{desk['ticket']}/events")
    assert mine.status_code == 200
    assert not [e for e in mine.json()["items"] if e["kind"] == "time_logged"]
    audit = admin_query("SELECT count(*) FROM audit_log a JOIN tenants t USING (tenant_id)"
                        " WHERE t.slug = %s AND a.action = 'time.log'", (desk["slug"],))
    assert audit[0][0] >= 2


def test_staff_read_the_entries_a_page_at_a_time(desk):
    for minutes in (5, 10, 15):
        assert desk["tech"].post(desk["url"], json={"minutes": minutes}).status_code == 201
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        resp = desk["auditor"].get(desk["url"], params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert len(body["items"]) <= 2
        seen += [int(i["id"]) for i in body["items"]]
        after = body["next_cursor"]
        if after is None:
            break
    assert seen == sorted(seen) and len(seen) == len(entries(desk["slug"]))


@pytest.mark.parametrize("who,status", [("auditor", 403), ("requester", 403),
                                        ("stranger", 404)])
def test_who_may_not_log_time(desk, who, status):
    before = entries(desk["slug"])
    url = desk["url"]
    if who == "stranger":      # another tenant's staff: the ticket does not exist for them
        url = url.replace(desk["slug"], desk["other"])
    resp = desk[who].post(url, json={"minutes": 30})
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert entries(desk["slug"]) == before


def test_a_requester_reads_no_time_entries(desk):
    resp = desk["requester"].get(desk["url"])
    assert resp.status_code == 403, resp.text


@pytest.mark.parametrize("body,field,says", [
    ({"minutes": 0}, "minutes", "must be from 1 to 1440"),
    ({"minutes": -30}, "minutes", "must be from 1 to 1440"),
    ({"minutes": 1441}, "minutes", "must be from 1 to 1440"),
    ({"minutes": "30"}, "minutes", "must be an integer"),
    ({"minutes": 1.5}, "minutes", "must be an integer"),
    ({}, "minutes", "is required"),
    ({"minutes": 30, "billable": "yes"}, "billable", "must be true or false"),
    ({"minutes": 30, "worked_on": "2026-02-30"}, "worked_on", "is not a calendar date"),
    ({"minutes": 30, "worked_on": "03/08/2026"}, "worked_on", "must be a date as YYYY-MM-DD"),
    ({"minutes": 30, "worked_on": "2999-01-01"}, "worked_on",
     "is after today"),
    ({"minutes": 30, "note": "x" * 2001}, "note", "must be at most 2000 bytes"),
    ({"minutes": 30, "hours": 1}, "hours", "unknown field"),
])
def test_a_bad_entry_is_a_422_and_writes_nothing(desk, body, field, says):
    before = entries(desk["slug"])
    resp = desk["tech"].post(desk["url"], json=body)
    assert resp.status_code == 422, resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    problem = resp.json()
    assert any(e["field"] == field and says in e["message"] for e in problem["errors"]), problem
    assert entries(desk["slug"]) == before


def test_the_database_holds_the_rules(desk):
    """As the gateway's role, whatever a service forgot: no entry in
    another's name, none by an auditor, none read by a requester or
    another tenant."""
    tid = admin_query("SELECT tenant_id FROM tenants WHERE slug = %s", (desk["slug"],))[0][0]
    number = int(desk["ticket"].split("-")[1])
    insert = ("INSERT INTO time_entries (tenant_id, ticket_number, subject, side, worked_on,"
              " minutes, billable, in_scope) VALUES (%s, %s, %s, 'internal_it', current_date,"
              " 30, true, true)")
    for principal, subject in (((desk["it"].sub, desk["slug"], "it_staff"), "someone.else"),
                               ((f"audit.x", desk["slug"], "auditor"), "audit.x")):
        with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
            set_principal(conn, *principal)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(insert, (tid, number, subject))
    for principal in (("req.x", desk["slug"], "requester"),
                      (desk["it"].sub, desk["other"], "it_staff")):
        with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
            set_principal(conn, *principal)
            assert conn.execute("SELECT count(*) FROM time_entries").fetchone()[0] == 0
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, desk["it"].sub, desk["slug"], "it_staff")
        assert conn.execute("SELECT count(*) FROM time_entries").fetchone()[0] > 0


def test_a_retry_with_its_idempotency_key_logs_the_time_once(desk):
    before = len(entries(desk["slug"]))
    key = {"Idempotency-Key": f"time-{uuid.uuid4().hex}"}
    first = desk["tech"].post(desk["url"], json={"minutes": 25, "note": "once"}, headers=key)
    assert first.status_code == 201, first.text
    again = desk["tech"].post(desk["url"], json={"minutes": 25, "note": "once"}, headers=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert len(entries(desk["slug"])) == before + 1

    other = desk["tech"].post(desk["url"], json={"minutes": 26, "note": "once"}, headers=key)
    assert other.status_code == 422, other.text
    assert other.json()["type"].endswith("idempotency-key-reused")
    bad = desk["tech"].post(desk["url"], json={"minutes": 25},
                            headers={"Idempotency-Key": "with space"})
    assert bad.status_code == 400, bad.text
    assert len(entries(desk["slug"])) == before + 1


def test_the_tenants_time_by_days_worked_a_page_at_a_time(desk):
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    days = [today - dt.timedelta(days=n) for n in (40, 39, 3)]
    for day, who in ((days[2], "it"), (days[0], "tech"), (days[1], "it"), (days[0], "it")):
        resp = desk[who].post(desk["url"], json={"minutes": 10, "worked_on": day.isoformat()})
        assert resp.status_code == 201, resp.text
    url = f"/v1/tenants/{desk['slug']}/time-entries"
    window = {"from": days[0].isoformat(), "to": days[1].isoformat()}   # the 40th day ago

    def listed(client, **params):
        out, after = [], None
        while True:
            resp = client.get(url, params={**params, "limit": 1,
                                           **({"after": after} if after else {})})
            assert resp.status_code == 200, resp.text
            out += resp.json()["items"]
            after = resp.json()["next_cursor"]
            if after is None:
                return out

    got = listed(desk["auditor"], **window)
    assert [(e["worked_on"], e["subject"]) for e in got] == [
        (days[0].isoformat(), desk["tech"].sub), (days[0].isoformat(), desk["it"].sub)]
    wide = {"from": days[0].isoformat(), "to": (today + dt.timedelta(days=1)).isoformat()}
    every = listed(desk["tech"], **wide)
    assert [e["worked_on"] for e in every] == sorted(e["worked_on"] for e in every)
    for a, b in zip(every, every[1:]):      # by day, then by id
        assert (a["worked_on"], int(a["id"])) < (b["worked_on"], int(b["id"]))
    assert len(every) == len(entries(desk["slug"]))
    mine = listed(desk["it"], subject=desk["it"].sub, **wide)
    assert mine and all(e["subject"] == desk["it"].sub for e in mine)
    provider = listed(desk["it"], side="provider", **wide)
    assert provider and all(e["side"] == "provider" for e in provider)
    assert desk["requester"].get(url, params=window).status_code == 403


@pytest.mark.parametrize("params,field", [
    ({"to": "2026-04-01"}, "from"),
    ({"from": "2026-03-01"}, "to"),
    ({"from": "2026-02-30", "to": "2026-04-01"}, "from"),
    ({"from": "2026-04-01", "to": "2026-03-01"}, "to"),
    ({"from": "2025-01-01", "to": "2026-03-01"}, "to"),
    ({"from": "2026-03-01", "to": "2026-04-01", "side": "vendor"}, "side"),
    ({"from": "2026-03-01", "to": "2026-04-01", "after": "MjAyNi0wMy0wMQ"}, "after"),
    ({"from": "2026-03-01", "to": "2026-04-01", "ticket": "X-1"}, "ticket"),
])
def test_bad_queries_of_the_tenants_time_are_400(desk, params, field):
    resp = desk["it"].get(f"/v1/tenants/{desk['slug']}/time-entries", params=params)
    assert resp.status_code == 400, resp.text
    assert any(e["field"] == field for e in resp.json()["errors"]), resp.json()


def test_the_one_who_logged_an_entry_changes_it_from_the_version_read(desk):
    resp = desk["tech"].post(desk["url"], json={"minutes": 30, "note": "first guess"})
    assert resp.status_code == 201, resp.text
    url, etag = resp.headers["Location"], resp.headers["ETag"]
    path = url[url.index("/v1/"):]
    got = desk["auditor"].get(path)
    assert got.status_code == 200 and got.headers["ETag"] == etag == '"1"'
    assert got.json() == resp.json()

    changed = desk["tech"].patch(path, json={"minutes": 50, "in_scope": False},
                                 headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    body = changed.json()
    assert (body["minutes"], body["in_scope"], body["note"], body["version"]) == \
        (50, False, "first guess", 2)
    events = desk["tech"].get(f"/v1/tenants/{desk['slug']}/tickets/{desk['ticket']}/events")
    updated = [e for e in events.json()["items"] if e["kind"] == "time_updated"][-1]
    assert updated["data"] == {"entry_id": int(body["id"]), "minutes": 50, "in_scope": False}

    def unchanged():
        row = admin_query("SELECT minutes, in_scope, version FROM time_entries"
                          " WHERE entry_id = %s", (int(body["id"]),))
        assert row == [(50, False, 2)]

    stale = desk["tech"].patch(path, json={"minutes": 5}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    unchanged()
    assert desk["tech"].patch(path, json={"minutes": 5}).status_code == 428
    unchanged()
    other = desk["it"].patch(path, json={"minutes": 5}, headers={"If-Match": '"2"'})
    assert other.status_code == 403, other.text
    assert "the one who logged it" in other.json()["detail"]
    unchanged()
    for bad, field in (({"minutes": 0}, "minutes"), ({}, ""), ({"ticket": "X-1"}, "ticket"),
                       ({"worked_on": "2999-01-01"}, "worked_on")):
        resp = desk["tech"].patch(path, json=bad, headers={"If-Match": '"2"'})
        assert resp.status_code == 422, resp.text
        assert any(e["field"] == field for e in resp.json()["errors"]), resp.json()
        unchanged()
    elsewhere = desk["stranger"].get(path.replace(desk["slug"], desk["other"]))
    assert elsewhere.status_code == 404
