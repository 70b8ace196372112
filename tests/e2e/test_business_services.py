"""Business services (the tenant file's assets.services and
assets.service_priority): a ticket opened on an asset of a critical
service has its priority raised to the tenant's floor, its SLA clocks run
on that priority, it shows why (business_impact), and later changes of
impact or urgency never take it below the floor; a service without a
floor, or an asset of no service, raises nothing."""
import datetime as dt

import pytest

from conftest import run_mspctl, write_tenant
from test_assets import created
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, ok, problem, q)

# 24x7: P1 responds in 15 minutes, P2 in 60, P3 in 240, P4 in 480
POLICY = {"priorities": {"P1": {"first_response_minutes": 15, "resolution_minutes": 60},
                         "P2": {"first_response_minutes": 60, "resolution_minutes": 240},
                         "P3": {"first_response_minutes": 240, "resolution_minutes": 480},
                         "P4": {"first_response_minutes": 480, "resolution_minutes": 1440}},
          "warning_thresholds": [50, 75, 90],
          "pause_statuses": ["pending_customer", "pending_vendor"]}
RESPONSE_MINUTES = {"P1": 15, "P2": 60, "P3": 240, "P4": 480}


@pytest.fixture(scope="module")
def t(tmp_path_factory, as_user):
    """A tenant with a payroll server (critical), a CRM laptop (high), an
    intranet printer (medium: no floor) and a device of no service."""
    directory = tmp_path_factory.mktemp("services")
    t = Tenant(directory, as_user, prefix="svc", sla_policy=POLICY)
    t.assets = {name: created(t, kind=kind)
                for name, kind in (("payroll", "server"), ("crm", "laptop"),
                                   ("printer", "printer"), ("spare", "laptop"))}
    t.doc["assets"] = {"services": [
        {"name": "Payroll", "criticality": "critical", "assets": [t.assets["payroll"]["tag"]]},
        {"name": "CRM", "criticality": "high", "assets": [t.assets["crm"]["tag"], "NOT-YET"]},
        {"name": "Intranet", "criticality": "medium", "assets": [t.assets["printer"]["tag"]]}],
        "service_priority": {"critical": "P1", "high": "P2"}}
    run_mspctl("tenant", "apply", write_tenant(directory, t.doc), check=True)
    return t


def response_minutes(ticket):
    created_at, due = (dt.datetime.fromisoformat(ticket[k].replace("Z", "+00:00"))
                       for k in ("created_at", "response_due"))
    return (due - created_at).total_seconds() / 60


def ids(*names, t):
    return [t.assets[n]["id"] for n in names]


def test_a_ticket_on_a_critical_service_is_raised_and_says_why(t):
    ticket = t.create(impact="low", urgency="low", asset_ids=ids("payroll", t=t))
    payroll = t.assets["payroll"]
    assert ticket["priority"] == "P1"
    assert ticket["business_impact"] == {
        "service": "Payroll", "criticality": "critical", "asset_id": payroll["id"],
        "asset_tag": payroll["tag"], "priority": "P1",
        "reason": f"Asset {payroll['tag']} runs Payroll, a critical service: P1 at least."}
    assert response_minutes(ticket) == RESPONSE_MINUTES["P1"]
    got = t.get(ticket["id"])
    assert got["priority"] == "P1" and got["business_impact"] == ticket["business_impact"]
    (data,), = q("SELECT data FROM ticket_events WHERE tenant_id = %s AND ticket_number = %s"
                 " AND kind = 'created'", (t.id, ticket["number"]))
    assert data["priority"] == "P1" and data["business_impact"] == ticket["business_impact"]
    (detail,), = q("SELECT detail FROM audit_log WHERE tenant_id = %s AND target = %s",
                   (t.id, f"ticket:{ticket['id']}"))
    assert detail == {"priority": "P1", "business_impact": ticket["business_impact"]}


def test_the_most_critical_service_of_the_tickets_assets_wins(t):
    ticket = t.create(impact="medium", urgency="low", asset_ids=ids("crm", "spare", t=t))
    assert ticket["priority"] == "P2" and ticket["business_impact"]["service"] == "CRM"
    assert response_minutes(ticket) == RESPONSE_MINUTES["P2"]
    both = t.create(impact="low", urgency="low", asset_ids=ids("crm", "payroll", "printer", t=t))
    assert (both["priority"], both["business_impact"]["service"]) == ("P1", "Payroll")


def test_a_floor_never_lowers_a_priority(t):
    ticket = t.create(impact="high", urgency="high", asset_ids=ids("crm", t=t))
    assert ticket["priority"] == "P1"
    assert ticket["business_impact"]["priority"] == "P2"


@pytest.mark.parametrize("names", [("printer",), ("spare",), ()])
def test_no_floor_no_raise(t, names):
    ticket = t.create(impact="low", urgency="low", asset_ids=ids(*names, t=t))
    assert (ticket["priority"], ticket["business_impact"]) == ("P4", None)
    assert response_minutes(ticket) == RESPONSE_MINUTES["P4"]


def test_impact_and_urgency_changes_keep_the_floor(t):
    ticket = t.create(impact="low", urgency="low", asset_ids=ids("crm", t=t))
    assert ticket["priority"] == "P2"
    up = t.patch(ticket["id"], impact="high", urgency="high")
    assert up["priority"] == "P1" and response_minutes(up) == RESPONSE_MINUTES["P1"]
    down = t.patch(ticket["id"], impact="low", urgency="medium")
    assert down["priority"] == "P2" and down["business_impact"] == ticket["business_impact"]
    assert response_minutes(down) == RESPONSE_MINUTES["P2"]
    # a change that moves the matrix but not the floor's result adds no priority change
    same = t.patch(ticket["id"], urgency="low")
    assert same["priority"] == "P2"
    changes = [d for (d,) in q("SELECT data FROM ticket_events WHERE tenant_id = %s"
                                " AND ticket_number = %s AND kind = 'updated' ORDER BY event_id",
                                (t.id, ticket["number"]))]
    assert [c.get("priority") for c in changes] == [
        {"from": "P2", "to": "P1"}, {"from": "P1", "to": "P2"}, None]


def test_a_new_map_applies_to_new_tickets_only(t, tmp_path):
    before = t.create(impact="low", urgency="low", asset_ids=ids("printer", t=t))
    doc = dict(t.doc, assets={**t.doc["assets"],
                              "service_priority": {"critical": "P1", "high": "P2",
                                                   "medium": "P3"}})
    run_mspctl("tenant", "apply", write_tenant(tmp_path, doc), check=True)
    try:
        after = t.create(impact="low", urgency="low", asset_ids=ids("printer", t=t))
        assert (after["priority"], after["business_impact"]["service"]) == ("P3", "Intranet")
        assert (t.get(before["id"])["priority"], t.get(before["id"])["business_impact"]) == (
            "P4", None)
    finally:
        run_mspctl("tenant", "apply", write_tenant(tmp_path, t.doc), check=True)


def test_a_bad_service_map_is_refused_and_the_applied_one_kept(t, tmp_path):
    stored = q("SELECT assets FROM tenants WHERE tenant_id = %s", (t.id,))[0][0]
    doc = dict(t.doc, assets={"services": [{"name": "Payroll", "criticality": "vital",
                                            "assets": ["X"]}],
                              "service_priority": {"critical": "P0"}})
    proc = run_mspctl("tenant", "apply", write_tenant(tmp_path, doc))
    assert proc.returncode != 0
    assert "assets.services[0].criticality" in proc.stderr
    assert "assets.service_priority.critical" in proc.stderr
    assert q("SELECT assets FROM tenants WHERE tenant_id = %s", (t.id,))[0][0] == stored
