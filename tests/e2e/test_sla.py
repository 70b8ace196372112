"""SLA clocks over HTTP: the rules of services/sla/clock.h checked against
an oracle written here, on tenants of the test's own (tenant files applied
with mspctl), on the running stack.

The oracle replays a ticket's events (read back as the owner, occurred_at
floored to seconds, exactly what the clocks are computed from) under the
rules that clock.h states for users, with business time computed
independently: wall-clock time on a 24x7 tenant, and on a business-hours
tenant the intersection with the calendar's windows built with zoneinfo
for each local date.
"""
import contextlib
import datetime as dt
import json
import time
import uuid
from zoneinfo import ZoneInfo

import psycopg
import pytest

from conftest import env, run_mspctl, set_principal, tenant_doc, write_tenant
from sla_oracle import (CLOCKS, DAYS, Calendar, Oracle, WallClock, epoch, is_open,
                        utc_text)


# ---- tenants of the test's own ----------------------------------------

def policy(targets, pauses=("pending_customer", "pending_vendor")):
    """targets: {"P1": (first_response_minutes, resolution_minutes), ...}"""
    return {
        "priorities": {p: {"first_response_minutes": r, "resolution_minutes": s}
                       for p, (r, s) in targets.items()},
        "warning_thresholds": [50, 75, 90],
        "pause_statuses": list(pauses),
    }


TARGETS_24X7 = {"P1": (15, 60), "P2": (60, 240), "P3": (240, 480), "P4": (480, 1440)}


class Tenant:
    def __init__(self, directory, doc, as_user):
        self.doc = doc
        self.slug = doc["slug"]
        self.path = write_tenant(directory, doc)
        proc = run_mspctl("tenant", "apply", self.path)
        assert proc.returncode == 0 and proc.stdout.strip() == f"{self.slug}: created", \
            proc.stdout + proc.stderr
        self.tech_sub = f"tech.{self.slug}"
        run_mspctl("assign", self.tech_sub, self.slug, "technician", "L1", check=True)
        self.tech = as_user(self.tech_sub, "provider", "technician")
        self.it = as_user(f"it.{self.slug}", self.slug, "it_staff")

    def url(self, ticket_id=None):
        base = f"/v1/tenants/{self.slug}/tickets"
        return base if ticket_id is None else f"{base}/{ticket_id}"

    def apply(self, doc):
        """Applies a changed document; returns mspctl's output."""
        self.doc = doc
        write_tenant(self.path.parent, doc)
        proc = run_mspctl("tenant", "apply", self.path)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def targets(self):
        pr = self.doc["sla_policy"]["priorities"]
        return {p: {"response": v["first_response_minutes"] * 60,
                    "resolution": v["resolution_minutes"] * 60} for p, v in pr.items()}

    def pauses(self):
        return set(self.doc["sla_policy"]["pause_statuses"])


@pytest.fixture
def make_tenant(tmp_path, as_user):
    """make_tenant(base, **fields) -> Tenant, under a new slug."""
    def make(base="globex", **fields):
        slug = f"sla-{uuid.uuid4().hex[:7]}"
        doc = tenant_doc(slug, base)
        doc.update(fields)
        return Tenant(tmp_path, doc, as_user)
    return make


def around_the_clock(make_tenant, targets=TARGETS_24X7, model="fully_managed", **kw):
    """A 24x7 tenant in UTC without holidays: business seconds are wall
    seconds."""
    return make_tenant("globex", timezone="UTC", holidays=[], co_management_model=model,
                       calendar={d: [{"start": "00:00", "end": "24:00"}] for d in DAYS},
                       sla_policy=policy(targets, **kw))


# ---- the oracle's inputs, read back ---------------------------------------

_owner = []


def query(sql, params=None):
    """A query on the stack's database as the provider admin (what mspctl
    sees), on one connection kept for the module: one round trip each."""
    if not _owner:
        _owner.append(psycopg.connect(env("MSP_DATABASE_URL"), autocommit=True))
    with _owner[0].transaction():
        set_principal(_owner[0], "test.sla", "provider", "admin")
        return _owner[0].execute(sql, params).fetchall()


def events_of(slug, number):
    """The ticket's history as the clocks see it: (at, kind, data, role)."""
    return query(
        "SELECT floor(extract(epoch FROM e.occurred_at))::bigint, e.kind, e.data, e.actor_role"
        " FROM ticket_events e JOIN tenants t USING (tenant_id)"
        " WHERE t.slug = %s AND e.ticket_number = %s ORDER BY e.event_id", (slug, number))


def stored_of(slug, number):
    return query(
        "SELECT k.sla, floor(extract(epoch FROM k.response_due))::bigint,"
        " floor(extract(epoch FROM k.resolution_due))::bigint,"
        " floor(extract(epoch FROM k.breach_at))::bigint"
        " FROM tickets k JOIN tenants t USING (tenant_id)"
        " WHERE t.slug = %s AND k.number = %s", (slug, number))[0]


def expect(tenant, doc, calendar=None):
    """Checks a ticket document's sla member, due instants and the stored
    snapshot against the oracle as of the document's own as_of; returns
    the oracle."""
    sla = doc["sla"]
    oracle = Oracle(events_of(tenant.slug, doc["number"]), epoch(sla["as_of"]),
                    tenant.targets(), tenant.pauses(), calendar or WallClock())
    assert sla == oracle.view(), doc["id"]
    return oracle


def expect_stored(tenant, number, calendar=None):
    """Checks tickets.sla and its due columns against the oracle as of the
    snapshot's own as_of."""
    sla, response_due, resolution_due, breach_at = stored_of(tenant.slug, number)
    oracle = Oracle(events_of(tenant.slug, number), sla["as_of"], tenant.targets(),
                    tenant.pauses(), calendar or WallClock())
    want = oracle.stored()
    assert {k: sla[k] for k in want} == want
    assert (response_due, resolution_due) == (oracle.due("response"), oracle.due("resolution"))
    assert breach_at == oracle.breach_at()
    return sla


@contextlib.contextmanager
def admin_conn():
    """An owner connection acting as the provider admin; commits on exit."""
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "test.loader", "provider", "admin")
        yield conn


@pytest.fixture(scope="module", autouse=True)
def close_owner_connection():
    yield
    while _owner:
        _owner.pop().close()


def problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status and body["title"]
    return body


def invalid(resp, field):
    body = problem(resp, 400)
    assert field in [e["field"] for e in body["errors"]], body
    return body


def create(client, tenant, impact="high", urgency="medium", **fields):
    resp = client.post(tenant.url(), json={"title": f"sla {uuid.uuid4().hex[:6]}",
                                           "impact": impact, "urgency": urgency, **fields})
    assert resp.status_code == 201, resp.text
    return resp


class Ticket:
    """A ticket driven through PATCHes with the ETag of the last reply."""

    def __init__(self, tenant, client, resp):
        self.tenant, self.client = tenant, client
        self.doc = resp.json()
        self.etag = resp.headers["ETag"]
        self.url = tenant.url(self.doc["id"])
        self.escalations = []

    def patch(self, **change):
        resp = self.client.patch(self.url, headers={"If-Match": self.etag}, json=change)
        assert resp.status_code == 200, resp.text
        self.doc, self.etag = resp.json(), resp.headers["ETag"]
        return self.doc

    def get(self, client=None):
        resp = (client or self.client).get(self.url)
        assert resp.status_code == 200, resp.text
        self.doc, self.etag = resp.json(), resp.headers["ETag"]
        return self.doc

    def escalate(self, client, kind, to):
        note = {"summary": f"{kind} to {to}", "tried": "the usual", "next_action": "take it"}
        resp = client.post(self.url + "/escalations", json={"kind": kind, "to": to,
                                                            "note": note})
        assert resp.status_code == 201, resp.text
        self.escalations.append(resp.json()["id"])
        return resp.json()

    def accept(self, client, escalation_id):
        resp = client.post(f"{self.url}/escalations/{escalation_id}/accept")
        assert resp.status_code == 200, resp.text
        return resp.json()

    def event_at(self, index):
        return events_of(self.tenant.slug, self.doc["number"])[index][0]


def as_of(doc):
    return epoch(doc["sla"]["as_of"])


# ---- 1. one ticket's whole life on a 24x7 tenant ---------------------------

def test_clocks_through_a_tickets_life_on_a_24x7_tenant(make_tenant):
    tenant = around_the_clock(make_tenant, model="co_managed")
    t = Ticket(tenant, tenant.tech, create(tenant.tech, tenant))     # P2: 60 / 240 min
    d = t.doc
    assert d["priority"] == "P2"
    t0 = t.event_at(0)
    assert as_of(d) == t0 == epoch(d["created_at"])
    expect(tenant, d)
    s = d["sla"]
    assert s["response"] == {"state": "running", "due": utc_text(t0 + 3600),
                             "target_seconds": 3600, "elapsed_seconds": 0,
                             "remaining_seconds": 3600, "percent_used": 0.0,
                             "stopped_at": None}
    assert s["resolution"]["due"] == d["resolution_due"] == utc_text(t0 + 14400)
    assert d["response_due"] == utc_text(t0 + 3600)
    assert s["holder"] == "provider"
    assert s["held_seconds"] == {"provider": 0, "internal_it": 0, "vendor": 0, "customer": 0}
    expect_stored(tenant, d["number"])

    # waiting on the customer: paused, held by the customer
    time.sleep(2)
    d = t.patch(status="pending_customer")
    t1 = t.event_at(1)
    assert as_of(d) == t1 and t1 - t0 >= 1
    expect(tenant, d)
    for c in CLOCKS:
        assert d["sla"][c]["state"] == "paused" and d["sla"][c]["due"] is None
        assert d["sla"][c]["elapsed_seconds"] == t1 - t0
    assert d["response_due"] is None and d["resolution_due"] is None
    assert d["sla"]["holder"] == "customer"
    assert d["sla"]["held_seconds"]["provider"] == t1 - t0
    expect_stored(tenant, d["number"])

    time.sleep(2)
    d = t.get()
    g1 = as_of(d)
    assert g1 > t1
    expect(tenant, d)
    assert d["sla"]["response"]["elapsed_seconds"] == t1 - t0            # did not grow
    assert d["sla"]["held_seconds"]["customer"] == g1 - t1               # held all the same

    # Back to work; the provider hands the ticket to the tenant's internal
    # IT, who accept it and hand it on to a vendor.
    d = t.patch(status="in_progress")
    t2 = t.event_at(-1)
    assert d["sla"]["holder"] == "provider"
    assert d["sla"]["held_seconds"]["customer"] == t2 - t1
    time.sleep(1)
    t.escalate(tenant.tech, "handoff", "internal_it")
    t3 = t.event_at(-1)
    d = t.get()
    expect(tenant, d)
    assert d["sla"]["holder"] == "internal_it" and d["side"] == "internal_it"
    assert d["sla"]["held_seconds"]["provider"] == (t1 - t0) + (t3 - t2)
    for c in CLOCKS:
        assert d["sla"][c]["state"] == "running"
        assert epoch(d["sla"][c]["due"]) == as_of(d) + d["sla"][c]["remaining_seconds"]
    assert epoch(d["response_due"]) == t2 + 3600 - (t1 - t0)
    t.accept(tenant.it, t.escalations[-1])
    t4 = t.event_at(-1)
    assert t.get()["assignee"] == tenant.it.sub

    time.sleep(1)
    t.escalate(tenant.it, "handoff", "vendor")
    t5 = t.event_at(-1)
    d = t.get()
    expect(tenant, d)
    assert d["sla"]["holder"] == "vendor"
    assert d["sla"]["held_seconds"]["internal_it"] == t5 - t3
    assert t4 >= t3
    expect_stored(tenant, d["number"])
    # the vendor takes it: its answer is recorded by the side that sent it
    t.accept(tenant.it, t.escalations[-1])

    # The first public reply by staff meets the response target.
    time.sleep(1)
    resp = tenant.tech.post(t.url + "/comments", json={"body": "Looking into it",
                                                       "visibility": "public"})
    assert resp.status_code == 201, resp.text
    t6 = t.event_at(-1)
    d = t.get()
    expect(tenant, d)
    r = d["sla"]["response"]
    assert r["state"] == "met" and r["stopped_at"] == utc_text(t6)
    assert r["elapsed_seconds"] == (t1 - t0) + (t6 - t2)
    assert epoch(r["due"]) == t6 + r["remaining_seconds"]
    assert d["sla"]["resolution"]["state"] == "running"
    assert d["sla"]["held_seconds"]["vendor"] == as_of(d) - t5
    expect_stored(tenant, d["number"])

    # The vendor is done: the provider takes it back at L2.
    t.escalate(tenant.tech, "handoff", "provider:L2")
    t7 = t.event_at(-1)
    d = t.get()
    expect(tenant, d)
    assert d["sla"]["holder"] == "provider" and d["tier"] == "L2"
    assert d["sla"]["held_seconds"]["vendor"] == t7 - t5
    assert d["sla"]["response"]["stopped_at"] == utc_text(t6)

    time.sleep(1)
    d = t.patch(status="resolved")
    t8 = t.event_at(-1)
    expect(tenant, d)
    res = d["sla"]["resolution"]
    assert res["state"] == "met" and res["stopped_at"] == utc_text(t8)
    assert res["elapsed_seconds"] == (t1 - t0) + (t8 - t2)
    assert epoch(res["due"]) == t8 + res["remaining_seconds"]
    assert d["sla"]["holder"] is None
    held_resolved = d["sla"]["held_seconds"]
    assert held_resolved == {"provider": (t1 - t0) + (t3 - t2) + (t8 - t7),
                             "customer": t2 - t1, "internal_it": t5 - t3,
                             "vendor": t7 - t5}
    assert sum(held_resolved.values()) == t8 - t0
    expect_stored(tenant, d["number"])

    # Nothing counts while resolved.
    time.sleep(1)
    d = t.get()
    assert as_of(d) > t8
    expect(tenant, d)
    assert d["sla"]["held_seconds"] == held_resolved
    assert d["sla"]["resolution"]["elapsed_seconds"] == res["elapsed_seconds"]

    # A reopen resumes the resolution clock where it stopped; the
    # response clock stays met.
    d = t.patch(status="in_progress")
    t9 = t.event_at(-1)
    expect(tenant, d)
    assert d["resolved_at"] is None
    res = d["sla"]["resolution"]
    assert res["state"] == "running" and res["stopped_at"] is None
    assert res["elapsed_seconds"] == (t1 - t0) + (t8 - t2)
    assert epoch(res["due"]) == t9 + res["remaining_seconds"]
    assert d["sla"]["response"]["state"] == "met"
    assert d["sla"]["response"]["stopped_at"] == utc_text(t6)
    assert d["sla"]["holder"] == "provider"
    assert d["sla"]["held_seconds"] == held_resolved

    # A new policy: elapsed time is kept, measured against the new target.
    time.sleep(1)
    doc = dict(tenant.doc)
    doc["sla_policy"] = policy({**TARGETS_24X7, "P2": (60, 300)})
    out = tenant.apply(doc)
    assert out == f"{tenant.slug}: updated (1 tickets' SLA clocks recomputed)"
    stored = expect_stored(tenant, d["number"])
    assert stored["resolution"]["target"] == 18000
    ta = stored["as_of"]
    assert stored["resolution"]["elapsed"] == (t1 - t0) + (t8 - t2) + (ta - t9)
    assert stored["resolution"]["due"] == ta + 18000 - stored["resolution"]["elapsed"]
    d = t.get()
    expect(tenant, d)
    g = as_of(d)
    res = d["sla"]["resolution"]
    assert res["target_seconds"] == 18000
    assert res["elapsed_seconds"] == (t1 - t0) + (t8 - t2) + (g - t9)
    assert res["remaining_seconds"] == 18000 - res["elapsed_seconds"]
    assert res["percent_used"] == (res["elapsed_seconds"] * 1000 // 18000) / 10
    assert epoch(res["due"]) == epoch(d["resolution_due"]) == g + res["remaining_seconds"]
    assert epoch(res["due"]) == epoch(t.doc["resolution_due"])
    assert d["sla"]["response"]["target_seconds"] == 3600

    # The explanation adds up.
    ex = tenant.tech.get(t.url + "/sla")
    assert ex.status_code == 200, ex.text
    ex = ex.json()
    assert ex["ticket"] == d["id"] and ex["timezone"] == "UTC"
    events = events_of(tenant.slug, d["number"])
    check_explanation(tenant, ex, WallClock(), events)
    segs = ex["segments"]
    # one segment from each instant something happened, through now
    assert [epoch(s["from"]) for s in segs] == sorted({e[0] for e in events})
    for seg in segs:
        span = epoch(seg["to"]) - epoch(seg["from"])
        assert seg["business_seconds"] == (span if is_open(seg["status"]) else 0)


# ---- 2. a business-hours tenant -------------------------------------------

def weekday_on_or_after(day):
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


SPLIT_SHIFT = [{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]


def business_hours_tenant(make_tenant):
    ny = ZoneInfo("America/New_York")
    today = dt.datetime.now(ny).date()
    past_closed = weekday_on_or_after(today - dt.timedelta(days=9))
    past_short = weekday_on_or_after(past_closed + dt.timedelta(days=3))
    next_closed = weekday_on_or_after(today + dt.timedelta(days=1))
    next_short = weekday_on_or_after(next_closed + dt.timedelta(days=1))
    holidays = [
        {"date": past_closed.isoformat(), "name": "Closed"},
        {"date": past_short.isoformat(), "name": "Short day",
         "hours": [{"start": "09:00", "end": "11:00"}]},
        {"date": next_closed.isoformat(), "name": "Closed again"},
        {"date": next_short.isoformat(), "name": "Short again",
         "hours": [{"start": "10:00", "end": "11:30"}]},
    ]
    return make_tenant(
        "acme", timezone="America/New_York", holidays=holidays,
        calendar={d: SPLIT_SHIFT for d in DAYS[:5]},
        sla_policy=policy({"P1": (60, 480), "P2": (300, 2400), "P3": (600, 4800),
                           "P4": (1200, 9600)}))


def check_explanation(tenant, ex, cal, events):
    """The explanation of a ticket's clocks against the calendar."""
    segs = ex["segments"]
    assert segs and epoch(segs[0]["from"]) == events[0][0]
    assert epoch(segs[-1]["to"]) == epoch(ex["clocks"]["as_of"])
    for a, b in zip(segs, segs[1:]):
        assert a["to"] == b["from"]
    for seg in segs:
        lo, hi = epoch(seg["from"]), epoch(seg["to"])
        assert dt.datetime.fromisoformat(seg["from_local"]).timestamp() == lo
        assert dt.datetime.fromisoformat(seg["to_local"]).timestamp() == hi
        # what was in force there, by the oracle
        state = Oracle([e for e in events if e[0] <= lo], lo, tenant.targets(),
                       tenant.pauses(), cal)
        assert (seg["status"], seg["holder"], seg["priority"]) == \
            (state.status, state.holder(), state.priority), seg
        windows = [(dt.datetime.fromisoformat(w["start"]).timestamp(),
                    dt.datetime.fromisoformat(w["end"]).timestamp(), w["seconds"])
                   for w in seg["working_windows"]]
        for start, end, seconds in windows:
            assert seconds == end - start > 0
        if is_open(seg["status"]):
            if isinstance(cal, Calendar):
                assert [(s, e) for s, e, _ in windows] == cal.intervals(lo, hi), seg
            assert seg["business_seconds"] == cal.business(lo, hi)
        else:
            assert windows == [] and seg["business_seconds"] == 0
        assert sum(w[2] for w in windows) == seg["business_seconds"]
    for c in CLOCKS:
        assert sum(s["business_seconds"] for s in segs if s["clocks"][c] == "running") \
            == ex["clocks"][c]["elapsed_seconds"], c
    assert sum(s["business_seconds"] for s in segs) == sum(ex["clocks"]["held_seconds"].values())


def test_business_hours_due_instants_and_explanation(make_tenant):
    tenant = business_hours_tenant(make_tenant)
    cal = Calendar(tenant.doc)
    d = create(tenant.tech, tenant).json()                     # P2: 300 / 2400 min
    created = epoch(d["created_at"])
    assert d["priority"] == "P2"
    for c, field, target in (("response", "response_due", 300 * 60),
                              ("resolution", "resolution_due", 2400 * 60)):
        due = epoch(d[field])
        assert d["sla"][c]["due"] == d[field]
        assert d["sla"][c]["target_seconds"] == target
        assert cal.in_window(due), (c, d[field])
        assert cal.business(created, due) == target, (c, d[field])
        assert cal.add(created, target) == due
    # the resolution target spans more than a week of these hours: it
    # crosses the coming closed day and short day
    due = epoch(d["resolution_due"])
    for h in tenant.doc["holidays"][2:]:
        assert cal.local_date(created) <= dt.date.fromisoformat(h["date"]) \
            <= cal.local_date(due)
    expect(tenant, d, cal)
    expect_stored(tenant, d["number"], cal)

    ex = tenant.tech.get(tenant.url(d["id"]) + "/sla")
    assert ex.status_code == 200, ex.text
    ex = ex.json()
    assert ex["timezone"] == "America/New_York"
    check_explanation(tenant, ex, cal, events_of(tenant.slug, d["number"]))


def load_ticket(tenant, t0, steps, status="new", side="provider", impact="high",
                urgency="high", priority="P1"):
    """Writes a ticket and its history with SQL, as a data load would
    (no clocks yet): steps are (seconds after t0, kind, data, actor role).
    Returns its number."""
    with admin_conn() as conn:
        tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s",
                           (tenant.slug,)).fetchone()[0]
        number = conn.execute(
            "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester,"
            " status, side, created_at, updated_at)"
            " VALUES (%s, 'loaded', %s, %s, %s, 'someone', %s, %s,"
            " to_timestamp(%s), to_timestamp(%s)) RETURNING number",
            (tid, impact, urgency, priority, status, side, t0, t0 + steps[-1][0])).fetchone()[0]
        for offset, kind, data, role in steps:
            conn.execute(
                "INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub,"
                " actor_org, actor_role, kind, data)"
                " VALUES (%s, %s, to_timestamp(%s), 'loader', 'provider', %s, %s, %s::jsonb)",
                (tid, number, t0 + offset, role, kind, json.dumps(data)))
    assert stored_of(tenant.slug, number)[0] is None
    return number


def test_due_instants_at_the_edges_of_working_windows(make_tenant):
    """Tickets opened two weeks ago at chosen local times (P1: 60 / 480
    working minutes; Monday to Friday 08-12 and 13-17; that week's
    Thursday a holiday): their due instants, worked out by hand.  A target
    that runs out at the end of a window is due then, not when the next
    window opens."""
    ny = ZoneInfo("America/New_York")
    today = dt.datetime.now(ny).date()
    mon = today - dt.timedelta(days=today.weekday() + 14)
    tenant = make_tenant(
        "acme", timezone="America/New_York",
        holidays=[{"date": (mon + dt.timedelta(days=3)).isoformat(), "name": "Closed"}],
        calendar={d: SPLIT_SHIFT for d in DAYS[:5]},
        sla_policy=policy({"P1": (60, 480), "P2": (120, 960), "P3": (240, 1440),
                           "P4": (480, 2400)}))
    cal = Calendar(tenant.doc)

    def at(day, hh, mm=0, ss=0):
        d = mon + dt.timedelta(days=day)
        return int(dt.datetime(d.year, d.month, d.day, hh, mm, ss, tzinfo=ny).timestamp())

    TUE, WED, FRI, SAT, NEXT_MON = 1, 2, 4, 5, 7
    cases = [  # opened, response due, resolution due
        (at(TUE, 8), at(TUE, 9), at(TUE, 17)),
        (at(TUE, 7, 59, 30), at(TUE, 9), at(TUE, 17)),
        (at(TUE, 11), at(TUE, 12), at(WED, 11)),
        (at(TUE, 12, 30), at(TUE, 14), at(WED, 12)),
        (at(TUE, 17), at(WED, 9), at(WED, 17)),
        (at(WED, 11), at(WED, 12), at(FRI, 11)),                 # Thursday is closed
        (at(FRI, 16, 30), at(NEXT_MON, 8, 30), at(NEXT_MON, 16, 30)),
        (at(SAT, 10), at(NEXT_MON, 9), at(NEXT_MON, 17)),
    ]
    created = {"status": "new", "side": "provider", "priority": "P1"}
    numbers = [load_ticket(tenant, opened, [(0, "created", created, "it_staff")])
               for opened, _, _ in cases]
    proc = run_mspctl("sla", "recompute", tenant.slug)
    assert proc.stdout.strip() == f"{tenant.slug}: {len(cases)} tickets' SLA clocks recomputed", \
        proc.stderr
    prefix = tenant.doc["ticket_prefix"]
    for number, (opened, response_due, resolution_due) in zip(numbers, cases):
        d = tenant.tech.get(tenant.url(f"{prefix}-{number}")).json()
        local = dt.datetime.fromtimestamp(opened, ny).isoformat()
        assert (d["response_due"], d["resolution_due"]) == \
            (utc_text(response_due), utc_text(resolution_due)), local
        for c, due in (("response", response_due), ("resolution", resolution_due)):
            assert d["sla"][c]["state"] == "breached" and d["sla"][c]["due"] == utc_text(due)
            assert cal.in_window(due) and cal.business(opened, due) == d["sla"][c]["target_seconds"]
        expect(tenant, d, cal)
        expect_stored(tenant, number, cal)


def last_offset_changes(tz, count=2):
    """The local dates of the last `count` UTC offset changes (daylight
    saving time starting or ending) before today, newest first."""
    out, day = [], dt.datetime.now(tz).date() - dt.timedelta(days=2)
    while len(out) < count:
        a = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
        b = a + dt.timedelta(days=1)
        if a.utcoffset() != dt.datetime(b.year, b.month, b.day, tzinfo=tz).utcoffset():
            out.append(day)
        day -= dt.timedelta(days=1)
    return out


def test_around_the_clock_in_local_time_across_daylight_saving_changes(make_tenant):
    """Working days of 00:00-24:00 local time: the day the clocks go back
    has 25 working hours, the day they go forward 23."""
    ny = ZoneInfo("America/New_York")
    tenant = make_tenant("globex", timezone="America/New_York", holidays=[],
                         calendar={d: [{"start": "00:00", "end": "24:00"}] for d in DAYS},
                         sla_policy=policy(TARGETS_24X7))
    cal = Calendar(tenant.doc)
    numbers = {}
    for change in last_offset_changes(ny):
        before = change - dt.timedelta(days=1)
        opened = int(dt.datetime(before.year, before.month, before.day, 12, tzinfo=ny).timestamp())
        resolved = int(dt.datetime(change.year, change.month, change.day, 12,
                                   tzinfo=ny).timestamp())
        assert resolved - opened in (23 * 3600, 25 * 3600)
        numbers[load_ticket(tenant, opened, [
            (0, "created", {"status": "new", "side": "provider", "priority": "P4"}, "it_staff"),
            (resolved - opened, "updated", {"status": {"from": "new", "to": "resolved"}},
             "technician")], status="resolved", impact="low", urgency="low",
            priority="P4")] = (opened, resolved)
    proc = run_mspctl("sla", "recompute", tenant.slug)
    assert proc.stdout.strip() == f"{tenant.slug}: 2 tickets' SLA clocks recomputed", proc.stderr
    for number, (opened, resolved) in numbers.items():
        url = tenant.url(f"{tenant.doc['ticket_prefix']}-{number}")
        d = tenant.tech.get(url).json()
        expect(tenant, d, cal)
        res = d["sla"]["resolution"]
        assert res["stopped_at"] == utc_text(resolved)
        assert res["elapsed_seconds"] == resolved - opened
        # P4: 1440 minutes, a day of wall time either way, which the 25-hour
        # day overruns
        assert epoch(res["due"]) == opened + 24 * 3600
        assert res["state"] == ("breached" if resolved - opened > 24 * 3600 else "met")
        assert d["sla"]["held_seconds"]["provider"] == resolved - opened
        ex = tenant.tech.get(url + "/sla").json()
        check_explanation(tenant, ex, cal, events_of(tenant.slug, number))


def test_business_hours_history_replayed_by_sla_recompute(make_tenant):
    """A ticket whose history goes back eleven days (written with SQL, as
    a data load would) across a closed holiday and a short day, with a
    pause, side changes, comments that do not respond and one that does,
    a priority change, a resolve and a reopen; `mspctl sla recompute`
    gives it clocks, and the API shows them."""
    tenant = business_hours_tenant(make_tenant)
    cal = Calendar(tenant.doc)
    live = create(tenant.tech, tenant).json()
    t0 = int(time.time()) - 11 * 86400 + 17
    day, hour, minute = 86400, 3600, 60
    steps = [
        (0, "created", {"status": "new", "side": "provider", "priority": "P2"}, "it_staff"),
        (1 * hour, "comment", {"visibility": "public", "body": "me too"}, "requester"),
        (1 * day, "comment", {"visibility": "internal", "body": "note"}, "technician"),
        (1 * day + 2 * hour + 13 * minute + 7,
         "updated", {"status": {"from": "new", "to": "in_progress"}}, "technician"),
        (2 * day + 5 * hour,
         "updated", {"status": {"from": "in_progress", "to": "pending_customer"}}, "technician"),
        (4 * day + 1 * hour + 30 * minute,
         "updated", {"status": {"from": "pending_customer", "to": "in_progress"},
                     "side": {"from": "provider", "to": "internal_it"}}, "it_staff"),
        (5 * day + 3 * hour, "comment", {"visibility": "public", "body": "fixed?"},
         "technician"),
        (6 * day + 4 * hour + 11,
         "updated", {"side": {"from": "internal_it", "to": "vendor"}}, "it_staff"),
        (7 * day,
         "updated", {"impact": {"from": "high", "to": "medium"},
                     "priority": {"from": "P2", "to": "P3"}}, "technician"),
        (8 * day + 2 * hour,
         "updated", {"status": {"from": "in_progress", "to": "resolved"}}, "technician"),
        (9 * day + 2 * hour,
         "updated", {"status": {"from": "resolved", "to": "in_progress"}}, "it_staff"),
    ]
    number = load_ticket(tenant, t0, steps, status="in_progress", side="vendor",
                         impact="medium", urgency="medium", priority="P3")
    assert stored_of(tenant.slug, number)[0] is None

    proc = run_mspctl("sla", "recompute", tenant.slug)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{tenant.slug}: 2 tickets' SLA clocks recomputed"
    expect_stored(tenant, number, cal)
    expect_stored(tenant, live["number"], cal)

    t = Ticket(tenant, tenant.tech,
               tenant.tech.get(tenant.url(f"{tenant.doc['ticket_prefix']}-{number}")))
    oracle = expect(tenant, t.doc, cal)
    sla = t.doc["sla"]
    # the comments of the requester and the internal note did not respond
    assert sla["response"]["stopped_at"] == utc_text(t0 + steps[6][0])
    assert sla["resolution"]["target_seconds"] == 4800 * 60            # P3 now
    assert sla["holder"] == "vendor" and oracle.priority == "P3"
    # the elapsed business time, independently: the open, unpaused stretches
    bounds = [t0 + s[0] for s in steps] + [epoch(sla["as_of"])]
    running = [cal.business(bounds[i], bounds[i + 1]) for i in range(len(steps))]
    paused_or_resolved = {4, 9}        # from pending_customer, from resolved
    assert sla["resolution"]["elapsed_seconds"] == \
        sum(v for i, v in enumerate(running) if i not in paused_or_resolved)
    assert sla["response"]["elapsed_seconds"] == \
        sum(v for i, v in enumerate(running[:6]) if i not in paused_or_resolved)
    if sla["response"]["state"] == "breached":
        assert cal.in_window(epoch(sla["response"]["due"]))

    ex = tenant.tech.get(t.url + "/sla")
    assert ex.status_code == 200, ex.text
    ex = ex.json()
    check_explanation(tenant, ex, cal, events_of(tenant.slug, number))
    closed = tenant.doc["holidays"][0]["date"]
    for seg in ex["segments"]:
        for w in seg["working_windows"]:
            assert not w["start"].startswith(closed)
    short = tenant.doc["holidays"][1]["date"]
    for seg in ex["segments"]:
        for w in seg["working_windows"]:
            if w["start"].startswith(short):
                assert w["start"][11:16] >= "09:00" and w["end"][11:16] <= "11:00"


# ---- 3. pauses ------------------------------------------------------------

def test_a_paused_ticket_has_no_due_and_its_clocks_stand_still(make_tenant):
    tenant = around_the_clock(make_tenant)
    t = Ticket(tenant, tenant.tech, create(tenant.tech, tenant, impact="medium",
                                           urgency="medium"))          # P3
    time.sleep(1)
    d = t.patch(status="pending_vendor")
    expect(tenant, d)
    for c in CLOCKS:
        assert d["sla"][c]["state"] == "paused" and d["sla"][c]["due"] is None
    assert d["response_due"] is None and d["resolution_due"] is None
    assert d["sla"]["holder"] == "vendor"
    assert stored_of(tenant.slug, d["number"])[3] is None               # no breach_at

    first = t.get()
    time.sleep(2)
    second = t.get()
    expect(tenant, first)
    expect(tenant, second)
    assert as_of(second) >= as_of(first) + 1
    for c in CLOCKS:
        assert second["sla"][c]["elapsed_seconds"] == first["sla"][c]["elapsed_seconds"]
        assert second["sla"][c]["state"] == "paused" and second["sla"][c]["due"] is None
    assert second["sla"]["held_seconds"]["vendor"] - first["sla"]["held_seconds"]["vendor"] \
        == as_of(second) - as_of(first)

    d = t.patch(status="in_progress")
    expect(tenant, d)
    for c in CLOCKS:
        assert d["sla"][c]["state"] == "running"
        assert epoch(d["sla"][c]["due"]) == as_of(d) + d["sla"][c]["remaining_seconds"]
    expect_stored(tenant, d["number"])


def test_without_pause_statuses_pending_customer_keeps_the_clocks_running(make_tenant):
    tenant = around_the_clock(make_tenant, pauses=())
    t = Ticket(tenant, tenant.tech, create(tenant.tech, tenant))
    d = t.patch(status="pending_customer")
    expect(tenant, d)
    assert d["sla"]["holder"] == "customer"
    time.sleep(1)
    later = t.get()
    expect(tenant, later)
    for c in CLOCKS:
        assert later["sla"][c]["state"] == "running"
        assert later["sla"][c]["due"] == d["sla"][c]["due"]
        assert later["sla"][c]["elapsed_seconds"] > d["sla"][c]["elapsed_seconds"]


def test_only_a_public_reply_by_staff_meets_the_response_target(make_tenant, as_user):
    tenant = around_the_clock(make_tenant)
    requester = as_user(f"user.{tenant.slug}", tenant.slug, "requester")
    monitor = as_user(f"monitor.{tenant.slug}", tenant.slug, "integration")
    t = Ticket(tenant, tenant.tech, create(requester, tenant))
    for client, visibility in ((requester, "public"), (tenant.tech, "staff"),
                               (monitor, "public"), (tenant.it, "staff"),
                               (tenant.tech, "provider")):
        resp = client.post(t.url + "/comments", json={"body": "x", "visibility": visibility})
        assert resp.status_code == 201, resp.text
        d = t.get()
        assert d["sla"]["response"]["state"] == "running", (client.sub, visibility)
        expect(tenant, d)
    resp = tenant.it.post(t.url + "/comments", json={"body": "On it", "visibility": "public"})
    assert resp.status_code == 201, resp.text
    d = t.get()
    expect(tenant, d)
    assert d["sla"]["response"]["state"] == "met"
    assert d["sla"]["response"]["stopped_at"] == utc_text(t.event_at(6))
    assert d["sla"]["resolution"]["state"] == "running"


def test_a_priority_change_keeps_the_elapsed_time(make_tenant):
    tenant = around_the_clock(make_tenant)
    t = Ticket(tenant, tenant.tech, create(tenant.tech, tenant, "medium", "medium"))   # P3
    t0 = as_of(t.doc)
    time.sleep(1)
    d = t.patch(impact="high", urgency="high")
    assert d["priority"] == "P1"
    expect(tenant, d)
    for c, target in (("response", 15 * 60), ("resolution", 60 * 60)):
        assert d["sla"][c]["target_seconds"] == target
        assert d["sla"][c]["elapsed_seconds"] == as_of(d) - t0 > 0
        assert epoch(d["sla"][c]["due"]) == t0 + target
    expect_stored(tenant, d["number"])


# ---- 4. listing by breach ----------------------------------------------------

def walk(client, url):
    """Every item of a list, following next_cursor; the pages' cursors."""
    items, cursors = [], []
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor:
            cursors.append(cursor)
            assert 'rel="next"' in resp.headers["Link"]
            link = resp.headers["Link"]
            url = link[link.index("/v1/"):link.index(">")]
            assert f"after={cursor}" in url
        else:
            url = None
    return items, cursors


def breach_of(item):
    dues = [epoch(item["sla"][c]["due"]) for c in CLOCKS
            if item["sla"][c]["stopped_at"] is None and item["sla"][c]["due"]]
    return min(dues)


def test_queue_and_list_sorted_and_filtered_by_breach(make_tenant):
    tenant = around_the_clock(make_tenant)
    levels = {"P1": ("high", "high"), "P2": ("high", "medium"), "P3": ("medium", "medium"),
              "P4": ("low", "low")}
    made = {}
    for p in ("P4", "P1", "P3", "P2", "P1", "P4"):
        doc = create(tenant.tech, tenant, *levels[p]).json()
        assert doc["priority"] == p
        made[doc["id"]] = doc
    paused = Ticket(tenant, tenant.tech, create(tenant.tech, tenant, "high", "high"))
    paused.patch(status="pending_customer")
    done = Ticket(tenant, tenant.tech, create(tenant.tech, tenant, "high", "high"))
    done.patch(status="resolved")

    rows = query("SELECT t.ticket_prefix || '-' || k.number,"
                 " floor(extract(epoch FROM k.breach_at))::bigint"
                 " FROM tickets k JOIN tenants t USING (tenant_id)"
                 " WHERE t.slug = %s AND k.breach_at IS NOT NULL", (tenant.slug,))
    breach = dict(rows)
    assert set(breach) == set(made)
    expected = sorted(made, key=lambda i: (breach[i], made[i]["number"]))
    assert [made[i]["priority"] for i in expected] == ["P1", "P1", "P2", "P3", "P4", "P4"]

    q = f"/v1/queue?sort=breach&tenant={tenant.slug}"
    whole, _ = walk(tenant.tech, q + "&limit=100")
    assert [i["id"] for i in whole] == expected
    assert [breach_of(i) for i in whole] == [breach[i] for i in expected]
    for item in whole:
        expect(tenant, item)
    paged, cursors = walk(tenant.tech, q + "&limit=2")
    assert [i["id"] for i in paged] == expected and len(cursors) == 2
    # without the tenant filter: this technician sees this tenant only
    assert [i["id"] for i in walk(tenant.tech, "/v1/queue?sort=breach&limit=4")[0]] == expected

    listed, _ = walk(tenant.tech, tenant.url() + "?sort=breach&limit=4")
    assert [i["id"] for i in listed] == expected

    # breach_before: strictly before the instant
    p2 = expected[2]
    cut = utc_text(breach[p2])
    for url in (f"{q}&breach_before={cut}", tenant.url() + f"?breach_before={cut}"):
        got = {i["id"] for i in walk(tenant.tech, url)[0]}
        assert got == set(expected[:2]), url
    cut = utc_text(breach[p2] + 1)
    got = [i["id"] for i in walk(tenant.tech, f"{q}&breach_before={cut}&limit=1")[0]]
    assert got == expected[:3]
    resp = tenant.tech.get(tenant.url(), params={"breach_before": dt.datetime.fromtimestamp(
        breach[p2] + 1, ZoneInfo("Asia/Kolkata")).isoformat()})
    assert resp.status_code == 200, resp.text
    assert {i["id"] for i in resp.json()["items"]} == set(expected[:3])
    resp = tenant.tech.get("/v1/queue", params={"tenant": tenant.slug,
                                                "breach_before": "2000-01-01T00:00:00Z"})
    assert resp.json()["items"] == []


def test_bad_breach_parameters_are_400_naming_the_parameter(make_tenant):
    tenant = around_the_clock(make_tenant)
    for _ in range(3):
        create(tenant.tech, tenant)
    c = tenant.tech
    for url in ("/v1/queue?breach_before=yesterday", tenant.url() + "?breach_before=yesterday",
                "/v1/queue?sort=breach&breach_before=2026-11-23",
                tenant.url() + "?sort=breach&breach_before=2026-11-23T09:00:00"):
        invalid(c.get(url), "breach_before")
    invalid(c.get("/v1/queue?sort=nope"), "sort")
    invalid(c.get(tenant.url() + "?sort=nope"), "sort")

    # a cursor is good for the sort that handed it out only
    by_priority = c.get(f"/v1/queue?tenant={tenant.slug}&limit=1").json()["next_cursor"]
    by_breach = c.get(f"/v1/queue?tenant={tenant.slug}&sort=breach&limit=1").json()["next_cursor"]
    assert by_priority and by_breach
    invalid(c.get(f"/v1/queue?sort=breach&after={by_priority}"), "after")
    invalid(c.get(f"/v1/queue?sort=age&after={by_breach}"), "after")
    invalid(c.get(f"/v1/queue?after={by_breach}"), "after")
    assert c.get(f"/v1/queue?sort=breach&after={by_breach}").status_code == 200
    by_number = c.get(tenant.url() + "?limit=1").json()["next_cursor"]
    list_by_breach = c.get(tenant.url() + "?sort=breach&limit=1").json()["next_cursor"]
    assert by_number and list_by_breach
    invalid(c.get(tenant.url() + f"?sort=breach&after={by_number}"), "after")
    invalid(c.get(tenant.url() + f"?after={list_by_breach}"), "after")
    invalid(c.get(tenant.url() + f"?sort=breach&after={by_breach}"), "after")


# ---- 5. isolation -------------------------------------------------------------

def test_sla_explanation_is_seen_only_by_who_sees_the_ticket(make_tenant, as_user):
    mine, theirs = around_the_clock(make_tenant), around_the_clock(make_tenant)
    other = create(theirs.it, theirs).json()
    url = theirs.url(other["id"]) + "/sla"
    assert theirs.it.get(url).status_code == 200
    problem(mine.it.get(url), 404)
    problem(mine.tech.get(url), 404)
    # the other tenant's id under one's own slug is not its ticket
    problem(mine.it.get(mine.url(other["id"]) + "/sla"), 404)

    # Requesters see the clocks on their ticket, not who held the work.
    requester = as_user(f"user.{theirs.slug}", theirs.slug, "requester")
    own = create(requester, theirs).json()
    assert requester.get(theirs.url(own["id"])).json()["sla"]["response"]["state"] == "running"
    problem(requester.get(theirs.url(own["id"]) + "/sla"), 403)
    # another requester's ticket is not there for them at all
    problem(requester.get(url), 404)


@pytest.mark.parametrize("value", ["2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                                   "2026-11-23T25:00:00Z", "2026-11-23T00:00:00+99:00"])
def test_out_of_range_breach_before_is_400_naming_the_parameter(as_user, value):
    admin = as_user("admin.sla", "provider", "admin")
    invalid(admin.get("/v1/queue", params={"sort": "breach", "breach_before": value}),
            "breach_before")
