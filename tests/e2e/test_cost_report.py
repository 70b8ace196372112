"""The cost report (GET .../reports/cost): the time logged in a period
against the tenant file's contract, recomputed here from the entries this
test logs, for a whole month, a week across two months and the month in
progress; and who may read it (those who see the contract)."""
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from conftest import run_mspctl, tenant_doc, write_tenant
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, ok, problem, q)

ZONE = "Pacific/Auckland"
CONTRACT = {"monthly_fee": 5000, "hourly_rate": 120, "currency": "EUR", "included_hours": 6,
            "supported_users": 250}
# (who, category, day worked, minutes, billable, in scope)
ENTRIES = [
    ("tech", "network", "2026-10-02", 120, True, True),
    ("tech", "network", "2026-10-15", 95, True, True),
    ("it", "email", "2026-10-15", 45, True, True),
    ("it", "email", "2026-10-20", 30, False, True),
    ("tech", "email", "2026-10-27", 200, True, True),       # the block runs out here
    ("tech", "network", "2026-10-28", 61, True, False),     # out of scope
    ("it", "network", "2026-10-31", 17, False, False),      # not billable at all
    ("tech", "email", "2026-11-01", 50, True, False),       # in week 44, November
    ("tech", "network", "2026-09-30", 40, True, True),      # before October
]


def money(x):
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def hours(minutes):
    return money(Decimal(minutes) / 60)


def month_days(day):
    first = day.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return (nxt - first).days


def expected(first, end, created):
    """The figures for the days [first, end), as METRICS.md defines them."""
    rows = [e for e in ENTRIES if first <= dt.date.fromisoformat(e[2]) < end]
    months = sum(Decimal(1) / month_days(first + dt.timedelta(days=i))
                 for i in range((end - first).days))
    minutes = lambda f: sum(e[3] for e in rows if f(e))       # noqa: E731
    total = minutes(lambda e: True)
    billable = minutes(lambda e: e[4])
    in_scope = minutes(lambda e: e[4] and e[5])
    out_scope = minutes(lambda e: e[4] and not e[5])
    block = Decimal(CONTRACT["included_hours"]) * months * 60
    used = min(Decimal(in_scope), block)
    over = max(Decimal(in_scope) - block, Decimal(0))
    rate = Decimal(CONTRACT["hourly_rate"])
    fee = money(Decimal(CONTRACT["monthly_fee"]) * months)
    out_amount = money(out_scope * rate / 60)
    over_amount = money(over * rate / 60)
    cost = fee + out_amount + over_amount
    by = lambda i: {k: hours(sum(e[3] for e in rows if e[i] == k))   # noqa: E731
                    for k in sorted({e[i] for e in rows})}
    sides = {"tech": "provider", "it": "internal_it"}
    return {
        "currency": "EUR", "entries": len(rows),
        "days": {"first": str(first), "last": str(end - dt.timedelta(days=1))},
        "months": months.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        "hours": {"total": hours(total), "billable": hours(billable),
                  "non_billable": hours(total - billable),
                  "by_side": {sides[k]: v for k, v in by(0).items()},
                  "by_category": by(1)},
        "block": {"included": hours(block), "used": hours(used),
                  "remaining": hours(block - used), "over": hours(over),
                  "over_amount": over_amount},
        "out_of_scope": {"hours": hours(out_scope), "amount": out_amount},
        "fee": fee, "total": cost, "tickets_created": created,
        "cost_per_ticket": money(cost / created) if created else None,
        "supported_users": CONTRACT["supported_users"],
        "cost_per_user": money(cost / CONTRACT["supported_users"]),
    }


def as_decimals(doc):
    """The report's numbers as Decimal, to compare with the oracle's."""
    if isinstance(doc, dict):
        return {k: as_decimals(v) for k, v in doc.items()}
    if isinstance(doc, float) or (isinstance(doc, int) and not isinstance(doc, bool)):
        return Decimal(str(doc))
    return doc


def normalised(figures):
    out = as_decimals(figures)
    out["tickets_created"] = int(out["tickets_created"])
    out["entries"] = int(out["entries"])
    out["supported_users"] = int(out["supported_users"])
    return out


@pytest.fixture(scope="module")
def desk(tmp_path_factory, as_user):
    t = Tenant(tmp_path_factory.mktemp("cost"), as_user, prefix="cost")
    doc = dict(t.doc, timezone=ZONE, contract=dict(t.doc["contract"], **CONTRACT))
    run_mspctl("tenant", "apply", write_tenant(tmp_path_factory.mktemp("cost2"), doc),
               check=True)
    tickets = {cat: t.create(category=cat)["id"] for cat in ("network", "email")}
    people = {"tech": t.tech1, "it": t.it}
    for who, cat, day, minutes, billable, in_scope in ENTRIES:
        ok(people[who].post(t.url(tickets[cat], "time-entries"),
                            json={"worked_on": day, "minutes": minutes, "billable": billable,
                                  "in_scope": in_scope}), 201)
    return t


def report(t, by, period):
    return ok(by.get(f"/v1/tenants/{t.slug}/reports/cost?period={period}"))


def test_a_whole_month(desk):
    resp = desk.am.get(f"/v1/tenants/{desk.slug}/reports/cost?period=2026-10")
    doc = ok(resp)
    # money and hours read as the database rounded them, not as doubles
    assert re.search(r"\d\.\d{5,}", resp.text) is None, resp.text
    assert doc["report"] == "cost" and doc["period"]["complete"] is True
    assert normalised(doc["cost"]) == expected(dt.date(2026, 10, 1), dt.date(2026, 11, 1), 0)


def test_a_week_across_two_months_gets_each_months_share(desk):
    # ISO week 44 of 2026: Monday 26 October to Sunday 1 November
    doc = report(desk, desk.itl, "2026-W44")
    assert normalised(doc["cost"]) == expected(dt.date(2026, 10, 26), dt.date(2026, 11, 2), 0)


def test_the_month_in_progress_counts_its_tickets(desk):
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    created = q("SELECT count(*) FROM ticket_report_facts WHERE tenant_id = %s"
                " AND created_at >= %s", (desk.id, dt.datetime.combine(
                    today.replace(day=1), dt.time(), ZoneInfo(ZONE))))[0][0]
    assert created == 2
    doc = report(desk, desk.admin, today.strftime("%Y-%m"))
    assert doc["period"]["complete"] is False
    assert normalised(doc["cost"]) == expected(today.replace(day=1),
                                               today + dt.timedelta(days=1), created)


def test_as_csv(desk):
    resp = desk.am.get(f"/v1/tenants/{desk.slug}/reports/cost?period=2026-10&format=csv")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    rows = dict(line.split(",", 1) for line in resp.text.splitlines()[1:])
    want = expected(dt.date(2026, 10, 1), dt.date(2026, 11, 1), 0)
    assert Decimal(rows["cost.total"]) == want["total"]
    assert Decimal(rows["cost.block.remaining"]) == want["block"]["remaining"]


def test_only_those_who_see_the_contract_read_it(desk):
    for who in ("am", "admin", "itl"):
        report(desk, getattr(desk, who), "2026-10")
    for who in ("lead", "tech1", "it", "aud"):
        body = problem(getattr(desk, who).get(
            f"/v1/tenants/{desk.slug}/reports/cost?period=2026-10"), 403)
        assert "contract" in body["detail"]
    problem(desk.req.get(f"/v1/tenants/{desk.slug}/reports/cost?period=2026-10"), 403)
    for bad in ("", "?period=2026-13", "?period=2026-10&as_of=soon", "?period=2026-10&x=1"):
        problem(desk.am.get(f"/v1/tenants/{desk.slug}/reports/cost{bad}"), 400)
