#!/usr/bin/python3
"""The reports part of tests/bench/run.sh: how long the service reports
take for a large client and across every tenant, against floors measured
in the same run.

    reports.py SLUG PERIOD FLOOR_URL MSPCTL OUT

SLUG is the large client seed_reports.sql wrote (PER_MONTH tickets in each
of the months before the current one), PERIOD the last of those months.
Each row is a request through the gateway (nginx, the module, PostgreSQL)
as the provider's admin, or the lead for the portfolio of his 200 tenants,
timed end to end: one unmeasured request, then RUNS measured ones, the
median shown (a report is a single long request; what matters is how long
one person waits for it).  The floors are what PostgreSQL alone does for
the same tickets, as msp_bench_floor (row-level security does not apply to
it): one index scan over the tenant's tickets created in the period
(tickets_created, the index the reports use), over the twelve months for
the trend, and one per tenant over every tenant's tickets of the period
for the portfolio, and one over the time entries of the month for the cost
report (whose entries this script seeds: one on each of the month's
tickets); the median of FLOOR_RUNS.  The monthly review pack of the large
client is timed twice against the month floor: rendered by `mspctl pack
render` (its time and peak memory, next to a small client's, whose month
holds a few tickets: the memory a pack takes does not grow with the
client's tickets), and asked for through the gateway until the pack worker
has issued it.  The trend is also timed as
its SQL alone with no statement timeout, since through the gateway it may
run into msp_query_timeout.  Writes OUT/reports.txt.
"""
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import psycopg
import requests

RUNS = int(os.environ.get("BENCH_REPORT_RUNS", "3"))
FLOOR_RUNS = 5


def token(mspctl, sub, role):
    return subprocess.run([mspctl, "token", "--sub", sub, "--org", "provider", "--role", role],
                          check=True, capture_output=True, text=True).stdout.strip()


def timed(fn, runs):
    """(median seconds, last result) of runs calls after one unmeasured."""
    fn()
    times, out = [], None
    for _ in range(runs):
        t = time.monotonic()
        out = fn()
        times.append(time.monotonic() - t)
    return statistics.median(times), out


def http_row(base, tok, path, params, runs=RUNS):
    def call():
        r = requests.get(base + path, params=params, timeout=600,
                         headers={"Authorization": f"Bearer {tok}"})
        return r.status_code, r.content
    seconds, (status, body) = timed(call, runs)
    return seconds, status, body


def floor(url, sql, args):
    with psycopg.connect(url) as conn:
        def run():
            return conn.execute(sql, args).fetchall()
        seconds, rows = timed(run, FLOOR_RUNS)
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (COSTS OFF) " + sql, args))
    return seconds, rows, plan


def main():
    slug, period, floor_url, mspctl, out = sys.argv[1:6]
    base = os.environ["MSP_HTTP"]
    admin = token(mspctl, "admin.bench", "admin")
    lead = token(mspctl, "lead.l200", "lead")
    rows = []

    def add(label, seconds, status, floor_label, floor_seconds, note=""):
        rows.append((label, seconds, status, floor_label, floor_seconds, note))

    # the month of the large client, each report and a drill-down page
    reports = {}
    for report in ("volume", "backlog", "sla", "quality", "comanagement"):
        s, status, body = http_row(base, admin, f"/v1/tenants/{slug}/reports/{report}",
                                   {"period": period})
        reports[report] = (s, status, body)
    head = json.loads(reports["volume"][2])
    start, end = head["period"]["start"], head["period"]["end"]
    created = head["volume"]["created"]
    with psycopg.connect(os.environ["MSP_DATABASE_URL"]) as conn, conn.transaction():
        conn.execute("SELECT app.set_principal('bench.report', 'provider', 'admin')")
        tenant = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s",
                              (slug,)).fetchone()[0]
        tenants = [r[0] for r in conn.execute("SELECT tenant_id FROM tenants")]
        lead_tenants = [r[0] for r in conn.execute(
            "SELECT tenant_id FROM assignments WHERE subject = 'lead.l200'")]
        # a small client, for the pack's memory
        small = conn.execute("SELECT slug FROM tenants WHERE slug <> %s AND slug LIKE 'client-%%'"
                             " ORDER BY slug LIMIT 1", (slug,)).fetchone()[0]
    month_sql = ("SELECT count(*), sum(length(title)) FROM tickets"
                 " WHERE tenant_id = %s AND created_at >= %s AND created_at < %s")
    f_month, f_rows, f_plan = floor(floor_url, month_sql, (tenant, start, end))
    for report, (s, status, _) in reports.items():
        add(f"GET {report} ({period})", s, status, "month floor", f_month)
    s, status, _ = http_row(base, admin, f"/v1/tenants/{slug}/reports/sla/tickets",
                            {"period": period, "metric": "resolution_breached", "limit": 100})
    add("GET sla/tickets, first page of 100", s, status, "month floor", f_month)

    # the trend, through the gateway and as its SQL alone
    s, status, body = http_row(base, admin, f"/v1/tenants/{slug}/reports/trend",
                               {"period": period}, runs=1)
    trend_ok = status == 200
    if trend_ok:
        trend = json.loads(body)
        t_start = trend["period"]["start"]
    else:
        t_start = None
    with psycopg.connect(floor_url) as conn:
        # the trend's twelve months: from eleven months before the period
        t_start = t_start or conn.execute(
            "SELECT (date_trunc('month', %s::timestamptz AT TIME ZONE %s)"
            " - interval '11 months') AT TIME ZONE %s",
            (start, head["timezone"], head["timezone"])).fetchone()[0]
    f_year, y_rows, _ = floor(floor_url, month_sql, (tenant, t_start, end))
    add(f"GET trend (12 months to {period})", s, status, "12-month floor", f_year,
        "" if trend_ok else "through the gateway: stopped by msp_query_timeout")
    with psycopg.connect(os.environ["MSP_DATABASE_URL"]) as conn, conn.transaction():
        conn.execute("SELECT app.set_principal('bench.report', 'provider', 'admin')")
        conn.execute("SET LOCAL statement_timeout = 0")
        periods = conn.execute(
            "SELECT json_agg(json_build_object('period', to_char(m, 'YYYY-MM'),"
            " 'start', '', 'end', '', 'complete', true,"
            " 'from', (extract(epoch FROM m AT TIME ZONE z) * 1e6)::bigint,"
            " 'to', (extract(epoch FROM (m + interval '1 month') AT TIME ZONE z) * 1e6)::bigint,"
            " 'before', (extract(epoch FROM (m - interval '1 month') AT TIME ZONE z) * 1e6)::bigint)"
            " ORDER BY m)"
            " FROM (SELECT %s::text AS z) zz,"
            " generate_series(date_trunc('month', %s::timestamptz AT TIME ZONE %s)"
            "   - interval '11 months', date_trunc('month', %s::timestamptz AT TIME ZONE %s),"
            "   interval '1 month') m",
            (head["timezone"], start, head["timezone"], start, head["timezone"])).fetchone()[0]
        t = time.monotonic()
        conn.execute("SELECT app.report_trend(%s, %s, now())",
                     (tenant, json.dumps(periods))).fetchone()
        add("trend's SQL alone (no timeout)", time.monotonic() - t, "-", "12-month floor", f_year)

    # the cost report over a month of PER_MONTH time entries, one on each
    # of the month's tickets (seeded here, as the admin; the report reads
    # the month's entries by the day worked)
    with psycopg.connect(os.environ["MSP_DATABASE_URL"]) as conn:
        with conn.transaction():
            conn.execute("SELECT app.set_principal('bench.report', 'provider', 'admin')")
            first_day = conn.execute("SELECT (%s::timestamptz AT TIME ZONE %s)::date",
                                     (start, head["timezone"])).fetchone()[0]
            t = time.monotonic()
            logged = conn.execute(
                "INSERT INTO time_entries (tenant_id, ticket_number, subject, side, worked_on,"
                " minutes, billable, in_scope)"
                " SELECT k.tenant_id, k.number, 'tech.bench' || (k.rn %% 20),"
                "  CASE WHEN k.rn %% 3 = 0 THEN 'internal_it' ELSE 'provider' END,"
                "  %s::date + (k.rn %% 28)::integer, 5 + (k.rn %% 120)::integer,"
                "  k.rn %% 7 <> 0, k.rn %% 11 <> 0"
                " FROM (SELECT tenant_id, number, row_number() OVER (ORDER BY number) AS rn"
                "       FROM tickets WHERE tenant_id = %s AND created_at >= %s"
                "       AND created_at < %s) k",
                (first_day, tenant, start, end)).rowcount
            seeded = time.monotonic() - t
    with psycopg.connect(os.environ["MSP_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) time_entries")
    s, status, body = http_row(base, admin, f"/v1/tenants/{slug}/reports/cost",
                               {"period": period})
    cost_sql = ("SELECT count(*), sum(minutes) FROM time_entries"
                " WHERE tenant_id = %s AND worked_on >= %s"
                " AND worked_on < (%s::date + interval '1 month')::date")
    f_cost, _, _ = floor(floor_url, cost_sql, (tenant, first_day, first_day))
    add(f"GET cost ({logged:,} time entries)", s, status, "time entries floor", f_cost,
        f"seeded in {seeded:.1f} s")

    # the monthly review pack: rendered by mspctl (time, peak memory), for
    # the large client and a small one; and asked for through the gateway
    # until the worker issued it
    as_of = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for who in (slug, small):
        out_dir = pathlib.Path(out) / f"pack-{who}"
        t = time.monotonic()
        child = subprocess.Popen([mspctl, "pack", "render", who, "monthly", period, "--as-of",
                                  as_of, "--out", str(out_dir)], stdout=subprocess.DEVNULL)
        _, wait_status, usage = os.wait4(child.pid, 0)
        took = time.monotonic() - t
        child.returncode = os.waitstatus_to_exitcode(wait_status)
        peak = usage.ru_maxrss      # KiB
        size = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file()) \
            if out_dir.exists() else 0
        add(f"pack render, monthly, {who}", took, 0 if child.returncode == 0 else "fail",
            "month floor", f_month, f"peak memory {peak // 1024} MiB, {size // 1024} KiB of files")
    t = time.monotonic()
    resp = requests.post(f"{base}/v1/tenants/{slug}/packs", timeout=60,
                         json={"kind": "monthly", "period": period},
                         headers={"Authorization": f"Bearer {admin}"})
    status = resp.status_code
    if status == 202:
        url = resp.headers["Location"]
        while True:
            got = requests.get(url, timeout=60, headers={"Authorization": f"Bearer {admin}"})
            if got.status_code != 202 or time.monotonic() - t > 600:
                status = got.status_code
                break
            time.sleep(0.5)
    add("POST monthly pack until issued (worker)", time.monotonic() - t, status,
        "month floor", f_month)

    # the portfolio: every tenant, and the lead's 200
    portfolio_sql = ("SELECT count(*), sum(length(k.title)) FROM unnest(%s::uuid[]) t (id)"
                     " CROSS JOIN LATERAL (SELECT title FROM tickets x WHERE x.tenant_id = t.id"
                     " AND x.created_at >= %s AND x.created_at < %s) k")
    f_all, all_rows, _ = floor(floor_url, portfolio_sql, (tenants, start, end))
    f_lead, lead_rows, _ = floor(floor_url, portfolio_sql, (lead_tenants, start, end))
    s, status, body = http_row(base, lead, "/v1/reports/portfolio", {"period": period})
    n_lead = len(json.loads(body)["items"]) if status == 200 else 0
    add(f"GET portfolio as lead.l200 ({n_lead} tenants)", s, status,
        f"floor over {len(lead_tenants)} tenants", f_lead)
    s, status, body = http_row(base, admin, "/v1/reports/portfolio", {"period": period})
    n_all = len(json.loads(body)["items"]) if status == 200 else 0
    add(f"GET portfolio as admin.bench ({n_all} tenants)", s, status,
        f"floor over {len(tenants)} tenants", f_all)

    lines = [
        f"== reports: {slug} ({head['timezone']}), {created:,} tickets created in {period};"
        f" the floors' tickets: month {f_rows[0][0]:,}, 12 months {y_rows[0][0]:,},"
        f" all tenants' {period} {all_rows[0][0]:,}, the lead's {lead_rows[0][0]:,}",
        f"   each row: the median of {RUNS} requests after one unmeasured (the trend: one),"
        f" end to end; floors: the median of {FLOOR_RUNS} as msp_bench_floor",
        "",
        f"   {'row':<46} {'seconds':>8} {'status':>6}  {'floor':<26} {'seconds':>8} {'x floor':>8}",
    ]
    for label, seconds, status, floor_label, floor_seconds, note in rows:
        ratio = seconds / floor_seconds if floor_seconds else float("nan")
        lines.append(f"   {label:<46} {seconds:8.2f} {status!s:>6}  {floor_label:<26}"
                     f" {floor_seconds:8.3f} {ratio:8.1f}" + (f"  ({note})" if note else ""))
    lines += ["", "   the month floor's plan:"] + ["     " + p for p in f_plan.splitlines()]
    text = "\n".join(lines) + "\n"
    pathlib.Path(out, "reports.txt").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
