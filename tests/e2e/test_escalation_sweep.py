"""Escalations the sweep raises by itself (README.md, "Escalations and
co-management"): a functional escalation or handoff nobody accepted in
time, and the policy's automatic steps on the resolution clock
(notify_lead_at_percent, escalate_tier_at_percent, hierarchical_on_breach).

The stack's nginx (deploy/test.sh: one worker, a sweep every second) and a
second nginx started here (deploy/stack.sh nginx-up: two workers, a sweep
every second) sweep the same database, as two hosts would: each automatic
escalation must happen exactly once.  The tenants are 24x7 in UTC with
one-minute targets, so the tests wait about a minute: every ticket is made
first (module fixtures, asked for by the first test), then the tests poll
with a deadline.
"""
import datetime as dt
import os
import signal
import time

import pytest
import requests

from test_escalations import Tenant, _owner, ok, parse_time, q, show
from test_sla_sweep import CRASH, SecondNginx


def wait_for(predicate, what, deadline):
    """Polls until predicate() is truthy; deadline is a time.monotonic()."""
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.fixture(scope="module", autouse=True)
def close_owner_connection():
    yield
    while _owner:
        _owner.pop().close()


@pytest.fixture(scope="module")
def host2():
    host = SecondNginx(workers=2, sweep_interval="1s")
    try:
        host.start()
        resp = requests.get(f"{host.url}/v1/health", timeout=10)
        assert resp.status_code == 200, resp.text
        yield host
        host.close()
        crashes = CRASH.findall(host.log_path.read_text())
        assert not crashes, "\n".join(crashes)
    finally:
        if (host.state / "nginx" / "nginx.pid").exists():
            try:
                os.kill(host.master_pid(), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        host.remove()


def escalations_of(t, ticket):
    return ok(t.admin.get(t.esc_url(ticket), params={"limit": 200}))["items"]


def escalated_events(t, ticket):
    return [e for e in t.events(ticket, by=t.admin) if e["kind"] == "escalated"]


def automatic_audit_count(t):
    return q("SELECT count(*) FROM audit_log WHERE tenant_id = %s"
             " AND action = 'escalation.automatic'", (t.id,))[0][0]


def escalation_count(t):
    return q("SELECT count(*) FROM escalations WHERE tenant_id = %s", (t.id,))[0][0]


# ---- an acknowledgement that does not come -----------------------------------

# Which management an unanswered escalation goes to: the receiving side's,
# and for a vendor the sender's.
ACK_CASES = {
    # name: (sender, kind, target, category of the ticket, expected child target)
    "functional to L2": ("tech1", "functional", "provider:L2", "general", "provider:lead"),
    "provider to internal IT": ("lead", "handoff", "internal_it", "general",
                                "internal_it:it_leader"),
    "provider to a vendor": ("lead", "handoff", "vendor", "general", "provider:lead"),
    "internal IT to a vendor": ("it", "handoff", "vendor", "printing",
                                "internal_it:it_leader"),
    "internal IT to the provider": ("it", "handoff", "provider:L1", "printing",
                                    "provider:lead"),
}
# Escalations that must raise nothing: decided in time, or hierarchical.
ACK_QUIET = {
    "accepted in time": ("lead", "handoff", "internal_it", "general", "accept"),
    "rejected in time": ("lead", "handoff", "internal_it", "general", "reject"),
    "hierarchical": ("tech1", "hierarchical", "provider:lead", "general", None),
}


@pytest.fixture(scope="module")
def ack_tickets(tmp_path_factory, as_user):
    """A co-managed 24x7 tenant whose escalations must be acknowledged
    within one business minute, with one escalation per case."""
    t = Tenant(tmp_path_factory.mktemp("ack"), as_user, "co_managed", prefix="ack",
               escalation_policy={"acknowledgement_minutes": 1})
    made = {}
    for name, (sender, kind, to, category, _) in {**ACK_CASES, **ACK_QUIET}.items():
        ticket = t.create(category=category)
        made[name] = t.escalated(t.people[sender], ticket["id"], kind, to)
    ok(t.accept(t.it, made["accepted in time"]["ticket"], made["accepted in time"]["id"],
                json={}))
    ok(t.reject(t.it, made["rejected in time"]["ticket"], made["rejected in time"]["id"],
                {"reason": "not ours"}))
    return t, made


# ---- the automatic steps on the resolution clock -------------------------------

FAST = {
    "priorities": {"P1": {"first_response_minutes": 1, "resolution_minutes": 1},
                   "P2": {"first_response_minutes": 1, "resolution_minutes": 1440},
                   "P3": {"first_response_minutes": 1440, "resolution_minutes": 1440},
                   "P4": {"first_response_minutes": 1440, "resolution_minutes": 2880}},
    "warning_thresholds": [50, 75, 90],
    "pause_statuses": ["pending_customer", "pending_vendor"],
}
AUTOMATIC = {"notify_lead_at_percent": 50, "escalate_tier_at_percent": 75,
             "hierarchical_on_breach": True}

NOTIFY_PROVIDER = ("automatic:notify_lead", "hierarchical", "provider:lead", 30)
NOTIFY_INTERNAL = ("automatic:notify_lead", "hierarchical", "internal_it:it_leader", 30)
TIER_UP = ("automatic:escalate_tier", "functional", "provider:L2", 45)
BREACH_PROVIDER = ("automatic:breach", "hierarchical", "provider:account_manager", 60)
BREACH_INTERNAL = ("automatic:breach", "hierarchical", "internal_it:it_leader", 60)

# name: (how many, impact/urgency, category, the automatic escalations expected)
AUTO_CASES = {
    "provider L1, P1": (4, ("high", "high"), "general",
                        [NOTIFY_PROVIDER, TIER_UP, BREACH_PROVIDER]),
    "internal IT, P1": (2, ("high", "high"), "printing", [NOTIFY_INTERNAL, BREACH_INTERNAL]),
    "provider L3, P1": (1, ("high", "high"), "general", [NOTIFY_PROVIDER, BREACH_PROVIDER]),
    "response breach only, P2": (1, ("high", "medium"), "general", [BREACH_PROVIDER]),
    "resolved at once, P1": (1, ("high", "high"), "general", []),
    "far from due, P4": (1, ("low", "low"), "general", []),
}


@pytest.fixture(scope="module")
def auto_tickets(tmp_path_factory, as_user):
    """A co-managed 24x7 tenant with one-minute P1 targets and automatic
    steps at 50% (lead), 75% (tier) and at breach, and its tickets."""
    t = Tenant(tmp_path_factory.mktemp("auto"), as_user, "co_managed", prefix="aut",
               sla_policy=FAST,
               escalation_policy={"acknowledgement_minutes": 600, "automatic": AUTOMATIC})
    tickets = []          # (case, ticket document as created)
    for case, (count, (impact, urgency), category, _) in AUTO_CASES.items():
        for _ in range(count):
            tickets.append((case, t.create(category=category, impact=impact,
                                           urgency=urgency)))
    manual = {}
    for case, doc in tickets:
        if case == "provider L3, P1":
            esc = t.escalated(t.tech1, doc["id"], "functional", "provider:L3")
            t.accepted(t.tech3, doc["id"], esc["id"])        # tech3 holds it now
            manual[doc["id"]] = [esc["id"]]
        elif case == "resolved at once, P1":
            t.patch(doc["id"], by=t.lead, status="resolved")
        elif case == "internal IT, P1":
            t.patch(doc["id"], by=t.it, assignee=t.it.sub)
    return t, tickets, manual


# =============================================================================

def test_unacknowledged_escalation_raises_one_hierarchical_escalation(host2, ack_tickets,
                                                                      auto_tickets):
    t, made = ack_tickets
    assert len(host2.worker_pids()) == 2

    for name, esc in made.items():
        if esc["kind"] != "hierarchical":
            gap = parse_time(esc["acknowledge_by"]) - parse_time(esc["raised_at"])
            assert abs(gap.total_seconds() - 60) <= 1, (name, esc)
    latest = max(parse_time(esc["acknowledge_by"]) for esc in made.values()
                 if esc["acknowledge_by"])
    now = dt.datetime.now(dt.timezone.utc)
    deadline = time.monotonic() + max(0, (latest - now).total_seconds()) + 30

    def children(esc):
        return [e for e in escalations_of(t, esc["ticket"]) if e["parent"] == esc["id"]]

    def all_raised():
        return all(children(made[name]) for name in ACK_CASES)

    wait_for(all_raised, "an escalation for every unacknowledged one", deadline)

    def check():
        found = {}
        for name, (_, _, _, _, expected_to) in ACK_CASES.items():
            parent = made[name]
            kids = children(parent)
            assert len(kids) == 1, (name, kids)
            child = kids[0]
            found[name] = child
            ticket = t.get(parent["ticket"])
            assert child["kind"] == "hierarchical" and child["to"] == expected_to, (name, child)
            assert child["automatic"] is True, child
            assert child["rule"] == "automatic:acknowledgement", child
            assert child["status"] == "open" and child["acknowledge_by"] is None, child
            assert child["ticket"] == parent["ticket"] and child["tenant"] == t.slug
            assert child["from"]["side"] == ticket["side"], (child, ticket)
            assert parse_time(child["raised_at"]) >= \
                parse_time(parent["acknowledge_by"]) - dt.timedelta(seconds=1), (parent, child)
            # the unanswered one still waits; the ticket did not move
            got = ok(t.admin.get(t.esc_url(parent["ticket"], parent["id"])))
            assert got["status"] == "open", got
            # one event for it, on its ticket
            events = [e for e in escalated_events(t, parent["ticket"])
                      if e["data"].get("escalation_id") == child["id"]]
            assert len(events) == 1, (name, events)
            assert events[0]["visibility"] == "staff"
        for name in ACK_QUIET:
            esc = made[name]
            assert children(esc) == [], name
            assert all(not e["automatic"] for e in escalations_of(t, esc["ticket"])), name
        assert automatic_audit_count(t) == len(ACK_CASES)
        assert escalation_count(t) == len(ACK_CASES) + len(ACK_QUIET) + len(ACK_CASES)
        return found

    first = check()
    time.sleep(3.5)           # several more sweeps of every worker on both hosts
    assert check() == first

    # the management asked for sees it waiting
    lead_waits = [e["id"] for e in ok(t.lead.get("/v1/escalations",
                                                 params={"tenant": t.slug}))["items"]]
    assert first["functional to L2"]["id"] in lead_waits
    leader_waits = [e["id"] for e in ok(t.itl.get("/v1/escalations"))["items"]]
    assert first["provider to internal IT"]["id"] in leader_waits
    assert first["internal IT to a vendor"]["id"] in leader_waits


def test_automatic_steps_happen_once_per_ticket_across_two_hosts(host2, auto_tickets):
    t, tickets, manual = auto_tickets
    created = {doc["id"]: parse_time(doc["created_at"]) for _, doc in tickets}
    deadline = time.monotonic() + max(
        0, (max(created.values()) + dt.timedelta(seconds=60)
            - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 40
    expected = {doc["id"]: AUTO_CASES[case][3] for case, doc in tickets}

    def automatic(ticket):
        return [e for e in escalations_of(t, ticket) if e["automatic"]]

    def all_there():
        return all(len(automatic(tid)) >= len(want) for tid, want in expected.items())

    wait_for(all_there, "every automatic step", deadline)

    def check():
        seen = {}
        for case, doc in tickets:
            tid = doc["id"]
            got = automatic(tid)
            want = expected[tid]
            assert sorted((e["rule"], e["kind"], e["to"]) for e in got) == \
                sorted(w[:3] for w in want), (case, tid, got)
            by_rule = {e["rule"]: e for e in got}
            for rule, kind, to, seconds in want:
                e = by_rule[rule]
                assert e["parent"] is None and e["tenant"] == t.slug and e["ticket"] == tid
                assert (e["acknowledge_by"] is None) == (kind == "hierarchical"), e
                reached = created[tid] + dt.timedelta(seconds=seconds - 1)
                assert parse_time(e["raised_at"]) >= reached, (case, rule, e["raised_at"])
            # one event per escalation, manual ones included
            events = escalated_events(t, tid)
            all_ids = sorted([e["id"] for e in got] + manual.get(tid, []))
            assert sorted(e["data"].get("escalation_id") for e in events) == all_ids, \
                (case, events)
            seen[tid] = sorted(e["id"] for e in got)
        total = sum(len(w) for w in expected.values())
        assert automatic_audit_count(t) == total
        assert escalation_count(t) == total + sum(len(m) for m in manual.values())
        return seen

    first = check()
    time.sleep(3.5)
    assert check() == first

    # where the tickets are now
    for case, doc in tickets:
        now = t.get(doc["id"])
        if case == "provider L1, P1":
            assert (now["side"], now["tier"], now["assignee"]) == ("provider", "L2", None), now
        elif case == "provider L3, P1":
            assert (now["side"], now["tier"], now["assignee"]) == \
                ("provider", "L3", t.tech3.sub), now
        elif case == "internal IT, P1":
            assert now["side"] == "internal_it"
        if case.endswith("P1") and case != "resolved at once, P1":
            assert now["sla"]["resolution"]["state"] == "breached", now

    # breached tickets are in their assignees' inboxes, even within a minute
    top = next(doc["id"] for case, doc in tickets if case == "provider L3, P1")
    box = ok(t.tech3.get("/v1/inbox", params={"within": 1}))
    assert top in [k["id"] for k in box["near_breach"]], box
    internal = [doc["id"] for case, doc in tickets if case == "internal IT, P1"]
    box = ok(t.it.get("/v1/inbox", params={"within": 1}))
    assert sorted(k["id"] for k in box["near_breach"]) == sorted(internal), box

    # SLA and escalation events are staff events: the requester sees none
    for e in t.events(top, by=t.lead):
        if e["kind"].startswith(("sla_", "escalat")):
            assert e["visibility"] == "staff", e
    assert [e["kind"] for e in t.events(top, by=t.lead) if e["kind"] == "sla_breached"]
    seen = t.events(top, by=t.req)
    assert not [e for e in seen if e["kind"].startswith(("sla_", "escalat"))], seen
    resp = t.req.get(t.url(top))
    assert resp.status_code == 200, show(resp)
