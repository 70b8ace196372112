"""Comment and event visibility (README.md, "Comment visibility"):
`public` (the requester sees it), `staff` (IT staff of both sides) and
`provider` (provider staff only).  Checked over HTTP, in every read that
could carry a comment or an event, and in PostgreSQL itself: connected as
msp_gateway with a principal set as the gateway sets it, row-level
security shows each principal only its levels and refuses a write above
them.
"""
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from conftest import set_principal
from test_escalations import (Tenant, _owner, nothing_written, ok, problem, q, show,
                              invalid)

LEVELS = ("public", "staff", "provider")
SEES = {
    "requester": {"public"}, "integration": {"public"},
    "it_staff": {"public", "staff"}, "it_leader": {"public", "staff"},
    "auditor": {"public", "staff"},
    "technician": set(LEVELS), "lead": set(LEVELS), "account_manager": set(LEVELS),
    "admin": set(LEVELS),
}
READERS = {"requester": "req", "integration": "integ", "it_staff": "it", "it_leader": "itl",
           "auditor": "aud", "technician": "tech1", "lead": "lead",
           "account_manager": "am", "admin": "admin"}


@pytest.fixture(scope="module", autouse=True)
def close_owner_connection():
    yield
    while _owner:
        _owner.pop().close()


def post_comment(t, by, ticket, visibility=None, body=None):
    payload = {"body": body or f"{visibility or 'default'} note {uuid.uuid4().hex}"}
    if visibility is not None:
        payload["visibility"] = visibility
    return by.post(t.url(ticket, "comments"), json=payload)


@pytest.fixture(scope="module")
def vis(tmp_path_factory, as_user):
    """A co-managed tenant, a ticket of its requester's, comments at every
    level by whoever may write them, and an escalation (a staff event)."""
    t = Tenant(tmp_path_factory.mktemp("vis"), as_user, "co_managed", prefix="vis")
    ticket = t.create(description="The plotter on floor 3 prints blank pages")
    tid = ticket["id"]
    writers = [("req", "public"), ("req", None), ("integ", "public"), ("it", "public"),
               ("it", "staff"), ("itl", "staff"), ("tech1", "public"), ("tech1", "staff"),
               ("tech1", "provider"), ("lead", "provider"), ("am", "provider"),
               ("admin", "staff")]
    comments = {level: [] for level in LEVELS}
    marks = {level: [] for level in LEVELS}
    for who, level in writers:
        mark = f"MARK-{level or 'public'}-{uuid.uuid4().hex}"
        doc = ok(post_comment(t, t.people[who], tid, level, body=f"{who} says {mark}"), 201)
        assert doc["visibility"] == (level or "public"), doc
        comments[doc["visibility"]].append(doc["id"])
        marks[doc["visibility"]].append(mark)
    esc = t.escalated(t.it, tid, "hierarchical", "provider:lead")
    return {"t": t, "ticket": ticket, "comments": comments, "marks": marks, "esc": esc}


# ---- who may write what ---------------------------------------------------------

def test_who_may_post_at_which_level(vis):
    t, tid = vis["t"], vis["ticket"]["id"]
    refused = [("req", "staff"), ("req", "provider"), ("integ", "staff"),
               ("integ", "provider"), ("it", "provider"), ("itl", "provider"),
               ("aud", "public"), ("aud", "staff"), ("aud", "provider")]
    with nothing_written(t):
        for who, level in refused:
            problem(post_comment(t, t.people[who], tid, level), 403)
    with nothing_written(t):
        for level in ("internal", "private", "PUBLIC", "", 3):
            invalid(t.tech1.post(t.url(tid, "comments"),
                                 json={"body": "x", "visibility": level}), "visibility")
        invalid(t.tech1.post(t.url(tid, "comments"), json={"visibility": "staff"}), "body")
    # every provider role may write every level
    for who in ("tech1", "techn", "lead", "am", "admin"):
        for level in LEVELS:
            ok(post_comment(t, t.people[who], tid, level), 201)


# ---- what each reader sees over HTTP ----------------------------------------------

def expected_comments(vis, role):
    return sorted(i for level in SEES[role] for i in vis["comments"][level])


def hidden_marks(vis, role):
    return [m for level in LEVELS if level not in SEES[role] for m in vis["marks"][level]]


def assert_hidden(vis, role, resp):
    leaked = [m for m in hidden_marks(vis, role) if m in resp.text]
    assert not leaked, f"{role} was shown {leaked} by {show(resp)}"


@pytest.mark.parametrize("role", list(READERS))
def test_each_reader_sees_only_its_levels_over_http(vis, role):
    t, ticket = vis["t"], vis["ticket"]
    tid = ticket["id"]
    by = t.people[READERS[role]]
    created = set(i for ids in vis["comments"].values() for i in ids)

    # the ticket and its comments
    resp = by.get(t.url(tid))
    doc = ok(resp)
    mine = sorted(c["id"] for c in doc["comments"] if c["id"] in created)
    assert mine == expected_comments(vis, role), (role, doc["comments"])
    assert all(c["visibility"] in SEES[role] for c in doc["comments"]), doc["comments"]
    assert_hidden(vis, role, resp)

    # the history, whole and page by page
    events = t.events(tid, by=by)
    assert events == t.events(tid, by=by, limit=1)
    assert all(e["visibility"] in SEES[role] for e in events), events
    comment_events = sorted(e["id"] for e in events if e["kind"] == "comment"
                            and e["id"] in created)
    assert comment_events == expected_comments(vis, role)
    escalated = [e for e in events if e["kind"] == "escalated"
                 and e["data"].get("escalation_id") == vis["esc"]["id"]]
    assert len(escalated) == (1 if "staff" in SEES[role] else 0), (role, escalated)
    assert_hidden(vis, role, by.get(t.url(tid, "events"), params={"limit": 200}))

    # lists
    resp = by.get(t.url(), params={"limit": 200})
    ok(resp)
    assert tid in [k["id"] for k in resp.json()["items"]]
    assert_hidden(vis, role, resp)
    if role in ("technician", "lead", "admin"):
        resp = by.get("/v1/queue", params={"tenant": t.slug})
        ok(resp)
        assert_hidden(vis, role, resp)

    # escalations: staff of both sides read them, with the ticket's context;
    # requesters and machines never do
    path = t.esc_url(tid, vis["esc"]["id"])
    if role in ("requester", "integration"):
        assert by.get(path).status_code in (403, 404), role
        assert by.get(t.esc_url(tid)).status_code in (403, 404), role
    elif role != "auditor":
        resp = by.get(path)
        esc = ok(resp)
        assert esc["context"]["title"] == ticket["title"]
        assert_hidden(vis, role, resp)
        assert_hidden(vis, role, by.get(t.esc_url(tid)))


def test_a_requester_sees_public_events_only_on_its_other_reads(vis):
    """The requester's own view of the list filtered to its tickets carries
    no staff or provider text either; the SLA explanation, which shows who
    held the work, is not theirs to read."""
    t, tid = vis["t"], vis["ticket"]["id"]
    for path in (t.url(), t.url(tid), t.url(tid, "events")):
        resp = t.req.get(path)
        assert resp.status_code == 200, show(resp)
        assert_hidden(vis, "requester", resp)
    resp = t.req.get(t.url(tid, "sla"))
    assert resp.status_code == 403, show(resp)
    assert_hidden(vis, "requester", resp)


# ---- what PostgreSQL itself lets each principal see and write -------------------------

def principal_of(t, role):
    client = t.people[READERS[role]]
    org = "provider" if role in ("technician", "lead", "account_manager", "admin") else t.slug
    return client.sub, org, role


def event_columns():
    """The columns of ticket_events a statement may write (a visibility
    derived from the data is written by PostgreSQL itself)."""
    return {c for c, in q("SELECT column_name FROM information_schema.columns"
                          " WHERE table_schema = 'public' AND table_name = 'ticket_events'"
                          " AND is_generated = 'NEVER'")}


@pytest.mark.parametrize("role", list(READERS))
def test_row_level_security_shows_each_principal_its_levels(vis, gateway_url, role):
    t, ticket = vis["t"], vis["ticket"]
    created = {i for ids in vis["comments"].values() for i in ids}
    with psycopg.connect(gateway_url) as conn:
        with conn.transaction():
            set_principal(conn, *principal_of(t, role))
            rows = conn.execute("SELECT event_id, kind, data FROM ticket_events"
                                " WHERE tenant_id = %s AND ticket_number = %s",
                                (t.id, ticket["number"])).fetchall()
    seen = sorted(i for i, kind, _ in rows if i in created)
    assert seen == expected_comments(vis, role), role
    escalated = [i for i, kind, data in rows if kind == "escalated"
                 and data.get("escalation_id") == vis["esc"]["id"]]
    assert len(escalated) == (1 if "staff" in SEES[role] else 0), (role, rows)
    text = repr(rows)
    leaked = [m for m in hidden_marks(vis, role) if m in text]
    assert not leaked, (role, leaked)


def insert_comment(conn, t, number, level, columns):
    data = Jsonb({"body": f"sql {level}", "visibility": level,
                                     "author_name": "sql"})
    if "visibility" in columns:
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind, data, visibility)"
                     " VALUES (%s, %s, 'comment', %s, %s)", (t.id, number, data, level))
    else:
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
                     " VALUES (%s, %s, 'comment', %s)", (t.id, number, data))


@pytest.mark.parametrize("role,level", [
    ("it_staff", "provider"), ("it_leader", "provider"), ("requester", "staff"),
    ("requester", "provider"), ("integration", "staff"), ("integration", "provider"),
])
def test_row_level_security_refuses_a_comment_above_its_authors_level(vis, gateway_url,
                                                                      role, level):
    t, number = vis["t"], vis["ticket"]["number"]
    columns = event_columns()
    before = q("SELECT count(*) FROM ticket_events WHERE tenant_id = %s", (t.id,))[0][0]
    with psycopg.connect(gateway_url) as conn:
        # what the author may see, the author may write (rolled back)
        for allowed in sorted(SEES[role]):
            with conn.transaction(force_rollback=True):
                set_principal(conn, *principal_of(t, role))
                insert_comment(conn, t, number, allowed, columns)
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
            with conn.transaction():
                set_principal(conn, *principal_of(t, role))
                insert_comment(conn, t, number, level, columns)
        assert "row-level security" in str(refused.value), refused.value
    after = q("SELECT count(*) FROM ticket_events WHERE tenant_id = %s", (t.id,))[0][0]
    assert after == before


def test_row_level_security_lets_provider_staff_write_provider_comments(vis, gateway_url):
    t, number = vis["t"], vis["ticket"]["number"]
    columns = event_columns()
    with psycopg.connect(gateway_url) as conn:
        for role in ("technician", "lead", "account_manager", "admin"):
            with conn.transaction(force_rollback=True):
                set_principal(conn, *principal_of(t, role))
                insert_comment(conn, t, number, "provider", columns)


def test_without_a_principal_no_event_is_visible(vis, gateway_url):
    t, number = vis["t"], vis["ticket"]["number"]
    with psycopg.connect(gateway_url) as conn:
        with conn.transaction():
            rows = conn.execute("SELECT count(*) FROM ticket_events WHERE tenant_id = %s"
                                " AND ticket_number = %s", (t.id, number)).fetchall()
    assert rows == [(0,)]
