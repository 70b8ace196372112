"""Escalations over HTTP, as users of both sides use them (README.md,
"Escalations and co-management", "The escalation policy"), on tenants of
the tests' own, made from tenant files with `mspctl tenant apply`, on the
running stack.

1. the policy of every co-management model, role, holding side, kind and
   target against a table written here from the README's defaults;
2. the warm-handoff note and the rest of the body: 422 naming each field,
   nothing written;
3. accepting, rejecting (the work goes back where it came from), deciding
   twice, deciding from the wrong side, the state conflicts;
4. per-side held time following the escalations, checked against the
   ticket's own history;
5. GET /v1/escalations and GET /v1/inbox per caller, filtered, paged and
   isolated.

The helpers at the top are shared with test_escalation_sweep.py and
test_comment_visibility.py.
"""
import concurrent.futures
import contextlib
import copy
import datetime as dt
import threading
import time
import uuid

import psycopg
import pytest

from conftest import Client, env, run_mspctl, set_principal, tenant_doc, write_tenant

UTC = dt.timezone.utc
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ALWAYS = {d: [{"start": "00:00", "end": "24:00"}] for d in DAYS}
SIDES = ("provider", "internal_it", "vendor", "customer")


# ---- the stack's database, as the provider admin sees it -------------------

_owner = []                 # every connection made, closed by the modules' fixtures
_mine = threading.local()


def q(sql, params=None):
    """A query on the stack's database as the provider admin, on one
    connection per thread kept for the module."""
    conn = getattr(_mine, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(env("MSP_DATABASE_URL"), autocommit=True)
        _mine.conn = conn
        _owner.append(conn)
    with conn.transaction():
        set_principal(conn, "test.escalations", "provider", "admin")
        return conn.execute(sql, params).fetchall()


def written(tenant):
    """What a request may have written in a tenant: escalations, ticket
    events, audit rows, and the sum of its tickets' versions."""
    return q("SELECT (SELECT count(*) FROM escalations WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM ticket_events WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s),"
             " (SELECT coalesce(sum(version), 0) FROM tickets WHERE tenant_id = %(t)s)",
             {"t": tenant.id})[0]


def written_on(tenant, ticket):
    """The same, for one ticket only."""
    number = int(ticket.rsplit("-", 1)[1])
    return q("SELECT (SELECT count(*) FROM escalations WHERE tenant_id = %(t)s"
             "         AND ticket_number = %(n)s),"
             " (SELECT count(*) FROM ticket_events WHERE tenant_id = %(t)s"
             "  AND ticket_number = %(n)s),"
             " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s AND target = %(target)s),"
             " (SELECT version FROM tickets WHERE tenant_id = %(t)s AND number = %(n)s)",
             {"t": tenant.id, "n": number, "target": f"ticket:{ticket}"})[0]


@contextlib.contextmanager
def nothing_written(tenant):
    before = written(tenant)
    yield
    after = written(tenant)
    assert after == before, \
        f"written (escalations, events, audit, versions): {before} -> {after}"


def audit_actions(tenant, prefix="escalation."):
    return [a for a, in q("SELECT action FROM audit_log WHERE tenant_id = %s AND action LIKE %s"
                          " ORDER BY audit_id", (tenant.id, prefix + "%"))]


# ---- responses ---------------------------------------------------------------

def show(resp):
    return f"{resp.request.method} {resp.request.url} -> {resp.status_code} {resp.text[:600]}"


def problem(resp, status):
    assert resp.status_code == status, show(resp)
    assert resp.headers["Content-Type"].split(";")[0] == "application/problem+json", show(resp)
    body = resp.json()
    assert body["status"] == status and body["title"] and body["type"], body
    return body


def fields_of(body):
    return {e["field"] for e in body.get("errors", [])}


def invalid(resp, *fields):
    """A 422 naming at least these fields."""
    body = problem(resp, 422)
    assert set(fields) <= fields_of(body), body
    return body


def ok(resp, status=200):
    assert resp.status_code == status, show(resp)
    return resp.json()


def parse_time(text):
    assert isinstance(text, str) and text.endswith("Z"), text
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def note(tag="handoff"):
    return {"summary": f"{tag}: printer queue on PRN-3 stuck for finance",
            "tried": "Restarted the spooler; cleared the queue; reinstalled the driver",
            "next_action": "Check the print server's GPO, which only your team can change"}


# ---- tenants of the tests' own ------------------------------------------------

PROVIDER_ASSIGNED = (("tech1", "technician", "L1"), ("tech2", "technician", "L2"),
                     ("tech3", "technician", "L3"), ("techn", "technician", None),
                     ("lead", "lead", None), ("am", "account_manager", None))
TENANT_PEOPLE = (("it", "it_staff"), ("itl", "it_leader"), ("req", "requester"),
                 ("aud", "auditor"), ("integ", "integration"))


class Tenant:
    """A tenant on a 24x7 calendar in UTC (business seconds are wall
    seconds) with a person in every role: provider staff assigned to it
    (technicians at L1, L2, L3 and without a tier, a lead, an account
    manager), a provider admin, and the tenant's own IT staff, IT leader,
    requester, auditor and integration client."""

    def __init__(self, directory, as_user, model="co_managed", *, escalation_policy=None,
                 sla_policy=None, reporting=None, prefix="esc"):
        tag = uuid.uuid4().hex[:8]
        self.slug = f"{prefix}-{tag}"
        self.model = model
        doc = tenant_doc(self.slug, "acme", ticket_prefix="E" + tag.upper())
        doc.update(co_management_model=model, timezone="UTC", holidays=[],
                   calendar=dict(ALWAYS))
        if escalation_policy is not None:
            doc["escalation_policy"] = {**doc["escalation_policy"], **escalation_policy}
        if sla_policy is not None:
            doc["sla_policy"] = sla_policy
        if reporting is not None:
            doc["reporting"] = reporting
        self.doc = doc
        run_mspctl("tenant", "apply", write_tenant(directory, doc), check=True)
        self.id = q("SELECT tenant_id FROM tenants WHERE slug = %s", (self.slug,))[0][0]
        self.identities = {}
        for key, role, tier in PROVIDER_ASSIGNED:
            sub = f"{key}.{self.slug}"
            run_mspctl("assign", sub, self.slug, role, *([tier] if tier else []), check=True)
            self.identities[key] = (sub, "provider", role)
        self.identities["admin"] = (f"admin.{self.slug}", "provider", "admin")
        for key, role in TENANT_PEOPLE:
            self.identities[key] = (f"{key}.{self.slug}", self.slug, role)
        self._bind({key: as_user(*who) for key, who in self.identities.items()})

    def _bind(self, people):
        self.people = people
        for key, client in people.items():
            setattr(self, key, client)
        self.by_role = {"technician": self.tech1, "lead": self.lead,
                        "account_manager": self.am, "admin": self.admin,
                        "it_staff": self.it, "it_leader": self.itl, "requester": self.req,
                        "auditor": self.aud, "integration": self.integ}

    def for_another_thread(self):
        """The same tenant with HTTP sessions of its own."""
        twin = copy.copy(self)
        twin._bind({key: Client(client.base, *self.identities[key])
                    for key, client in self.people.items()})
        return twin

    # paths
    def url(self, ticket=None, *rest):
        base = f"/v1/tenants/{self.slug}/tickets"
        if ticket is None:
            return base
        return "/".join([base, ticket, *map(str, rest)])

    def esc_url(self, ticket, eid=None, action=None):
        return self.url(ticket, "escalations", *[x for x in (eid, action) if x is not None])

    # tickets
    def create(self, by=None, category="general", impact="low", urgency="low", **fields):
        """A ticket opened by the tenant's IT staff for its requester (so
        that the requester sees it)."""
        body = {"title": f"esc {uuid.uuid4().hex[:8]}", "description": "Users cannot print",
                "category": category, "impact": impact, "urgency": urgency,
                "requester": self.req.sub, **fields}
        return ok((by or self.it).post(self.url(), json=body), 201)

    def get(self, ticket, by=None):
        return ok((by or self.admin).get(self.url(ticket)))

    def patch(self, ticket, by=None, **change):
        by = by or self.lead
        resp = by.get(self.url(ticket))
        etag = ok(resp) and resp.headers["ETag"]
        return ok(by.patch(self.url(ticket), headers={"If-Match": etag}, json=change))

    # escalations
    def escalate(self, by, ticket, kind, to, body_note=None, **extra):
        body = {"kind": kind, "to": to, "note": body_note or note(kind), **extra}
        return by.post(self.esc_url(ticket), json=body)

    def escalated(self, by, ticket, kind, to, **extra):
        resp = self.escalate(by, ticket, kind, to, **extra)
        doc = ok(resp, 201)
        assert resp.headers["Location"].endswith(
            f"/v1/tenants/{self.slug}/tickets/{ticket}/escalations/{doc['id']}"), resp.headers
        return doc

    def accept(self, by, ticket, eid, **kw):
        return by.post(self.esc_url(ticket, eid, "accept"), **kw)

    def accepted(self, by, ticket, eid):
        return ok(self.accept(by, ticket, eid, json={}))

    def reject(self, by, ticket, eid, body):
        return by.post(self.esc_url(ticket, eid, "reject"), json=body)

    def policy(self, by=None):
        return ok((by or self.lead).get(f"/v1/tenants/{self.slug}/escalation-policy"))

    def events(self, ticket, by=None, limit=None):
        """Every event of the ticket the reader may see, page by page."""
        by = by or self.admin
        items, after = [], None
        for _ in range(1000):
            params = {}
            if limit:
                params["limit"] = limit
            if after:
                params["after"] = after
            page = ok(by.get(self.url(ticket, "events"), params=params))
            items += page["items"]
            after = page["next_cursor"]
            if not after:
                return items
        raise AssertionError("events never end")


@pytest.fixture(scope="module")
def co(tmp_path_factory, as_user):
    """A co-managed 24x7 tenant with the defaults of its model."""
    return Tenant(tmp_path_factory.mktemp("co"), as_user, "co_managed")


@pytest.fixture(scope="module")
def other(tmp_path_factory, as_user):
    """Another tenant, whose people must never see the first one's work."""
    return Tenant(tmp_path_factory.mktemp("other"), as_user, "co_managed", prefix="oth")


@pytest.fixture(scope="module", autouse=True)
def close_owner_connection():
    """q()'s connections are the module's: none left by a module before
    (the database may have been restarted since), none left after."""
    while _owner:
        _owner.pop().close()
    yield
    while _owner:
        _owner.pop().close()


# =============================================================================
# 1. The policy table
# =============================================================================

# The README's defaults ("The escalation policy"), written out as rules
# (kind, roles, holding sides, targets, whether the sender may name the
# assignee).  "Provider staff" is technician, lead and admin; "any staff"
# adds the account manager and the tenant's it_staff and it_leader.
PROVIDER_STAFF = ("technician", "lead", "admin")
TENANT_STAFF = ("it_staff", "it_leader")
ANY_STAFF = ("technician", "lead", "account_manager", "admin", "it_staff", "it_leader")
NEVER = ("requester", "auditor", "integration")
ROLES = ANY_STAFF + NEVER
KINDS = ("functional", "handoff", "hierarchical")
TIERS = ("provider:L1", "provider:L2", "provider:L3")
UP = ("provider:L2", "provider:L3")
MANAGERS = ("provider:lead", "provider:account_manager", "internal_it:it_leader")
TARGETS = {"functional": UP, "handoff": TIERS + ("internal_it", "vendor"),
           "hierarchical": MANAGERS}
HOLDERS = ("provider", "internal_it", "vendor")


def rule(kind, roles, held_by, to, assign=False):
    return {"kind": kind, "roles": set(roles), "from": set(held_by), "to": set(to),
            "assign": assign}


TIER_UP = rule("functional", PROVIDER_STAFF, ["provider"], UP)
MANAGEMENT = rule("hierarchical", ANY_STAFF, HOLDERS, MANAGERS)
PROVIDER_RETURNS = rule("handoff", PROVIDER_STAFF, ["provider"], ["internal_it"])

MODELS = {
    "fully_managed": ("provider", [
        TIER_UP,
        rule("handoff", PROVIDER_STAFF, ["provider", "vendor"], ("vendor",) + TIERS),
        MANAGEMENT]),
    "co_managed": ("provider", [
        TIER_UP,
        rule("handoff", PROVIDER_STAFF, ["provider", "vendor"],
             ("internal_it", "vendor") + TIERS),
        rule("handoff", TENANT_STAFF, ["internal_it", "vendor"],
             ["provider:L1", "vendor", "internal_it"]),
        MANAGEMENT]),
    "staff_augmentation": ("internal_it", [
        TIER_UP,
        rule("functional", TENANT_STAFF, ["provider"], UP),
        rule("handoff", TENANT_STAFF, HOLDERS, TIERS + ("vendor", "internal_it"), assign=True),
        PROVIDER_RETURNS,
        MANAGEMENT]),
    "project": ("internal_it", [
        TIER_UP,
        rule("handoff", TENANT_STAFF, ["internal_it", "vendor"],
             TIERS + ("vendor", "internal_it")),
        PROVIDER_RETURNS,
        MANAGEMENT]),
    "on_demand": ("internal_it", [
        TIER_UP,
        rule("handoff", TENANT_STAFF, ["internal_it", "vendor"],
             ["provider:L1", "vendor", "internal_it"]),
        PROVIDER_RETURNS,
        MANAGEMENT]),
}


def expected_matrix(model):
    """{role: {kind: sorted targets}} for every staff role."""
    rules = MODELS[model][1]
    return {role: {kind: sorted({t for r in rules if r["kind"] == kind and role in r["roles"]
                                 for t in r["to"]})
                   for kind in KINDS}
            for role in ANY_STAFF}


def expected_decision(model, role, kind, holder, target):
    """(allowed, whether some rule of this kind names the role)."""
    rules = [r for r in MODELS[model][1] if r["kind"] == kind and role in r["roles"]]
    allowed = any(holder in r["from"] and target in r["to"] for r in rules)
    return allowed, bool(rules)


def side_of(target):
    return target.split(":")[0]


def tier_of(target):
    parts = target.split(":")
    return parts[1] if len(parts) == 2 and parts[1] in ("L1", "L2", "L3") else None


def held_by(t, side):
    """A fresh ticket of tenant t held by `side`, brought there the way a
    user would: created in the right intake, or moved by an allowed
    escalation that the receiving side accepted."""
    intake = MODELS[t.model][0]
    if side == "internal_it" or (side == "provider" and intake == "provider"):
        doc = t.create(category="printing" if side == "internal_it" else "general")
        assert doc["side"] == side, doc
        return doc
    if side == "provider":
        doc = t.create()
        esc = t.escalated(t.it, doc["id"], "handoff", "provider:L1")
        t.accepted(t.tech1, doc["id"], esc["id"])
    elif intake == "provider":                        # vendor, sent by the provider
        doc = t.create()
        esc = t.escalated(t.lead, doc["id"], "handoff", "vendor")
        t.accepted(t.lead, doc["id"], esc["id"])
    else:                                             # vendor, sent by internal IT
        doc = t.create()
        esc = t.escalated(t.it, doc["id"], "handoff", "vendor")
        t.accepted(t.it, doc["id"], esc["id"])
    doc = t.get(doc["id"])
    assert doc["side"] == side, doc
    return doc


def check_policy_document(t, policy):
    model = t.model
    intake, rules = MODELS[model]
    assert policy["model"] == model
    assert policy["intake"] == intake
    assert policy["rules_from"] == "model"
    assert sorted(policy["internal_categories"]) == \
        sorted(t.doc["escalation_policy"]["internal_categories"])
    assert policy["acknowledgement_minutes"] == t.doc["escalation_policy"]["acknowledgement_minutes"]
    # the matrix, role by role
    matrix = {role: {kind: sorted(targets) for kind, targets in by_kind.items()}
              for role, by_kind in policy["matrix"].items()}
    want = expected_matrix(model)
    for role in ANY_STAFF:
        assert matrix.get(role) == want[role], (model, role, matrix.get(role), want[role])
    for role in NEVER:   # absent, or allowed nothing
        assert all(not targets for targets in matrix.get(role, {}).values()), (model, role)
    # the rules: the same moves, the README's rules exactly
    got = [{"kind": r["kind"], "roles": set(r["roles"]),
            "from": set(r["from"]) & set(HOLDERS), "to": set(r["to"]), "assign": r["assign"]}
           for r in policy["rules"]]
    for r in policy["rules"]:
        assert set(r) >= {"name", "kind", "roles", "from", "to", "assign"}, r
        assert isinstance(r["name"], str) and r["name"], r
    assert len({r["name"] for r in policy["rules"]}) == len(policy["rules"])
    missing = [r for r in rules if r not in got]
    extra = [r for r in got if r not in rules]
    assert not missing and not extra, (model, missing, extra)


def try_every_move(t, holder, rules_by_name, matrix):
    """Every role x kind x target on tickets of t held by `holder`;
    returns the differences from the table (and how many cases ran)."""
    model = t.model
    failures = []
    cases = 0

    def fail(case, what, resp=None):
        failures.append(f"{case}: {what}" + (f"\n    {show(resp)}" if resp is not None else ""))

    shared = None       # a ticket for the moves that must not move it
    for role in ROLES:
        client = t.by_role[role]
        for kind in KINDS:
            for target in TARGETS[kind]:
                cases += 1
                case = f"{model} {role} held by {holder}: {kind} -> {target}"
                allowed, named = expected_decision(model, role, kind, holder, target)
                conflict = kind == "handoff" and side_of(target) == holder
                if allowed and not conflict and kind != "hierarchical":
                    ticket = held_by(t, holder)        # it is going to move
                else:
                    if shared is None:
                        shared = held_by(t, holder)
                    ticket = shared
                before = written_on(t, ticket["id"])
                resp = t.escalate(client, ticket["id"], kind, target)
                after = written_on(t, ticket["id"])

                if allowed and not conflict:
                    if resp.status_code != 201:
                        fail(case, "expected 201", resp)
                        continue
                    doc = resp.json()
                    where = resp.headers.get("Location", "")
                    if not where.endswith(f"/tickets/{ticket['id']}/escalations/{doc['id']}"):
                        fail(case, f"Location {where!r}")
                    expect = {"kind": kind, "to": target, "status": "open",
                              "tenant": t.slug, "ticket": ticket["id"], "automatic": False,
                              "parent": None, "raised_by": client.sub}
                    got = {k: doc.get(k) for k in expect}
                    if got != expect:
                        fail(case, f"document {got} != {expect}")
                    was = {"side": ticket["side"], "tier": ticket["tier"],
                           "assignee": ticket["assignee"]}
                    if doc.get("from") != was:
                        fail(case, f"from {doc.get('from')} != {was}")
                    r = rules_by_name.get(doc.get("rule"))
                    if not (r and r["kind"] == kind and role in r["roles"]
                            and holder in r["from"] and target in r["to"]):
                        fail(case, f"rule {doc.get('rule')!r} does not cover the move")
                    if (doc.get("acknowledge_by") is None) != (kind == "hierarchical"):
                        fail(case, f"acknowledge_by {doc.get('acknowledge_by')}")
                    if [a - b for a, b in zip(after[:3], before[:3])] != [1, 1, 1]:
                        fail(case, f"writes (escalations, events, audit, version)"
                                   f" {before} -> {after}")
                    now = t.get(ticket["id"])
                    if kind == "hierarchical":
                        moved = (now["side"], now["tier"], now["assignee"])
                        if moved != tuple(was.values()):
                            fail(case, f"a hierarchical escalation moved the ticket"
                                       f" {was} -> {moved}")
                    elif (now["side"], now["tier"], now["assignee"]) != \
                            (side_of(target), tier_of(target), None):
                        fail(case, f"ticket at {now['side']}/{now['tier']}/{now['assignee']}")
                    continue

                # refused: nothing written, whatever the status
                if after != before:
                    fail(case, f"a refused move wrote {before} -> {after}", resp)
                if resp.status_code == 201:
                    fail(case, "expected a refusal, got 201", resp)
                    shared = None          # that ticket may have moved
                    continue
                statuses = {403, 409} if conflict and not allowed else \
                    {409} if conflict else {403}
                if resp.status_code not in statuses or \
                        resp.headers.get("Content-Type", "").split(";")[0] \
                        != "application/problem+json":
                    fail(case, f"expected {sorted(statuses)} problem+json", resp)
                    continue
                if resp.status_code != 403:
                    continue
                body = resp.json()
                if "rule" not in body or "allowed" not in body:
                    fail(case, "403 without rule/allowed", resp)
                    continue
                if named:
                    r = rules_by_name.get(body["rule"])
                    if not (r and r["kind"] == kind and role in r["roles"]):
                        fail(case, f"rule {body['rule']!r} is not a {kind} rule"
                                   f" naming {role}", resp)
                elif body["rule"] is not None:
                    fail(case, f"rule {body['rule']!r}, expected null", resp)
                want = matrix.get(role, {}).get(kind, [])
                if sorted(body["allowed"] or []) != want:
                    fail(case, f"allowed {body['allowed']} != {want}", resp)
    return failures, cases


@pytest.mark.parametrize("model", list(MODELS))
def test_policy_table_every_role_side_kind_and_target(model, tmp_path, as_user):
    """Every role x holding side x kind x target of one model against the
    table above: 201 where a rule covers the move, 409 where it does but
    the ticket cannot move there (a handoff to the side that holds it),
    else 403 with the rule that names the role (or null) and what the
    matrix allows; a refused move writes nothing.  The holding sides run
    side by side, each on tickets of its own."""
    t = Tenant(tmp_path, as_user, model, prefix="mx")
    policy = t.policy()
    check_policy_document(t, policy)
    rules_by_name = {r["name"]: r for r in policy["rules"]}
    matrix = expected_matrix(model)

    with concurrent.futures.ThreadPoolExecutor(len(HOLDERS)) as pool:
        runs = [pool.submit(try_every_move, t.for_another_thread(), holder, rules_by_name,
                            matrix) for holder in HOLDERS]
        results = [run.result() for run in runs]
    failures = [f for fs, _ in results for f in fs]
    assert sum(n for _, n in results) == len(HOLDERS) * len(ROLES) * \
        sum(len(targets) for targets in TARGETS.values())
    assert not failures, f"{len(failures)} cases differ from the table:\n" + \
        "\n".join(failures[:60])


@pytest.mark.parametrize("model", list(MODELS))
def test_new_tickets_go_to_the_intake_side(model, tmp_path, as_user):
    t = Tenant(tmp_path, as_user, model, prefix="in")
    intake = MODELS[model][0]
    for by in (t.it, t.req, t.tech1, t.integ):
        assert t.create(by=by)["side"] == intake, (model, by.sub)
        assert t.create(by=by, category="printing")["side"] == "internal_it"
    # the side as stored is the side the ticket's history starts with
    doc = t.create(category="onboarding")
    created = t.events(doc["id"])[0]
    assert created["kind"] == "created" and created["data"]["side"] == "internal_it"


def test_escalation_policy_is_for_staff_of_the_tenant(co, other, as_user):
    for by in (co.tech1, co.lead, co.am, co.admin, co.it, co.itl):
        assert co.policy(by)["model"] == "co_managed"
    problem(co.req.get(f"/v1/tenants/{co.slug}/escalation-policy"), 403)
    for by in (other.it, other.tech1, other.lead):
        problem(by.get(f"/v1/tenants/{co.slug}/escalation-policy"), 404)
    stranger = as_user(f"tech.stranger-{uuid.uuid4().hex[:6]}", "provider", "technician")
    problem(stranger.get(f"/v1/tenants/{co.slug}/escalation-policy"), 404)
    problem(co.lead.get("/v1/tenants/no-such-tenant/escalation-policy"), 404)


# =============================================================================
# 2. The warm handoff: what a request must carry
# =============================================================================

THREE = {"note.summary", "note.tried", "note.next_action"}
LONG = "x" * 4001


def bad_bodies():
    n = note()
    return [
        # (name, body, the fields the 422 must name; a set of alternatives)
        ("no note", {"kind": "functional", "to": "provider:L2"}, [THREE, {"note"}]),
        ("empty note", {"kind": "functional", "to": "provider:L2", "note": {}}, [THREE]),
        ("only a summary", {"kind": "handoff", "to": "internal_it",
                            "note": {"summary": "s"}}, [{"note.tried", "note.next_action"}]),
        ("empty strings", {"kind": "handoff", "to": "internal_it",
                           "note": {"summary": "", "tried": "", "next_action": ""}}, [THREE]),
        ("too long", {"kind": "handoff", "to": "internal_it",
                      "note": {**n, "tried": LONG}}, [{"note.tried"}]),
        ("not strings", {"kind": "handoff", "to": "internal_it",
                         "note": {"summary": 5, "tried": None, "next_action": ["x"]}}, [THREE]),
        ("note not an object", {"kind": "handoff", "to": "internal_it", "note": "help"},
         [{"note"}]),
        ("unknown note field", {"kind": "handoff", "to": "internal_it",
                                "note": {**n, "mood": "grim"}}, [{"note.mood"}]),
        ("no kind", {"to": "provider:L2", "note": n}, [{"kind"}]),
        ("bad kind", {"kind": "sideways", "to": "provider:L2", "note": n}, [{"kind"}]),
        ("kind not a string", {"kind": 1, "to": "provider:L2", "note": n}, [{"kind"}]),
        ("no target", {"kind": "functional", "note": n}, [{"to"}]),
        ("functional to a side", {"kind": "functional", "to": "internal_it", "note": n},
         [{"to"}]),
        ("functional to L1", {"kind": "functional", "to": "provider:L1", "note": n}, [{"to"}]),
        ("handoff to a manager", {"kind": "handoff", "to": "provider:lead", "note": n},
         [{"to"}]),
        ("handoff to the customer", {"kind": "handoff", "to": "customer", "note": n}, [{"to"}]),
        ("hierarchical to a tier", {"kind": "hierarchical", "to": "provider:L2", "note": n},
         [{"to"}]),
        ("no such tier", {"kind": "functional", "to": "provider:L4", "note": n}, [{"to"}]),
        ("target not a string", {"kind": "handoff", "to": ["vendor"], "note": n}, [{"to"}]),
        ("group on a handoff", {"kind": "handoff", "to": "internal_it", "note": n,
                                "group": "network"}, [{"group"}]),
        ("group on a hierarchical one", {"kind": "hierarchical", "to": "provider:lead",
                                         "note": n, "group": "network"}, [{"group"}]),
        ("empty group", {"kind": "functional", "to": "provider:L2", "note": n, "group": ""},
         [{"group"}]),
        ("long group", {"kind": "functional", "to": "provider:L2", "note": n,
                        "group": "g" * 101}, [{"group"}]),
        ("group not a string", {"kind": "functional", "to": "provider:L2", "note": n,
                                "group": 12}, [{"group"}]),
        ("empty assignee", {"kind": "functional", "to": "provider:L2", "note": n,
                            "assignee": ""}, [{"assignee"}]),
        ("assignee not a string", {"kind": "functional", "to": "provider:L2", "note": n,
                                   "assignee": 42}, [{"assignee"}]),
        ("unknown field", {"kind": "functional", "to": "provider:L2", "note": n,
                           "priority": "P1"}, [{"priority"}]),
        ("side in the body", {"kind": "handoff", "to": "vendor", "note": n,
                              "side": "vendor"}, [{"side"}]),
        ("everything missing", {}, [{"kind", "to", "note"}, {"kind", "to"} | THREE]),
    ]


@pytest.mark.parametrize("name,body,fields", bad_bodies(), ids=[b[0] for b in bad_bodies()])
def test_bad_escalation_is_422_naming_each_field_and_writes_nothing(co, name, body, fields):
    ticket = co.create()
    with nothing_written(co):
        got = problem(co.lead.post(co.esc_url(ticket["id"]), json=body), 422)
    named = fields_of(got)
    assert any(f <= named for f in fields), (name, named, fields)
    assert all(isinstance(e["message"], str) and e["message"] for e in got["errors"])
    assert co.get(ticket["id"])["version"] == ticket["version"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"handoff"', b"null",
                                 b'{"kind": "handoff", "kind": "handoff"}'])
def test_malformed_escalation_body_is_400_and_writes_nothing(co, raw):
    ticket = co.create()
    with nothing_written(co):
        problem(co.lead.post(co.esc_url(ticket["id"]), data=raw,
                             headers={"Content-Type": "application/json"}), 400)


def test_note_fields_of_4000_characters_and_a_group_of_100_are_accepted(co):
    ticket = co.create()
    long_note = {"summary": "s" * 4000, "tried": "t" * 4000, "next_action": "n" * 4000}
    doc = co.escalated(co.tech1, ticket["id"], "functional", "provider:L2",
                       body_note=long_note, group="g" * 100)
    assert doc["note"] == long_note and doc["group"] == "g" * 100
    got = ok(co.lead.get(co.esc_url(ticket["id"], doc["id"])))
    assert got == doc


def test_escalation_of_a_ticket_one_cannot_see_is_404_and_writes_nothing(co, other):
    ticket = co.create()
    with nothing_written(co), nothing_written(other):
        for by in (other.it, other.lead, other.tech1):
            problem(co.escalate(by, ticket["id"], "hierarchical", "provider:lead"), 404)
        problem(co.escalate(co.lead, f"{ticket['id'].split('-')[0]}-999999", "hierarchical",
                            "provider:lead"), 404)
        problem(co.lead.post(f"/v1/tenants/{other.slug}/tickets/{ticket['id']}/escalations",
                             json={"kind": "hierarchical", "to": "provider:lead",
                                   "note": note()}), 404)
        problem(co.lead.post(f"/v1/tenants/{co.slug}/tickets/nonsense/escalations",
                             json={"kind": "hierarchical", "to": "provider:lead",
                                   "note": note()}), 404)


def test_requesters_auditors_and_machines_never_escalate(co):
    ticket = co.create()
    with nothing_written(co):
        for by in (co.req, co.aud, co.integ):
            for kind, to in (("hierarchical", "provider:lead"), ("handoff", "internal_it"),
                             ("functional", "provider:L2")):
                body = problem(co.escalate(by, ticket["id"], kind, to), 403)
                assert body["rule"] is None and body["allowed"] == [], body


def test_naming_an_assignee_needs_a_rule_with_assign(tmp_path, as_user, co):
    # co-managed: no rule lets anyone name the receiver
    ticket = co.create()
    with nothing_written(co):
        body = problem(co.escalate(co.lead, ticket["id"], "handoff", "internal_it",
                                   assignee=co.it.sub), 403)
        assert body["rule"] is not None
        body = problem(co.escalate(co.tech1, ticket["id"], "functional", "provider:L2",
                                   assignee=co.tech2.sub), 403)
        assert body["rule"] is not None

    # staff augmentation: internal IT hands work to a named provider engineer
    sa = Tenant(tmp_path, as_user, "staff_augmentation", prefix="sa")
    ticket = sa.create()
    assert ticket["side"] == "internal_it"
    doc = sa.escalated(sa.it, ticket["id"], "handoff", "provider:L2", assignee=sa.tech2.sub)
    assert doc["assignee"] == sa.tech2.sub
    now = sa.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"]) == ("provider", "L2", sa.tech2.sub)
    # ... but the provider handing it back cannot name anyone
    sa.accepted(sa.tech2, ticket["id"], doc["id"])
    with nothing_written(sa):
        body = problem(sa.escalate(sa.tech2, ticket["id"], "handoff", "internal_it",
                                   assignee=sa.it.sub), 403)
        assert body["rule"] is not None


def test_patching_side_or_tier_is_422_and_writes_nothing(co):
    ticket = co.create()
    resp = co.lead.get(co.url(ticket["id"]))
    etag = resp.headers["ETag"]
    for change, field in (({"side": "internal_it"}, "side"), ({"tier": "L2"}, "tier"),
                          ({"side": "vendor", "title": "moved"}, "side"),
                          ({"tier": None}, "tier")):
        with nothing_written(co):
            invalid(co.lead.patch(co.url(ticket["id"]), headers={"If-Match": etag},
                                  json=change), field)
    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["title"]) == \
        (ticket["side"], ticket["tier"], ticket["title"])


# =============================================================================
# 3. Accepting and rejecting
# =============================================================================

def event_of(t, ticket, kind, eid):
    found = [e for e in t.events(ticket) if e["kind"] == kind
             and e["data"].get("escalation_id") == eid]
    assert len(found) == 1, (kind, eid, found)
    return found[0]


def change(event, field):
    value = event["data"].get(field)
    assert isinstance(value, dict) and set(value) == {"from", "to"}, (field, event)
    return value["from"], value["to"]


def test_functional_escalation_moves_at_once_and_the_receiver_accepts(co):
    ticket = co.create(impact="high", urgency="high")
    ticket = co.patch(ticket["id"], assignee=co.tech1.sub)
    assert ticket["status"] == "assigned"
    seen = co.get(ticket["id"], by=co.tech1)
    audit_before = audit_actions(co)

    esc = co.escalated(co.tech1, ticket["id"], "functional", "provider:L2", group="network")
    assert esc["kind"] == "functional" and esc["status"] == "open" and esc["group"] == "network"
    assert esc["from"] == {"side": "provider", "tier": seen["tier"], "assignee": co.tech1.sub}
    assert esc["assignee"] is None
    assert esc["note"] == note("functional")
    assert esc["context"] == {k: seen[k] for k in (
        "title", "description", "priority", "category", "status", "asset_ids",
        "response_due", "resolution_due")}
    assert esc["raised_by"] == co.tech1.sub
    assert esc["decided_by"] is None and esc["decided_at"] is None and esc["reason"] is None
    raised = parse_time(esc["raised_at"])
    # 24x7: the acknowledgement minutes are wall minutes
    ack = co.doc["escalation_policy"]["acknowledgement_minutes"]
    due = parse_time(esc["acknowledge_by"]) - (raised + dt.timedelta(minutes=ack))
    assert abs(due.total_seconds()) <= 1, (esc["raised_at"], esc["acknowledge_by"])

    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"]) == ("provider", "L2", None)
    ev = event_of(co, ticket["id"], "escalated", esc["id"])
    assert change(ev, "tier") == (seen["tier"], "L2")
    assert change(ev, "assignee") == (co.tech1.sub, None)
    assert ev["actor"]["sub"] == co.tech1.sub and ev["visibility"] == "staff"
    assert audit_actions(co) == audit_before + ["escalation.create"]

    # not the receiving side: tenant staff, a technician below L2, the AM
    with nothing_written(co):
        for by in (co.it, co.itl, co.tech1, co.am):
            problem(co.accept(by, ticket["id"], esc["id"], json={}), 403)
            problem(co.reject(by, ticket["id"], esc["id"], {"reason": "not mine"}), 403)

    got = co.accepted(co.tech2, ticket["id"], esc["id"])
    assert got["status"] == "accepted" and got["decided_by"] == co.tech2.sub
    assert parse_time(got["decided_at"]) >= raised
    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"], now["status"]) == \
        ("provider", "L2", co.tech2.sub, "assigned")
    ev = event_of(co, ticket["id"], "escalation_accepted", esc["id"])
    assert change(ev, "assignee") == (None, co.tech2.sub)
    assert audit_actions(co)[-1] == "escalation.accept"

    # decided once
    with nothing_written(co):
        problem(co.accept(co.tech3, ticket["id"], esc["id"], json={}), 409)
        problem(co.accept(co.tech2, ticket["id"], esc["id"]), 409)
        problem(co.reject(co.lead, ticket["id"], esc["id"], {"reason": "too late"}), 409)
    assert ok(co.lead.get(co.esc_url(ticket["id"], esc["id"])))["status"] == "accepted"


def test_accept_with_an_empty_body_and_a_technician_without_tier(co):
    ticket = co.create()
    esc = co.escalated(co.lead, ticket["id"], "functional", "provider:L3")
    with nothing_written(co):
        problem(co.accept(co.tech2, ticket["id"], esc["id"]), 403)      # L2 < L3
        problem(co.accept(co.techn, ticket["id"], esc["id"], json={"reason": "x"}), 422)
        for raw in (b"{", b"[]", b'"yes"'):
            problem(co.techn.post(co.esc_url(ticket["id"], esc["id"], "accept"), data=raw,
                                  headers={"Content-Type": "application/json"}), 400)
    resp = co.accept(co.techn, ticket["id"], esc["id"])                 # no body at all
    assert ok(resp)["decided_by"] == co.techn.sub


def test_rejected_functional_goes_back_to_sender_tier_and_person(co):
    ticket = co.create()
    ticket = co.patch(ticket["id"], assignee=co.tech1.sub)
    esc = co.escalated(co.tech1, ticket["id"], "functional", "provider:L3")
    assert co.get(ticket["id"])["tier"] == "L3"

    with nothing_written(co):
        invalid(co.reject(co.tech3, ticket["id"], esc["id"], {}), "reason")
        invalid(co.reject(co.tech3, ticket["id"], esc["id"], {"reason": ""}), "reason")
        invalid(co.reject(co.tech3, ticket["id"], esc["id"], {"reason": 7}), "reason")
        invalid(co.reject(co.tech3, ticket["id"], esc["id"], {"reason": "r", "extra": 1}),
                "extra")
        problem(co.tech3.post(co.esc_url(ticket["id"], esc["id"], "reject"), data=b"{",
                              headers={"Content-Type": "application/json"}), 400)

    got = ok(co.reject(co.tech3, ticket["id"], esc["id"], {"reason": "needs a site visit"}))
    assert got["status"] == "rejected" and got["reason"] == "needs a site visit"
    assert got["decided_by"] == co.tech3.sub
    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"]) == \
        (esc["from"]["side"], esc["from"]["tier"], co.tech1.sub)
    ev = event_of(co, ticket["id"], "escalation_rejected", esc["id"])
    assert change(ev, "tier") == ("L3", esc["from"]["tier"])
    assert change(ev, "assignee") == (None, co.tech1.sub)
    assert audit_actions(co)[-1] == "escalation.reject"

    with nothing_written(co):
        problem(co.reject(co.tech3, ticket["id"], esc["id"], {"reason": "again"}), 409)
        problem(co.accept(co.tech3, ticket["id"], esc["id"], json={}), 409)

    # the ticket can be escalated again once nothing waits
    co.escalated(co.tech1, ticket["id"], "functional", "provider:L2")


def test_handoff_to_internal_it_accepted_by_tenant_staff_assigns_them(co):
    ticket = co.create()
    assert ticket["status"] == "new" and ticket["side"] == "provider"
    esc = co.escalated(co.lead, ticket["id"], "handoff", "internal_it")
    now = co.get(ticket["id"])
    assert (now["side"], now["assignee"]) == ("internal_it", None)
    ev = event_of(co, ticket["id"], "escalated", esc["id"])
    assert change(ev, "side") == ("provider", "internal_it")

    with nothing_written(co):
        for by in (co.tech1, co.tech3, co.lead, co.am, co.req, co.aud, co.integ):
            assert co.accept(by, ticket["id"], esc["id"], json={}).status_code in (403, 404)
    got = co.accepted(co.itl, ticket["id"], esc["id"])
    assert got["decided_by"] == co.itl.sub
    now = co.get(ticket["id"])
    assert (now["side"], now["assignee"], now["status"]) == ("internal_it", co.itl.sub,
                                                              "assigned")
    ev = event_of(co, ticket["id"], "escalation_accepted", esc["id"])
    assert change(ev, "status") == ("new", "assigned")
    assert change(ev, "assignee") == (None, co.itl.sub)


def test_handoff_from_internal_it_rejected_returns_to_its_person(co):
    ticket = co.create(category="printing")
    assert ticket["side"] == "internal_it"
    co.patch(ticket["id"], by=co.it, assignee=co.it.sub)
    esc = co.escalated(co.it, ticket["id"], "handoff", "provider:L1")
    assert esc["from"] == {"side": "internal_it", "tier": None, "assignee": co.it.sub}
    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"]) == ("provider", "L1", None)
    with nothing_written(co):
        problem(co.reject(co.it, ticket["id"], esc["id"], {"reason": "mine"}), 403)
    ok(co.reject(co.tech1, ticket["id"], esc["id"], {"reason": "a desk-side job for you"}))
    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"]) == ("internal_it", None, co.it.sub)
    ev = event_of(co, ticket["id"], "escalation_rejected", esc["id"])
    assert change(ev, "side") == ("provider", "internal_it")


def test_vendor_work_is_recorded_by_the_side_that_sent_it(co):
    ticket = co.create()
    esc = co.escalated(co.lead, ticket["id"], "handoff", "vendor")
    assert co.get(ticket["id"])["side"] == "vendor"
    with nothing_written(co):
        for by in (co.it, co.itl):
            problem(co.accept(by, ticket["id"], esc["id"], json={}), 403)
    co.accepted(co.tech1, ticket["id"], esc["id"])
    # the vendor's answer: provider staff bring it back
    back = co.escalated(co.lead, ticket["id"], "handoff", "provider:L2")
    co.accepted(co.tech2, ticket["id"], back["id"])
    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"]) == ("provider", "L2", co.tech2.sub)

    # internal IT's vendor work is internal IT's to record
    ticket = co.create(category="printing")
    esc = co.escalated(co.it, ticket["id"], "handoff", "vendor")
    with nothing_written(co):
        for by in (co.tech1, co.lead):
            problem(co.accept(by, ticket["id"], esc["id"], json={}), 403)
    ok(co.reject(co.itl, ticket["id"], esc["id"], {"reason": "vendor declined"}))
    assert co.get(ticket["id"])["side"] == "internal_it"


def test_hierarchical_escalations_are_decided_by_the_role_named(co):
    ticket = co.create(category="printing")
    before = co.get(ticket["id"])
    am = co.escalated(co.it, ticket["id"], "hierarchical", "provider:account_manager")
    lead = co.escalated(co.it, ticket["id"], "hierarchical", "provider:lead")
    leader = co.escalated(co.tech1, ticket["id"], "hierarchical", "internal_it:it_leader")
    assert am["acknowledge_by"] is None and am["assignee"] is None
    after = co.get(ticket["id"])
    assert (after["side"], after["tier"], after["assignee"], after["status"]) == \
        (before["side"], before["tier"], before["assignee"], before["status"])

    with nothing_written(co):
        for by in (co.tech1, co.lead, co.it, co.itl):
            problem(co.accept(by, ticket["id"], am["id"], json={}), 403)
        for by in (co.tech3, co.am, co.it, co.itl):
            problem(co.accept(by, ticket["id"], lead["id"], json={}), 403)
        for by in (co.it, co.lead, co.tech1):
            problem(co.accept(by, ticket["id"], leader["id"], json={}), 403)
    assert co.accepted(co.am, ticket["id"], am["id"])["decided_by"] == co.am.sub
    assert co.accepted(co.admin, ticket["id"], lead["id"])["decided_by"] == co.admin.sub
    ok(co.reject(co.itl, ticket["id"], leader["id"], {"reason": "handled in the CAB"}))
    now = co.get(ticket["id"])
    assert (now["side"], now["tier"], now["assignee"], now["status"]) == \
        (before["side"], before["tier"], before["assignee"], before["status"])


def test_state_conflicts_are_409_and_write_nothing(co):
    ticket = co.create()
    # one functional escalation or handoff waits at a time
    first = co.escalated(co.tech1, ticket["id"], "functional", "provider:L2")
    with nothing_written(co):
        problem(co.escalate(co.lead, ticket["id"], "functional", "provider:L3"), 409)
        problem(co.escalate(co.lead, ticket["id"], "handoff", "internal_it"), 409)
    # hierarchical ones do not wait on it
    co.escalated(co.lead, ticket["id"], "hierarchical", "provider:account_manager")
    co.accepted(co.tech2, ticket["id"], first["id"])

    with nothing_written(co):
        # up a tier only: L2 -> L2 and L2 -> ... is not up
        problem(co.escalate(co.lead, ticket["id"], "functional", "provider:L2"), 409)
        # a handoff to the side that holds the ticket
        for to in TIERS:
            problem(co.escalate(co.lead, ticket["id"], "handoff", to), 409)
    co.escalated(co.lead, ticket["id"], "functional", "provider:L3")

    # a ticket at internal IT cannot be handed to internal IT
    it_ticket = co.create(category="printing")
    with nothing_written(co):
        problem(co.escalate(co.it, it_ticket["id"], "handoff", "internal_it"), 409)

    # resolved and closed tickets do not move
    done = co.create()
    co.patch(done["id"], status="resolved")
    with nothing_written(co):
        for kind, to in (("functional", "provider:L2"), ("handoff", "internal_it"),
                         ("hierarchical", "provider:lead")):
            problem(co.escalate(co.lead, done["id"], kind, to), 409)
    co.patch(done["id"], status="closed")
    with nothing_written(co):
        problem(co.escalate(co.lead, done["id"], "hierarchical", "provider:lead"), 409)


def test_escalations_of_a_ticket_are_listed_oldest_first_for_staff_only(co, other):
    ticket = co.create()
    made = [co.escalated(co.tech1, ticket["id"], "functional", "provider:L2")]
    made.append(co.escalated(co.it, ticket["id"], "hierarchical", "provider:lead"))
    made.append(co.escalated(co.lead, ticket["id"], "hierarchical", "internal_it:it_leader"))
    for by in (co.tech1, co.lead, co.am, co.admin, co.it, co.itl):
        page = ok(by.get(co.esc_url(ticket["id"])))
        assert [e["id"] for e in page["items"]] == [e["id"] for e in made]
        assert page["items"] == [ok(by.get(co.esc_url(ticket["id"], e["id"]))) for e in made]
    # paged
    page = ok(co.lead.get(co.esc_url(ticket["id"]), params={"limit": 2}))
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = ok(co.lead.get(co.esc_url(ticket["id"]),
                          params={"limit": 2, "after": page["next_cursor"]}))
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in made]
    assert rest["next_cursor"] is None
    # requesters never see escalations; other tenants do not know them
    for path in (co.esc_url(ticket["id"]), co.esc_url(ticket["id"], made[0]["id"])):
        assert co.req.get(path).status_code in (403, 404)
        for by in (other.it, other.lead):
            problem(by.get(path), 404)
    # an escalation is found under its own ticket only
    second = co.create()
    problem(co.lead.get(co.esc_url(second["id"], made[0]["id"])), 404)
    problem(co.lead.get(co.esc_url(ticket["id"], 999999999)), 404)
    problem(co.lead.get(co.esc_url(ticket["id"], "abc")), 404)
    with nothing_written(co):
        problem(co.accept(co.tech2, second["id"], made[0]["id"], json={}), 404)
        problem(other.lead.post(co.esc_url(ticket["id"], made[0]["id"], "accept"), json={}),
                404)


def test_events_of_escalations_are_staff_events_and_audited(co):
    ticket = co.create()
    audit_before = audit_actions(co)
    a = co.escalated(co.lead, ticket["id"], "handoff", "internal_it")
    co.accepted(co.it, ticket["id"], a["id"])
    b = co.escalated(co.it, ticket["id"], "handoff", "provider:L1")
    ok(co.reject(co.tech1, ticket["id"], b["id"], {"reason": "yours"}))
    c = co.escalated(co.it, ticket["id"], "hierarchical", "provider:lead")
    assert audit_actions(co)[len(audit_before):] == [
        "escalation.create", "escalation.accept", "escalation.create", "escalation.reject",
        "escalation.create"]
    events = co.events(ticket["id"], by=co.lead)
    kinds = [(e["kind"], e["data"].get("escalation_id")) for e in events
             if e["kind"].startswith("escalat")]
    assert kinds == [("escalated", a["id"]), ("escalation_accepted", a["id"]),
                     ("escalated", b["id"]), ("escalation_rejected", b["id"]),
                     ("escalated", c["id"])]
    for e in events:
        assert set(e) >= {"id", "kind", "at", "actor", "visibility", "data"}
        assert set(e["actor"]) >= {"sub", "org", "role"}
        if e["kind"].startswith("escalat"):
            assert e["visibility"] == "staff"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    # paging gives the same history
    assert co.events(ticket["id"], by=co.lead, limit=2) == events
    # the requester sees none of it
    seen = co.events(ticket["id"], by=co.req)
    assert not [e for e in seen if e["kind"].startswith("escalat")]
    assert all(e["visibility"] == "public" for e in seen)


# =============================================================================
# 4. Held time per side
# =============================================================================

def held_from_events(events):
    """Business seconds per holding side on a 24x7 tenant, from the
    ticket's history as the API shows it."""
    def to(e, field):
        v = e["data"].get(field)
        if e["kind"] == "created":
            return v
        return v.get("to") if isinstance(v, dict) else None

    held = {s: 0 for s in SIDES}
    side, status = None, None
    prev = None
    for e in events:
        at = int(parse_time(e["at"]).timestamp())
        if prev is not None and status not in ("resolved", "closed"):
            holder = {"pending_customer": "customer",
                      "pending_vendor": "vendor"}.get(status, side)
            held[holder] += max(0, at - prev)
        prev = at if prev is None else max(prev, at)
        side = to(e, "side") or side
        status = to(e, "status") or status
    return held, status


def test_held_time_follows_the_side_that_holds_the_work(co):
    """provider L1 -> internal IT -> vendor -> provider L2 -> resolved."""
    ticket = co.create(impact="high", urgency="medium")
    tid = ticket["id"]
    co.patch(tid, by=co.tech1, assignee=co.tech1.sub)
    time.sleep(2)
    esc = co.escalated(co.tech1, tid, "handoff", "internal_it")
    co.accepted(co.it, tid, esc["id"])
    time.sleep(2)
    esc = co.escalated(co.it, tid, "handoff", "vendor")
    co.accepted(co.it, tid, esc["id"])
    time.sleep(2)
    esc = co.escalated(co.lead, tid, "handoff", "provider:L2")
    co.accepted(co.tech2, tid, esc["id"])
    time.sleep(2)
    done = co.patch(tid, by=co.tech2, status="resolved")
    assert (done["side"], done["tier"]) == ("provider", "L2")

    events = co.events(tid, by=co.admin)
    held, status = held_from_events(events)
    assert status == "resolved"
    assert held["internal_it"] >= 2 and held["vendor"] >= 2 and held["provider"] >= 4, held
    assert held["customer"] == 0
    time.sleep(1.1)        # the clocks stopped at resolution: nothing more accrues
    sla = co.get(tid)["sla"]
    assert sla["held_seconds"] == held, (sla, [(e["at"], e["kind"], e["data"]) for e in events])
    assert ok(co.lead.get(co.url(tid, "sla")))["clocks"]["held_seconds"] == held


# =============================================================================
# 5. What waits for whom: GET /v1/escalations and GET /v1/inbox
# =============================================================================

def all_pages(client, path, **params):
    items, after, pages = [], None, 0
    while True:
        query = dict(params)
        if after:
            query["after"] = after
        resp = client.get(path, params=query)
        page = ok(resp)
        pages += 1
        items += page["items"]
        after = page["next_cursor"]
        if after:
            assert 'rel="next"' in resp.headers.get("Link", ""), resp.headers
        else:
            return items, pages


def ids(items):
    return [e["id"] for e in items]


@pytest.fixture(scope="module")
def waiting(tmp_path_factory, as_user):
    """Two tenants, with escalations waiting for each kind of receiver:

    a: f  functional to L2 (provider)        h  handoff to internal IT
       am hierarchical to the account manager
       il hierarchical to the IT leader       pl hierarchical to the lead
       x  a handoff to internal IT, accepted  (waits for nobody)
    b: f  functional to L2                    h  handoff to internal IT
    A technician at L2 and a lead assigned to both tenants."""
    d = tmp_path_factory.mktemp("inbox")
    a = Tenant(d, as_user, "co_managed", prefix="iba")
    b = Tenant(d, as_user, "co_managed", prefix="ibb")
    tag = uuid.uuid4().hex[:6]
    both_tech = f"tech.both-{tag}"
    both_lead = f"lead.both-{tag}"
    for t in (a, b):
        run_mspctl("assign", both_tech, t.slug, "technician", "L2", check=True)
        run_mspctl("assign", both_lead, t.slug, "lead", check=True)
    made = {"a": {}, "b": {}}
    for key, t in (("a", a), ("b", b)):
        m = made[key]
        m["f"] = t.escalated(t.tech1, t.create()["id"], "functional", "provider:L2")
        m["h"] = t.escalated(t.lead, t.create()["id"], "handoff", "internal_it")
    m = made["a"]
    m["am"] = a.escalated(a.it, a.create()["id"], "hierarchical", "provider:account_manager")
    m["il"] = a.escalated(a.tech1, a.create()["id"], "hierarchical", "internal_it:it_leader")
    m["pl"] = a.escalated(a.itl, a.create()["id"], "hierarchical", "provider:lead")
    x = a.escalated(a.lead, a.create()["id"], "handoff", "internal_it")
    a.accepted(a.it, x["ticket"], x["id"])
    m["x"] = x
    return {"a": a, "b": b, "made": made,
            "tech": as_user(both_tech, "provider", "technician"),
            "lead": as_user(both_lead, "provider", "lead")}


def test_escalations_waiting_for_each_caller(waiting, as_user):
    a, b, m = waiting["a"], waiting["b"], waiting["made"]
    ma, mb = m["a"], m["b"]

    def listed(client, **params):
        items, _ = all_pages(client, "/v1/escalations", **params)
        for e in items:
            assert e["status"] == "open", e
        assert ids(items) == sorted(ids(items)), "oldest first"
        return ids(items)

    # internal IT: the handoffs to its side; the leader also what names it
    assert listed(a.it) == [ma["h"]["id"]]
    assert listed(a.itl) == [ma["h"]["id"], ma["il"]["id"]]
    assert listed(b.it) == [mb["h"]["id"]]
    assert listed(b.itl) == [mb["h"]["id"]]
    # the account manager: what names the role (the tenant's own ones)
    assert ma["am"]["id"] in listed(a.am)
    assert not {ma["h"]["id"], ma["il"]["id"], mb["f"]["id"]} & set(listed(a.am))
    # provider staff on both tenants: the provider's waiting work of both
    tech = listed(waiting["tech"])
    assert {ma["f"]["id"], mb["f"]["id"]} <= set(tech)
    assert not {ma["h"]["id"], mb["h"]["id"], ma["il"]["id"], ma["x"]["id"]} & set(tech)
    lead = listed(waiting["lead"])
    assert {ma["f"]["id"], mb["f"]["id"], ma["pl"]["id"]} <= set(lead)
    assert not {ma["h"]["id"], mb["h"]["id"], ma["il"]["id"], ma["am"]["id"]} & set(lead)
    # filtered by tenant: exactly that tenant's
    assert listed(waiting["lead"], tenant=a.slug) == [ma["f"]["id"], ma["pl"]["id"]]
    assert listed(waiting["lead"], tenant=b.slug) == [mb["f"]["id"]]
    assert listed(waiting["tech"], tenant=b.slug) == [mb["f"]["id"]]
    # a's own lead is not b's
    assert not {mb["f"]["id"]} & set(listed(a.lead))
    # the admin acts for every provider role, across tenants
    admin = listed(a.admin)
    assert {ma["f"]["id"], mb["f"]["id"], ma["am"]["id"], ma["pl"]["id"]} <= set(admin)
    assert not {ma["h"]["id"], mb["h"]["id"], ma["il"]["id"], ma["x"]["id"]} & set(admin)
    assert listed(a.admin, tenant=a.slug) == [ma["f"]["id"], ma["am"]["id"], ma["pl"]["id"]]

    # a technician not assigned to a: none of a's, and a's name is unknown
    stranger = as_user(f"tech.stranger-{uuid.uuid4().hex[:6]}", "provider", "technician")
    assert listed(stranger) == []
    resp = stranger.get("/v1/escalations", params={"tenant": a.slug})
    assert resp.status_code == 404 or (resp.status_code == 200 and resp.json()["items"] == []), \
        show(resp)
    resp = b.it.get("/v1/escalations", params={"tenant": a.slug})
    assert resp.status_code == 404 or (resp.status_code == 200 and resp.json()["items"] == []), \
        show(resp)

    # documents are whole escalations
    doc = next(e for e in all_pages(a.it, "/v1/escalations")[0])
    assert doc == ok(a.it.get(a.esc_url(ma["h"]["ticket"], ma["h"]["id"])))

    # decided: no longer waiting
    a.accepted(a.it, ma["h"]["ticket"], ma["h"]["id"])
    assert listed(a.it) == []
    assert listed(a.itl) == [ma["il"]["id"]]


def test_escalation_list_pages_and_refuses_bad_parameters(waiting):
    a, lead = waiting["a"], waiting["lead"]
    whole, _ = all_pages(lead, "/v1/escalations", tenant=a.slug)
    assert len(whole) >= 2
    paged, pages = all_pages(lead, "/v1/escalations", tenant=a.slug, limit=1)
    assert paged == whole and pages >= len(whole)
    first = lead.get("/v1/escalations", params={"tenant": a.slug, "limit": 1})
    assert 'rel="next"' in first.headers["Link"]
    for params in ({"limit": 0}, {"limit": 201}, {"limit": "x"}, {"after": "%%%"},
                   {"colour": "red"}):
        problem(lead.get("/v1/escalations", params=params), 400)
    for by in (a.req, a.integ):
        problem(by.get("/v1/escalations"), 403)


def test_inbox_escalations_and_tickets_near_breach(tmp_path, as_user):
    # P1: respond in 15, resolve in 60 minutes; P4: 480 and 1440 (24x7)
    t = Tenant(tmp_path, as_user, "co_managed", prefix="box", sla_policy={
        "priorities": {"P1": {"first_response_minutes": 15, "resolution_minutes": 60},
                       "P2": {"first_response_minutes": 60, "resolution_minutes": 240},
                       "P3": {"first_response_minutes": 240, "resolution_minutes": 480},
                       "P4": {"first_response_minutes": 480, "resolution_minutes": 1440}},
        "warning_thresholds": [50, 75, 90],
        "pause_statuses": ["pending_customer", "pending_vendor"]})
    urgent = t.create(category="printing", impact="high", urgency="high")
    slow = t.create(category="printing", impact="low", urgency="low")
    done = t.create(category="printing", impact="high", urgency="high")
    theirs = t.create(category="printing", impact="high", urgency="high")
    for ticket in (urgent, slow, done):
        t.patch(ticket["id"], by=t.it, assignee=t.it.sub)
    t.patch(theirs["id"], by=t.it, assignee=t.itl.sub)
    t.patch(done["id"], by=t.it, status="resolved")
    handoff = t.escalated(t.lead, t.create()["id"], "handoff", "internal_it")
    to_lead = t.escalated(t.it, t.create()["id"], "hierarchical", "provider:lead")

    box = ok(t.it.get("/v1/inbox"))
    assert box["within"] == 240
    assert ids(box["escalations"]) == [handoff["id"]]
    assert box["escalations"][0] == ok(t.it.get(t.esc_url(handoff["ticket"], handoff["id"])))
    assert ids(box["near_breach"]) == [urgent["id"]]
    assert box["near_breach"][0]["assignee"] == t.it.sub
    got = ok(t.it.get("/v1/inbox", params={"within": 10080}))
    assert got["within"] == 10080
    assert set(ids(got["near_breach"])) == {urgent["id"], slow["id"]}
    got = ok(t.it.get("/v1/inbox", params={"within": 1}))
    assert got["within"] == 1 and got["near_breach"] == []
    # the leader: its own ticket, and what waits for its side or role
    box = ok(t.itl.get("/v1/inbox"))
    assert ids(box["near_breach"]) == [theirs["id"]]
    assert ids(box["escalations"]) == [handoff["id"]]
    box = ok(t.lead.get("/v1/inbox"))
    assert to_lead["id"] in ids(box["escalations"])
    assert handoff["id"] not in ids(box["escalations"])
    assert box["near_breach"] == []

    for bad in ("0", "10081", "x", "-5", "1.5"):
        problem(t.it.get("/v1/inbox", params={"within": bad}), 400)
    problem(t.it.get("/v1/inbox", params={"colour": "red"}), 400)
    assert t.req.get("/v1/inbox").status_code == 403


# ---- what waits on finished work, and what the gateway may write ------------------

def test_resolving_a_ticket_withdraws_what_waits_on_it(co):
    ticket = co.create(by=co.tech1)["id"]
    handoff = co.escalated(co.tech1, ticket, "handoff", "internal_it")
    attention = co.escalated(co.it, ticket, "hierarchical", "provider:lead")
    co.patch(ticket, by=co.it, status="resolved")

    for esc in (handoff, attention):
        doc = ok(co.lead.get(co.esc_url(ticket, esc["id"])))
        assert doc["status"] == "withdrawn" and doc["decided_by"] == co.it.sub, doc
        assert doc["reason"] == "The ticket was resolved.", doc
        problem(co.accept(co.it if esc is handoff else co.lead, ticket, esc["id"], json={}), 409)
    withdrawn = [e for e in co.events(ticket) if e["kind"] == "escalation_withdrawn"]
    assert sorted(e["data"]["escalation_id"] for e in withdrawn) == sorted(
        [handoff["id"], attention["id"]])
    assert all(e["visibility"] == "staff" for e in withdrawn)
    assert q("SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action ="
             " 'escalation.withdraw' AND target = %s", (co.id, f"ticket:{ticket}"))[0][0] == 2
    assert all(e["id"] != handoff["id"] for e in ok(co.it.get("/v1/escalations"))["items"])

    # reopened, the ticket can be handed over again
    co.patch(ticket, by=co.it, status="in_progress")
    again = co.escalated(co.it, ticket, "handoff", "provider:L1")
    assert again["status"] == "open"


def test_the_gateway_cannot_write_escalations_but_through_the_functions(co):
    ticket = co.create(by=co.tech1)["id"]
    esc = co.escalated(co.tech1, ticket, "handoff", "internal_it")
    number = int(ticket.split("-")[1])
    statements = [
        ("UPDATE escalations SET status = 'accepted' WHERE escalation_id = %s", (esc["id"],)),
        ("INSERT INTO escalations (tenant_id, ticket_number, kind, target, from_side, note,"
         " context, rule, auto_key) VALUES (%s, %s, 'hierarchical', 'provider:lead',"
         " 'provider', '{}', '{}', 'x', 'breach')", (co.id, number)),
        ("SELECT app.escalation_steps(%s, %s, 'resolution', 100, NULL)", (co.id, number)),
        ("SELECT app.acknowledgement_sweep(10)", None),
    ]
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        for sql, params in statements:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with conn.transaction():
                    set_principal(conn, co.admin.sub, "provider", "admin")
                    conn.execute(sql, params)
    assert ok(co.lead.get(co.esc_url(ticket, esc["id"])))["status"] == "open"
    assert q("SELECT count(*) FROM escalations WHERE tenant_id = %s AND ticket_number = %s",
             (co.id, number))[0][0] == 1


def test_a_technician_is_shown_the_escalations_of_its_tier_or_below(co):
    up_to_2 = co.escalated(co.tech1, co.create(by=co.tech1)["id"], "functional", "provider:L2")
    up_to_3 = co.escalated(co.tech1, co.create(by=co.tech1)["id"], "functional", "provider:L3")
    mine = {e["id"] for e in all_pages(co.tech1, "/v1/escalations", tenant=co.slug)[0]}
    assert not {up_to_2["id"], up_to_3["id"]} & mine
    l2 = {e["id"] for e in all_pages(co.tech2, "/v1/escalations", tenant=co.slug)[0]}
    assert up_to_2["id"] in l2 and up_to_3["id"] not in l2
    l3 = {e["id"] for e in all_pages(co.tech3, "/v1/escalations", tenant=co.slug)[0]}
    assert {up_to_2["id"], up_to_3["id"]} <= l3
    am = {e["id"] for e in all_pages(co.am, "/v1/escalations", tenant=co.slug)[0]}
    assert not {up_to_2["id"], up_to_3["id"]} & am
    # and what it is shown, it may take
    problem(co.accept(co.tech1, up_to_2["ticket"], up_to_2["id"], json={}), 403)
    co.accepted(co.tech2, up_to_2["ticket"], up_to_2["id"])
