"""The service reports over HTTP: the volume report of a New York and a
Sydney tenant across daylight-saving changes and month ends, recomputed
here from the histories this test writes (with Python's own zoneinfo,
not the gateway's), as of an instant, and refused when asked badly."""
import csv
import datetime as dt
import decimal
import io
import json
import math
import time
import uuid
from zoneinfo import ZoneInfo

import psycopg
import pytest

from conftest import env, run_mspctl, set_principal, tenant_doc, write_tenant
from sla_oracle import CLOCKS, Calendar, Oracle

UTC = dt.timezone.utc
OPEN = {"new", "assigned", "in_progress", "pending_customer", "pending_vendor"}


def local(zone, *fields):
    """A wall-clock time of zone as a UTC datetime."""
    return dt.datetime(*fields, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def month(zone, year, mon):
    """[start, end) of a month of zone, by Python's own zone rules."""
    nxt = (year + mon // 12, mon % 12 + 1)
    return local(zone, year, mon, 1), local(zone, *nxt, 1)


# Each ticket: its category now, and its history as (instant, event).
# Events: ("created", priority, side, creator role, creator org),
# ("status", from, to), ("priority", from, to), ("category", from, to),
# ("side", from, to), ("tier", from, to), ("comment", author role): a
# public comment.  A
# machine client raises tickets for itself (it is their requester); the
# others are for "someone".
def scenario(zone):
    if zone == "America/New_York":
        return [
            # created on the last evening of February, local: February
            ("network", [(local(zone, 2026, 2, 28, 23, 30),
                          ("created", "P3", "provider", "requester", None)),
                         (local(zone, 2026, 3, 1, 0, 30), ("status", "new", "resolved"))]),
            # created just before the clocks go forward, recategorised,
            # resolved, reopened, reprioritised, resolved again, closed
            # early on 1 April (local; 04:10Z, after the 04:00Z midnight)
            ("printing", [(local(zone, 2026, 3, 8, 1, 30),
                           ("created", "P2", "provider", "it_staff", None)),
                          (local(zone, 2026, 3, 9, 9, 0), ("tier", None, "L1")),
                          (local(zone, 2026, 3, 9, 9, 30), ("comment", "technician")),
                          (local(zone, 2026, 3, 9, 10, 0), ("category", "network", "printing")),
                          (local(zone, 2026, 3, 10, 10, 0), ("status", "new", "resolved")),
                          (local(zone, 2026, 3, 11, 10, 0), ("tier", "L1", "L2")),
                          (local(zone, 2026, 3, 12, 10, 0), ("status", "resolved", "in_progress")),
                          (local(zone, 2026, 3, 15, 10, 0), ("priority", "P2", "P1")),
                          (local(zone, 2026, 3, 20, 10, 0), ("status", "in_progress",
                                                             "resolved")),
                          (local(zone, 2026, 4, 1, 0, 10), ("status", "resolved", "closed"))]),
            # a minute before April, local: March (April by UTC)
            ("access", [(local(zone, 2026, 3, 31, 23, 59),
                         ("created", "P4", "internal_it", "requester", None)),
                        (local(zone, 2026, 4, 2, 10, 0), ("status", "new", "pending_customer")),
                        (local(zone, 2026, 4, 6, 11, 0), ("comment", "requester"))]),
            # raised by monitoring, closed straight from in_progress
            ("infrastructure", [(local(zone, 2026, 3, 15, 3, 0),
                                 ("created", "P1", "provider", "integration", "provider")),
                                (local(zone, 2026, 3, 16, 9, 0), ("status", "new",
                                                                  "in_progress")),
                                (local(zone, 2026, 3, 16, 9, 30), ("tier", None, "L1")),
                                (local(zone, 2026, 3, 16, 10, 0), ("side", "provider",
                                                                   "internal_it")),
                                (local(zone, 2026, 3, 16, 11, 0), ("status", "in_progress",
                                                                   "closed"))]),
            ("access", [(local(zone, 2026, 4, 1, 0, 5),
                         ("created", "P3", "provider", "technician", "provider"))]),
        ]
    return [
        # Sydney: 00:30 on 1 April local is 31 March 13:30Z: April here
        ("network", [(local(zone, 2026, 4, 1, 0, 30),
                      ("created", "P2", "provider", "requester", None))]),
        ("network", [(local(zone, 2026, 3, 31, 23, 30),
                      ("created", "P3", "provider", "it_leader", None)),
                     (local(zone, 2026, 4, 1, 10, 0), ("comment", "it_staff")),
                     (local(zone, 2026, 4, 2, 9, 0), ("status", "new", "resolved"))]),
        # the first 02:30 of 5 April (the clocks go back at 03:00)
        ("printing", [(dt.datetime(2026, 4, 4, 15, 30, tzinfo=UTC),
                       ("created", "P4", "vendor", "requester", None)),
                      (dt.datetime(2026, 4, 4, 16, 45, tzinfo=UTC),
                       ("status", "new", "resolved")),
                      (local(zone, 2026, 4, 30, 23, 0), ("status", "resolved", "assigned"))]),
    ]


SOURCES = {"requester": "user", "integration": "machine", "it_staff": "internal_it",
           "it_leader": "internal_it"}


def source_of(role, org):
    return SOURCES.get(role) or ("provider" if org == "provider" else "internal_it")


def expected_volume(tickets, start, end):
    """METRICS.md's Volume, from the histories, in this test's own code."""
    counted = {"created": {}, "resolved": {}, "closed": {}, "reopened": {}}
    for category_now, history in tickets:
        priority = None
        created_category = next((e[1] for _, e in history if e[0] == "category"), category_now)
        for number, (at, event) in enumerate(history):
            key = id(history)
            if event[0] == "created":
                priority = event[1]
                if start <= at < end:
                    counted["created"][key] = {
                        "priority": event[1], "category": created_category,
                        "source": source_of(event[3], event[4] or "tenant"),
                        "first_side": event[2]}
            elif event[0] == "priority":
                priority = event[2]
            elif event[0] == "status" and start <= at < end:
                was, now = event[1], event[2]
                if now == "resolved" or (now == "closed" and was in OPEN):
                    counted["resolved"][key] = {"priority": priority}
                if now == "closed":
                    counted["closed"][key] = {}
                if was in ("resolved", "closed") and now in OPEN:
                    counted["reopened"][key] = {}

    def split(metric, field):
        out = {}
        for row in counted[metric].values():
            out[row[field]] = out.get(row[field], 0) + 1
        return dict(sorted(out.items()))

    n = {metric: len(rows) for metric, rows in counted.items()}
    return {**n, "net_change": n["created"] - n["resolved"],
            "created_by": {f: split("created", f)
                           for f in ("priority", "category", "source", "first_side")},
            "resolved_by": {"priority": split("resolved", "priority")}}


def creator_of(role):
    return "monitor" if role == "integration" else "seed"


def requester_of(role):
    return "monitor" if role == "integration" else "someone"


def load(conn, tid, slug, tickets):
    """Writes the tickets and their histories as the API would have."""
    for category_now, history in tickets:
        created = history[0]
        _, (_, priority, side, role, org) = created
        status, prio, tier = "new", priority, None
        for _, event in history:
            if event[0] == "status":
                status = event[2]
            elif event[0] == "priority":
                prio = event[2]
            elif event[0] == "side":
                side = event[2]
            elif event[0] == "tier":
                tier = event[2]
        number = conn.execute(
            "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester, status,"
            " side, tier, category, created_at) VALUES (%s, 'seeded', 'low', 'low', %s, %s, %s,"
            " %s, %s, %s, %s) RETURNING number",
            (tid, prio, requester_of(role), status, side, tier, category_now,
             created[0])).fetchone()[0]
        for at, event in history:
            kind = {"created": "created", "comment": "comment"}.get(event[0], "updated")
            actor_sub = "seed"
            if event[0] == "created":
                data = {"priority": priority, "status": "new", "side": created[1][2]}
                actor_org, actor_role, actor_sub = org or slug, role, creator_of(role)
            elif event[0] == "comment":
                data = {"visibility": "public", "body": "seeded"}
                actor_org, actor_role = "provider" if event[1] == "technician" else slug, event[1]
            else:
                data = {event[0]: {"from": event[1], "to": event[2]}}
                actor_org, actor_role = "provider", "technician"
            conn.execute(
                "INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub,"
                " actor_org, actor_role, kind, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (tid, number, at, actor_sub, actor_org, actor_role, kind, json.dumps(data)))


def escalations(zone):
    """The scenario's escalations: ticket, kind, target, the side and tier
    it left, raised at, status and decided at, acknowledgement deadline
    and when it timed out, and the automatic step that raised it."""
    if zone != "America/New_York":
        return []
    at = lambda *f: local(zone, 2026, *f)                               # noqa: E731
    return [
        dict(ticket=2, kind="functional", target="provider:L2", side="provider", tier="L1",
             raised=at(3, 11, 9, 55), status="accepted", decided=at(3, 11, 10, 0)),
        dict(ticket=4, kind="handoff", target="internal_it", side="provider", tier="L1",
             raised=at(3, 16, 9, 45), status="accepted", decided=at(3, 16, 10, 0, 30)),
        # the policy's step, not acknowledged in time, withdrawn on resolution
        dict(ticket=2, kind="functional", target="provider:L3", side="provider", tier="L2",
             raised=at(3, 18, 10, 0), status="withdrawn", decided=at(3, 20, 10, 0),
             ack_by=at(3, 18, 11, 0), timed_out=at(3, 18, 11, 0, 30), auto="resolution:75"),
        dict(ticket=2, kind="hierarchical", target="provider:lead", side="provider", tier="L2",
             raised=at(3, 18, 11, 0, 30), status="open", auto="ack:3"),
        # raised in March, accepted in April: open at March's end
        dict(ticket=3, kind="handoff", target="provider:L1", side="internal_it", tier=None,
             raised=at(3, 31, 23, 59, 30), status="accepted", decided=at(4, 1, 8, 0)),
        dict(ticket=3, kind="handoff", target="internal_it", side="provider", tier="L1",
             raised=at(4, 1, 9, 0), status="rejected", decided=at(4, 2, 9, 0)),
    ]


def load_escalations(conn, tid, rows):
    for e in rows:
        conn.execute(
            "INSERT INTO escalations (tenant_id, ticket_number, kind, target, status, from_side,"
            " from_tier, note, context, rule, auto_key, raised_by, raised_at, acknowledge_by,"
            " timed_out_at, decided_by, decided_at, reason) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " '{}', '{}', 'seeded', %s, 'seed', %s, %s, %s, %s, %s, %s)",
            (tid, e["ticket"], e["kind"], e["target"], e["status"], e["side"], e["tier"],
             e.get("auto"), e["raised"], e.get("ack_by"), e.get("timed_out"),
             "seed" if e.get("decided") else None, e.get("decided"),
             "not ours" if e["status"] == "rejected" else None))


@pytest.fixture(scope="module")
def tenants(tmp_path_factory, as_user):
    """A New York and a Sydney tenant with the scenario's tickets, on the
    stack's own database, and who reads their reports."""
    tag = uuid.uuid4().hex[:6]
    made = {}
    for zone, base in (("America/New_York", "acme"), ("Australia/Sydney", "globex")):
        slug = f"rep{'ny' if 'York' in zone else 'syd'}-{tag}"
        # Sydney counts a reopening up to 30 days after the resolution
        doc = tenant_doc(slug, base, timezone=zone, reporting={
            "recurrence_days": 30, "reopen_days": 7 if "York" in zone else 30})
        run_mspctl("tenant", "apply", write_tenant(tmp_path_factory.mktemp(slug), doc),
                   check=True)
        with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
            set_principal(conn, "test.seed", "provider", "admin")
            tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s",
                               (slug,)).fetchone()[0]
            load(conn, tid, slug, scenario(zone))
            load_escalations(conn, tid, escalations(zone))
        # their clocks, and their measurements of the past, from the history
        run_mspctl("sla", "recompute", slug, check=True)
        made[zone] = {"slug": slug, "tickets": scenario(zone), "doc": doc,
                      "escalations": escalations(zone),
                      "leader": as_user(f"cio.{slug}", slug, "it_leader")}
    made["admin"] = as_user("admin.erin", "provider", "admin")
    return made


def volume(client, slug, **params):
    return client.get(f"/v1/tenants/{slug}/reports/volume", params=params)


@pytest.mark.parametrize("zone,periods", [
    ("America/New_York", [(2026, 2), (2026, 3), (2026, 4)]),
    ("Australia/Sydney", [(2026, 3), (2026, 4)]),
])
def test_volume_matches_the_histories_month_by_month(tenants, zone, periods):
    t = tenants[zone]
    for year, mon in periods:
        start, end = month(zone, year, mon)
        resp = volume(t["leader"], t["slug"], period=f"{year}-{mon:02d}",
                      as_of="2026-11-01T00:00:00Z")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["volume"] == expected_volume(t["tickets"], start, end), (zone, year, mon)
        assert body["definitions"] == "2" and body["timezone"] == zone
        assert body["period"]["complete"] is True
        assert dt.datetime.fromisoformat(body["period"]["start"]) == start
        assert dt.datetime.fromisoformat(body["period"]["end"]) == end


def test_months_are_cut_at_the_tenants_midnight_not_utc(tenants):
    ny, syd = tenants["America/New_York"], tenants["Australia/Sydney"]
    march = volume(ny["leader"], ny["slug"], period="2026-03").json()
    assert march["period"]["start"] == "2026-03-01T00:00:00-05:00"
    assert march["period"]["end"] == "2026-04-01T00:00:00-04:00"
    # 23:59 on 31 March local (03:59Z on 1 April) is March's; 23:30 on
    # 28 February local (04:30Z on 1 March) is February's.
    assert march["volume"]["created"] == 3
    assert march["volume"]["created_by"]["category"] == {
        "access": 1, "infrastructure": 1, "network": 1}       # at creation, not now
    assert march["volume"]["resolved"] == 3                   # a ticket resolved twice counts once
    assert march["volume"]["resolved_by"]["priority"] == {"P1": 2, "P3": 1}
    assert march["volume"]["reopened"] == 1 and march["volume"]["closed"] == 1
    assert march["volume"]["created_by"]["source"] == {
        "internal_it": 1, "machine": 1, "user": 1}
    april = volume(syd["leader"], syd["slug"], period="2026-04").json()
    assert april["period"]["start"] == "2026-04-01T00:00:00+11:00"
    assert april["period"]["end"] == "2026-05-01T00:00:00+10:00"
    assert april["volume"]["created"] == 2 and april["volume"]["reopened"] == 1
    day = volume(syd["leader"], syd["slug"], period="2026-04-05").json()
    assert day["period"]["end"] == "2026-04-06T00:00:00+10:00"   # a 25-hour day
    assert day["volume"]["created"] == 1 and day["volume"]["resolved"] == 1


def test_a_report_as_of_an_instant_ignores_what_came_after(tenants):
    t = tenants["America/New_York"]
    zone = "America/New_York"
    as_of = local(zone, 2026, 3, 11, 0, 0)
    first = volume(t["leader"], t["slug"], period="2026-03", as_of=as_of.isoformat())
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["period"]["complete"] is False
    assert body["as_of"] == "2026-03-11T00:00:00-04:00"
    start, _ = month(zone, 2026, 3)
    assert body["volume"] == expected_volume(t["tickets"], start, as_of)
    assert body["volume"]["resolved"] == 2 and body["volume"]["reopened"] == 0

    # What is recorded later, even about a ticket of that month, does not
    # change it: here the first ticket is reopened now.
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
        set_principal(conn, "test.seed", "provider", "admin")
        tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s",
                           (t["slug"],)).fetchone()[0]
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
                     " VALUES (%s, 1, 'updated',"
                     " '{\"status\": {\"from\": \"resolved\", \"to\": \"in_progress\"}}')",
                     (tid,))
    again = volume(t["leader"], t["slug"], period="2026-03", as_of=as_of.isoformat())
    assert again.content == first.content


def test_who_reads_reports(tenants, as_user):
    t = tenants["America/New_York"]
    slug = t["slug"]
    for sub, org, role in (("tech.t", "provider", "admin"), (f"it.{slug}", slug, "it_staff"),
                           (f"aud.{slug}", slug, "auditor")):
        assert volume(as_user(sub, org, role), slug, period="2026-03").status_code == 200
    for role in ("requester", "integration"):
        resp = volume(as_user(f"{role}.{slug}", slug, role), slug, period="2026-03")
        assert resp.status_code == 403, resp.text
        assert resp.headers["Content-Type"] == "application/problem+json"
    other = tenants["Australia/Sydney"]["leader"]
    resp = volume(other, slug, period="2026-03")
    assert resp.status_code == 404 and resp.json()["title"] == "Not Found"


@pytest.mark.parametrize("params,field,says", [
    ({}, "period", "is required"),
    ({"period": "2026-13"}, "period", "must be a day"),
    ({"period": "March"}, "period", "must be a day"),
    ({"period": "2025-01-01..2026-01-03"}, "period", "at most 366 days"),
    ({"period": "2026-03-15..2026-03-01"}, "period", "must end after it starts"),
    ({"period": "2026-03", "as_of": "yesterday"}, "as_of", "RFC 3339"),
    ({"period": "2026-03", "as_of": "2099-01-01T00:00:00Z"}, "as_of", "future"),
    ({"period": "2099-01"}, "period", "starts after as_of"),
    ({"period": "2026-03", "metric": "created"}, "metric", None),
])
def test_bad_requests_are_400_problems(tenants, params, field, says):
    t = tenants["America/New_York"]
    resp = volume(t["leader"], t["slug"], **params)
    assert resp.status_code == 400, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json"
    errors = resp.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    if says:
        assert says in errors[0]["message"]


def drill(client, slug, **params):
    return drill_report(client, slug, "volume", **params)


def drill_report(client, slug, report, **params):
    """Every page of a report's drill-down, followed by its next_cursor."""
    items, after = [], None
    while True:
        query = dict(params, limit=2, **({"after": after} if after else {}))
        resp = client.get(f"/v1/tenants/{slug}/reports/{report}/tickets", params=query)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        items += page["items"]
        after = page["next_cursor"]
        if after is None:
            return items


@pytest.mark.parametrize("zone,period", [("America/New_York", "2026-03"),
                                         ("Australia/Sydney", "2026-04")])
def test_every_figure_lists_exactly_its_tickets(tenants, zone, period):
    t = tenants[zone]
    as_of = "2026-11-01T00:00:00Z"
    figures = volume(t["leader"], t["slug"], period=period, as_of=as_of).json()["volume"]
    start, end = (dt.datetime.fromisoformat(x) for x in (
        volume(t["leader"], t["slug"], period=period).json()["period"][k]
        for k in ("start", "end")))
    for metric in ("created", "resolved", "closed", "reopened"):
        items = drill(t["leader"], t["slug"], period=period, as_of=as_of, metric=metric)
        assert len(items) == figures[metric], metric
        assert len({i["id"] for i in items}) == len(items)
        assert all(start <= dt.datetime.fromisoformat(i["at"]) < end for i in items)
        assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    for field, counts in figures["created_by"].items():
        for value, n in counts.items():
            items = drill(t["leader"], t["slug"], period=period, as_of=as_of,
                          metric="created", **{field: value})
            assert len(items) == n and all(i[field] == value for i in items), (field, value)
    for value, n in figures["resolved_by"]["priority"].items():
        items = drill(t["leader"], t["slug"], period=period, as_of=as_of,
                      metric="resolved", priority=value)
        assert len(items) == n


@pytest.mark.parametrize("params,field", [
    ({"period": "2026-03"}, "metric"),
    ({"period": "2026-03", "metric": "breached"}, "metric"),
    ({"period": "2026-03", "metric": "created", "after": "42"}, "after"),
    ({"period": "2026-03", "metric": "created", "limit": "0"}, "limit"),
    ({"metric": "created"}, "period"),
])
def test_bad_drill_downs_are_400_problems(tenants, params, field):
    t = tenants["America/New_York"]
    resp = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/volume/tickets", params=params)
    assert resp.status_code == 400, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == [field]


def expected_backlog(tickets, start, end):
    """METRICS.md's Backlog, from the histories, in this test's own code."""
    def open_at(history, t):
        status, created = None, None
        for at, event in history:
            if at >= t:
                break
            if event[0] == "created":
                status, created = "new", at
            elif event[0] == "status":
                status = event[2]
        return created if status in OPEN else None

    def bucket(age):
        days = age / dt.timedelta(days=1)
        return "0-7" if days < 8 else "8-30" if days < 31 else "31-90" if days < 91 \
            else "over_90"

    at_end = [(open_at(h, end), h[0][1][2]) for _, h in tickets]
    at_end = [(created, side) for created, side in at_end if created is not None]
    by_age = {b: 0 for b in ("0-7", "8-30", "31-90", "over_90")}
    by_side = {}
    for created, side in at_end:
        by_age[bucket(end - created)] += 1
        by_side[side] = by_side.get(side, 0) + 1
    return {"open_at_start": sum(open_at(h, start) is not None for _, h in tickets),
            "open_at_end": len(at_end), "at_end_by_age": by_age,
            "at_end_by_side": dict(sorted(by_side.items()))}


def backlog(client, slug, **params):
    return client.get(f"/v1/tenants/{slug}/reports/backlog", params=params)


@pytest.mark.parametrize("zone,periods", [
    ("America/New_York", [(2026, 2), (2026, 3), (2026, 4)]),
    ("Australia/Sydney", [(2026, 3), (2026, 4)]),
])
def test_backlog_matches_the_histories_month_by_month(tenants, zone, periods):
    t = tenants[zone]
    for year, mon in periods:
        start, end = month(zone, year, mon)
        resp = backlog(t["leader"], t["slug"], period=f"{year}-{mon:02d}",
                       as_of="2026-11-01T00:00:00Z")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["report"] == "backlog"
        assert body["backlog"] == expected_backlog(t["tickets"], start, end), (zone, year, mon)
        for metric in ("open_at_start", "open_at_end"):
            items = drill_report(t["leader"], t["slug"], "backlog", period=f"{year}-{mon:02d}",
                                 as_of="2026-11-01T00:00:00Z", metric=metric)
            assert len(items) == body["backlog"][metric]
        for side, n in body["backlog"]["at_end_by_side"].items():
            assert len(drill_report(t["leader"], t["slug"], "backlog",
                                    period=f"{year}-{mon:02d}", as_of="2026-11-01T00:00:00Z",
                                    metric="open_at_end", side=side)) == n


def test_backlog_follows_the_api_as_tickets_open_and_resolve(tenants, as_user):
    t = tenants["America/New_York"]
    admin = tenants["admin"]
    today = dt.datetime.now(ZoneInfo("America/New_York")).strftime("%Y-%m-%d")

    def open_now():
        return backlog(t["leader"], t["slug"], period=today).json()["backlog"]["open_at_end"]

    before = open_now()
    resp = admin.post(f"/v1/tenants/{t['slug']}/tickets",
                      json={"title": "backlog probe", "impact": "low", "urgency": "low"})
    assert resp.status_code == 201, resp.text
    assert open_now() == before + 1
    url = f"/v1/tenants/{t['slug']}/tickets/{resp.json()['id']}"
    resp = admin.patch(url, json={"status": "resolved"}, headers={"If-Match": resp.headers["ETag"]})
    assert resp.status_code == 200, resp.text
    assert open_now() == before


def test_mspctl_report_gives_the_same_bytes_as_the_api(tenants):
    t = tenants["America/New_York"]
    args = ("report", t["slug"], "volume", "2026-03", "--as-of", "2026-11-01T00:00:00+00:00")
    proc = run_mspctl(*args)
    assert proc.returncode == 0, proc.stderr
    api = volume(t["leader"], t["slug"], period="2026-03", as_of="2026-11-01T00:00:00+00:00")
    assert proc.stdout.rstrip("\n").encode() == api.content
    proc = run_mspctl("report", t["slug"], "backlog", "2026-13")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["errors"][0]["field"] == "period"
    proc = run_mspctl("report", t["slug"], "volume")
    assert proc.returncode == 2 and "usage: mspctl report" in proc.stderr


def test_a_ticket_recategorised_through_the_api_counts_under_its_first_category(tenants):
    t = tenants["America/New_York"]
    admin = tenants["admin"]
    today = dt.datetime.now(ZoneInfo("America/New_York")).strftime("%Y-%m-%d")

    def created_by_category():
        body = volume(t["leader"], t["slug"], period=today).json()
        return body["volume"]["created_by"]["category"]

    before = created_by_category()
    resp = admin.post(f"/v1/tenants/{t['slug']}/tickets",
                      json={"title": "recategorised", "impact": "low", "urgency": "low",
                            "category": "hardware"})
    assert resp.status_code == 201, resp.text
    url = f"/v1/tenants/{t['slug']}/tickets/{resp.json()['id']}"
    resp = admin.patch(url, json={"category": "network"}, headers={"If-Match": resp.headers["ETag"]})
    assert resp.status_code == 200, resp.text
    after = created_by_category()
    assert after.get("hardware", 0) == before.get("hardware", 0) + 1
    assert after.get("network", 0) == before.get("network", 0)


# ---- SLA attainment and times ---------------------------------------------

def oracle_events(history, slug):
    """A scenario history as the clocks read it: (at, kind, data, role)."""
    out = []
    for at, event in history:
        t = int(at.timestamp())
        if event[0] == "created":
            out.append((t, "created", {"priority": event[1], "status": "new", "side": event[2]},
                        event[3]))
        elif event[0] == "comment":
            out.append((t, "comment", {"visibility": "public"}, event[1]))
        else:
            out.append((t, "updated", {event[0]: {"from": event[1], "to": event[2]}},
                        "technician"))
    return out


def nearest_rank(values, fraction):
    values = sorted(values)
    return values[math.ceil(fraction * len(values)) - 1] if values else None


def ratio(part, whole):
    if whole == 0:
        return None
    return float((decimal.Decimal(part) / decimal.Decimal(whole)).quantize(
        decimal.Decimal("0.0001"), rounding=decimal.ROUND_HALF_UP))


def sla_rows(t, start, end):
    """Each clock the SLA report of [start, end) counts, from the oracle
    replaying each history up to the period's end: (number, clock,
    priority, outcome or None, decided at, late, stopped at, business,
    calendar)."""
    doc = t["doc"]
    cal = Calendar(doc)
    targets = {p: {"response": v["first_response_minutes"] * 60,
                   "resolution": v["resolution_minutes"] * 60}
               for p, v in doc["sla_policy"]["priorities"].items()}
    pauses = set(doc["sla_policy"]["pause_statuses"])
    lo, hi = int(start.timestamp()), int(end.timestamp())
    rows = []
    for number, (_, history) in enumerate(t["tickets"], start=1):
        events = [e for e in oracle_events(history, t["slug"]) if e[0] < hi]
        if not events:
            continue
        o = Oracle(events, hi, targets, pauses, cal)
        created = events[0][0]
        for c in CLOCKS:
            target, elapsed, due = o.target(c), o.elapsed[c], o.due(c)
            stopped = o.stopped[c]
            if stopped is not None and elapsed < target:
                outcome, at, late = "met", stopped, None
            elif due is not None and due < hi:
                outcome, at, late = "breached", due, elapsed - target
            elif stopped is None:
                outcome, at, late = "running", None, None
            else:
                outcome = at = late = None
            counted = outcome == "running" or (at is not None and at >= lo)
            timed = stopped is not None and stopped >= lo
            if counted or timed:
                rows.append({"number": number, "clock": c, "priority": o.priority,
                             "outcome": outcome if counted else None, "at": at, "late": late,
                             "stopped": stopped if timed else None,
                             "business": elapsed if timed else None,
                             "calendar": stopped - created if timed else None})
    return rows


def expected_sla(rows):
    """METRICS.md's SLA attainment and Times, from the oracle's rows."""
    def attainment(rs):
        n = {k: sum(r["outcome"] == k for r in rs) for k in ("met", "breached", "running")}
        return {"met": n["met"], "breached": n["breached"], "running_at_end": n["running"],
                "attainment": ratio(n["met"], n["met"] + n["breached"])}

    def times(rs):
        def spread(key):
            values = [r[key] for r in rs]
            return {"median": nearest_rank(values, 0.5), "p90": nearest_rank(values, 0.9)}
        return {"count": len(rs), "business_seconds": spread("business"),
                "calendar_seconds": spread("calendar")}

    out = {"attainment": {}, "times": {}}
    for c in ("resolution", "response"):
        counted = [r for r in rows if r["clock"] == c and r["outcome"]]
        timed = [r for r in rows if r["clock"] == c and r["stopped"] is not None]
        out["attainment"][c] = dict(attainment(counted), by_priority={
            p: attainment([r for r in counted if r["priority"] == p])
            for p in sorted({r["priority"] for r in counted})})
        out["times"][c] = dict(times(timed), by_priority={
            p: times([r for r in timed if r["priority"] == p])
            for p in sorted({r["priority"] for r in timed})})
    return out


def sla_report(client, slug, **params):
    return client.get(f"/v1/tenants/{slug}/reports/sla", params=params)


@pytest.mark.parametrize("zone,periods", [
    ("America/New_York", [(2026, 2), (2026, 3), (2026, 4)]),
    ("Australia/Sydney", [(2026, 3), (2026, 4)]),
])
def test_sla_attainment_and_times_match_the_oracle(tenants, zone, periods):
    t = tenants[zone]
    for year, mon in periods:
        start, end = month(zone, year, mon)
        period = f"{year}-{mon:02d}"
        resp = sla_report(t["leader"], t["slug"], period=period)
        assert resp.status_code == 200, resp.text
        body = resp.json()["sla"]
        rows = sla_rows(t, start, end)
        measured = body.pop("measured_under")
        assert body == expected_sla(rows), (zone, period)
        assert sum(m["clocks"] for m in measured) == len(rows)

        # every figure lists exactly its clocks, breaches with how late
        for c in CLOCKS:
            for what, outcome in (("met", "met"), ("breached", "breached"),
                                  ("running_at_end", "running")):
                items = drill_report(t["leader"], t["slug"], "sla", period=period,
                                     metric=f"{c}_{what}")
                want = [r for r in rows if r["clock"] == c and r["outcome"] == outcome]
                assert len(items) == body["attainment"][c][
                    "running_at_end" if what == "running_at_end" else what]
                assert sorted(int(i["id"].split("-")[1]) for i in items) == \
                    sorted(r["number"] for r in want)
                if what == "breached":
                    late = {int(i["id"].split("-")[1]): i["late_business_seconds"]
                            for i in items}
                    assert late == {r["number"]: r["late"] for r in want}
            items = drill_report(t["leader"], t["slug"], "sla", period=period,
                                 metric=f"{c}_stopped")
            assert len(items) == body["times"][c]["count"]
            assert sorted(i["business_seconds"] for i in items) == sorted(
                r["business"] for r in rows if r["clock"] == c and r["stopped"] is not None)


def test_sla_report_has_breaches_and_business_time_to_show(tenants):
    """The scenario is not vacuous: March in New York has met and breached
    clocks, and times that differ in business and calendar seconds."""
    t = tenants["America/New_York"]
    body = sla_report(t["leader"], t["slug"], period="2026-03").json()["sla"]
    res = body["attainment"]["resolution"]
    assert res["met"] + res["breached"] >= 2 and res["breached"] >= 1
    assert body["times"]["resolution"]["count"] >= 2
    spread = body["times"]["resolution"]
    assert spread["business_seconds"]["median"] < spread["calendar_seconds"]["median"]
    assert body["measured_under"][0]["document"]


def test_a_policy_changed_later_does_not_rewrite_a_past_period(tenants, tmp_path):
    """Tighter targets applied now reach tickets still open, from now on:
    a past month's report is unchanged."""
    t = tenants["America/New_York"]
    before = sla_report(t["leader"], t["slug"], period="2026-03")
    assert before.status_code == 200
    doc = json.loads(json.dumps(t["doc"]))
    for p in doc["sla_policy"]["priorities"].values():
        p["first_response_minutes"] = 1
        p["resolution_minutes"] = 2
    run_mspctl("tenant", "apply", write_tenant(tmp_path, doc), check=True)
    try:
        # as of now, after the change (as_of itself moves on with the clock)
        after = sla_report(t["leader"], t["slug"], period="2026-03")
        assert after.json()["sla"] == before.json()["sla"]
    finally:
        run_mspctl("tenant", "apply", write_tenant(tmp_path, t["doc"]), check=True)


def test_sla_report_as_of_an_instant_keeps_its_bytes_as_tickets_move(tenants):
    """Through the API: each write records the clocks it stored; a report
    as of an instant reads the ones valid then."""
    t = tenants["America/New_York"]
    admin = tenants["admin"]
    today = dt.datetime.now(ZoneInfo("America/New_York")).strftime("%Y-%m-%d")
    resp = admin.post(f"/v1/tenants/{t['slug']}/tickets",
                      json={"title": "sla as of", "impact": "low", "urgency": "low"})
    assert resp.status_code == 201, resp.text
    time.sleep(1.1)
    as_of = dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    first = sla_report(t["leader"], t["slug"], period=today, as_of=as_of)
    assert first.status_code == 200, first.text
    running = first.json()["sla"]["attainment"]["resolution"]["running_at_end"]
    assert running >= 1
    url = f"/v1/tenants/{t['slug']}/tickets/{resp.json()['id']}"
    resp = admin.patch(url, json={"status": "resolved"}, headers={"If-Match": resp.headers["ETag"]})
    assert resp.status_code == 200, resp.text
    assert sla_report(t["leader"], t["slug"], period=today, as_of=as_of).content == first.content
    now = sla_report(t["leader"], t["slug"], period=today).json()["sla"]
    assert now["attainment"]["resolution"]["running_at_end"] == running - 1
    assert now["times"]["resolution"]["count"] >= 1


# ---- quality --------------------------------------------------------------

def expected_quality(tickets, start, end, before, as_of, window_days=30, reopen_days=7):
    """METRICS.md's Quality, from the histories, in this test's own code:
    {metric: {number: (at, category, earlier)}} and the figures."""
    staff = lambda role: role not in ("requester", "integration")     # noqa: E731

    def created_category(category_now, history):
        return next((e[1] for _, e in history if e[0] == "category"), category_now)

    def recurring(lo, hi):
        out = {}
        for number, (category_now, history) in enumerate(tickets, start=1):
            at, event = history[0]
            if not lo <= at < hi:
                continue
            category = created_category(category_now, history)
            earlier = [(h[0][0], n) for n, (c, h) in enumerate(tickets, start=1)
                       if at - dt.timedelta(days=window_days) <= h[0][0] < at
                       and created_category(c, h) == category
                       and requester_of(h[0][1][3]) == requester_of(event[3])]
            if earlier:
                out[number] = (at, category, max(earlier)[1])
        return out

    rows = {m: {} for m in ("resolved", "first_contact", "reopened", "created",
                            "proactive", "reactive")}
    for number, (category_now, history) in enumerate(tickets, start=1):
        at, event = history[0]
        if start <= at < end:
            kind = "proactive" if (source_of(event[3], event[4] or "tenant") != "user"
                                   and creator_of(event[3]) == requester_of(event[3])) \
                else "reactive"
            category = created_category(category_now, history)
            rows["created"][number] = rows[kind][number] = (at, category, None)
        resolved_at = None
        for when, e in history:
            if e[0] == "status" and start <= when < end and (
                    e[2] == "resolved" or (e[2] == "closed" and e[1] in OPEN)):
                resolved_at = when
        if resolved_at is None:
            continue
        rows["resolved"][number] = (resolved_at, None, None)
        reopen = lambda e: e[0] == "status" and e[1] in ("resolved", "closed") \
            and e[2] in OPEN                                            # noqa: E731
        window_end = min(as_of, resolved_at + dt.timedelta(days=reopen_days))
        reopened = any(reopen(e) and resolved_at <= when < window_end for when, e in history)
        if reopened:
            rows["reopened"][number] = (resolved_at, None, None)
        moved = any(when < resolved_at and (e[0] in ("side", "tier") or reopen(e))
                    for when, e in history[1:])
        replies = sum(e[0] == "comment" and staff(e[1]) and when <= resolved_at
                      for when, e in history)
        if not moved and not reopened and replies <= 1:
            rows["first_contact"][number] = (resolved_at, None, None)
    rows["recurring"] = recurring(start, end)
    previous = recurring(before, start)

    def count_by(rs):
        out = {}
        for _, category, _ in rs.values():
            out[category] = out.get(category, 0) + 1
        return out

    now_by, before_by = count_by(rows["recurring"]), count_by(previous)
    n = {m: len(r) for m, r in rows.items()}
    figures = {
        "resolved": n["resolved"], "first_contact_resolution": n["first_contact"],
        "first_contact_resolution_rate": ratio(n["first_contact"], n["resolved"]),
        "reopened_after_resolution": n["reopened"],
        "reopen_rate": ratio(n["reopened"], n["resolved"]),
        "reopen_days": reopen_days,
        "created": n["created"], "recurring": n["recurring"],
        "recurrence_rate": ratio(n["recurring"], n["created"]),
        "recurrence_days": window_days,
        "proactive": n["proactive"], "reactive": n["reactive"],
        "proactive_share": ratio(n["proactive"], n["created"]),
        "automation_candidates": [
            {"category": c, "recurring": k, "previous_period": before_by.get(c, 0),
             "change": k - before_by.get(c, 0)}
            for c, k in sorted(now_by.items(), key=lambda x: (-x[1], x[0]))[:10]],
    }
    return rows, figures


@pytest.mark.parametrize("zone,periods", [
    ("America/New_York", [(2026, 3), (2026, 4)]),
    ("Australia/Sydney", [(2026, 3), (2026, 4)]),
])
def test_quality_matches_the_histories(tenants, zone, periods):
    t = tenants[zone]
    as_of = "2026-11-01T00:00:00Z"
    for year, mon in periods:
        start, end = month(zone, year, mon)
        before, _ = month(zone, year - (mon == 1), (mon - 2) % 12 + 1)
        rows, figures = expected_quality(t["tickets"], start, end, before,
                                         dt.datetime.fromisoformat(as_of),
                                         reopen_days=t["doc"]["reporting"]["reopen_days"])
        period = f"{year}-{mon:02d}"
        resp = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/quality",
                               params={"period": period, "as_of": as_of})
        assert resp.status_code == 200, resp.text
        assert resp.json()["quality"] == figures, (zone, period)
        for metric, want in rows.items():
            items = drill_report(t["leader"], t["slug"], "quality", period=period,
                                 as_of=as_of, metric=metric)
            assert {int(i["id"].split("-")[1]) for i in items} == set(want), (metric, period)
            if metric == "recurring":
                assert {int(i["id"].split("-")[1]): int(i["earlier"].split("-")[1])
                        for i in items} == {k: v[2] for k, v in want.items()}


def test_quality_is_not_vacuous(tenants):
    """New York's March has one-touch and multi-touch resolutions, a
    recurring ticket and a machine-raised one; Sydney's April a ticket
    reopened 26 days after its resolution, within Sydney's 30-day reopen
    window."""
    def quality(zone, period):
        t = tenants[zone]
        return t["leader"].get(f"/v1/tenants/{t['slug']}/reports/quality",
                               params={"period": period, "as_of": "2026-11-01T00:00:00Z"}
                               ).json()["quality"]

    q = quality("America/New_York", "2026-03")
    assert 0 < q["first_contact_resolution"] < q["resolved"]
    assert q["recurring"] >= 1 and q["automation_candidates"]
    assert q["proactive"] == 1
    assert quality("Australia/Sydney", "2026-04")["reopened_after_resolution"] == 1


# ---- co-management --------------------------------------------------------

def sla_setup(doc):
    targets = {p: {"response": v["first_response_minutes"] * 60,
                   "resolution": v["resolution_minutes"] * 60}
               for p, v in doc["sla_policy"]["priorities"].items()}
    return targets, set(doc["sla_policy"]["pause_statuses"]), Calendar(doc)


def expected_comanagement(t, start, end):
    """METRICS.md's Co-management, in this test's own code: held time from
    the oracle's replay of each history up to the period's end, and the
    escalations from the list the scenario wrote.  Returns the rows each
    drill-down should list and the figures."""
    targets, pauses, cal = sla_setup(t["doc"])
    lo, hi = int(start.timestamp()), int(end.timestamp())
    rows = {"held": {}, "handoffs": {}, "escalations": {}, "acknowledgement_timeouts": {}}
    sides = {s: 0 for s in ("provider", "internal_it", "vendor", "customer")}
    tiers = {s: 0 for s in ("none", "L1", "L2", "L3")}
    for number, (_, history) in enumerate(t["tickets"], start=1):
        events = [e for e in oracle_events(history, t["slug"]) if e[0] < hi]
        if not events:
            continue
        o = Oracle(events, hi, targets, pauses, cal)
        if o.stopped["resolution"] is not None and lo <= o.stopped["resolution"] < hi:
            rows["held"][number] = (dict(o.held), dict(o.held_tier))
            for k, v in o.held.items():
                sides[k] += v
            for k, v in o.held_tier.items():
                tiers[k] += v
    total = sum(sides.values())

    def held(v):
        return {"business_seconds": v, "share": ratio(v, total)}

    def outcome(e):
        return e["status"] if e.get("decided") and e["decided"] < end else "open"

    def moves(es):
        waits = [int((e["decided"] - e["raised"]).total_seconds()) for e in es
                 if outcome(e) == "accepted"]
        out = {k: sum(outcome(e) == k for e in es)
               for k in ("accepted", "rejected", "withdrawn")}
        return {"raised": len(es), **out, "open_at_end": sum(outcome(e) == "open" for e in es),
                "time_to_acceptance": {"count": len(waits), "calendar_seconds": {
                    "median": nearest_rank(waits, 0.5), "p90": nearest_rank(waits, 0.9)}}}

    def holder(e):
        return e["side"] + (f":{e['tier']}" if e["tier"] else "")

    raised = [e for e in t["escalations"] if start <= e["raised"] < end]
    handoffs = [e for e in raised if e["kind"] in ("functional", "handoff")]
    timeouts = [e for e in t["escalations"] if e.get("timed_out") and
                start <= e["timed_out"] < end]
    routes = sorted({(holder(e), e["target"]) for e in handoffs})

    def origins(es):
        auto = sum(bool(e.get("auto")) for e in es)
        return {"raised": len(es), "automatic": auto, "by_people": len(es) - auto}

    for e in raised:
        rows["escalations"][(e["raised"], e["ticket"])] = e
    for e in handoffs:
        rows["handoffs"][(e["raised"], e["ticket"])] = e
    for e in timeouts:
        rows["acknowledgement_timeouts"][(e["timed_out"], e["ticket"])] = e
    figures = {
        "held": {"tickets": len(rows["held"]), "business_seconds": total, "sides": {
            "provider": dict(held(sides["provider"]),
                             tiers={k: held(v) for k, v in tiers.items()}),
            **{k: held(sides[k]) for k in ("internal_it", "vendor", "customer")}}},
        "handoffs": dict(moves(handoffs), routes=[
            dict(moves([e for e in handoffs if (holder(e), e["target"]) == r]),
                 **{"from": r[0], "to": r[1]}) for r in routes]),
        "escalations": dict(origins(raised), by_kind={
            k: origins([e for e in raised if e["kind"] == k])
            for k in sorted({e["kind"] for e in raised})}),
        "acknowledgement_timeouts": {"count": len(timeouts), "by_kind": {
            k: sum(e["kind"] == k for e in timeouts) for k in sorted({e["kind"] for e in timeouts})}},
    }
    return rows, figures


@pytest.mark.parametrize("zone,periods", [
    ("America/New_York", [(2026, 3), (2026, 4)]),
    ("Australia/Sydney", [(2026, 4)]),
])
def test_comanagement_matches_the_histories_and_escalations(tenants, zone, periods):
    t = tenants[zone]
    for year, mon in periods:
        start, end = month(zone, year, mon)
        period = f"{year}-{mon:02d}"
        resp = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/comanagement",
                               params={"period": period})
        assert resp.status_code == 200, resp.text
        rows, figures = expected_comanagement(t, start, end)
        assert resp.json()["comanagement"] == figures, (zone, period)

        # every figure lists exactly its tickets and escalations
        items = drill_report(t["leader"], t["slug"], "comanagement", period=period,
                             metric="held")
        assert {int(i["id"].split("-")[1]): (i["held_seconds"], i["provider_tier_seconds"])
                for i in items} == rows["held"]
        for metric in ("handoffs", "escalations", "acknowledgement_timeouts"):
            items = drill_report(t["leader"], t["slug"], "comanagement", period=period,
                                 metric=metric)
            assert len(items) == len(rows[metric]), (period, metric)
            assert [(dt.datetime.fromisoformat(i["at"].replace("Z", "+00:00")),
                     int(i["id"].split("-")[1])) for i in items] == sorted(rows[metric])
        for outcome in ("accepted", "rejected", "withdrawn", "open_at_end"):
            items = drill_report(t["leader"], t["slug"], "comanagement", period=period,
                                 metric=f"handoffs_{outcome}")
            assert len(items) == figures["handoffs"][outcome], (period, outcome)
        for route in figures["handoffs"]["routes"]:
            items = drill_report(t["leader"], t["slug"], "comanagement", period=period,
                                 metric="handoffs", **{"from": route["from"], "to": route["to"]})
            assert len(items) == route["raised"]
        for kind, n in figures["escalations"]["by_kind"].items():
            items = drill_report(t["leader"], t["slug"], "comanagement", period=period,
                                 metric="escalations", kind=kind, origin="automatic")
            assert len(items) == n["automatic"]


def test_comanagement_is_not_vacuous(tenants):
    """March in New York has the cases the report is for: work held by the
    provider at two tiers and by internal IT, accepted and withdrawn
    handoffs, a handoff open at the end, automatic escalations and a
    timeout."""
    t = tenants["America/New_York"]
    body = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/comanagement",
                           params={"period": "2026-03"}).json()["comanagement"]
    held = body["held"]["sides"]
    assert held["provider"]["tiers"]["L1"]["business_seconds"] > 0
    assert held["provider"]["tiers"]["L2"]["business_seconds"] > 0
    assert held["internal_it"]["business_seconds"] > 0
    h = body["handoffs"]
    assert (h["accepted"], h["withdrawn"], h["open_at_end"]) == (2, 1, 1)
    assert h["time_to_acceptance"]["calendar_seconds"]["median"] == 300
    assert body["escalations"]["automatic"] == 2
    assert body["acknowledgement_timeouts"]["count"] == 1


def test_held_time_measured_before_tiers_were_kept_shows_as_unknown(tmp_path, as_user):
    """A measurement stored before the clocks kept the provider's time by
    tier has no split: the report puts that time under "unknown" rather
    than under a tier, and the tiers still add up to the provider's."""
    slug = f"reptier-{uuid.uuid4().hex[:6]}"
    doc = tenant_doc(slug, "acme", timezone="America/New_York")
    run_mspctl("tenant", "apply", write_tenant(tmp_path, doc), check=True)
    zone = "America/New_York"
    tickets = [("network", [(local(zone, 2026, 3, 2, 9, 0),
                             ("created", "P3", "provider", "requester", None)),
                            (local(zone, 2026, 3, 2, 10, 0), ("tier", None, "L1")),
                            (local(zone, 2026, 3, 3, 10, 0), ("status", "new", "resolved"))])]
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
        set_principal(conn, "test.seed", "provider", "admin")
        tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s", (slug,)).fetchone()[0]
        load(conn, tid, slug, tickets)
    run_mspctl("sla", "recompute", slug, check=True)
    leader = as_user(f"cio.{slug}", slug, "it_leader")

    def provider():
        resp = leader.get(f"/v1/tenants/{slug}/reports/comanagement", params={"period": "2026-03"})
        assert resp.status_code == 200, resp.text
        return resp.json()["comanagement"]["held"]["sides"]["provider"]

    before = provider()
    assert before["tiers"]["L1"]["business_seconds"] > 0 and "unknown" not in before["tiers"]
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
        set_principal(conn, "test.seed", "provider", "admin")
        conn.execute("UPDATE ticket_sla_facts SET sla = sla - 'held_provider_tier'"
                     " WHERE tenant_id = %s", (tid,))
    after = provider()
    assert after["business_seconds"] == before["business_seconds"]
    assert after["tiers"]["unknown"]["business_seconds"] == before["business_seconds"]
    assert after["tiers"]["L1"]["business_seconds"] == 0
    assert sum(t["business_seconds"] for t in after["tiers"].values()) == after["business_seconds"]


# ---- trend ----------------------------------------------------------------

def months_back(year, mon, n):
    """The n months that end with (year, mon), oldest first."""
    out = []
    for _ in range(n):
        out.append((year, mon))
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return out[::-1]


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Sydney"])
def test_trend_is_twelve_months_each_as_its_own_report(tenants, zone):
    t = tenants[zone]
    as_of = "2026-11-01T00:00:00Z"
    resp = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/trend",
                           params={"period": "2026-04", "as_of": as_of})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["report"] == "trend" and body["period"]["name"] == "2026-04"
    first, last = month(zone, 2025, 5), month(zone, 2026, 4)
    assert dt.datetime.fromisoformat(body["period"]["start"]) == first[0]
    assert dt.datetime.fromisoformat(body["period"]["end"]) == last[1]
    run = body["trend"]
    assert [r["period"] for r in run] == [f"{y}-{m:02d}" for y, m in months_back(2026, 4, 12)]
    cutoff = dt.datetime(2026, 11, 1, tzinfo=UTC)
    for row, (year, mon) in zip(run, months_back(2026, 4, 12)):
        start, end = month(zone, year, mon)
        before = month(zone, *months_back(year, mon, 2)[0])[0]
        assert dt.datetime.fromisoformat(row["start"]) == start and row["complete"] is True
        v = expected_volume(t["tickets"], start, end)
        b = expected_backlog(t["tickets"], start, end)
        sla = expected_sla(sla_rows(t, start, end))
        _, q = expected_quality(t["tickets"], start, end, before, cutoff,
                                reopen_days=t["doc"]["reporting"]["reopen_days"])
        res = sla["times"]["resolution"]["business_seconds"]
        assert row == {
            "period": f"{year}-{mon:02d}", "start": row["start"], "end": row["end"],
            "complete": True, "created": v["created"], "resolved": v["resolved"],
            "net_change": v["net_change"], "open_at_end": b["open_at_end"],
            "response_attainment": sla["attainment"]["response"]["attainment"],
            "resolution_attainment": sla["attainment"]["resolution"]["attainment"],
            "resolution_median_business_seconds": res["median"],
            "resolution_p90_business_seconds": res["p90"],
            "first_contact_resolution_rate": q["first_contact_resolution_rate"],
            "reopen_rate": q["reopen_rate"], "recurrence_rate": q["recurrence_rate"],
        }, (zone, year, mon)
    assert any(r["created"] for r in run)
    assert any(r["resolution_attainment"] is not None for r in run)


def test_trend_as_csv_is_a_row_per_period_and_has_no_drill_down(tenants):
    t = tenants["America/New_York"]
    resp = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/trend",
                           params={"period": "2026-Q1", "format": "csv",
                                   "as_of": "2026-11-01T00:00:00Z"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    quarters = [f"{y}-Q{q}" for y in range(2023, 2027) for q in range(1, 5)]
    assert [r["period"] for r in rows] == quarters[1:13]
    resp = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/trend/tickets",
                           params={"period": "2026-Q1", "metric": "created"})
    assert resp.status_code == 404
    resp = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/trend",
                           params={"period": "2026-13"})
    assert resp.status_code == 400 and "period" in resp.text


# ---- portfolio ------------------------------------------------------------

def portfolio(client, **params):
    return client.get("/v1/reports/portfolio", params=params)


def test_portfolio_row_is_each_tenants_own_period_and_headline(tenants):
    as_of = "2026-11-01T00:00:00Z"
    resp = portfolio(tenants["admin"], period="2026-03", as_of=as_of)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["report"], body["definitions"], body["period"], body["sort"]) == \
        ("portfolio", "2", "2026-03", "tenant")
    rows = {r["tenant"]: r for r in body["items"]}
    assert [r["tenant"] for r in body["items"]] == sorted(rows)
    for zone in ("America/New_York", "Australia/Sydney"):
        t = tenants[zone]
        row = rows[t["slug"]]
        start, end = month(zone, 2026, 3)
        assert (dt.datetime.fromisoformat(row["start"]), dt.datetime.fromisoformat(row["end"])) \
            == (start, end)
        trend = t["leader"].get(f"/v1/tenants/{t['slug']}/reports/trend",
                                params={"period": "2026-03", "as_of": as_of}).json()["trend"]
        assert row == {"tenant": t["slug"], "name": t["doc"]["name"], "timezone": zone,
                       **trend[-1]}
    assert rows[tenants["America/New_York"]["slug"]]["created"] > 0


@pytest.mark.parametrize("sort", ["-created", "resolution_attainment", "-reopen_rate", "name"])
def test_portfolio_sorts_as_asked_with_missing_values_last(tenants, sort):
    resp = portfolio(tenants["admin"], period="2026-03", sort=sort,
                     as_of="2026-11-01T00:00:00Z")
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    key, descending = sort.lstrip("-"), sort.startswith("-")
    values = [r[key] for r in items if r[key] is not None]
    assert values == sorted(values, reverse=descending) and values
    if key in ("created", "name"):          # New York's and Sydney's differ
        assert len(set(values)) > 1
    assert all(r[key] is None for r in items[len(values):])
    for a, b in zip(items, items[1:]):
        if a[key] == b[key]:
            assert a["tenant"] < b["tenant"]          # ties by slug, either way


def test_portfolio_is_for_leads_and_account_managers_of_the_tenants_they_see(tenants, as_user):
    ny, syd = tenants["America/New_York"], tenants["Australia/Sydney"]
    am = f"am.{ny['slug']}"
    run_mspctl("assign", am, ny["slug"], "account_manager", check=True)
    resp = portfolio(as_user(am, "provider", "account_manager"), period="2026-03")
    assert resp.status_code == 200, resp.text
    assert [r["tenant"] for r in resp.json()["items"]] == [ny["slug"]]
    assert syd["slug"] not in resp.text
    for who in (as_user("tech.tom", "provider", "technician"), ny["leader"],
                as_user(f"req.{ny['slug']}", ny["slug"], "requester")):
        resp = portfolio(who, period="2026-03")
        assert resp.status_code == 403, resp.text
        assert resp.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("params,field", [
    ({}, "period"), ({"period": "2026-13"}, "period"), ({"period": "2026-03", "sort": "cost"},
                                                          "sort"),
    ({"period": "2026-03", "as_of": "2999-01-01T00:00:00Z"}, "as_of"),
    ({"period": "2099-01"}, "period"),
    ({"period": "2026-03", "format": "xlsx"}, "format"), ({"period": "2026-03", "x": "1"}, "x"),
])
def test_bad_portfolio_requests_are_400_problems(tenants, params, field):
    resp = portfolio(tenants["admin"], **params)
    assert resp.status_code == 400, resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert field in [e["field"] for e in resp.json()["errors"]]


def test_portfolio_as_csv_is_a_row_per_tenant(tenants):
    resp = portfolio(tenants["admin"], period="2026-03", format="csv",
                     as_of="2026-11-01T00:00:00Z")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    listed = portfolio(tenants["admin"], period="2026-03", as_of="2026-11-01T00:00:00Z")
    assert [r["tenant"] for r in rows] == [r["tenant"] for r in listed.json()["items"]]
    assert rows[0].keys() >= {"tenant", "name", "created", "resolution_attainment"}


# ---- CSV ------------------------------------------------------------------

def test_reports_and_drill_downs_come_as_csv(tenants):
    """format=csv or Accept: text/csv: one RFC 4180 table with a header
    row, holding every number of the JSON."""
    t = tenants["America/New_York"]
    params = {"period": "2026-03", "as_of": "2026-11-01T00:00:00Z"}
    url = f"/v1/tenants/{t['slug']}/reports/sla"
    doc = t["leader"].get(url, params=params).json()
    by_param = t["leader"].get(url, params=dict(params, format="csv"))
    by_accept = t["leader"].get(url, params=params, headers={"Accept": "text/csv"})
    assert by_param.status_code == 200, by_param.text
    assert by_param.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert by_param.content == by_accept.content
    assert b"\r\n" in by_param.content and b"\n" not in by_param.content.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(by_param.text, newline="")))
    assert rows[0] == ["figure", "value"]
    figures = dict(rows[1:])

    def flat(prefix, v):
        if isinstance(v, dict) and v:
            for k, x in v.items():
                yield from flat(f"{prefix}.{k}" if prefix else k, x)
        elif isinstance(v, list) and v:
            for i, x in enumerate(v):
                yield from flat(f"{prefix}.{i}", x)
        else:
            yield prefix, "" if v is None else v if isinstance(v, str) else json.dumps(v)
    assert figures == dict(flat("", doc))

    drill = t["leader"].get(f"{url}/tickets", params=dict(params, metric="resolution_met",
                                                          format="csv", limit=200))
    assert drill.status_code == 200
    table = list(csv.DictReader(io.StringIO(drill.text, newline="")))
    items = drill_report(t["leader"], t["slug"], "sla", metric="resolution_met", **params)
    assert [r["id"] for r in table] == [i["id"] for i in items]
    assert all(r["business_seconds"] == str(i["business_seconds"]) for r, i in zip(table, items))

    bad = t["leader"].get(url, params=dict(params, format="xlsx"))
    assert bad.status_code == 400
    assert bad.headers["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "format"


def test_report_facts_kept_on_write_are_those_the_history_gives(tenants):
    """The facts the trigger kept as each event was written (by the API and
    by the scenario's histories, in the tests above) are those
    app.fill_report_facts derives from the whole history at once, as the
    migration and the benchmark's seed fill them."""
    def facts(conn, tid):
        return [conn.execute(
            f"SELECT * FROM {table} WHERE tenant_id = %s ORDER BY 1, 2, 3",
            (tid,)).fetchall()
            for table in ("ticket_status_changes", "ticket_report_facts")]
    for zone in ("America/New_York", "Australia/Sydney"):
        with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
            set_principal(conn, "test.seed", "provider", "admin")
            tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s",
                               (tenants[zone]["slug"],)).fetchone()[0]
            # the stack's sweep writes escalations as it finds breaches: hold
            # the tickets still while their facts are read twice
            conn.execute("SELECT FROM tickets WHERE tenant_id = %s FOR UPDATE", (tid,))
            # replies by staff written out of order, as an imported history
            # could be: the trigger keeps the two earliest, as the fill does
            for day in (20, 9, 14):
                conn.execute(
                    "INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at,"
                    " actor_role, kind, data) VALUES (%s, 1, %s, 'technician', 'comment',"
                    " '{\"visibility\": \"public\"}')", (tid, dt.datetime(2026, 5, day,
                                                                 tzinfo=dt.timezone.utc)))
            kept = facts(conn, tid)
            conn.execute("SELECT app.fill_report_facts(%s)", (tid,))
            filled = facts(conn, tid)
            assert filled == kept, (zone, [set(a) ^ set(b) for a, b in zip(filled, kept)])
            changes, per_ticket = kept
            assert len(changes) >= 3 and len(per_ticket) >= 3
            assert any(row[8] for row in per_ticket)          # a ticket moved
            first = next(row for row in per_ticket if row[1] == 1)
            assert first[9] < first[10]                       # its first two replies
            raise psycopg.Rollback()
