#!/usr/bin/python3
"""The assets part of tests/bench/run.sh: importing an MDM export of
ROWS devices into one tenant of the bench's 1,000, and the compliance
report and lists and the failures report on a tenant that then holds that
many assets, against floors measured in the same run.

    assets.py SLUG ROWS FLOOR_URL MSPCTL OUT

The import is `mspctl assets import` of a generic CSV written here (the
kinds, statuses, models, sites and dates of a real fleet, drawn at random
with a fixed seed), timed under /usr/bin/time for its wall time and peak
memory, then imported again (every row unchanged).  Its floor is what
PostgreSQL alone does to write the same rows: one INSERT ... SELECT of ROWS
rows of the same columns into a table of its own with the same indexes,
as msp_bench_floor (no row-level security, no history, no checks).  The
reads are timed through the gateway as the provider's admin (one
unmeasured request, then RUNS, the median shown); their floor is one scan
of the tenant's assets counting the same nine checks, as msp_bench_floor.
For the failures report, each of the tenant's tickets is linked to one of
its devices first; the report covers the last 365 days, and its floor is
the ideal statement as msp_bench_floor: the devices in service per model,
department and site and the distinct users of each department and site
(from one scan of the tenant's assets), and the period's linked tickets
per model, department and site (a join of the links, the tickets and the
assets).
Writes OUT/assets.txt.
"""
import os
import pathlib
import random
import statistics
import subprocess
import sys
import time

import psycopg
import requests

RUNS = 3
KINDS = ["laptop"] * 6 + ["desktop"] * 2 + ["phone"] * 2 + ["tablet", "server", "network",
                                                             "printer", "saas_license"]
STATUSES = ["deployed"] * 8 + ["in_stock", "in_repair", "retired", "lost"]
MODELS = [f"Model {m}" for m in range(40)]


def write_export(path, rows, tag):
    rnd = random.Random(15)
    with path.open("w") as f:
        f.write("serial,tag,kind,status,model,manufacturer,site,department,assigned_to,"
                "encrypted,enrolled,purchase_date,warranty_end,last_seen,last_patched\n")
        for i in range(rows):
            year = rnd.randint(2020, 2026)
            f.write(",".join([
                f"{tag}{i:07d}", f"AT-{tag}{i:07d}", rnd.choice(KINDS), rnd.choice(STATUSES),
                rnd.choice(MODELS), rnd.choice(("Dell Inc.", "LENOVO", "Apple", "HP")),
                f"Site {rnd.randint(1, 12)}", f"Dept {rnd.randint(1, 20)}",
                f"user{rnd.randint(1, rows // 2)}@client.example",
                rnd.choice(("true", "false", "")), rnd.choice(("true", "false", "")),
                f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                f"{year + 3}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d} 08:00:00",
                f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d}T02:00:00Z"]) + "\n")


def import_file(mspctl, slug, path, out, name):
    t = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-v", "-o", str(out / f"{name}.time"), mspctl,
                           "assets", "import", slug, str(path)], capture_output=True, text=True)
    seconds = time.monotonic() - t
    rss = 0
    for line in (out / f"{name}.time").read_text().splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1]) / 1024
    summary = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    return seconds, rss, proc.returncode, summary


def timed(fn, runs=RUNS):
    fn()
    times, out = [], None
    for _ in range(runs):
        t = time.monotonic()
        out = fn()
        times.append(time.monotonic() - t)
    return statistics.median(times), out


def main():
    slug, rows, floor_url, mspctl, out = sys.argv[1:6]
    rows, out = int(rows), pathlib.Path(out)
    base = os.environ["MSP_HTTP"]
    admin = subprocess.run([mspctl, "token", "--sub", "admin.bench", "--org", "provider",
                            "--role", "admin"], check=True, capture_output=True,
                           text=True).stdout.strip()
    export = out / "assets-export.csv"
    write_export(export, rows, "B")
    size = export.stat().st_size

    first = import_file(mspctl, slug, export, out, "assets-import")
    again = import_file(mspctl, slug, export, out, "assets-reimport")
    with psycopg.connect(os.environ["MSP_DATABASE_URL"]) as conn, conn.transaction():
        conn.execute("SELECT app.set_principal('bench.assets', 'provider', 'admin')")
        tenant, n_assets = conn.execute(
            "SELECT t.tenant_id, count(a.*) FROM tenants t LEFT JOIN assets a USING (tenant_id)"
            " WHERE t.slug = %s GROUP BY t.tenant_id", (slug,)).fetchone()
        window = conn.execute("SELECT (assets->>'patch_window_days')::int FROM tenants"
                              " WHERE slug = %s", (slug,)).fetchone()[0]

    # the write floor: the same number of rows, one statement, no policies
    with psycopg.connect(floor_url) as conn:
        conn.execute("CREATE TEMPORARY TABLE floor_assets (LIKE assets INCLUDING DEFAULTS"
                     " INCLUDING INDEXES)")
        insert = ("INSERT INTO floor_assets (tenant_id, asset_id, tag, name, kind, serial, status,"
                  " model, site, department, assigned_to, encrypted, enrolled, purchase_date,"
                  " warranty_end, last_seen, last_patched, created_by)"
                  " SELECT %s, g, 'AT-F' || g, 'AT-F' || g, 'laptop', 'F' || g, 'deployed',"
                  " 'Model ' || g %% 40, 'Site ' || g %% 12, 'Dept ' || g %% 20, 'user' || g,"
                  " g %% 2 = 0, g %% 3 = 0, date '2024-01-01', date '2027-01-01', now(), now(), 'floor'"
                  " FROM generate_series(1, %s) g")
        t = time.monotonic()
        conn.execute(insert, (tenant, rows))
        f_write = time.monotonic() - t
        conn.rollback()

    # the read floor: one scan of the tenant's assets counting the checks
    checks_sql = (
        "SELECT count(*) FILTER (WHERE status IN ('deployed', 'in_repair')"
        "   AND kind IN ('laptop', 'desktop', 'server', 'phone', 'tablet') AND encrypted IS NOT TRUE),"
        " count(*) FILTER (WHERE status IN ('deployed', 'in_repair')"
        "   AND kind IN ('laptop', 'desktop', 'phone', 'tablet') AND enrolled IS NOT TRUE),"
        " count(*) FILTER (WHERE status IN ('deployed', 'in_repair')"
        "   AND coalesce(last_patched < now() - make_interval(days => %s), true)),"
        " count(*) FILTER (WHERE status NOT IN ('retired', 'lost')"
        "   AND warranty_end >= current_date AND warranty_end < current_date + 90),"
        " count(*) FILTER (WHERE status = 'deployed' AND coalesce(last_seen < now() - interval"
        "   '30 days', true)),"
        " count(*) FILTER (WHERE status = 'retired' AND assigned_to IS NOT NULL),"
        " count(*) FILTER (WHERE status IN ('deployed', 'in_repair') AND kind <> 'saas_license'"
        "   AND warranty_end < current_date),"
        " count(*) FILTER (WHERE status IN ('deployed', 'in_repair') AND kind <> 'saas_license'"
        "   AND purchase_date + interval '48 months' <= current_date),"
        " count(*) FILTER (WHERE status IN ('deployed', 'in_repair') AND kind <> 'saas_license'"
        "   AND least(purchase_date + interval '48 months', warranty_end) < current_date + 90)"
        " FROM assets WHERE tenant_id = %s")
    with psycopg.connect(floor_url) as conn:
        f_read, _ = timed(lambda: conn.execute(checks_sql, (window, tenant)).fetchall(), 5)

    # the failures report: each ticket of the tenant names one of its devices
    with psycopg.connect(os.environ["MSP_DATABASE_URL"]) as conn, conn.transaction():
        conn.execute("SELECT app.set_principal('bench.assets', 'provider', 'admin')")
        linked = conn.execute(
            "WITH d AS (SELECT array_agg(asset_id ORDER BY asset_id) AS ids FROM assets"
            "           WHERE tenant_id = %(t)s AND kind <> 'saas_license')"
            " INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id)"
            " SELECT k.tenant_id, k.number,"
            "        d.ids[1 + (k.number * 7919) %% cardinality(d.ids)]"
            " FROM tickets k, d WHERE k.tenant_id = %(t)s ON CONFLICT DO NOTHING",
            {"t": tenant}).rowcount
    # the 365 days up to today's end: the devices imported today are in its fleet
    today = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    start = time.strftime("%Y-%m-%d", time.localtime(time.time() - 364 * 86400))
    period = f"{start}..{today}"
    failures_sql = (
        "WITH f AS (SELECT model, department, site, assigned_to FROM assets"
        "           WHERE tenant_id = %(t)s AND status IN ('deployed', 'in_repair')"
        "             AND kind <> 'saas_license'),"
        " h AS (SELECT a.model, a.department, a.site, x.ticket_number FROM ticket_assets x"
        "       JOIN tickets k ON k.tenant_id = x.tenant_id AND k.number = x.ticket_number"
        "       JOIN assets a ON a.tenant_id = x.tenant_id AND a.asset_id = x.asset_id"
        "       WHERE x.tenant_id = %(t)s AND k.created_at >= %(a)s::date"
        "         AND k.created_at < %(b)s::date)"
        " SELECT 'model', model, count(*), NULL FROM f GROUP BY model"
        " UNION ALL SELECT 'department', department, count(*), count(DISTINCT assigned_to)"
        "  FROM f GROUP BY department"
        " UNION ALL SELECT 'site', site, count(*), count(DISTINCT assigned_to) FROM f GROUP BY site"
        " UNION ALL SELECT 'model', model, count(DISTINCT ticket_number), NULL FROM h"
        "  GROUP BY model"
        " UNION ALL SELECT 'department', department, count(DISTINCT ticket_number), NULL FROM h"
        "  GROUP BY department"
        " UNION ALL SELECT 'site', site, count(DISTINCT ticket_number), NULL FROM h"
        "  GROUP BY site")
    with psycopg.connect(floor_url) as conn:
        f_failures, _ = timed(lambda: conn.execute(
            failures_sql, {"t": tenant, "a": start, "b": today}).fetchall(), 5)

    def get(path, params):
        def call():
            r = requests.get(base + path, params=params, timeout=600,
                             headers={"Authorization": f"Bearer {admin}"})
            return r.status_code
        return timed(call)

    reads = [
        ("GET reports/compliance", f"/v1/tenants/{slug}/reports/compliance", {}),
        ("GET reports/compliance/assets?check=not_patched (100)",
         f"/v1/tenants/{slug}/reports/compliance/assets", {"check": "not_patched",
                                                           "limit": 100}),
        ("GET assets?kind=laptop&site=Site 3 (50)", f"/v1/tenants/{slug}/assets",
         {"kind": "laptop", "site": "Site 3", "limit": 50}),
    ]
    lines = [f"== assets: {rows:,} devices imported into {slug} (one of the bench's tenants),"
             f" then read; {n_assets:,} assets there"]
    lines.append(f"   {'row':56} {'seconds':>9} {'floor':>9} {'x floor':>8}  peak RSS / status")
    for label, (seconds, rss, rc, summary) in (("mspctl assets import (new)", first),
                                              ("mspctl assets import (again, unchanged)", again)):
        lines.append(f"   {label:56} {seconds:9.2f} {f_write:9.3f} {seconds / f_write:8.0f}"
                     f"  {rss:.1f} MiB, {rows / seconds:,.0f} rows/s, exit {rc}")
        lines.append(f"      {summary}")
    for label, path, params in reads:
        seconds, status = get(path, params)
        lines.append(f"   {label:56} {seconds:9.3f} {f_read:9.3f} {seconds / f_read:8.1f}"
                     f"  {status}")
    seconds, status = get(f"/v1/tenants/{slug}/reports/failures", {"period": period})
    lines.append(f"   {'GET reports/failures (365 days, ' + f'{linked:,} tickets linked)':56}"
                 f" {seconds:9.3f} {f_failures:9.3f} {seconds / f_failures:8.1f}  {status}")
    lines += [
        f"   (the export: {size / 1e6:.1f} MB of CSV; write floor: one INSERT ... SELECT of"
        f" {rows:,} rows into an indexed copy of assets as msp_bench_floor, no row-level",
        "   security, history or checks; read floor: one scan of the tenant's assets counting",
        "   the nine checks, as msp_bench_floor; failures floor: devices and users in service and",
        "   the period's linked tickets per model, department and site, as msp_bench_floor; the",
        f"   reads as the provider's admin, median of {RUNS})",
    ]
    (out / "assets.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
