"""The governance records of a tenant: projects, risks, actions, decisions
and objectives (POST and GET /v1/tenants/{slug}/<kind>s, GET and PATCH
.../<kind>s/{id}), and their history (GET .../governance-events): who may
write and read each kind, what bad input gets (and that it writes nothing),
the event and audit row of every change, and the isolation the database
holds."""
import datetime as dt

import psycopg
import psycopg.types.json
import pytest

from conftest import env, set_principal
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, ok, problem, q)

# A valid body of each kind.
VALID = {
    "projects": {"name": "Intune rollout", "owner": "am.jo", "owner_side": "provider",
                 "start_date": "2026-01-05", "due_date": "2026-06-30", "budget": 12000.5,
                 "milestones": [{"name": "Pilot", "due": "2026-02-15", "done": None}]},
    "risks": {"title": "Backups untested", "likelihood": 3, "impact": 4,
              "owner": "it.ann", "owner_side": "internal_it", "mitigation": "Quarterly restore",
              "next_review": "2026-04-01"},
    "actions": {"title": "Test a restore", "review_on": "2026-02-01", "owner": "it.ann",
                "owner_side": "internal_it", "due": "2026-03-01"},
    "decisions": {"title": "Move mail", "decision": "Move to Exchange Online",
                  "decided_by": "cio.kim", "decided_on": "2026-02-01",
                  "review_on": "2026-02-01", "owner": "am.jo", "owner_side": "provider"},
    "objectives": {"title": "No unmanaged laptops", "year": 2026, "owner": "cio.kim",
                   "owner_side": "internal_it"},
}
KINDS = list(VALID)
KIND = {"projects": "project", "risks": "risk", "actions": "action", "decisions": "decision",
        "objectives": "objective"}
WRITERS = ("lead", "am", "admin", "itl")
READERS_ONLY = ("tech1", "it", "aud")
NOT_STAFF = ("req", "integ")

# Bad bodies of each kind: the body, and the field the 422 names.
BAD = [
    ("projects", {**VALID["projects"], "budget": -1}, "budget"),
    ("projects", {**VALID["projects"], "budget": 10.005}, "budget"),
    ("projects", {**VALID["projects"], "rag": "red"}, "rag_reason"),
    ("projects", {**VALID["projects"], "rag": "blue", "rag_reason": "x"}, "rag"),
    ("projects", {**VALID["projects"], "due_date": "2025-12-31"}, "due_date"),
    ("projects", {**VALID["projects"],
                  "milestones": [{"name": "Kick-off", "due": "2025-12-20", "done": None}]},
     "milestones"),
    ("projects", {**VALID["projects"], "milestones": [{"name": "No day"}]},
     "milestones[0].due"),
    ("projects", {**VALID["projects"], "milestones": ["Pilot"]}, "milestones[0]"),
    ("projects", {k: v for k, v in VALID["projects"].items() if k != "start_date"},
     "start_date"),
    ("projects", {**VALID["projects"], "owner_side": "vendor"}, "owner_side"),
    ("risks", {**VALID["risks"], "likelihood": 6}, "likelihood"),
    ("risks", {**VALID["risks"], "impact": 0}, "impact"),
    ("risks", {**VALID["risks"], "next_review": "2026-02-30"}, "next_review"),
    ("actions", {**VALID["actions"], "done_on": "2026-02-20"}, "done_on"),
    ("actions", {**VALID["actions"], "status": "finished"}, "status"),
    ("actions", {**VALID["actions"], "review_pack": ""}, "review_pack"),
    ("decisions", {**VALID["decisions"], "decision": ""}, "decision"),
    ("decisions", {**VALID["decisions"], "title": "x" * 201}, "title"),
    ("objectives", {**VALID["objectives"], "year": 1999}, "year"),
    ("objectives", {**VALID["objectives"], "projects": [987654321]}, "projects"),
    ("objectives", {**VALID["objectives"], "projects": [1, 1]}, "projects[1]"),
    ("objectives", {**VALID["objectives"], "colour": "green"}, "colour"),
]


@pytest.fixture(scope="module")
def ta(tmp_path_factory, as_user):
    return Tenant(tmp_path_factory.mktemp("gov"), as_user, prefix="gov")


def url(t, kind, ident=None):
    base = f"/v1/tenants/{t.slug}/{kind}"
    return base if ident is None else f"{base}/{ident}"


def footprint(t):
    """What a governance request could write in the tenant."""
    return q("SELECT (SELECT count(*) FROM projects WHERE tenant_id = %(t)s)"
             " + (SELECT count(*) FROM risks WHERE tenant_id = %(t)s)"
             " + (SELECT count(*) FROM actions WHERE tenant_id = %(t)s)"
             " + (SELECT count(*) FROM decisions WHERE tenant_id = %(t)s)"
             " + (SELECT count(*) FROM objectives WHERE tenant_id = %(t)s),"
             " (SELECT coalesce(sum(version), 0) FROM projects WHERE tenant_id = %(t)s)"
             " + (SELECT coalesce(sum(version), 0) FROM actions WHERE tenant_id = %(t)s)"
             " + (SELECT coalesce(sum(version), 0) FROM objectives WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM governance_events WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s)", {"t": t.id})[0]


def events_of(t, kind, ident):
    return q("SELECT kind, data, actor_sub FROM governance_events WHERE tenant_id = %s"
             " AND record = %s AND record_id = %s ORDER BY event_id",
             (t.id, KIND[kind], int(ident)))


def audits_of(t, kind, ident):
    return q("SELECT action, detail, actor_sub FROM audit_log WHERE tenant_id = %s"
             " AND target = %s ORDER BY audit_id", (t.id, f"{KIND[kind]}:{ident}"))


def created(t, kind, by=None, **changes):
    resp = (by or t.am).post(url(t, kind), json={**VALID[kind], **changes})
    doc = ok(resp, 201)
    assert resp.headers["ETag"] == '"1"'
    assert resp.headers["Location"].endswith(url(t, kind, doc["id"]))
    return doc


@pytest.mark.parametrize("kind", KINDS)
def test_those_who_govern_write_and_staff_of_both_sides_read(ta, kind):
    for who in WRITERS:
        doc = created(ta, kind, by=getattr(ta, who))
        for field, value in VALID[kind].items():
            if field == "budget":
                assert float(doc[field]) == value
            else:
                assert doc[field] == value, field
        assert events_of(ta, kind, doc["id"]) == [
            ("created", {k: (float(v) if k == "budget" else v)
                         for k, v in VALID[kind].items()}, getattr(ta, who).sub)]
        assert [a[0] for a in audits_of(ta, kind, doc["id"])] == [f"{KIND[kind]}.create"]
    before = footprint(ta)
    for who in READERS_ONLY + NOT_STAFF:
        body = problem(getattr(ta, who).post(url(ta, kind), json=VALID[kind]), 403)
        assert "IT leader" in body["detail"], who
        body = problem(getattr(ta, who).patch(url(ta, kind, doc["id"]), json={"owner": "x"},
                                              headers={"If-Match": '"1"'}), 403)
    assert footprint(ta) == before
    for who in READERS_ONLY + WRITERS:
        client = getattr(ta, who)
        resp = client.get(url(ta, kind, doc["id"]))
        assert ok(resp)["id"] == doc["id"] and resp.headers["ETag"] == '"1"'
        assert doc["id"] in [r["id"] for r in ok(client.get(url(ta, kind) + "?limit=100"))[
            "items"]]
    for who in NOT_STAFF:
        problem(getattr(ta, who).get(url(ta, kind, doc["id"])), 403)
        problem(getattr(ta, who).get(url(ta, kind)), 403)


@pytest.mark.parametrize("kind,body,field", BAD,
                         ids=[f"{k}-{f}-{i}" for i, (k, _, f) in enumerate(BAD)])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(ta, kind, body, field):
    before = footprint(ta)
    doc = problem(ta.am.post(url(ta, kind), json=body), 422)
    assert field in {e["field"] for e in doc["errors"]}, doc
    assert footprint(ta) == before


def test_a_change_needs_the_version_and_writes_what_changed(ta):
    doc = created(ta, "projects")
    u = url(ta, "projects", doc["id"])
    before = footprint(ta)
    problem(ta.am.patch(u, json={"rag": "amber", "rag_reason": "Licences late"}), 428)
    problem(ta.am.patch(u, json={"rag": "amber", "rag_reason": "x"},
                        headers={"If-Match": "one"}), 400)
    stale = ta.am.patch(u, json={"actual": 100}, headers={"If-Match": '"5"'})
    problem(stale, 412)
    assert stale.headers["ETag"] == '"1"'
    problem(ta.am.patch(u, json={}, headers={"If-Match": '"1"'}), 422)
    problem(ta.am.patch(u, json={"rag": "red"}, headers={"If-Match": '"1"'}), 422)
    # a milestone before the stored start: the database's rule names the field
    body = problem(ta.am.patch(u, json={"milestones": [{"name": "Early", "due": "2025-01-01"}]},
                               headers={"If-Match": '"1"'}), 422)
    assert body["errors"][0]["field"] == "milestones" and "before the project starts" in \
        body["errors"][0]["message"]
    assert footprint(ta) == before

    resp = ta.itl.patch(u, json={"rag": "amber", "rag_reason": "Licences late", "actual": 4000,
                                 "name": VALID["projects"]["name"]},
                        headers={"If-Match": '"1"'})
    doc = ok(resp)
    assert resp.headers["ETag"] == '"2"' and doc["version"] == 2
    assert (doc["rag"], doc["rag_reason"], float(doc["actual"])) == ("amber", "Licences late",
                                                                      4000)
    change = {"rag": {"from": "green", "to": "amber"},
              "rag_reason": {"from": "", "to": "Licences late"},
              "actual": {"from": 0, "to": 4000.0}}
    assert events_of(ta, "projects", doc["id"])[1:] == [("changed", change, ta.itl.sub)]
    assert audits_of(ta, "projects", doc["id"])[1:] == [("project.update", change, ta.itl.sub)]
    # the same values again change nothing: no version, no event
    before = footprint(ta)
    resp = ta.itl.patch(u, json={"rag": "amber"}, headers={"If-Match": '"2"'})
    assert ok(resp)["version"] == 2 and resp.headers["ETag"] == '"2"'
    assert footprint(ta) == before


def test_an_actions_standing_follows_its_due_date_and_when_it_was_done(ta):
    today = dt.datetime.now(dt.timezone.utc).date()           # the tenant's zone is UTC
    past, future = str(today - dt.timedelta(days=3)), str(today + dt.timedelta(days=3))
    late = created(ta, "actions", due=past)
    assert (late["status"], late["standing"], late["done_on"]) == ("open", "late", None)
    upcoming = created(ta, "actions", due=future)
    assert upcoming["standing"] == "open"
    kept = created(ta, "actions", due=past, status="done",
                   done_on=str(today - dt.timedelta(days=4)))
    assert kept["standing"] == "kept"
    # marked done without a day: done today, after its due date
    doc = ok(ta.itl.patch(url(ta, "actions", late["id"]), json={"status": "done"},
                          headers={"If-Match": '"1"'}))
    assert (doc["done_on"], doc["standing"]) == (str(today), "late")
    # reopened: no longer done
    doc = ok(ta.itl.patch(url(ta, "actions", late["id"]), json={"status": "open"},
                          headers={"If-Match": '"2"'}))
    assert (doc["done_on"], doc["standing"]) == (None, "late")
    # the review's list: its actions by the day of the review
    review = str(today - dt.timedelta(days=30))
    mine = [created(ta, "actions", review_on=review, due=future)["id"] for _ in range(3)]
    listed = ok(ta.it.get(url(ta, "actions") + f"?review_on={review}"))["items"]
    assert [a["id"] for a in listed] == mine
    problem(ta.it.get(url(ta, "actions") + "?review_on=soon"), 400)
    problem(ta.it.get(url(ta, "actions") + "?status=open"), 400)


def test_objectives_link_the_projects_that_serve_them(ta):
    projects = [created(ta, "projects")["id"] for _ in range(2)]
    doc = created(ta, "objectives", projects=[int(p) for p in projects])
    assert doc["projects"] == [int(p) for p in projects]
    # another tenant's project is not one of this tenant's
    other = q("SELECT project_id FROM projects WHERE tenant_id <> %s LIMIT 1", (ta.id,))
    if other:
        before = footprint(ta)
        problem(ta.am.post(url(ta, "objectives"),
                           json={**VALID["objectives"], "projects": [other[0][0]]}), 422)
        assert footprint(ta) == before


def test_pages_filters_and_retries(ta):
    ids = [created(ta, "risks", status="accepted")["id"] for _ in range(3)]
    seen, link = [], url(ta, "risks") + "?status=accepted&limit=2"
    while link:
        page = ok(ta.aud.get(link))
        seen += [r["id"] for r in page["items"]]
        link = page["next_cursor"] and url(ta, "risks") + \
            f"?status=accepted&limit=2&after={page['next_cursor']}"
    assert set(ids) <= set(seen) and seen == sorted(seen, key=int)
    for bad in ("?status=maybe", "?limit=0", "?after=x", "?colour=red"):
        problem(ta.aud.get(url(ta, "risks") + bad), 400)
    problem(ta.aud.get(url(ta, "risks", "999999999")), 404)
    headers = {"Idempotency-Key": f"risk-{ids[0]}"}
    first = ta.am.post(url(ta, "risks"), json=VALID["risks"], headers=headers)
    again = ta.am.post(url(ta, "risks"), json=VALID["risks"], headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert first.headers["Location"] == again.headers["Location"]
    problem(ta.am.post(url(ta, "risks"), json={**VALID["risks"], "impact": 1},
                       headers=headers), 422)


def test_the_history_lists_what_changed_since_a_review(ta):
    since = q("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',"
              " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")[0][0]
    doc = created(ta, "decisions")
    ok(ta.am.patch(url(ta, "decisions", doc["id"]), json={"decided_by": "cfo.lee"},
                   headers={"If-Match": '"1"'}))
    events = ok(ta.itl.get(f"/v1/tenants/{ta.slug}/governance-events?since={since}"
                           f"&record=decision&record_id={doc['id']}"))["items"]
    assert [(e["kind"], e["actor"]["sub"]) for e in events] == [("created", ta.am.sub),
                                                               ("changed", ta.am.sub)]
    assert events[1]["data"] == {"decided_by": {"from": "cio.kim", "to": "cfo.lee"}}
    every = ok(ta.it.get(f"/v1/tenants/{ta.slug}/governance-events?since={since}"))["items"]
    assert {e["record"] for e in every} == {"decision"}
    for bad in ("?since=yesterday", "?record=ticket", "?record_id=4", "?record=risk&record_id=x"):
        problem(ta.it.get(f"/v1/tenants/{ta.slug}/governance-events{bad}"), 400)
    problem(ta.req.get(f"/v1/tenants/{ta.slug}/governance-events"), 403)


@pytest.mark.parametrize("kind", KINDS)
def test_records_are_isolated_over_http_and_in_the_database(ta, kind, tmp_path_factory,
                                                            as_user, request):
    other = request.getfixturevalue("tb")
    doc = created(ta, kind)
    for who in ("itl", "am", "lead"):
        client = getattr(other, who)
        problem(client.get(url(ta, kind, doc["id"])), 404)
        problem(client.patch(url(ta, kind, doc["id"]), json={"owner": "x"},
                             headers={"If-Match": '"1"'}), 404)
        problem(client.post(url(ta, kind), json=VALID[kind]), 404)
    table = kind
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, other.itl.sub, other.slug, "it_leader")
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                            (ta.id,)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM governance_events WHERE tenant_id = %s",
                            (ta.id,)).fetchone()[0] == 0
        cur = conn.execute(f"UPDATE {table} SET owner = 'x' WHERE tenant_id = %s", (ta.id,))
        assert cur.rowcount == 0
        # naming the other tenant finds no tenant, and writes nothing
        assert conn.execute("SELECT * FROM app.create_record(%s, %s, %s::jsonb, NULL)",
                            (KIND[kind], ta.slug, psycopg.types.json.Jsonb(VALID[kind]))
                            ).fetchall() == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            insert(conn, kind, ta.id)
        conn.rollback()
    # and the tenant's own IT staff, who read, cannot write in SQL either
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, ta.it.sub, ta.slug, "it_staff")
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                            (ta.id,)).fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT app.create_record(%s, %s, %s::jsonb, NULL)",
                         (KIND[kind], ta.slug, psycopg.types.json.Jsonb(VALID[kind])))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            insert(conn, kind, ta.id)


def insert(conn, kind, tenant_id):
    """A valid record of the kind written straight into its table."""
    cols = ", ".join(VALID[kind])
    conn.execute(f"INSERT INTO {kind} (tenant_id, {cols}) SELECT %s, {cols}"
                 f" FROM jsonb_populate_record(NULL::{kind}, %s)",
                 (tenant_id, psycopg.types.json.Jsonb(VALID[kind])))


@pytest.fixture(scope="module")
def tb(tmp_path_factory, as_user):
    return Tenant(tmp_path_factory.mktemp("gov2"), as_user, prefix="gov")
