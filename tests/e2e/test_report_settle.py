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


def ended_periods(now):
    """The ISO weeks, months and quarters of New York the store keeps as
    of now, by Python's own zone rules: the last twelve of each kind
    settled (ended at least 7 days ago), and those ended since."""
    zone = ZoneInfo(ZONE)
    local = now.astimezone(zone).replace(tzinfo=None)
    out = set()
    for kind in ("week", "month", "quarter"):
        day = dt.datetime(local.year, local.month, local.day)
        if kind == "week":
            start = day - dt.timedelta(days=day.weekday())
        elif kind == "month":
            start = day.replace(day=1)
        else:
            start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        settled = 0
        while settled < 12:
            if kind == "week":
                prev = start - dt.timedelta(weeks=1)
            else:
                months = 1 if kind == "month" else 3
                y, m = divmod(start.year * 12 + start.month - 1 - months, 12)
                prev = start.replace(year=y, month=m + 1)
            f, t = (prev.replace(tzinfo=zone).astimezone(UTC),
                    start.replace(tzinfo=zone).astimezone(UTC))
            if t <= now:
                out.add((f, t))
                settled += t + dt.timedelta(days=7) <= now
            start = prev
    return out


def test_a_stored_headline_is_the_one_counted_at_any_later_instant(tenant):
    tid = tenant["tid"]
    now = dt.datetime.now(UTC)
    expected = ended_periods(now)
    assert settle(tid) == len(expected)
    assert settle(tid) == 0
    rows = admin_sql("SELECT from_at, to_at, as_of, figures::text FROM report_headlines"
                     " WHERE tenant_id = %s", (tid,))
    assert {(r[0], r[1]) for r in rows} == expected
    settled = [r for r in rows if r[2] == r[1] + dt.timedelta(days=7)]
    assert len(settled) == 36
    # the others were counted as they were stored, since they ended
    assert all(r[1] <= r[2] <= dt.datetime.now(UTC) for r in rows)
    for from_at, to_at, as_of, stored in rows:
        for later in (as_of, dt.datetime.now(UTC)):
            counted = admin_sql("SELECT app.report_headline_figures(%s, %s, %s, %s)::text",
                                (tid, from_at, to_at, later))[0][0]
            assert counted == stored, (from_at, to_at, later)
    figures = [json.loads(r[3]) for r in settled]
    assert any(f["created"] > 0 for f in figures)
    assert any(f["resolved"] > 0 for f in figures)
    assert any(f["resolution_median_business_seconds"] is not None for f in figures)


def last_stored(tid, days, settled):
    """The latest stored period of that many days (7: a week; 28-31: a
    month), settled or not: (from_at, to_at)."""
    rows = admin_sql("SELECT from_at, to_at FROM report_headlines WHERE tenant_id = %s"
                     " AND (as_of >= to_at + interval '7 days') = %s", (tid, settled))
    return max(((f, t) for f, t in rows if days[0] <= (t - f).days <= days[1]),
               key=lambda p: p[1])


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
    settle(tid)
    from_at, to_at = last_stored(tid, (28, 31), settled=True)
    local = from_at.astimezone(ZoneInfo(ZONE))
    name = f"{local.year}-{local.month:02d}"
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
        # settled, and nothing was stored as of then: it is counted
        inside = (to_at + dt.timedelta(days=6)).isoformat()
        assert trend_last(leader, slug, period=name, as_of=inside)["created"] != SENTINEL

        # another reopen window: the stored headline no longer holds
        doc = dict(tenant["doc"], reporting={"recurrence_days": 30, "reopen_days": 30})
        run_mspctl("tenant", "apply", write_tenant(tenant["dir"], doc), check=True)
        assert trend_last(leader, slug, period=name)["created"] == shown["created"]
        assert settle(tid) > 0
        assert admin_sql("SELECT count(*) FROM report_headlines WHERE tenant_id = %s"
                         " AND reopen_days = 30 AND as_of = to_at + interval '30 days'",
                         (tid,)) == [(36,)]
    finally:
        run_mspctl("tenant", "apply", write_tenant(tenant["dir"], tenant["doc"]), check=True)
        admin_sql("DELETE FROM report_headlines WHERE tenant_id = %s", (tid,))


def test_a_week_not_settled_is_read_until_a_reopening(tenant):
    """The week just ended (its reopen window still open) is stored as
    counted when it was stored; the trend reads that until a ticket of the
    tenant is reopened, and the settling counts it again then."""
    tid, slug, leader, admin = tenant["tid"], tenant["slug"], tenant["leader"], tenant["admin"]
    settle(tid)
    from_at, to_at = last_stored(tid, (7, 7), settled=False)
    year, week, _ = from_at.astimezone(ZoneInfo(ZONE)).isocalendar()
    name = f"{year}-W{week:02d}"
    shown = trend_last(leader, slug, period=name)
    assert shown["period"] == name and shown["complete"] is True
    tamper(tid, from_at, to_at, SENTINEL)
    assert trend_last(leader, slug, period=name)["created"] == SENTINEL

    # a ticket resolved and reopened: the stored figures may no longer hold
    url = f"/v1/tenants/{slug}/tickets"
    resp = admin.post(url, json={"title": "reopened", "impact": "low", "urgency": "low"})
    assert resp.status_code == 201, resp.text
    ticket = f"{url}/{resp.json()['id']}"
    for status in ("resolved", "in_progress"):
        etag = admin.get(ticket).headers["ETag"]
        resp = admin.patch(ticket, json={"status": status}, headers={"If-Match": etag})
        assert resp.status_code == 200, resp.text
    assert trend_last(leader, slug, period=name) == shown
    # the settling counts it again once the stored figures are ten
    # minutes old (as if they were)
    admin_sql("UPDATE report_headlines SET as_of = as_of - interval '10 minutes'"
              " WHERE tenant_id = %s AND from_at = %s AND to_at = %s", (tid, from_at, to_at))
    assert settle(tid) == 1
    stored = admin_sql("SELECT as_of, figures::text FROM report_headlines"
                       " WHERE tenant_id = %s AND from_at = %s", (tid, from_at))
    assert json.loads(stored[0][1])["created"] == shown["created"]
    assert trend_last(leader, slug, period=name) == shown


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
                         " recurrence_days, reopen_days, as_of, figures)"
                         " VALUES (%s, now(), now(), 30, 7, now(), '{}')", (tid,))
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


def test_measuring_tickets_of_the_past_drops_the_stored_headlines(tenant):
    """`mspctl sla recompute` measures tickets never measured from their
    history, which may change a stored period's figures: the tenant's
    stored headlines go, to be counted again."""
    tid, slug = tenant["tid"], tenant["slug"]
    settle(tid)
    assert admin_sql("SELECT count(*) FROM report_headlines WHERE tenant_id = %s",
                     (tid,))[0][0] > 0
    # a ticket of the past, written without its measurements
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn, conn.transaction():
        set_principal(conn, "test.seed", "provider", "admin")
        load(conn, tid, slug, tenant["tickets"][:1])
    run_mspctl("sla", "recompute", slug, check=True)
    assert admin_sql("SELECT count(*) FROM report_headlines WHERE tenant_id = %s",
                     (tid,)) == [(0,)]
