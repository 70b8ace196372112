"""The failures report (GET /v1/tenants/{slug}/reports/failures and its
drill-down .../failures/tickets): tickets per 100 devices of each hardware
model and per 100 users of each department and site, with their 95%
intervals and each model's top categories, recomputed here from
METRICS.md's definitions for a seeded fleet; the fleet and the categories
as they stood at as_of, whatever changed since; who may read it."""
import datetime as dt
import json
import math
import random
import time

import psycopg
import pytest

from conftest import env, set_principal
from test_assets import import_, url
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, ok, problem, q)

UTC = dt.timezone.utc
MODELS = (("Lenovo", "ThinkPad T14"), ("Lenovo", "ThinkPad X1"), ("Dell", "Latitude 5440"),
          ("Apple", "MacBook Air M2"))
DEPARTMENTS = ("Finance", "Sales", "Engineering")
SITES = ("Boston", "Denver")
CATEGORIES = ("hardware", "software", "network", "printing")


def byar(k):
    """METRICS.md: the 95% interval of a Poisson count, Byar's approximation."""
    z = 1.959964
    low = 0.0 if k == 0 else k * (1 - 1 / (9 * k) - z / (3 * math.sqrt(k))) ** 3
    high = (k + 1) * (1 - 1 / (9 * (k + 1)) + z / (3 * math.sqrt(k + 1))) ** 3
    return low, high


def exact(k):
    """The exact (Garwood) 95% interval, by bisection on the Poisson
    distribution: what Byar's approximates."""
    def cdf(n, mu):
        term = total = math.exp(-mu)
        for i in range(1, n + 1):
            term *= mu / i
            total += term
        return total

    def solve(f, lo, hi):
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
        return lo
    low = 0.0 if k == 0 else solve(lambda mu: cdf(k - 1, mu) - 0.975, 0, 10 * k + 10)
    high = solve(lambda mu: cdf(k, mu) - 0.025, 0, 10 * k + 10)
    return low, high


def rate(k, base):
    if base == 0:
        return None
    low, high = byar(k)
    return (round(100 * k / base, 2), round(100 * low / base, 2), round(100 * high / base, 2))


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, as_user):
    """A tenant with 60 devices of four models (some retired or in stock,
    some with no model or department), a licence, and 70 tickets naming
    one or two of them; as_of taken once they are all recorded."""
    t = Tenant(tmp_path_factory.mktemp("failures"), as_user, prefix="flr")
    rnd = random.Random(1515)
    devices = []
    for i in range(60):
        maker, model = rnd.choice(MODELS)
        d = {"serial": f"R{i:03d}", "kind": rnd.choice(("laptop", "laptop", "desktop")),
             "manufacturer": maker, "model": model,
             "status": rnd.choice(("deployed",) * 6 + ("in_repair", "in_stock", "retired")),
             "department": rnd.choice(DEPARTMENTS), "site": rnd.choice(SITES),
             "assigned_to": f"user{rnd.randrange(25)}@flr.test"}
        if i % 17 == 0:
            del d["model"], d["department"]
        devices.append(d)
    devices.append({"serial": "LIC1", "kind": "saas_license", "model": "Microsoft 365 E3",
                    "status": "deployed", "department": "Finance", "site": "Boston",
                    "assigned_to": "user1@flr.test"})
    assert ok(import_(t, json.dumps({"assets": devices}).encode()))["created"] == 61
    ids = {a["serial"]: a["id"] for a in all_assets(t)}
    for d in devices:
        d["id"] = ids[d["serial"]]
    tickets = []
    for _ in range(70):
        named = rnd.sample(devices, rnd.choice((1, 1, 1, 2)))
        category = rnd.choice(CATEGORIES)
        doc = t.create(category=category, asset_ids=[d["id"] for d in named])
        tickets.append({"id": doc["id"], "category": category, "devices": named,
                        "at": doc["created_at"]})
    time.sleep(1.1)
    as_of = dt.datetime.now(UTC).replace(microsecond=0)
    time.sleep(1.1)
    today = as_of.date()
    period = f"{today - dt.timedelta(days=2)}..{today + dt.timedelta(days=1)}"
    return t, devices, tickets, period, rfc3339(as_of)


def all_assets(t):
    items, path = [], url(t) + "?limit=200"
    while path:
        page = ok(t.it.get(path))
        items += page["items"]
        path = page["next_cursor"] and url(t) + f"?limit=200&after={page['next_cursor']}"
    return items


def expected(devices, tickets):
    """METRICS.md's definitions, recomputed from what the fixture made."""
    def key(d, field):
        return d.get(field) or "unknown"
    hardware = [d for d in devices if d["kind"] != "saas_license"]
    in_service = [d for d in hardware if d["status"] in ("deployed", "in_repair")]
    out = {"devices": len(in_service), "users": len({d["assigned_to"] for d in in_service})}
    out["tickets"] = len({k["id"] for k in tickets
                          if any(d["kind"] != "saas_license" for d in k["devices"])})
    for split in ("model", "department", "site"):
        groups = {key(d, split) for d in in_service} | {
            key(d, split) for k in tickets for d in k["devices"] if d["kind"] != "saas_license"}
        rows = {}
        for g in groups:
            members = [d for d in in_service if key(d, split) == g]
            hit = [k for k in tickets if any(key(d, split) == g and d["kind"] != "saas_license"
                                             for d in k["devices"])]
            base = len(members) if split == "model" else len({d["assigned_to"] for d in members})
            rows[g] = {"devices": len(members), "users": len({d["assigned_to"] for d in members}),
                       "tickets": len(hit), "rate": rate(len(hit), base),
                       "ids": sorted(k["id"] for k in hit)}
            counts = {}
            for k in hit:
                counts[k["category"]] = counts.get(k["category"], 0) + 1
            rows[g]["top"] = sorted(counts.items(), key=lambda c: (-c[1], c[0]))[:3]
        out[split] = rows
    return out


def report(client, t, **params):
    return client.get(f"/v1/tenants/{t.slug}/reports/failures", params=params)


def drill(client, t, **params):
    items, after = [], None
    while True:
        page = ok(client.get(f"/v1/tenants/{t.slug}/reports/failures/tickets",
                             params=dict(params, metric="tickets", limit=9,
                                         **({"after": after} if after else {}))))
        items += page["items"]
        after = page["next_cursor"]
        if after is None:
            return items


def test_byar_interval_is_close_to_the_exact_one():
    """The approximation the report uses, against the exact interval, over
    the counts a fleet gives."""
    for k in range(0, 200):
        (bl, bh), (el, eh) = byar(k), exact(k)
        assert abs(bh - eh) <= 0.02 * eh, k
        if k >= 2:
            assert abs(bl - el) <= 0.08 * el, k


def test_failure_rates_match_their_definitions_and_list_their_tickets(fleet):
    t, devices, tickets, period, as_of = fleet
    doc = ok(report(t.itl, t, period=period, as_of=as_of))
    got, want = doc["failures"], expected(devices, tickets)
    assert doc["report"] == "failures" and doc["definitions"] == "2"
    assert (got["devices"], got["users"], got["tickets"], got["confidence"]) == (
        want["devices"], want["users"], want["tickets"], 0.95)
    for split, base in (("model", "per_100_devices"), ("department", "per_100_users"),
                        ("site", "per_100_users")):
        rows = got[f"by_{split}"]
        assert {r[split] for r in rows} == set(want[split]), split
        assert len(want[split]) >= 2, f"a vacuous split: {split}"
        rates = [r[base] for r in rows]
        known = [x for x in rates if x is not None]
        assert rates[:len(known)] == sorted(known, reverse=True), split  # no rate last
        for r in rows:
            w = want[split][r[split]]
            assert (r["devices"], r["tickets"]) == (w["devices"], w["tickets"]), r
            assert (r[base], r["low"], r["high"]) == (w["rate"] or (None, None, None)), r
            if split != "model":
                assert r["users"] == w["users"], r
            else:
                assert [(c["category"], c["tickets"]) for c in r["top_categories"]] == w["top"]
            listed = drill(t.aud, t, period=period, as_of=as_of, **{split: r[split]})
            assert [k["id"] for k in listed] == [
                k["id"] for k in sorted(tickets, key=lambda k: (k["at"], int(k["id"].split("-")[1])))
                if k["id"] in w["ids"]], r
    # a model's top category, and one of its tickets' devices
    top = got["by_model"][0]
    category = top["top_categories"][0]["category"]
    listed = drill(t.itl, t, period=period, as_of=as_of, model=top["model"], category=category)
    assert len(listed) == top["top_categories"][0]["tickets"]
    assert all(k["category"] == category for k in listed)
    by_id = {d["id"]: d for d in devices}
    for k in listed:
        assert k["asset_ids"] and all(by_id[a].get("model", "unknown") == top["model"]
                                      for a in k["asset_ids"])


def test_later_changes_do_not_move_a_report_as_of_an_earlier_instant(fleet):
    t, devices, tickets, period, as_of = fleet
    before = ok(report(t.itl, t, period=period, as_of=as_of))["failures"]
    moved = next(d for d in devices if d.get("model") and d["status"] == "deployed")
    etag = t.it.get(url(t, moved["id"])).headers["ETag"]
    ok(t.it.patch(url(t, moved["id"]), headers={"If-Match": etag},
                  json={"model": "Surface Laptop 6", "department": "Legal", "status": "retired"}))
    recategorised = tickets[0]
    t.patch(recategorised["id"], category="security")
    assert ok(report(t.itl, t, period=period, as_of=as_of))["failures"] == before
    assert drill(t.itl, t, period=period, as_of=as_of, category="security") == []
    now = ok(report(t.itl, t, period=period))["failures"]
    assert now["devices"] == before["devices"] - 1
    assert "Legal" in {r["department"] for r in now["by_department"]}
    assert [k["id"] for k in drill(t.itl, t, period=period, category="security")] == [
        recategorised["id"]]


def test_who_reads_it_and_bad_requests(fleet, as_user):
    t, devices, tickets, period, as_of = fleet
    for who in ("it", "itl", "aud", "am", "lead", "tech1"):
        ok(report(getattr(t, who), t, period=period))
    for who in ("req", "integ"):
        problem(report(getattr(t, who), t, period=period), 403)
        problem(getattr(t, who).get(f"/v1/tenants/{t.slug}/reports/failures/tickets",
                                    params={"period": period, "metric": "tickets"}), 403)
    stranger = as_user("itl.elsewhere", "acme", "it_leader")
    problem(report(stranger, t, period=period), 404)
    for params, field in (({}, "period"), ({"period": "2026-13"}, "period"),
                          ({"period": period, "as_of": "soon"}, "as_of")):
        body = problem(report(t.itl, t, **params), 400)
        assert field in json.dumps(body["errors"]), params
    for params, field in (({"period": period}, "metric"),
                          ({"period": period, "metric": "devices"}, "metric"),
                          ({"period": period, "metric": "tickets", "after": "x"}, "after"),
                          ({"period": period, "metric": "tickets", "vendor": "Dell"}, "vendor")):
        body = problem(t.itl.get(f"/v1/tenants/{t.slug}/reports/failures/tickets",
                                 params=params), 400)
        assert field in json.dumps(body["errors"]), params


def test_another_tenants_people_get_nothing_of_it_even_in_sql(fleet, as_user, tmp_path):
    t, devices, tickets, period, as_of = fleet
    other = Tenant(tmp_path, as_user, prefix="flx")
    for who in ("itl", "am", "lead"):
        problem(report(getattr(other, who), t, period=period), 404)
    start = ok(report(t.itl, t, period=period))["period"]["start"]
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, other.itl.sub, other.slug, "it_leader")
        got = conn.execute("SELECT app.report_failures(%s, %s::timestamptz, now(), now())",
                           (t.id, start)).fetchone()[0]
        assert (got["devices"], got["tickets"], got["by_model"]) == (0, 0, [])
        assert conn.execute("SELECT count(*) FROM app.report_failure_rows(%s, %s::timestamptz,"
                            " now(), now())", (t.id, start)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM app.assets_at(%s, now())",
                            (t.id,)).fetchone()[0] == 0
        # as the tenant's own leader, the same statements see its fleet
        set_principal(conn, t.itl.sub, t.slug, "it_leader")
        got = conn.execute("SELECT app.report_failures(%s, %s::timestamptz, now(), now())",
                           (t.id, start)).fetchone()[0]
        assert got["devices"] > 0 and got["tickets"] > 0
