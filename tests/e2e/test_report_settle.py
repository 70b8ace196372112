"""Settled report headlines (METRICS.md, "Settled periods";
app.settle_report_headlines, msp_report_settle_interval): once a period
is past its end plus the tenant's reopen window, its headline is stored,
and what is stored equals what counting the period's tickets gives at any
later instant; the trend and the portfolio read it, and only while it
holds."""
import datetime as dt
import json
import re
import time
import uuid
from zoneinfo import ZoneInfo

import psycopg
import pytest

from conftest import env, run_mspctl, set_principal, tenant_doc, write_tenant
from test_reports import load, scenario
from test_sla_sweep import SecondNginx

UTC = dt.timezone.utc
ZONE = "America/New_York"
SENTINEL = 987654


def admin_sql(sql, params=()):
    """The rows of one statement, in a transaction of its own, as a
    provider administrator."""
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
        set_principal(conn, "test.settle", "provider", "admin")
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else cur.rowcount


def settle(tid):
    """Settles every period of the tenant, a batch at a time, as the
    timer would; returns how many headlines were stored."""
    stored = 0
    while True:
        n = admin_sql("SELECT app.settle_report_headlines(10, %s)", (tid,))[0][0]
        assert n >= 0, "another settler holds the lock"
        if n == 0:
            return stored
        stored += n


def headlines(tid):
    return admin_sql("SELECT from_at, to_at, reopen_days, figures::text FROM report_headlines"
                     " WHERE tenant_id = %s ORDER BY to_at, from_at", (tid,))


def shifted(tickets, weeks):
    """The scenario moved by whole weeks (its months are no longer those
    it was written for, which this test does not need)."""
    delta = dt.timedelta(weeks=weeks)
    return [(category, [(at + delta, event) for at, event in history])
            for category, history in tickets]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory, as_user):
    """A New York tenant whose tickets were created and worked about five
    months ago, so that whole months of them are settled today."""
    slug = f"settle-{uuid.uuid4().hex[:6]}"
    doc = tenant_doc(slug, "acme", timezone=ZONE)
    directory = tmp_path_factory.mktemp(slug)
    run_mspctl("tenant", "apply", write_tenant(directory, doc), check=True)
    tickets = scenario(ZONE)
    first = tickets[0][1][0][0]
    weeks = (dt.datetime.now(UTC) - dt.timedelta(days=150) - first).days // 7
    tickets = shifted(tickets, weeks)
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
        set_principal(conn, "test.seed", "provider", "admin")
        tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s",
                           (slug,)).fetchone()[0]
        load(conn, tid, slug, tickets)
    run_mspctl("sla", "recompute", slug, check=True)
    return {"slug": slug, "tid": tid, "doc": doc, "dir": directory, "tickets": tickets,
            "leader": as_user(f"cio.{slug}", slug, "it_leader"),
            "admin": as_user("admin.settle", "provider", "admin")}


def test_a_settled_headline_is_the_one_counted_at_any_later_instant(tenant):
    tid = tenant["tid"]
    # the last twelve ISO weeks, months and quarters, each once
    assert settle(tid) == 36
    assert settle(tid) == 0
    rows = headlines(tid)
    assert len(rows) == 36 and all(r[2] == 7 for r in rows)
    for from_at, to_at, _, stored in rows:
        for as_of in (to_at + dt.timedelta(days=7), dt.datetime.now(UTC)):
            counted = admin_sql("SELECT app.report_headline_figures(%s, %s, %s, %s)::text",
                                (tid, from_at, to_at, as_of))[0][0]
            assert counted == stored, (from_at, to_at, as_of)
    figures = [json.loads(r[3]) for r in rows]
    assert any(f["created"] > 0 for f in figures)
    assert any(f["resolved"] > 0 for f in figures)
    assert any(f["resolution_median_business_seconds"] is not None for f in figures)


def last_settled_month(tid):
    """The latest stored month: (name, from_at, to_at)."""
    months = [(f, t) for f, t, _, _ in headlines(tid) if 27 <= (t - f).days <= 31]
    f, t = max(months, key=lambda m: m[1])
    local = f.astimezone(ZoneInfo(ZONE))
    return f"{local.year}-{local.month:02d}", f, t


def tamper(tid, from_at, to_at, created):
    """Sets the stored "created" figure: what shows it was read."""
    assert admin_sql(
        "UPDATE report_headlines SET figures = (jsonb_set(figures::jsonb, '{created}',"
        " to_jsonb(%s::integer)))::json"
        " WHERE tenant_id = %s AND from_at = %s AND to_at = %s",
        (created, tid, from_at, to_at)) == 1


def trend_last(client, slug, **params):
    resp = client.get(f"/v1/tenants/{slug}/reports/trend", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()["trend"][-1]


def test_the_trend_and_portfolio_read_settled_headlines_and_only_while_they_hold(tenant):
    tid, slug, leader = tenant["tid"], tenant["slug"], tenant["leader"]
    if not headlines(tid):
        settle(tid)
    name, from_at, to_at = last_settled_month(tid)
    shown = trend_last(leader, slug, period=name)
    assert shown["period"] == name and shown["complete"] is True

    tamper(tid, from_at, to_at, SENTINEL)
    try:
        # settled by now: the stored headline is what the trend shows
        assert trend_last(leader, slug, period=name) == dict(shown, created=SENTINEL)
        portfolio = tenant["admin"].get("/v1/reports/portfolio", params={"period": name})
        assert portfolio.status_code == 200, portfolio.text
        row = next(r for r in portfolio.json()["items"] if r["tenant"] == slug)
        assert row["created"] == SENTINEL
        # as of an instant inside the reopen window the month is not
        # settled: it is counted
        inside = (to_at + dt.timedelta(days=6)).isoformat()
        assert trend_last(leader, slug, period=name, as_of=inside)["created"] != SENTINEL

        # another reopen window: the stored headline no longer holds
        doc = dict(tenant["doc"], reporting={"recurrence_days": 30, "reopen_days": 30})
        run_mspctl("tenant", "apply", write_tenant(tenant["dir"], doc), check=True)
        assert trend_last(leader, slug, period=name)["created"] == shown["created"]
        unsettled = admin_sql("SELECT count(*) FROM app.report_unsettled(now(), %s)", (tid,))
        assert unsettled == [(36,)]
        assert settle(tid) == 36
        assert sum(r[2] == 30 for r in headlines(tid)) == 36
    finally:
        run_mspctl("tenant", "apply", write_tenant(tenant["dir"], tenant["doc"]), check=True)
        tamper(tid, from_at, to_at, shown["created"])


def test_a_tenant_principal_cannot_write_headlines(tenant):
    """Only the settling (a provider administrator) stores headlines; the
    tenant's own staff cannot plant a figure, for their tenant or another,
    and a requester sees none."""
    tid = tenant["tid"]
    if not headlines(tid):
        settle(tid)
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, f"cio.{tenant['slug']}", tenant["slug"], "it_leader")
        assert conn.execute("SELECT count(*) FROM report_headlines").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO report_headlines (tenant_id, from_at, to_at,"
                         " recurrence_days, reopen_days, figures, settled_at)"
                         " VALUES (%s, now(), now(), 30, 7, '{}', now())", (tid,))
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, f"cio.{tenant['slug']}", tenant["slug"], "it_leader")
        assert conn.execute("UPDATE report_headlines SET figures = '{}'").rowcount == 0
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, "someone", tenant["slug"], "requester")
        assert conn.execute("SELECT count(*) FROM report_headlines").fetchone()[0] == 0


SETTLED = re.compile(r"msp report settle: (\d+) done")
FAILED = re.compile(r".*\[(?:error|crit|alert|emerg)\].*msp report settle.*")


def test_the_module_settles_on_its_timer(tenant):
    """A host with msp_report_settle_interval set stores headlines on its
    own (one per statement, again soon while there is work)."""
    admin_sql("DELETE FROM report_headlines WHERE tenant_id = %s", (tenant["tid"],))
    host = SecondNginx(workers=1, sweep_interval="0", settle_interval="1s")
    try:
        host.start()
        deadline = time.monotonic() + 30
        log = ""
        while time.monotonic() < deadline:
            log = host.log_path.read_text()
            if len(SETTLED.findall(log)) >= 3:
                break
            time.sleep(0.2)
    finally:
        host.close()
        host.remove()
    assert len(SETTLED.findall(log)) >= 3, log[-2000:]
    assert not FAILED.findall(log), "\n".join(FAILED.findall(log))
