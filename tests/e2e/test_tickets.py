"""The tickets API over HTTP, as each kind of user uses it, on the demo
tenants that the stack loads (tenants/*.json, deploy/demo/)."""
import uuid

import pytest

from conftest import admin_query, run_mspctl


@pytest.fixture(scope="module")
def staff(as_user):
    return {
        "admin": as_user("admin.erin", "provider", "admin"),
        "tech": as_user("tech.alice", "provider", "technician"),    # acme, globex
        "bob": as_user("tech.bob", "provider", "technician"),       # acme, initech
        "lead": as_user("lead.carol", "provider", "lead"),
        "am": as_user("am.dave", "provider", "account_manager"),
        "acme_it": as_user("acme.it.frank", "acme", "it_staff"),
        "acme_cio": as_user("acme.cio.grace", "acme", "it_leader"),
        "acme_user": as_user("acme.user.heidi", "acme", "requester"),
        "acme_audit": as_user("acme.audit.ann", "acme", "auditor"),
        "globex_it": as_user("globex.it.kai", "globex", "it_staff"),
    }


def unique(prefix="t"):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def create(client, slug="acme", **fields):
    body = {"title": unique(), "impact": "medium", "urgency": "low", **fields}
    resp = client.post(f"/v1/tenants/{slug}/tickets", json=body)
    assert resp.status_code == 201, resp.text
    return resp


def ticket_count():
    return admin_query("SELECT count(*) FROM tickets")[0][0]


def problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status and body["title"]
    return body


# ---- who am I, which tenants --------------------------------------------

def test_me_for_a_technician_lists_assigned_tenants_with_role_and_tier(staff):
    me = staff["tech"].get("/v1/me").json()
    assert me["sub"] == "tech.alice" and me["org"] == "provider"
    assert [(t["slug"], t["role"], t["tier"]) for t in me["tenants"]] == \
        [("acme", "technician", "L1"), ("globex", "technician", "L1")]


def test_me_for_tenant_staff_and_admin(staff):
    me = staff["acme_it"].get("/v1/me").json()
    assert [(t["slug"], t["role"]) for t in me["tenants"]] == [("acme", "it_staff")]
    slugs = [t["slug"] for t in staff["admin"].get("/v1/me").json()["tenants"]]
    assert set(slugs) >= {"acme", "globex", "initech"}


def test_tenants_are_visible_tenants_only(staff):
    assert [t["slug"] for t in staff["tech"].get("/v1/tenants").json()["items"]] == \
        ["acme", "globex"]
    assert [t["slug"] for t in staff["acme_it"].get("/v1/tenants").json()["items"]] == ["acme"]
    resp = staff["acme_it"].get("/v1/tenants/acme")
    assert resp.status_code == 200 and resp.json()["timezone"] == "America/New_York"
    problem(staff["acme_it"].get("/v1/tenants/globex"), 404)
    problem(staff["acme_it"].get("/v1/tenants/no-such-tenant"), 404)


def test_contract_terms_only_for_commercial_roles(staff):
    assert staff["acme_cio"].get("/v1/tenants/acme").json()["contract"]["currency"] == "USD"
    assert staff["am"].get("/v1/tenants/acme").json()["contract"] is not None
    assert staff["acme_it"].get("/v1/tenants/acme").json()["contract"] is None
    assert staff["tech"].get("/v1/tenants/acme").json()["contract"] is None


def test_tenant_list_pages(staff):
    first = staff["admin"].get("/v1/tenants?limit=1")
    assert len(first.json()["items"]) == 1
    assert 'rel="next"' in first.headers["Link"]
    seen = [first.json()["items"][0]["slug"]]
    cursor = first.json()["next_cursor"]
    while cursor:
        page = staff["admin"].get(f"/v1/tenants?limit=1&after={cursor}").json()
        seen += [t["slug"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(set(seen)) and {"acme", "globex", "initech"} <= set(seen)


# ---- tickets ------------------------------------------------------------

def test_create_then_read_back(staff, http):
    resp = create(staff["acme_it"], title="Outlook crashes on start", description="Since KB503",
                  category="email", impact="high", urgency="high", asset_ids=[])
    doc = resp.json()
    assert doc["priority"] == "P1" and doc["status"] == "new" and doc["tenant"] == "acme"
    assert doc["requester"] == "acme.it.frank"
    assert doc["id"].startswith("ACME-")
    assert resp.headers["Location"].endswith(f"/v1/tenants/acme/tickets/{doc['id']}")
    assert resp.headers["ETag"] == '"1"'
    got = staff["tech"].get(f"/v1/tenants/acme/tickets/{doc['id']}")
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    assert got.json()["title"] == "Outlook crashes on start"
    assert got.json()["comments"] == []
    # history and audit, written in the same transaction
    events = admin_query("SELECT kind, actor_sub FROM ticket_events e JOIN tenants t"
                         " USING (tenant_id) WHERE t.slug = 'acme' AND e.ticket_number = %s",
                         (doc["number"],))
    assert events == [("created", "acme.it.frank")]
    audit = admin_query("SELECT action, actor_sub FROM audit_log WHERE target = %s",
                        (f"ticket:{doc['id']}",))
    assert audit == [("ticket.create", "acme.it.frank")]


@pytest.mark.parametrize("impact,urgency,priority", [
    ("high", "high", "P1"), ("high", "medium", "P2"), ("high", "low", "P3"),
    ("medium", "high", "P2"), ("medium", "medium", "P3"), ("medium", "low", "P4"),
    ("low", "high", "P3"), ("low", "medium", "P4"), ("low", "low", "P4"),
])
def test_priority_follows_the_itil_matrix(staff, impact, urgency, priority):
    doc = create(staff["tech"], impact=impact, urgency=urgency).json()
    assert doc["priority"] == priority


def test_create_with_assets(staff):
    assets = admin_query("SELECT a.asset_id FROM assets a JOIN tenants t USING (tenant_id)"
                         " WHERE t.slug = 'acme' ORDER BY 1 LIMIT 2")
    ids = [a[0] for a in assets]
    doc = create(staff["tech"], asset_ids=ids).json()
    assert doc["asset_ids"] == ids
    # An asset of another tenant is not this tenant's.
    other = admin_query("SELECT a.asset_id FROM assets a JOIN tenants t USING (tenant_id)"
                        " WHERE t.slug = 'globex' LIMIT 1")[0][0]
    before = ticket_count()
    body = problem(staff["tech"].post("/v1/tenants/acme/tickets", json={
        "title": "x", "impact": "low", "urgency": "low", "asset_ids": [other]}), 422)
    assert body["errors"][0]["field"] == "asset_ids"
    assert ticket_count() == before


def test_a_tickets_assets(staff):
    tag = uuid.uuid4().hex[:6]
    rows = admin_query(
        "INSERT INTO assets (tenant_id, tag, name, kind, serial, assigned_to, site, status)"
        " SELECT tenant_id, v.tag, v.name, v.kind, v.serial, v.assigned_to, v.site, v.status"
        " FROM tenants, (VALUES (%s, 'Heidi''s laptop', 'laptop', 'SN-1', 'acme.user.heidi',"
        "   'HQ 2F', 'deployed'), (%s, 'Dock', 'other', NULL, NULL, NULL, 'in_repair'))"
        "   AS v(tag, name, kind, serial, assigned_to, site, status)"
        " WHERE slug = 'acme'"
        " RETURNING asset_id, tag, name, kind, serial, assigned_to, site, status",
        (f"lt-{tag}", f"dk-{tag}"))
    fields = ("id", "tag", "name", "kind", "serial", "assigned_to", "site", "status")
    expected = sorted((dict(zip(fields, r)) for r in rows), key=lambda a: a["id"])
    assert len(expected) == 2
    ids = [a["id"] for a in expected]
    mine = create(staff["acme_user"], asset_ids=list(reversed(ids))).json()
    url = f"/v1/tenants/acme/tickets/{mine['id']}/assets"
    for who in ("acme_user", "tech", "acme_it", "acme_audit"):
        resp = staff[who].get(url)
        assert resp.status_code == 200, (who, resp.text)
        page = resp.json()
        assert page["next_cursor"] is None, who
        # each is the asset as GET .../assets/{id} shows it
        assert [{k: a[k] for k in fields} for a in page["items"]] == expected, who
        assert all(a["version"] == 1 and a["encrypted"] is None for a in page["items"]), who
    # No assets: an empty page; not the requester's, or not there: 404.
    bare = create(staff["tech"]).json()
    assert staff["tech"].get(f"/v1/tenants/acme/tickets/{bare['id']}/assets").json() == \
        {"items": [], "next_cursor": None}
    problem(staff["acme_user"].get(f"/v1/tenants/acme/tickets/{bare['id']}/assets"), 404)
    problem(staff["globex_it"].get(url), 404)
    problem(staff["tech"].get("/v1/tenants/acme/tickets/ACME-999999/assets"), 404)


def test_requester_files_for_themselves_and_sees_only_their_tickets(staff):
    mine = create(staff["acme_user"]).json()
    assert mine["requester"] == "acme.user.heidi"
    other = create(staff["acme_it"]).json()
    ids = [t["id"] for t in staff["acme_user"].get("/v1/tenants/acme/tickets?limit=200")
           .json()["items"]]
    assert mine["id"] in ids and other["id"] not in ids
    problem(staff["acme_user"].get(f"/v1/tenants/acme/tickets/{other['id']}"), 404)
    body = problem(staff["acme_user"].post("/v1/tenants/acme/tickets", json={
        "title": "x", "impact": "low", "urgency": "low", "requester": "someone.else"}), 422)
    assert body["errors"][0]["field"] == "requester"


def test_auditor_reads_but_does_not_write(staff):
    assert staff["acme_audit"].get("/v1/tenants/acme/tickets").status_code == 200
    before = ticket_count()
    problem(staff["acme_audit"].post("/v1/tenants/acme/tickets", json={
        "title": "x", "impact": "low", "urgency": "low"}), 403)
    assert ticket_count() == before


def test_list_filters(staff):
    tag = uuid.uuid4().hex[:6]
    a = create(staff["tech"], category=f"cat_{tag}", impact="high", urgency="high").json()
    b = create(staff["tech"], category=f"cat_{tag}", impact="low", urgency="low").json()
    note = {"summary": "x", "tried": "y", "next_action": "z"}
    resp = staff["tech"].post(f"/v1/tenants/acme/tickets/{b['id']}/escalations",
                              json={"kind": "handoff", "to": "internal_it", "note": note})
    assert resp.status_code == 201, resp.text
    resp = staff["tech"].patch(f"/v1/tenants/acme/tickets/{b['id']}",
                               headers={"If-Match": '"2"'}, json={"assignee": "tech.alice"})
    assert resp.status_code == 200, resp.text

    def ids(query):
        resp = staff["tech"].get(f"/v1/tenants/acme/tickets?category=cat_{tag}&{query}")
        assert resp.status_code == 200, resp.text
        return {t["id"] for t in resp.json()["items"]}

    assert ids("") == {a["id"], b["id"]}
    assert ids("priority=P1") == {a["id"]}
    assert ids("priority=P1,P4") == {a["id"], b["id"]}
    assert ids("status=assigned") == {b["id"]}
    assert ids("status=new,assigned") == {a["id"], b["id"]}
    assert ids("assignee=tech.alice") == {b["id"]}
    assert ids("side=internal_it") == {b["id"]}
    assert ids("updated_since=2000-01-01T00:00:00Z") == {a["id"], b["id"]}
    assert ids("updated_since=2999-01-01T00:00:00Z") == set()


def test_list_pages_follow_link_without_gaps_or_repeats(staff):
    tag = f"page_{uuid.uuid4().hex[:6]}"
    made = {create(staff["tech"], category=tag).json()["id"] for _ in range(7)}
    url = f"/v1/tenants/acme/tickets?category={tag}&limit=3"
    seen = []
    while url:
        resp = staff["tech"].get(url)
        seen += [t["id"] for t in resp.json()["items"]]
        link = resp.headers.get("Link")
        url = link[link.index("/v1/"):link.index(">")] if link else None
    assert len(seen) == 7 and set(seen) == made
    numbers = [int(i.split("-")[1]) for i in seen]
    assert numbers == sorted(numbers, reverse=True)


def test_patch_lifecycle_with_etags(staff):
    t = create(staff["acme_it"]).json()
    url = f"/v1/tenants/acme/tickets/{t['id']}"
    c = staff["tech"]
    problem(c.patch(url, json={"status": "in_progress"}), 428)
    r = c.patch(url, headers={"If-Match": '"1"'}, json={"assignee": "tech.alice"})
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    assert r.headers["ETag"] == '"2"'
    stale = problem(c.patch(url, headers={"If-Match": '"1"'}, json={"status": "in_progress"}),
                    412)
    assert "read it again" in stale["detail"]
    for status, etag in (("in_progress", '"2"'), ("pending_customer", '"3"'),
                         ("in_progress", '"4"'), ("resolved", '"5"')):
        r = c.patch(url, headers={"If-Match": etag}, json={"status": status})
        assert r.status_code == 200, r.text
    assert r.json()["resolved_at"] is not None
    # reopen, then resolve and close; closed is final
    r = c.patch(url, headers={"If-Match": '"6"'}, json={"status": "in_progress"})
    assert r.json()["resolved_at"] is None
    c.patch(url, headers={"If-Match": '"7"'}, json={"status": "resolved"})
    r = c.patch(url, headers={"If-Match": '"8"'}, json={"status": "closed"})
    assert r.json()["closed_at"] is not None
    body = problem(c.patch(url, headers={"If-Match": '"9"'}, json={"status": "in_progress"}),
                   422)
    assert body["errors"][0]["field"] == "status" and "final" in body["errors"][0]["message"]
    kinds = admin_query("SELECT count(*) FROM ticket_events e JOIN tenants t USING (tenant_id)"
                        " WHERE t.slug = 'acme' AND e.ticket_number = %s AND kind = 'updated'",
                        (t["number"],))[0][0]
    assert kinds == 8


def test_patch_forbidden_for_requesters_and_invisible_for_others(staff):
    t = create(staff["acme_user"]).json()
    url = f"/v1/tenants/acme/tickets/{t['id']}"
    problem(staff["acme_user"].patch(url, headers={"If-Match": '"1"'},
                                     json={"title": "mine"}), 403)
    problem(staff["globex_it"].patch(url, headers={"If-Match": '"1"'},
                                     json={"title": "theirs"}), 404)
    assert staff["tech"].get(url).json()["version"] == 1


def test_comments_public_staff_and_provider(staff):
    t = create(staff["acme_user"]).json()
    url = f"/v1/tenants/acme/tickets/{t['id']}"
    r = staff["tech"].post(url + "/comments", json={"body": "Checked the logs",
                                                    "visibility": "staff"})
    assert r.status_code == 201 and r.json()["visibility"] == "staff"
    r = staff["tech"].post(url + "/comments", json={"body": "Billable: out of contract",
                                                    "visibility": "provider"})
    assert r.status_code == 201 and r.json()["visibility"] == "provider"
    r = staff["tech"].post(url + "/comments", json={"body": "Please restart"})
    assert r.status_code == 201 and r.json()["visibility"] == "public"
    r = staff["acme_user"].post(url + "/comments", json={"body": "Done, still broken"})
    assert r.status_code == 201
    for visibility in ("staff", "provider"):
        problem(staff["acme_user"].post(url + "/comments", json={
            "body": "x", "visibility": visibility}), 403)
    problem(staff["acme_it"].post(url + "/comments", json={"body": "x",
                                                           "visibility": "provider"}), 403)
    seen_by_requester = [c["body"] for c in staff["acme_user"].get(url).json()["comments"]]
    assert seen_by_requester == ["Please restart", "Done, still broken"]
    seen_by_it = [c["body"] for c in staff["acme_it"].get(url).json()["comments"]]
    assert seen_by_it == ["Checked the logs", "Please restart", "Done, still broken"]
    seen_by_tech = [c["body"] for c in staff["tech"].get(url).json()["comments"]]
    assert seen_by_tech == ["Checked the logs", "Billable: out of contract", "Please restart",
                            "Done, still broken"]


def test_queue_spans_visible_tenants_sorted_and_filtered(staff):
    items = staff["tech"].get("/v1/queue?limit=200").json()["items"]
    assert items and {t["tenant"] for t in items} == {"acme", "globex"}
    assert all(t["status"] not in ("resolved", "closed") for t in items)
    keys = [(t["priority"], t["created_at"]) for t in items]
    assert keys == sorted(keys)
    by_age = staff["tech"].get("/v1/queue?sort=age&limit=200").json()["items"]
    assert [t["created_at"] for t in by_age] == sorted(t["created_at"] for t in by_age)
    only = staff["tech"].get("/v1/queue?tenant=globex&limit=200").json()["items"]
    assert only and {t["tenant"] for t in only} == {"globex"}
    assert staff["tech"].get("/v1/queue?tenant=initech").json()["items"] == []
    problem(staff["acme_it"].get("/v1/queue"), 403)
    bob = staff["bob"].get("/v1/queue?limit=200").json()["items"]
    assert {t["tenant"] for t in bob} == {"acme", "initech"}


def test_queue_pages(staff):
    def walk(limit):
        seen, url = [], f"/v1/queue?tenant=initech&limit={limit}"
        while url:
            page = staff["lead"].get(url).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            url = f"/v1/queue?tenant=initech&limit={limit}&after={cursor}" if cursor else None
        return seen

    for _ in range(3):
        create(staff["bob"], slug="initech")
    by_two = walk(2)
    assert len(by_two) >= 3 and len(set(by_two)) == len(by_two)
    assert by_two == walk(200)


def test_idempotency_key_returns_the_first_response(staff):
    key = uuid.uuid4().hex
    body = {"title": unique("idem"), "impact": "low", "urgency": "low"}
    first = staff["tech"].post("/v1/tenants/acme/tickets", json=body,
                               headers={"Idempotency-Key": key})
    assert first.status_code == 201
    again = staff["tech"].post("/v1/tenants/acme/tickets", json=body,
                               headers={"Idempotency-Key": key})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert admin_query("SELECT count(*) FROM tickets WHERE title = %s", (body["title"],)) \
        == [(1,)]
    reused = problem(staff["tech"].post("/v1/tenants/acme/tickets",
                                        json={**body, "title": "different"},
                                        headers={"Idempotency-Key": key}), 422)
    assert "Idempotency-Key" in reused["title"]
    # Keys are per subject: another user's same key is a new request.
    other = staff["lead"].post("/v1/tenants/acme/tickets", json=body,
                               headers={"Idempotency-Key": key})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


# ---- isolation over HTTP ----------------------------------------------

def test_tenant_principal_gets_404_for_other_tenants_and_never_sees_their_rows(staff):
    theirs = create(staff["globex_it"], slug="globex").json()
    url = f"/v1/tenants/globex/tickets/{theirs['id']}"
    c = staff["acme_it"]
    problem(c.get(url), 404)
    problem(c.get("/v1/tenants/globex/tickets"), 404)
    problem(c.patch(url, headers={"If-Match": '"1"'}, json={"title": "x"}), 404)
    problem(c.post(url + "/comments", json={"body": "x"}), 404)
    before = ticket_count()
    problem(c.post("/v1/tenants/globex/tickets", json={"title": "x", "impact": "low",
                                                       "urgency": "low"}), 404)
    assert ticket_count() == before
    # The same number under its own tenant's slug is not the other ticket.
    problem(c.get(f"/v1/tenants/acme/tickets/{theirs['id']}"), 404)
    for t in c.get("/v1/tenants/acme/tickets?limit=200").json()["items"]:
        assert t["tenant"] == "acme"
    assert staff["globex_it"].get(url).json()["comments"] == []


def test_technician_loses_a_tenant_on_the_next_request_after_unassign(as_user):
    subject = f"tech.temp{uuid.uuid4().hex[:6]}"
    run_mspctl("assign", subject, "initech", "technician", "L1", check=True)
    c = as_user(subject, "provider", "technician")
    assert [t["slug"] for t in c.get("/v1/tenants").json()["items"]] == ["initech"]
    assert c.get("/v1/tenants/initech/tickets").status_code == 200
    run_mspctl("unassign", subject, "initech", check=True)
    assert c.get("/v1/tenants").json()["items"] == []
    problem(c.get("/v1/tenants/initech/tickets"), 404)
    assert c.get("/v1/queue").json()["items"] == []
