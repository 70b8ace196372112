"""A tenant's assets (POST, GET and PATCH /v1/tenants/{slug}/assets, their
history and tickets), imports of MDM exports (POST .../assets/import and
`mspctl assets import`) and the compliance report: who may do what, what
bad input and bad files get (and that they write nothing beyond what the
report says), the history as of an instant, and compliance figures of a
seeded fleet recomputed here from its definitions (METRICS.md, "Asset
compliance")."""
import datetime as dt
import json
import random
import time
import uuid

import psycopg
import psycopg.types.json
import pytest

from conftest import env, run_mspctl, set_principal
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, ok, problem, q)

UTC = dt.timezone.utc
WRITERS = ("tech1", "lead", "am", "admin", "it", "itl")
READERS_ONLY = ("aud",)
NOT_STAFF = ("req", "integ")
KINDS = ("laptop", "desktop", "server", "phone", "tablet", "network", "printer",
         "saas_license", "other")
STATUSES = ("in_stock", "deployed", "in_repair", "retired", "lost")


@pytest.fixture(scope="module")
def ta(tmp_path_factory, as_user):
    return Tenant(tmp_path_factory.mktemp("assets"), as_user, prefix="ast")


@pytest.fixture(scope="module")
def tb(tmp_path_factory, as_user):
    return Tenant(tmp_path_factory.mktemp("assets2"), as_user, prefix="ast")


def url(t, ident=None, *rest):
    base = f"/v1/tenants/{t.slug}/assets"
    return "/".join([base, *map(str, ([ident] if ident is not None else []) + list(rest))])


def tag():
    return f"LT-{uuid.uuid4().hex[:8]}"


def footprint(t):
    """What an asset request could write in the tenant."""
    return q("SELECT (SELECT count(*) FROM assets WHERE tenant_id = %(t)s),"
             " (SELECT coalesce(sum(version), 0) FROM assets WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM asset_events WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM asset_import_rows WHERE tenant_id = %(t)s)",
             {"t": t.id})[0]


def created(t, by=None, **fields):
    body = {"tag": tag(), "kind": "laptop", **fields}
    resp = (by or t.it).post(url(t), json=body)
    doc = ok(resp, 201)
    assert resp.headers["ETag"] == '"1"'
    assert resp.headers["Location"].endswith(url(t, doc["id"]))
    return doc


def events_of(t, ident):
    return q("SELECT kind, source, data, actor_sub FROM asset_events WHERE tenant_id = %s"
             " AND asset_id = %s ORDER BY event_id", (t.id, int(ident)))


def all_pages(client, first):
    items, path = [], first
    while path:
        page = ok(client.get(path))
        items += page["items"]
        cursor = page["next_cursor"]
        path = cursor and f"{first}{'&' if '?' in first else '?'}after={cursor}"
    return items


# ---- the records -------------------------------------------------------------

FULL = {"name": "Finance laptop", "manufacturer": "Lenovo", "model": "ThinkPad T14 Gen 4",
        "serial": None, "os": "Windows", "os_version": "11 23H2", "assigned_to": "ann@acme.test",
        "department": "Finance", "site": "Boston HQ", "status": "deployed",
        "purchase_date": "2024-03-01", "warranty_end": "2027-03-01", "criticality": "high",
        "encrypted": True, "enrolled": True, "last_seen": "2026-11-30T08:15:00Z",
        "last_patched": "2026-11-20T02:00:00Z",
        "custom": {"cost_center": "FIN-200", "ram_gb": 32, "leased": False, "tier": "executive"}}


def test_those_who_work_tickets_write_assets_and_staff_of_both_sides_read(ta):
    for who in WRITERS:
        body = {**FULL, "serial": f"SN-{uuid.uuid4().hex[:10]}"}
        doc = created(ta, by=getattr(ta, who), **body)
        for field, value in body.items():
            assert doc[field] == value, (who, field)
        assert doc["version"] == 1 and doc["status_since"] == doc["created_at"]
        (kind, source, data, actor), = events_of(ta, doc["id"])
        assert (kind, source, actor) == ("created", "api", getattr(ta, who).sub)
        assert {k: data[k] for k in body} == body
        assert q("SELECT action, detail FROM audit_log WHERE tenant_id = %s AND target = %s",
                 (ta.id, f"asset:{doc['id']}")) == [("asset.create", {**body, "tag": doc["tag"],
                                                                     "kind": "laptop"})]
    # defaults: named by its tag, in stock, of medium criticality, unknowns null
    bare = created(ta)
    assert (bare["name"], bare["status"], bare["criticality"], bare["encrypted"],
            bare["custom"]) == (bare["tag"], "in_stock", "medium", None, {})
    before = footprint(ta)
    for who in READERS_ONLY + NOT_STAFF:
        body = problem(getattr(ta, who).post(url(ta), json={"tag": tag(), "kind": "laptop"}),
                       403)
        assert ("work tickets" if who in READERS_ONLY else "staff") in body["detail"], who
        problem(getattr(ta, who).patch(url(ta, doc["id"]), json={"site": "x"},
                                       headers={"If-Match": '"1"'}), 403)
    assert footprint(ta) == before
    for who in READERS_ONLY + WRITERS:
        client = getattr(ta, who)
        resp = client.get(url(ta, doc["id"]))
        assert ok(resp) == doc and resp.headers["ETag"] == '"1"'
        assert doc["id"] in [a["id"] for a in all_pages(client, url(ta) + "?limit=200")]
    for who in NOT_STAFF:
        assert "staff" in problem(getattr(ta, who).get(url(ta, doc["id"])), 403)["detail"]
        problem(getattr(ta, who).get(url(ta)), 403)
        problem(getattr(ta, who).get(url(ta, doc["id"], "history")), 403)


# Bad bodies: the body (over a valid one) and the field the 422 names.
BAD = [
    ({"tag": ""}, "tag"),
    ({"tag": "x" * 65}, "tag"),
    ({"tag": None}, "tag"),
    ({"kind": "desk"}, "kind"),
    ({"kind": None}, "kind"),
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"manufacturer": "x" * 101}, "manufacturer"),
    ({"model": 14}, "model"),
    ({"serial": ""}, "serial"),
    ({"os": "x" * 101}, "os"),
    ({"os_version": ["11"]}, "os_version"),
    ({"assigned_to": "bad\u0001name"}, "assigned_to"),
    ({"department": ""}, "department"),
    ({"site": "x" * 201}, "site"),
    ({"status": "gone"}, "status"),
    ({"status": None}, "status"),
    ({"purchase_date": "2026-02-30"}, "purchase_date"),
    ({"purchase_date": "01/03/2024"}, "purchase_date"),
    ({"warranty_end": "2026-13-01"}, "warranty_end"),
    ({"purchase_date": "2025-01-01", "warranty_end": "2024-12-31"}, "warranty_end"),
    ({"criticality": "urgent"}, "criticality"),
    ({"encrypted": "yes"}, "encrypted"),
    ({"enrolled": 1}, "enrolled"),
    ({"last_seen": "yesterday"}, "last_seen"),
    ({"last_patched": "2026-11-31T00:00:00Z"}, "last_patched"),
    ({"custom": "FIN-200"}, "custom"),
    ({"custom": {"ram_gb": {"value": 16}}}, "custom"),
    ({"custom": {"colour": "red"}}, "custom.colour"),
    ({"custom": {"ram_gb": "16"}}, "custom.ram_gb"),
    ({"custom": {"ram_gb": 0}}, "custom.ram_gb"),
    ({"custom": {"ram_gb": 16.5}}, "custom.ram_gb"),
    ({"custom": {"cost_center": "x" * 21}}, "custom.cost_center"),
    ({"custom": {"leased": "no"}}, "custom.leased"),
    ({"custom": {"tier": "gold"}}, "custom.tier"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("change,field", BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(ta, change, field):
    before = footprint(ta)
    body = {"tag": tag(), "kind": "laptop", **change}
    doc = problem(ta.it.post(url(ta), json=body), 422)
    assert field in {e["field"] for e in doc["errors"]}, doc
    assert footprint(ta) == before
    # the same change to an existing asset (a create's required fields aside)
    if field not in ("colour",) and change.get("tag", 1) is not None \
            and change.get("kind", 1) is not None:
        mine = created(ta)
        before = footprint(ta)
        doc = problem(ta.it.patch(url(ta, mine["id"]), json=change,
                                  headers={"If-Match": '"1"'}), 422)
        assert field in {e["field"] for e in doc["errors"]}, doc
        assert footprint(ta) == before


def test_a_serial_and_a_tag_belong_to_one_asset(ta):
    first = created(ta, serial=f"SN-{uuid.uuid4().hex[:8]}")
    before = footprint(ta)
    body = problem(ta.it.post(url(ta), json={"tag": tag(), "kind": "laptop",
                                             "serial": first["serial"]}), 422)
    assert body["errors"][0]["field"] == "serial" and first["tag"] in body["errors"][0][
        "message"]
    problem(ta.it.post(url(ta), json={"tag": first["tag"], "kind": "desktop"}), 422)
    assert footprint(ta) == before


def test_bad_requests_are_problems(ta):
    doc = created(ta)
    problem(ta.it.post(url(ta), data="{", headers={"Content-Type": "application/json"}), 400)
    problem(ta.it.post(url(ta), json=["laptop"]), 400)
    problem(ta.it.get(url(ta, 987654321)), 404)
    problem(ta.it.get(url(ta, "abc")), 404)
    problem(ta.it.get(url(ta, doc["id"]) + "?as_of=yesterday"), 400)
    problem(ta.it.get(url(ta, doc["id"]) + "?colour=red"), 400)
    problem(ta.it.patch(url(ta, doc["id"]), json={}, headers={"If-Match": '"1"'}), 422)
    for query, field in (("kind=desk", "kind"), ("status=gone", "status"),
                         ("encrypted=yes", "encrypted"), ("patched_before=2026-02-30",
                                                          "patched_before"),
                         ("warranty_before=soon", "warranty_before"),
                         ("not_seen_since=2026-11-01", "not_seen_since"),
                         ("after=zzz", "after"), ("limit=0", "limit"), ("colour=red", "colour")):
        body = problem(ta.it.get(f"{url(ta)}?{query}"), 400)
        assert field in {e["field"] for e in body["errors"]}, (query, body)


def test_a_change_needs_the_version_and_keeps_the_history(ta):
    doc = created(ta, assigned_to="ann@acme.test", encrypted=False, status="deployed",
                  custom={"ram_gb": 16})
    u = url(ta, doc["id"])
    before = footprint(ta)
    problem(ta.it.patch(u, json={"assigned_to": "bob@acme.test"}), 428)
    stale = ta.it.patch(u, json={"assigned_to": "bob@acme.test"}, headers={"If-Match": '"7"'})
    problem(stale, 412)
    assert stale.headers["ETag"] == '"1"'
    assert footprint(ta) == before
    time.sleep(1.1)
    between = dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.1)
    resp = ta.it.patch(u, json={"assigned_to": "bob@acme.test", "encrypted": True,
                                "status": "in_repair", "custom": {"ram_gb": 32}},
                       headers={"If-Match": '"1"'})
    now = ok(resp)
    assert resp.headers["ETag"] == '"2"' and now["version"] == 2
    assert now["status_since"] == now["updated_at"] != doc["status_since"]
    # the same values again change nothing: no version, no event
    same = ok(ta.it.patch(u, json={"assigned_to": "bob@acme.test"}, headers={"If-Match": '"2"'}))
    assert same == now
    events = events_of(ta, doc["id"])
    assert [e[0] for e in events] == ["created", "changed"]
    assert events[1][2] == {"assigned_to": {"from": "ann@acme.test", "to": "bob@acme.test"},
                            "encrypted": {"from": False, "to": True},
                            "status": {"from": "deployed", "to": "in_repair"},
                            "custom": {"from": {"ram_gb": 16}, "to": {"ram_gb": 32}}}
    # who had it, and was it encrypted, at an instant before the change
    then = ok(ta.aud.get(f"{u}?as_of={between}"))
    assert (then["assigned_to"], then["encrypted"], then["status"], then["custom"],
            then["version"]) == ("ann@acme.test", False, "deployed", {"ram_gb": 16}, 1)
    assert ok(ta.aud.get(u)) == now
    problem(ta.aud.get(f"{u}?as_of=2020-01-01T00:00:00Z"), 404)
    history = all_pages(ta.aud, f"{u}/history?limit=1")
    assert [(h["kind"], h["source"], h["by"]) for h in history] == [
        ("created", "api", ta.it.sub), ("changed", "api", ta.it.sub)]
    assert history[1]["data"] == events[1][2]
    assert [a[0] for a in q("SELECT action FROM audit_log WHERE tenant_id = %s AND target = %s"
                            " ORDER BY audit_id", (ta.id, f"asset:{doc['id']}"))] == [
        "asset.create", "asset.update"]


def test_a_retried_create_gives_the_first_answer(ta):
    key = uuid.uuid4().hex
    body = {"tag": tag(), "kind": "phone"}
    first = ta.it.post(url(ta), json=body, headers={"Idempotency-Key": key})
    again = ta.it.post(url(ta), json=body, headers={"Idempotency-Key": key})
    assert ok(first, 201) == ok(again, 201)
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == '"1"'
    assert q("SELECT count(*) FROM assets WHERE tenant_id = %s AND tag = %s",
             (ta.id, body["tag"]))[0][0] == 1
    other = ta.it.post(url(ta), json={**body, "kind": "tablet"},
                       headers={"Idempotency-Key": key})
    assert other.status_code in (409, 422), other.text


def test_a_tickets_assets_and_an_assets_tickets(ta):
    laptop, dock = created(ta), created(ta, kind="other")
    tickets = [ta.create(asset_ids=[laptop["id"], dock["id"]]), ta.create(asset_ids=[laptop["id"]]),
               ta.create()]
    listed = all_pages(ta.it, url(ta, laptop["id"], "tickets") + "?limit=1")
    assert [k["id"] for k in listed] == [tickets[1]["id"], tickets[0]["id"]]
    assert [k["id"] for k in all_pages(ta.aud, url(ta, dock["id"], "tickets"))] == [
        tickets[0]["id"]]
    assert [a["id"] for a in ok(ta.it.get(ta.url(tickets[0]["id"], "assets")))["items"]] == \
        sorted([laptop["id"], dock["id"]])
    assert ok(ta.it.get(ta.url(tickets[0]["id"], "assets")))["items"][0] == ok(
        ta.it.get(url(ta, min(laptop["id"], dock["id"]))))
    problem(ta.it.get(url(ta, 987654321, "tickets")), 404)
    problem(ta.req.get(url(ta, laptop["id"], "tickets")), 403)


def test_lists_filter_by_every_field_they_name(ta, tb):
    """tb's fleet only, so that the expected sets are this test's."""
    fleet = []
    rnd = random.Random(15)
    for i in range(24):
        fleet.append(created(
            tb, kind=rnd.choice(("laptop", "desktop", "phone")), status=rnd.choice(STATUSES),
            site=rnd.choice(("Boston", "Pune")), department=rnd.choice(("Finance", "Sales")),
            assigned_to=rnd.choice(("ann", "bob", None)), model=rnd.choice(("T14", "X1")),
            encrypted=rnd.choice((True, False, None)), enrolled=rnd.choice((True, False, None)),
            last_patched=rnd.choice((None, "2026-10-01T00:00:00Z", "2026-11-20T00:00:00Z")),
            warranty_end=rnd.choice((None, "2026-12-31", "2028-01-01")),
            last_seen=rnd.choice((None, "2026-09-01T00:00:00Z", "2026-11-30T00:00:00Z"))))
    cases = {
        "kind=phone": lambda a: a["kind"] == "phone",
        "status=retired": lambda a: a["status"] == "retired",
        "site=Pune": lambda a: a["site"] == "Pune",
        "department=Finance": lambda a: a["department"] == "Finance",
        "user=ann": lambda a: a["assigned_to"] == "ann",
        "model=X1": lambda a: a["model"] == "X1",
        "encrypted=false": lambda a: a["encrypted"] is False,
        "enrolled=true": lambda a: a["enrolled"] is True,
        "patched_before=2026-11-01": lambda a: a["last_patched"] is None
        or a["last_patched"] < "2026-11-01",
        "warranty_before=2027-01-01": lambda a: a["warranty_end"] is None
        or a["warranty_end"] < "2027-01-01",
        "not_seen_since=2026-10-01T00:00:00Z": lambda a: a["last_seen"] is None
        or a["last_seen"] < "2026-10-01",
        "kind=laptop&site=Boston&encrypted=true": lambda a: a["kind"] == "laptop"
        and a["site"] == "Boston" and a["encrypted"] is True,
    }
    for query, wanted in cases.items():
        got = [a["id"] for a in all_pages(tb.it, f"{url(tb)}?{query}&limit=3")]
        assert got == [a["id"] for a in fleet if wanted(a)], query
    assert [a["id"] for a in all_pages(tb.it, f"{url(tb)}?limit=5")] == [a["id"] for a in fleet]


# ---- importing ---------------------------------------------------------------

INTUNE_HEADER = ("Device ID,Device name,Enrollment date,Last check-in,Microsoft Entra Device ID,"
                 "OS version,Serial number,Manufacturer,Model,Primary user UPN,"
                 "Primary user email address,Compliance,Managed by,Ownership,Device state,"
                 "Encrypted,OS,Security patch level")


def intune_csv(rows):
    lines = [INTUNE_HEADER]
    for r in rows:
        lines.append(",".join([
            uuid.uuid4().hex, r["name"], "2024-01-10 08:00:00.0000000", r["seen"], "x",
            r["osv"], r["serial"], r["make"], r["model"], r["upn"], "", "Compliant", "Intune",
            "Corporate", r.get("state", "Managed"), r["enc"], r["os"], r.get("patch", "")]))
    return ("\r\n".join(lines) + "\r\n").encode()


def import_(t, data, profile="generic", dry_run=None, by=None):
    query = f"?profile={profile}" + ("" if dry_run is None else f"&dry_run={dry_run}")
    return (by or t.it).post(url(t) + "/import" + query, data=data)


def by_serial(t, serial):
    return q("SELECT to_jsonb(a) FROM assets a WHERE tenant_id = %s AND serial = %s",
             (t.id, serial))[0][0]


def test_an_intune_export_imports_and_imports_again_unchanged(ta):
    s = uuid.uuid4().hex[:6].upper()
    rows = [
        dict(name="LAP-1", seen="2026-12-01 09:12:33.0000000", osv="10.0.22631.4460",
             serial=f"W{s}1", make="Dell Inc.", model="Latitude 5440", upn="ann@acme.test",
             enc="True", os="Windows"),
        dict(name="DESK-2", seen="2026-10-01 09:12:33.0000000", osv="10.0.22631.4460",
             serial=f"W{s}2", make="Dell Inc.", model="OptiPlex 7010", upn="bob@acme.test",
             enc="False", os="Windows"),
        dict(name="iPhone de Carla", seen="0001-01-01 00:00:00.0000000", osv="17.5.1",
             serial=f"P{s}3", make="Apple", model="iPhone 15", upn="carla@acme.test",
             enc="True", os="iOS/iPadOS"),
        dict(name="Tab", seen="2026-12-02 09:12:33.0000000", osv="14", serial=f"A{s}4",
             make="samsung", model="Galaxy Tab S9", upn="dan@acme.test", enc="true",
             os="Android", state="retirePending", patch="2026-11-01"),
    ]
    data = intune_csv(rows)
    before = footprint(ta)
    dry = ok(import_(ta, data, "intune", dry_run="true"))
    assert (dry["dry_run"], dry["rows"], dry["created"]) == (True, 4, 4)
    assert footprint(ta) == before
    report = ok(import_(ta, data, "intune"))
    assert {k: report[k] for k in ("profile", "dry_run", "rows", "created", "updated",
                                   "unchanged", "rejected")} == {
        "profile": "intune", "dry_run": False, "rows": 4, "created": 4, "updated": 0,
        "unchanged": 0, "rejected": 0}
    assert [(x["line"], x["outcome"]) for x in report["lines"]] == [
        (2, "created"), (3, "created"), (4, "created"), (5, "created")]
    # the dry run said what the import did
    assert [(x["line"], x["outcome"]) for x in dry["lines"]] == [
        (x["line"], x["outcome"]) for x in report["lines"]]
    lap, desk, phone, tab = (by_serial(ta, r["serial"]) for r in rows)
    assert (lap["tag"], lap["name"], lap["kind"], lap["status"], lap["manufacturer"],
            lap["model"], lap["os"], lap["os_version"], lap["assigned_to"], lap["encrypted"],
            lap["enrolled"]) == (rows[0]["serial"], "LAP-1", "laptop", "deployed", "Dell Inc.",
                                 "Latitude 5440", "Windows", "10.0.22631.4460",
                                 "ann@acme.test", True, True)
    assert lap["last_seen"].startswith("2026-12-01T09:12:33")
    assert (desk["kind"], desk["encrypted"]) == ("desktop", False)
    assert (phone["kind"], phone["last_seen"]) == ("phone", None)
    assert (tab["kind"], tab["enrolled"], tab["last_patched"][:10]) == ("tablet", False,
                                                                        "2026-11-01")
    assert [e[1] for e in events_of(ta, lap["asset_id"])] == ["import:intune"]
    assert footprint(ta)[2] == before[2] + 4 and footprint(ta)[3] == before[3] + 1
    assert q("SELECT detail FROM audit_log WHERE tenant_id = %s AND action = 'asset.import'"
             " ORDER BY audit_id DESC LIMIT 1", (ta.id,))[0][0] == {
        "source": "import:intune", "rows": 4, "created": 4, "updated": 0, "unchanged": 0,
        "rejected": 0}

    # again: nothing changes
    mid = footprint(ta)
    again = ok(import_(ta, data, "intune"))
    assert (again["unchanged"], again["created"], again["updated"]) == (4, 0, 0)
    assert footprint(ta)[:3] == mid[:3]

    # a person corrects a kind; the next export moves a device to another user
    ok(ta.it.patch(url(ta, desk["asset_id"]), json={"kind": "server", "site": "Boston"},
                   headers={"If-Match": '"1"'}))
    rows[1]["upn"] = "erin@acme.test"
    moved = ok(import_(ta, intune_csv(rows), "intune"))
    assert [(x["line"], x["outcome"]) for x in moved["lines"]] == [
        (2, "unchanged"), (3, "updated"), (4, "unchanged"), (5, "unchanged")]
    desk = by_serial(ta, rows[1]["serial"])
    assert (desk["kind"], desk["site"], desk["assigned_to"]) == ("server", "Boston",
                                                                 "erin@acme.test")
    assert events_of(ta, desk["asset_id"])[-1][1:3] == (
        "import:intune", {"assigned_to": {"from": "bob@acme.test", "to": "erin@acme.test"}})


JAMF_CSV = """Computer Name,Serial Number,Asset Tag,Model,Operating System Version,Username,\
Department,Building,Last Check-in,PO Date,Warranty Expiration,FileVault 2 Status,Managed
Ann's MacBook,C02{s}1,ACME-0101,"MacBook Pro (14-inch, 2023)",14.6.1,ann,Finance,Boston,\
2026-11-30 08:00:00,2023-05-02,2026-05-02,All Partitions Encrypted,Managed
Studio,C02{s}2,,Mac Studio (2023),15.1,,Design,Pune,1970-01-01 00:00:00,,,\
No Partitions Encrypted,Unmanaged
,,,,,,,,,,,,
"""


def test_a_jamf_export_as_csv_and_as_json(ta):
    s = uuid.uuid4().hex[:6].upper()
    report = ok(import_(ta, JAMF_CSV.format(s=s).encode(), "jamf"))
    assert (report["rows"], report["created"], report["rejected"]) == (2, 2, 0)
    mac, studio = by_serial(ta, f"C02{s}1"), by_serial(ta, f"C02{s}2")
    assert (mac["tag"], mac["name"], mac["kind"], mac["manufacturer"], mac["os"],
            mac["os_version"], mac["assigned_to"], mac["department"], mac["site"],
            mac["purchase_date"], mac["warranty_end"], mac["encrypted"], mac["enrolled"]) == (
        "ACME-0101", "Ann's MacBook", "laptop", "Apple", "macOS", "14.6.1", "ann", "Finance",
        "Boston", "2023-05-02", "2026-05-02", True, True)
    assert (studio["tag"], studio["kind"], studio["last_seen"], studio["encrypted"],
            studio["enrolled"], studio["assigned_to"]) == (f"C02{s}2", "desktop", None, False,
                                                         False, None)
    # the API's JSON: the same devices, one of them patched since
    doc = {"totalCount": 2, "results": [
        {"general": {"name": "Ann's MacBook", "assetTag": "ACME-0101",
                     "lastContactTime": "2026-12-01T08:00:00Z",
                     "remoteManagement": {"managed": True}},
         "hardware": {"serialNumber": f"C02{s}1", "model": "MacBook Pro (14-inch, 2023)",
                      "make": "Apple"},
         "operatingSystem": {"version": "15.1", "fileVault2Status": "ALL_ENCRYPTED"},
         "userAndLocation": {"username": "ann"},
         "purchasing": {"poDate": "2023-05-02", "warrantyDate": "2026-05-02"}},
        {"general": {"name": "Studio", "remoteManagement": {"managed": False}},
         "hardware": {"serialNumber": f"C02{s}2", "model": "Mac Studio (2023)"},
         "operatingSystem": {"version": "15.1", "fileVault2Status": "NOT_ENCRYPTED"}}]}
    again = ok(import_(ta, json.dumps(doc).encode(), "jamf"))
    assert [(x["line"], x["outcome"]) for x in again["lines"]] == [(1, "updated"),
                                                                    (2, "unchanged")]
    mac = by_serial(ta, f"C02{s}1")
    assert (mac["os_version"], mac["last_seen"][:10]) == ("15.1", "2026-12-01")


def test_the_generic_profile_takes_the_api_fields_and_custom_columns(ta):
    s = uuid.uuid4().hex[:6]
    csv = (f"tag,serial,kind,status,site,encrypted,enrolled,purchase_date,warranty_end,"
           f"last_patched,custom.ram_gb,custom.leased,custom.tier\n"
           f"G-{s}-1,GS{s}1,server,deployed,DC1,yes,no,2022-01-01,2025-01-01,"
           f"2026-11-01T00:00:00Z,64,true,standard\n"
           f"G-{s}-2,GS{s}2,printer,in_stock,,,,,,,,,\n").encode()
    report = ok(import_(ta, csv))
    assert (report["created"], report["rejected"]) == (2, 0), report
    srv = by_serial(ta, f"GS{s}1")
    assert (srv["kind"], srv["encrypted"], srv["enrolled"], srv["custom"]) == (
        "server", True, False, {"ram_gb": 64, "leased": True, "tier": "standard"})
    # JSON, with typed values: the custom fields merge with those stored
    doc = [{"serial": f"GS{s}1", "custom": {"ram_gb": 128}, "criticality": "critical"}]
    ok(import_(ta, json.dumps(doc).encode()))
    srv = by_serial(ta, f"GS{s}1")
    assert (srv["criticality"], srv["custom"]) == ("critical", {"ram_gb": 128, "leased": True,
                                                                "tier": "standard"})


def test_rows_that_are_wrong_are_rejected_with_their_line_and_the_rest_imported(ta):
    s = uuid.uuid4().hex[:6]
    existing = created(ta, serial=f"X{s}0")
    csv = "\n".join([
        "serial,tag,kind,purchase_date,last_seen,encrypted,status,custom.ram_gb",
        f"X{s}1,,laptop,2024-01-01,,,,",                  # 2 ok
        f"X{s}1,,laptop,,,,,",                            # 3 the serial again
        f"X{s}3,,laptop,2024-02-30,,,,",                  # 4 no such date
        f"X{s}4,,laptop,,last week,,,",                   # 5 not a time
        f"X{s}5,,laptop,,,maybe,,",                       # 6 not a boolean
        f"X{s}6,,,,,,,",                                  # 7 a new asset with no kind
        f"X{s}7,,laptop,,,,broken,",                      # 8 no such status
        f"X{s}8,,laptop,,,,,16GB",                        # 9 a custom field's type
        f"X{s}9,{existing['tag']},laptop,,,,,",           # 10 another asset's tag
        f"X{s}10,,laptop",                                # 11 too few fields
        ",,,,,,,",                                        # a blank row: skipped
        f"X{s}12,,laptop,,,,,",                           # 13 ok
    ]).encode()
    before = footprint(ta)
    report = ok(import_(ta, csv))
    got = {x["line"]: (x["outcome"], x["reason"]) for x in report["lines"]}
    assert got[2][0] == got[13][0] == "created"
    assert got[3] == ("rejected", f"serial 'X{s}1' is also on line 2")
    assert got[4] == ("rejected", "purchase_date '2024-02-30' must be a date as YYYY-MM-DD")
    assert got[5][1].startswith("last_seen 'last week' must be a time")
    assert got[6][1] == "encrypted 'maybe' must be true or false"
    assert got[7][1] == "kind is required for a new asset"
    assert got[8][1].startswith("status 'broken' must be one of")
    assert got[9][1].startswith("custom.ram_gb must be a whole number")
    assert got[10][1] == f"tag is the tag of another asset of this tenant"
    assert got[11][1] == "has 3 fields where the header has 8"
    assert sorted(got) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert (report["created"], report["rejected"], report["rows"]) == (2, 9, 11)
    after = footprint(ta)
    # nothing beyond what the report says: two assets and their events, the import's audit row
    assert (after[0] - before[0], after[2] - before[2], after[3] - before[3], after[4]) == (
        2, 2, 1, 0)


def test_a_line_of_ten_megabytes_is_one_rejected_row(ta):
    s = uuid.uuid4().hex[:6]
    data = (f"serial,kind,site\nL{s}1,laptop,A\nL{s}2,laptop,{'x' * 10_000_000}\n"
            f"L{s}3,laptop,B\n").encode()
    report = ok(import_(ta, data))
    assert [(x["line"], x["outcome"]) for x in report["lines"]] == [
        (2, "created"), (3, "rejected"), (4, "created")]
    assert report["lines"][1]["reason"] == "the line is longer than 64 KiB"


@pytest.mark.parametrize("name,data,profile,says", [
    ("semicolons", b"serial;kind\nS1;laptop\n", "generic", "separated by semicolons"),
    ("tabs", b"serial\tkind\nS1\tlaptop\n", "generic", "separated by tabs"),
    ("utf-16", "serial,kind\nS1,laptop\n".encode("utf-16"), "generic", "UTF-16"),
    ("utf-16-no-bom", "serial,kind\nS1,laptop\n".encode("utf-16-le"), "generic", "NUL bytes"),
    ("no serial column", b"Device name,Model\nLAP,Latitude\n", "intune",
     "the column 'Serial number' is missing"),
    ("no key column", b"kind,site\nlaptop,A\n", "generic", "the column 'serial' or 'tag'"),
    ("unknown column", b"serial,kind,colour\nS1,laptop,red\n", "generic",
     "unknown column 'colour'"),
    ("a column twice", b"serial,kind,serial\nS1,laptop,S2\n", "generic", "given twice"),
    ("empty", b"", "generic", "the file is empty"),
    ("a quote never closed", b"serial,kind\n\"S1,laptop\n", "generic", "never closed"),
    ("json that does not parse", b"[{\"serial\": \"S1\",}]", "generic", "not valid JSON"),
    ("json without devices", b"{\"devices\": []}", "intune", "\"value\""),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None)
def test_a_file_that_cannot_be_read_is_refused_whole(ta, name, data, profile, says):
    before = footprint(ta)
    body = problem(import_(ta, data, profile), 422)
    assert says in body["detail"] and "Nothing was imported" in body["detail"], body
    assert footprint(ta) == before


def test_import_roles_and_bad_queries(ta, tb):
    data = f"serial,kind\nR{uuid.uuid4().hex[:6]},laptop\n".encode()
    before = footprint(ta)
    for who in READERS_ONLY + NOT_STAFF:
        problem(import_(ta, data, by=getattr(ta, who)), 403)
    for who in ("itl", "lead", "it"):
        problem(import_(ta, data, by=getattr(tb, who)), 404)
    problem(import_(ta, data, profile="sccm"), 400)
    problem(import_(ta, data, dry_run="maybe"), 400)
    assert footprint(ta) == before


def test_mspctl_imports_a_file_with_progress(ta, tmp_path):
    s = uuid.uuid4().hex[:6]
    path = tmp_path / "fleet.csv"
    with path.open("w") as f:
        f.write("serial,kind,site\n")
        for i in range(12_000):
            f.write(f"M{s}{i},laptop,Site {i % 7}\n")
        f.write(f"M{s}5,laptop,again\n")
    before = footprint(ta)
    dry = run_mspctl("assets", "import", ta.slug, str(path), "--dry-run")
    assert dry.returncode == 1 and "(dry run: nothing was written)" in dry.stdout, dry
    assert footprint(ta) == before
    proc = run_mspctl("assets", "import", ta.slug, str(path))
    assert proc.returncode == 1, proc          # one row was rejected
    assert f"line 12002: rejected: serial 'M{s}5' is also on line 7" in proc.stdout
    assert "created 12000, updated 0, unchanged 0, rejected 1, of 12001 rows" in proc.stdout
    assert "10000 rows read" in proc.stderr and "10000 of 12001 rows applied" in proc.stderr
    assert footprint(ta)[0] == before[0] + 12000
    again = run_mspctl("assets", "import", ta.slug, str(path))
    assert "created 0, updated 0, unchanged 12000, rejected 1" in again.stdout, again
    bad = tmp_path / "bad.csv"
    bad.write_bytes("serial,kind\nS1,laptop\n".encode("utf-16"))
    proc = run_mspctl("assets", "import", ta.slug, str(bad))
    assert proc.returncode == 1 and "UTF-16" in proc.stderr and "nothing was imported" in \
        proc.stderr
    assert run_mspctl("assets", "import", ta.slug, str(path), "--profile", "sccm").returncode == 2
    assert run_mspctl("assets", "import", "no-such-tenant", str(path)).returncode == 1


# ---- compliance ---------------------------------------------------------------

AS_OF = dt.datetime(2027, 6, 15, 12, 0, tzinfo=UTC)
CHECKS = ("unencrypted", "not_enrolled", "not_patched", "warranty_ending", "not_seen",
          "retired_assigned", "out_of_warranty", "past_refresh_age", "refresh_due")


def refresh_date(a, months):
    """The purchase date plus the refresh age (a month's last day when the
    day does not exist in it), or None."""
    if a.get("purchase_date") is None:
        return None
    d = dt.date.fromisoformat(a["purchase_date"])
    y, m = divmod(d.month - 1 + months, 12)
    first = dt.date(d.year + y, m + 1, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first.replace(day=min(d.day, last.day))


def fails(check, a, patch_days, refresh_months=48):
    """METRICS.md's definitions, recomputed."""
    in_use = a["status"] in ("deployed", "in_repair")
    device = in_use and a["kind"] != "saas_license"
    today = AS_OF.date()
    warranty = a.get("warranty_end") and dt.date.fromisoformat(a["warranty_end"])
    refresh = refresh_date(a, refresh_months)

    def older(field, days):
        v = a.get(field)
        return v is None or dt.datetime.fromisoformat(v.replace("Z", "+00:00")) < \
            AS_OF - dt.timedelta(days=days)
    if check == "unencrypted":
        return in_use and a["kind"] in ("laptop", "desktop", "server", "phone", "tablet") \
            and a.get("encrypted") is not True
    if check == "not_enrolled":
        return in_use and a["kind"] in ("laptop", "desktop", "phone", "tablet") \
            and a.get("enrolled") is not True
    if check == "not_patched":
        return in_use and a["kind"] in ("laptop", "desktop", "server", "phone", "tablet",
                                        "network") and older("last_patched", patch_days)
    if check == "warranty_ending":
        w = a.get("warranty_end")
        return a["status"] not in ("retired", "lost") and a["kind"] != "saas_license" \
            and w is not None and today <= dt.date.fromisoformat(w) < today + \
            dt.timedelta(days=90)
    if check == "not_seen":
        return a["status"] == "deployed" and a["kind"] != "saas_license" \
            and older("last_seen", 30)
    if check == "retired_assigned":
        return a["status"] == "retired" and a.get("assigned_to") is not None
    if check == "out_of_warranty":
        return device and bool(warranty) and warranty < today
    if check == "past_refresh_age":
        return device and refresh is not None and refresh <= today
    assert check == "refresh_due"
    soon = today + dt.timedelta(days=90)
    return device and ((refresh is not None and refresh < soon) or bool(warranty and warranty < soon))


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, as_user):
    """A tenant of its own with 80 devices drawn at random, imported as JSON."""
    t = Tenant(tmp_path_factory.mktemp("fleet"), as_user, prefix="cmp")
    rnd = random.Random(2027)

    def when(days):
        return None if days is None else (AS_OF - dt.timedelta(days=days, hours=3)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    devices = []
    for i in range(80):
        d = {"serial": f"F{i:03d}", "kind": rnd.choice(KINDS), "status": rnd.choice(STATUSES),
             "encrypted": rnd.choice((True, False, None)),
             "enrolled": rnd.choice((True, False, None)),
             "last_patched": when(rnd.choice((None, 2, 13, 15, 60))),
             "last_seen": when(rnd.choice((None, 1, 29, 31, 200))),
             "assigned_to": rnd.choice((None, "ann", "bob")),
             "warranty_end": rnd.choice((None, "2027-06-14", "2027-06-15", "2027-09-12",
                                         "2027-09-13", "2029-01-01")),
             "purchase_date": rnd.choice((None, "2022-01-10", "2023-06-15", "2023-06-16",
                                          "2023-09-12", "2023-09-13", "2023-12-31",
                                          "2024-02-29"))}
        devices.append({k: v for k, v in d.items() if v is not None})
    report = ok(import_(t, json.dumps({"assets": devices}).encode()))
    assert report["created"] == 80, report
    return t, devices


def test_compliance_counts_and_lists_match_their_definitions(fleet):
    t, devices = fleet
    patch_days = t.doc["assets"]["patch_window_days"]
    as_of = AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ")
    report = ok(t.aud.get(f"/v1/tenants/{t.slug}/reports/compliance?as_of={as_of}"))
    refresh_months = t.doc["assets"]["refresh_age_months"]
    assert report["as_of"] == as_of and report["patch_window_days"] == patch_days
    assert report["refresh_age_months"] == refresh_months
    assert report["assets"] == 80
    assert report["in_use"] == sum(d["status"] in ("deployed", "in_repair") for d in devices)
    assert [c["check"] for c in report["checks"]] == list(CHECKS)
    serial_of = {a["id"]: a["serial"] for a in all_pages(t.aud, url(t) + "?limit=200")}
    for c in report["checks"]:
        expected = sorted(d["serial"] for d in devices
                          if fails(c["check"], d, patch_days, refresh_months))
        assert c["count"] == len(expected), c["check"]
        assert expected, f"the fleet has no device failing {c['check']}: a vacuous check"
        listed = all_pages(t.aud, c["assets"] + "&limit=7")
        assert sorted(serial_of[a["id"]] for a in listed) == expected, c["check"]
    # the lifecycle: per quarter from as_of's, the devices in use whose
    # warranty ends in it, and those reaching the refresh age in it
    quarters = []
    for n in range(4):
        y, m = divmod((AS_OF.month - 1) // 3 * 3 + 3 * n, 12)
        quarters.append(dt.date(AS_OF.year + y, m + 1, 1))
    quarters.append(dt.date(quarters[-1].year + (quarters[-1].month + 3 > 12),
                            (quarters[-1].month + 2) % 12 + 1, 1))
    in_use = [d for d in devices if d["status"] in ("deployed", "in_repair")
              and d["kind"] != "saas_license"]
    expected = []
    for first, after in zip(quarters, quarters[1:]):
        expected.append({
            "quarter": f"{first.year}-Q{(first.month - 1) // 3 + 1}",
            "warranty_ends": sum(first <= dt.date.fromisoformat(d["warranty_end"]) < after
                                 for d in in_use if d.get("warranty_end")),
            "refresh_age_reached": sum(first <= refresh_date(d, refresh_months) < after
                                       for d in in_use if d.get("purchase_date"))})
    assert report["lifecycle"] == expected
    assert any(q["warranty_ends"] for q in expected) and any(
        q["refresh_age_reached"] for q in expected), "a vacuous lifecycle"
    problem(t.req.get(f"/v1/tenants/{t.slug}/reports/compliance"), 403)
    problem(t.it.get(f"/v1/tenants/{t.slug}/reports/compliance/assets"), 400)
    problem(t.it.get(f"/v1/tenants/{t.slug}/reports/compliance/assets?check=dusty"), 400)
    problem(t.it.get(f"/v1/tenants/{t.slug}/reports/compliance?as_of=soon"), 400)


def test_compliance_as_of_an_instant_judges_the_assets_as_they_stood(ta):
    doc = created(ta, status="deployed", encrypted=False, serial=f"A{uuid.uuid4().hex[:8]}")
    time.sleep(1.1)
    as_of = dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.1)
    then = ok(ta.aud.get(f"/v1/tenants/{ta.slug}/reports/compliance?as_of={as_of}"))
    check = next(c for c in then["checks"] if c["check"] == "unencrypted")
    assert doc["id"] in [a["id"] for a in all_pages(ta.aud, check["assets"])]
    ok(ta.it.patch(url(ta, doc["id"]), json={"encrypted": True, "site": "Moved"},
                   headers={"If-Match": '"1"'}))
    assert ok(ta.aud.get(f"/v1/tenants/{ta.slug}/reports/compliance?as_of={as_of}")) == then
    listed = {a["id"]: a for a in all_pages(ta.aud, check["assets"])}
    assert listed[doc["id"]]["encrypted"] is False and listed[doc["id"]].get("site") is None
    now = ok(ta.aud.get(f"/v1/tenants/{ta.slug}/reports/compliance"))
    assert next(c for c in now["checks"] if c["check"] == "unencrypted")["count"] == \
        check["count"] - 1


# ---- isolation ------------------------------------------------------------------

def test_assets_are_isolated_over_http_and_in_the_database(ta, tb):
    doc = created(ta, serial=f"I{uuid.uuid4().hex[:8]}")
    ok(ta.it.patch(url(ta, doc["id"]), json={"site": "HQ"}, headers={"If-Match": '"1"'}))
    for who in ("itl", "am", "lead", "it"):
        client = getattr(tb, who)
        problem(client.get(url(ta, doc["id"])), 404)
        problem(client.get(url(ta, doc["id"], "history")), 404)
        problem(client.patch(url(ta, doc["id"]), json={"site": "x"},
                             headers={"If-Match": '"2"'}), 404)
        problem(client.post(url(ta), json={"tag": tag(), "kind": "laptop"}), 404)
        problem(client.get(f"/v1/tenants/{ta.slug}/reports/compliance"), 404)
    # tb's own id space does not reach ta's asset either
    problem(tb.it.get(url(tb, doc["id"])), 404)
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, tb.itl.sub, tb.slug, "it_leader")
        for table in ("assets", "asset_events", "asset_import_rows"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                                (ta.id,)).fetchone()[0] == 0, table
        assert conn.execute("UPDATE assets SET site = 'x' WHERE tenant_id = %s",
                            (ta.id,)).rowcount == 0
        assert conn.execute("SELECT * FROM app.create_asset(%s, %s::jsonb, NULL)",
                            (ta.slug, psycopg.types.json.Jsonb({"tag": tag(), "kind": "laptop"}))
                            ).fetchall() == []
        assert conn.execute("SELECT app.stage_assets(%s, '[{\"line\": 2, \"fields\": {}}]')",
                            (ta.slug,)).fetchone()[0] == 0
        assert conn.execute("SELECT * FROM app.import_assets(%s, 'import:generic', NULL)",
                            (ta.slug,)).fetchall() == []
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO assets (tenant_id, tag, name, kind) VALUES (%s, 'x', 'x',"
                         " 'laptop')", (ta.id,))
        conn.rollback()
        set_principal(conn, tb.itl.sub, tb.slug, "it_leader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO asset_events (tenant_id, asset_id, kind, source, data)"
                         " VALUES (%s, %s, 'changed', 'api', '{}')", (ta.id, doc["id"]))
        conn.rollback()
    # the tenant's auditor reads in SQL but cannot write; a requester sees
    # only the devices assigned to it or named on its tickets
    mine = created(ta, assigned_to=ta.req.sub)
    ticket = ta.create(asset_ids=[doc["id"]])
    assert ticket["requester"] == ta.req.sub
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, ta.aud.sub, ta.slug, "auditor")
        assert conn.execute("SELECT count(*) FROM assets WHERE tenant_id = %s",
                            (ta.id,)).fetchone()[0] > 2
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT app.create_asset(%s, %s::jsonb, NULL)",
                         (ta.slug, psycopg.types.json.Jsonb({"tag": tag(), "kind": "laptop"})))
        conn.rollback()
        set_principal(conn, ta.req.sub, ta.slug, "requester")
        seen = {r[0] for r in conn.execute("SELECT asset_id FROM assets")}
        on_its_tickets = {r[0] for r in q(
            "SELECT x.asset_id FROM ticket_assets x JOIN tickets k ON k.tenant_id = x.tenant_id"
            " AND k.number = x.ticket_number WHERE k.tenant_id = %s AND k.requester = %s",
            (ta.id, ta.req.sub))}
        assert doc["id"] in on_its_tickets and mine["id"] not in on_its_tickets
        assert seen == on_its_tickets | {mine["id"]}
        assert len(seen) < q("SELECT count(*) FROM assets WHERE tenant_id = %s", (ta.id,))[0][0]
        assert conn.execute("SELECT count(*) FROM asset_events").fetchone()[0] == 0
