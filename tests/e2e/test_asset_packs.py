"""The review packs' device sections: posture (the compliance report at the
pack's as_of), tickets per 100 devices by model (the failures report of
the period), the lifecycle by quarter and the quarterly refresh plan, each
equal to the report it comes from, each number linked to what it counts;
and the pack rendered again after the devices changed gives the same
bytes."""
import datetime as dt
import json
import time
import urllib.parse

import pytest

from conftest import run_mspctl
from test_assets import import_
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, ok, q)
from test_packs import section, table, wait_issued

DEVICES = [  # serial, model, purchase date, warranty end, encrypted
    ("P01", "ThinkPad T14 Gen 3", "2021-10-01", "2027-01-15", True),
    ("P02", "ThinkPad T14 Gen 3", "2022-12-20", "2026-12-31", False),
    ("P03", "ThinkPad T14 Gen 3", "2024-05-01", "2028-05-01", True),
    ("P04", "Latitude 5440", "2023-02-10", "2027-02-10", True),
    ("P05", "Latitude 5440", "2025-01-05", "2026-11-30", None),
    ("P06", "MacBook Air M2", "2022-09-09", "2027-09-09", True),
]


@pytest.fixture(scope="module")
def packs(tmp_path_factory, as_user):
    """A tenant with six devices since October and seven tickets on them in
    November, its November pack and its third-quarter pack as of now."""
    t = Tenant(tmp_path_factory.mktemp("assetpacks"), as_user, prefix="apk")
    body = [{"serial": s, "kind": "laptop", "model": m, "manufacturer": "Acme",
             "status": "deployed", "purchase_date": p, "warranty_end": w, "encrypted": e,
             "enrolled": True, "assigned_to": f"{s.lower()}@apk.test", "department": "Ops"}
            for s, m, p, w, e in DEVICES]
    ok(import_(t, json.dumps(body).encode()))
    ids = {a["serial"]: a["id"] for a in ok(t.it.get(f"/v1/tenants/{t.slug}/assets"))["items"]}
    numbers = []
    for i, serial in enumerate(("P01", "P01", "P02", "P04", "P04", "P04", "P06")):
        numbers.append(t.create(category=("hardware", "software")[i % 2],
                                asset_ids=[ids[serial]])["number"])
    # devices since October, tickets in November
    q("UPDATE assets SET created_at = '2026-10-01T00:00:00Z' WHERE tenant_id = %s"
      " RETURNING asset_id", (t.id,))
    q("UPDATE tickets SET created_at = '2026-11-02T00:00:00Z'::timestamptz"
      " + number * interval '1 day' WHERE tenant_id = %s AND number = ANY(%s) RETURNING number",
      (t.id, numbers))
    time.sleep(1.1)
    as_of = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.1)
    made = {}
    for kind, period in (("monthly", "2026-11"), ("quarterly", "2026-Q3")):
        resp = t.am.post(f"/v1/tenants/{t.slug}/packs",
                         json={"kind": kind, "period": period, "as_of": as_of})
        assert resp.status_code == 202, resp.text
        made[kind] = resp.json()["id"]
    docs = {kind: wait_issued(t.am, t.slug, pid) for kind, pid in made.items()}
    return {"t": t, "as_of": as_of, "docs": docs, "ids": made}


def get_path(client, path):
    return ok(client.get(path))


def test_posture_and_lifecycle_are_the_compliance_report_at_the_packs_date(packs):
    t, as_of = packs["t"], packs["as_of"]
    report = ok(t.am.get(f"/v1/tenants/{t.slug}/reports/compliance", params={"as_of": as_of}))
    for doc in packs["docs"].values():
        posture = table(doc, "asset_posture")
        assert [r[1] for r in posture["rows"]] == [c["count"] for c in report["checks"]]
        assert [r[2] for r in posture["rows"]] == [round(c["count"] / report["in_use"], 4)
                                                    for c in report["checks"]]
        for row, links, check in zip(posture["rows"], posture["links"], report["checks"]):
            listed = get_path(t.am, links[1])["items"]
            assert len(listed) == row[1] == check["count"], check["check"]
        lifecycle = table(doc, "asset_lifecycle")
        assert lifecycle["rows"] == [[q_["quarter"], q_["warranty_ends"],
                                      q_["refresh_age_reached"]] for q_ in report["lifecycle"]]
        assert sum(r[1] for r in lifecycle["rows"]) > 0, "a vacuous lifecycle"


def test_failures_by_model_are_the_periods_report_with_their_tickets(packs):
    t, as_of = packs["t"], packs["as_of"]
    doc = packs["docs"]["monthly"]
    report = ok(t.am.get(f"/v1/tenants/{t.slug}/reports/failures",
                         params={"period": "2026-11", "as_of": as_of}))["failures"]
    got = table(doc, "failures_by_model")
    assert [r[:6] for r in got["rows"]] == [
        [m["model"], m["devices"], m["tickets"], m["per_100_devices"], m["low"], m["high"]]
        for m in report["by_model"]]
    assert [m["model"] for m in report["by_model"]][:2] == ["Latitude 5440",
                                                            "ThinkPad T14 Gen 3"]
    for row, links in zip(got["rows"], got["links"]):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(links[2]).query)
        assert query["model"] == [row[0]] and query["as_of"] == [as_of]
        assert len(get_path(t.am, links[2])["items"]) == row[2]
        top = get_path(t.am, links[6])["items"]
        assert top and all(k["category"] == row[6] for k in top)
    assert section(doc, "assets")["chart"]["table"] == "failures_by_model"


def test_the_quarterly_pack_has_the_refresh_plan(packs):
    t, as_of = packs["t"], packs["as_of"]
    due = ok(t.am.get(f"/v1/tenants/{t.slug}/reports/compliance/assets",
                      params={"check": "refresh_due", "as_of": as_of}))["items"]
    plan = table(packs["docs"]["quarterly"], "refresh_plan")
    assert [r[0] for r in plan["rows"]] == [a["tag"] for a in due]
    assert {"P01", "P02", "P05"} <= {a["serial"] for a in due}
    assert all(links[0].endswith(f"/assets/{a['id']}") for links, a in zip(plan["links"], due))
    with pytest.raises(KeyError):
        table(packs["docs"]["monthly"], "refresh_plan")


def test_a_pack_rendered_again_after_the_devices_changed_is_the_same(packs, tmp_path):
    t, as_of = packs["t"], packs["as_of"]
    for a in ok(t.it.get(f"/v1/tenants/{t.slug}/assets"))["items"][:3]:
        ok(t.it.patch(f"/v1/tenants/{t.slug}/assets/{a['id']}",
                      json={"model": "Surface Laptop 6", "encrypted": True, "status": "retired",
                            "warranty_end": "2030-01-01"},
                      headers={"If-Match": f'"{a["version"]}"'}))
    for kind, period in (("monthly", "2026-11"), ("quarterly", "2026-Q3")):
        out = tmp_path / kind
        proc = run_mspctl("pack", "render", t.slug, kind, period, "--as-of", as_of,
                          "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        stored = t.am.get(f"/v1/tenants/{t.slug}/packs/{packs['ids'][kind]}",
                          params={"format": "json"}).content
        assert (out / "pack.json").read_bytes() == stored, kind
    # as of now, the changes show
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    proc = run_mspctl("pack", "render", t.slug, "monthly", "2026-11", "--as-of", now,
                      "--out", str(tmp_path / "now"))
    assert proc.returncode == 0, proc.stderr
    later = json.loads((tmp_path / "now" / "pack.json").read_bytes())
    assert table(later, "asset_posture") != table(packs["docs"]["monthly"], "asset_posture")
