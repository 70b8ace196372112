#!/usr/bin/python3
"""The benchmark's tables, from what tests/bench/run.sh left in its results dir.

    report.py RESULTS_DIR
    report.py --plans EXPLAIN_OUTPUT   the plans, shortened, with a summary of each
    report.py --sla SLA_DIR BATCH      the SLA section (tests/bench/sla.sh)

RESULTS_DIR/rows.tsv lists the rows in order: key, label, kind (wrk,
pgbench or skipped), note.  For a wrk row, KEY.wrk.out is wrk's output
(with the BENCH_RESULT line of wrk.lua) and KEY.status the HTTP statuses
nginx logged during the run ("count status" lines).  For a pgbench row,
KEY.pgbench.out is pgbench's output, KEY.log.* its per-transaction logs and
KEY.window the measured window; req/s, p50 and p99 are computed here from
the transactions that ended inside the window.  The floors are the rows
http_floor and db_floor; a row t20_KEY is row KEY measured on the 20-tenant
database (the scaling table).  RESULTS_DIR/rss.tsv holds the nginx
workers' resident memory at each point run.sh sampled it; RESULTS_DIR/sla
what sla.sh left (for the drain's aim).

SLA_DIR (what sla.sh left): rows.tsv and the pgbench files as above (the
floor is the row sla_floor); drain.out ("start EPOCH", then "call N EVENTS
EPOCH" after each call), counts.before and counts.after ("due tickets, due
entries, sla events, sla audit rows"), plans.full.txt (the EXPLAINs, each
after a "---- title" line).
"""
import glob
import json
import pathlib
import re
import sys


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


def wrk_row(results, key):
    out = (results / f"{key}.wrk.out").read_text(errors="replace")
    m = re.search(r"^BENCH_RESULT (\{.*\})$", out, re.M)
    if not m:
        return {"error": "no result from wrk (see %s.wrk.out)" % key}
    r = json.loads(m.group(1))
    statuses = {}
    status_file = results / f"{key}.status"
    if status_file.exists():
        for line in status_file.read_text().split("\n"):
            if line.strip():
                count, status = line.split()
                statuses[status] = int(count)
    seconds = r["duration_us"] / 1e6
    cpu = {}
    cpu_file = results / f"{key}.cpu"
    if cpu_file.exists() and r["requests"]:
        # nginx and PostgreSQL ticks before and after (1/100 s), wrk's user and system seconds
        f = cpu_file.read_text().split()
        if len(f) == 6:
            n0, p0, n1, p1, wu, ws = f
            cpu = {"nginx": 10.0 * (int(n1) - int(n0)) / r["requests"],
                   "pg": 10.0 * (int(p1) - int(p0)) / r["requests"],
                   "wrk": 1000.0 * (float(wu) + float(ws)) / r["requests"]}
    return {
        "cpu": cpu,
        "rps": r["requests"] / seconds if seconds else 0.0,
        "requests": r["requests"],
        "p50_ms": r["p50_us"] / 1000.0,
        "p99_ms": r["p99_us"] / 1000.0,
        "non2xx": r["non2xx"],
        "errors": r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"],
        "statuses": statuses,
    }


def pgbench_row(results, key):
    """p50/p99 and req/s over the transactions that ended inside the
    measured window (KEY.window: start epoch, warm-up and measured seconds)."""
    out = (results / f"{key}.pgbench.out").read_text(errors="replace")
    start, warmup, duration = (float(x) for x in (results / f"{key}.window").read_text().split())
    lo, hi = start + warmup, start + warmup + duration
    latencies, failed = [], 0
    for name in glob.glob(str(results / f"{key}.log.*")):
        with open(name) as f:
            for line in f:
                # client_id transaction_no time script_no time_epoch time_us ...
                fields = line.split()
                if len(fields) < 6:
                    continue
                end = int(fields[4]) + int(fields[5]) / 1e6
                if not lo <= end < hi:
                    continue
                if fields[2].isdigit():
                    latencies.append(int(fields[2]))
                else:  # "failed" or "skipped"
                    failed += 1
    latencies.sort()
    aborted = len(re.findall(r"^pgbench: error: client \d+ .*aborted", out, re.M))
    if not latencies:
        return {"error": "no transactions in the measured window (see %s.pgbench.out)" % key}
    cpu = {}
    cpu_file = results / f"{key}.cpuwin"
    if cpu_file.exists():
        # PostgreSQL's ticks (1/100 s) at t0 and t1, pgbench's at t0 and t1
        f = cpu_file.read_text().split()
        if len(f) == 6:
            p0, p1, t0, t1, b0, b1 = (float(x) for x in f)
            n = 0
            for name in glob.glob(str(results / f"{key}.log.*")):
                with open(name) as log:
                    for line in log:
                        fields = line.split()
                        if len(fields) >= 6 and fields[2].isdigit():
                            if t0 <= int(fields[4]) + int(fields[5]) / 1e6 < t1:
                                n += 1
            if n:
                cpu = {"pg": 10.0 * (p1 - p0) / n, "wrk": 10.0 * (b1 - b0) / n}
    return {
        "cpu": cpu,
        "rps": len(latencies) / duration,
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 50) / 1000.0,
        "p99_ms": percentile(latencies, 99) / 1000.0,
        "non2xx": None,
        "errors": failed + aborted,
        "statuses": {"aborted clients": aborted} if aborted else {},
    }


# ---- plans -----------------------------------------------------------------

BIG_TABLES = r"(tickets|ticket_events|escalations|ticket_assets|audit_log|assets)"


def indent(line):
    return len(line) - len(line.lstrip())


def compact_plans(text):
    """EXPLAIN output without psql's header lines, without the InitPlans
    that are a bare Result (the row-level security policies' and the
    statements' (SELECT app.tenant_ids(...)): the principal's settings, read
    once per statement), each line at most 150 characters (filters that
    inline a policy run long)."""
    lines = [line.rstrip() for line in text.split("\n")
             if (line.strip(" -+") or not line.strip()) and line.strip() != "QUERY PLAN"
             and not re.match(r"^\(\d+ rows?\)$", line.strip())]
    out, i = [], 0
    while i < len(lines):
        if (re.match(r"^\s*InitPlan \d+ \(returns \$\d+\)$", lines[i]) and i + 1 < len(lines)
                and re.match(r"^\s*->  Result \(.*\)$", lines[i + 1])
                and (i + 2 >= len(lines) or indent(lines[i + 2]) <= indent(lines[i]))):
            i += 2
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(line if len(line) <= 150 else line[:147] + "..." for line in out)


def plan_blocks(text):
    """(title, plan text) for each EXPLAIN in text: the title is that of the
    last "---- NAME as WHO: ..." line, with "custom" or "generic" for the
    first and second plan after it."""
    blocks, title, n = [], "", 0
    for block in re.split(r"^(?=\s*QUERY PLAN\s*$)|^(?=---- )", text, flags=re.M):
        if block.startswith("---- "):
            title, n = block.split("\n", 1)[0][5:].split(":")[0].strip(), 0
            continue
        if "QUERY PLAN" not in block:
            continue
        n += 1
        blocks.append((f"{title}, {'custom' if n == 1 else 'generic'}", block))
    return blocks


def plan_summary(block):
    """Execution time, the top node's buffers, the sequential scans of the
    big tables, the most rows a node removed by filter."""
    exec_ms = re.search(r"Execution Time: ([\d.]+) ms", block)
    plan_ms = re.search(r"Planning Time: ([\d.]+) ms", block)
    buffers = re.search(r"Buffers: ([^\n]*)", block)
    seqs = sorted(set(re.findall(r"Seq Scan on " + BIG_TABLES + r"\b", block)))
    removed = [int(x) for x in re.findall(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", block)]
    read = {}
    for table, rows, loops in re.findall(r"Scan(?: Backward)?(?: using \w+)? on " + BIG_TABLES
                                         + r" \w+ \(actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)\)",
                                         block):
        read[table] = read.get(table, 0) + int(rows) * int(loops)
    return (f"{float(exec_ms.group(1)) if exec_ms else float('nan'):.2f} ms"
            f" (planning {float(plan_ms.group(1)) if plan_ms else float('nan'):.2f} ms);"
            f" {buffers.group(1).strip() if buffers else 'no buffers'};"
            f" rows scanned: {', '.join(f'{t} {n}' for t, n in read.items()) or 'none'};"
            f" seq scans: {', '.join(seqs) if seqs else 'none'};"
            f" most rows removed by a filter: {max(removed) if removed else 0}")


def print_plans(path):
    text = pathlib.Path(path).read_text()
    print(compact_plans(text))
    print()
    print("summary: execution time; the top node's buffers; the rows the scans of tickets, "
          "ticket_events,\nescalations, ticket_assets, audit_log and assets returned (rows x "
          "loops); their sequential scans;\nthe most rows a node read and threw away:")
    for title, block in plan_blocks(text):
        print(f"  {title}: {plan_summary(block)}")
    if re.search(r"^(ERROR|psql:.*ERROR)", text, re.M):
        print("  EXPLAIN FAILED: " + re.search(r"^.*ERROR.*$", text, re.M).group(0))


# ---- SLA --------------------------------------------------------------------

def drain_figures(out):
    """(due tickets, calls, events, seconds) of the drain, or None."""
    before = (out / "counts.before").read_text().split()
    start, calls = None, []
    for line in (out / "drain.out").read_text().split("\n"):
        f = line.split()
        if len(f) == 2 and f[0] == "start":
            start = float(f[1])
        elif len(f) == 4 and f[0] == "call":
            calls.append((int(f[2]), float(f[3])))
    if start is None or not calls:
        return None
    return int(before[0]), calls, start


def sla_report(out, batch):
    rows = []
    for line in (out / "rows.tsv").read_text().split("\n"):
        if line.strip():
            key, label = line.split("\t")[:2]
            r = pgbench_row(out, key)
            r.update(key=key, label=label)
            rows.append(r)
    floor = next((r for r in rows if r["key"] == "sla_floor" and "rps" in r), None)

    print("== SLA: the breach sweep (as msp_gateway, principal msp-gateway:sla-sweep; pgbench -c1)")
    head = f"   {'':40} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'/floor':>7} {'errors':>7}"
    print(head)
    print("   " + "-" * (len(head) - 3))
    for r in rows:
        if "error" in r:
            print(f"   {r['label']:40} {'-':>9} {'-':>8} {'-':>8} {'-':>7} {'-':>7}  {r['error']}")
            continue
        ratio = "-" if r is floor or floor is None else f"{r['rps'] / floor['rps']:.3f}"
        print(f"   {r['label']:40} {r['rps']:9.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
              f"{ratio:>7} {r['errors']:>7}")
    print("   /floor: calls/s divided by the floor's: the same transaction (BEGIN; principal; ...; "
          "COMMIT,\n   pipelined) with the sweep replaced by its selection alone, an index probe "
          "run from a cached\n   generic PL/pgSQL plan as the sweep runs it once warm (the same "
          "index scan, without the row\n   locks and the work per ticket).  plain SQL: a "
          "client's prepared statement, for reference.\n   Nothing due, after VACUUM tickets.")

    # the drain
    before = (out / "counts.before").read_text().split()
    after = (out / "counts.after").read_text().split() if (out / "counts.after").exists() else []
    print()
    print(f"== SLA: the drain (app.sla_sweep({batch}), one session, a transaction per call, "
          "until a call writes nothing)")
    print(f"   due before: {int(before[0]):,} tickets, {int(before[1]):,} warnings/breaches due")
    d = drain_figures(out)
    if d is None:
        print("   no calls completed (see sla/drain.out)")
    else:
        due, calls, start = d
        times, t = [], start
        for _, end in calls:
            times.append(end - t)
            t = end
        total = calls[-1][1] - start
        events = sum(max(n, 0) for n, _ in calls)
        working = [dt for (n, _), dt in zip(calls, times) if n > 0]
        print(f"   calls: {len(calls)} ({len(working)} that wrote events, then {len(calls) - len(working)}"
              f" that wrote none); events written: {events:,}")
        print(f"   total: {total:.3f} s: {due / total if total else 0:,.0f} due tickets/s, "
              f"{events / total if total else 0:,.0f} events/s;  per due ticket: "
              f"{1e6 * total / due if due else 0:.0f} us")
        middle = times[1:-1]
        print("   per call (ms): the first %.1f (it also plans the selection in this session); "
              "the others that wrote events: mean %s, min %s, max %s; the last (nothing due) %.1f" % (
                  1000 * times[0],
                  f"{1000 * sum(middle) / len(middle):.1f}" if middle else "-",
                  f"{1000 * min(middle):.1f}" if middle else "-",
                  f"{1000 * max(middle):.1f}" if middle else "-", 1000 * times[-1]))
        print("   each call: " + " ".join(f"{n}/{1000 * dt:.0f}ms" for (n, _), dt in zip(calls, times)))
    if after:
        print(f"   due after: {int(after[0]):,} tickets; sla events in the history: {int(after[2]):,}, "
              f"in the audit log: {int(after[3]):,}")
    end = (out / "counts.end").read_text().split() if (out / "counts.end").exists() else []
    if after and end:
        print(f"   events written during the steady-state runs: {int(end[2]) - int(after[2]):,} "
              "(0: nothing came due, the sweep only looked)")

    # the plans
    text = (out / "plans.full.txt").read_text()
    print()
    print("== SLA: the sweep's selection, EXPLAIN (ANALYZE, BUFFERS) as the sweeper "
          "(full text in results/sla/plans.full.txt)")
    print("   " + (out / "selection.sql").read_text().strip())
    for line in compact_plans(text).split("\n"):
        print("   " + line)
    print()
    ok = True
    for title, block in plan_blocks(text):
        scans = re.findall(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)"
                           r"(?: Backward)?(?: using (\w+))? on tickets\b", block)
        seq = any(kind == "Seq Scan" for kind, _ in scans)
        ok = ok and bool(scans) and not seq
        print(f"   check ({title}): tickets read by "
              + (", ".join(f"{k}{' using ' + i if i else ''}" for k, i in scans) or "nothing")
              + (": NOT by index" if seq or not scans else ": by index, OK"))
    print("   check: every plan reads tickets by index, no Seq Scan: " + ("yes" if ok else "NO"))


# ---- the table ----------------------------------------------------------------

def load_rows(results):
    rows = []
    for line in (results / "rows.tsv").read_text().split("\n"):
        if not line.strip():
            continue
        key, label, kind, note = (line.split("\t") + ["", "", "", ""])[:4]
        if kind == "wrk":
            r = wrk_row(results, key)
        elif kind == "pgbench":
            r = pgbench_row(results, key)
        else:
            r = {"error": note or "not run"}
        r.update(key=key, label=label)
        rows.append(r)
    return rows


def fmt_statuses(r):
    return " ".join(f"{s}:{n}" for s, n in sorted(r["statuses"].items()))


def aims(by_key, results, many="1,000"):
    """The issue's aims, each with the figure against it; measured, not asserted."""
    db = by_key.get("db_floor")
    lines = []

    def ratio(key):
        r = by_key.get(key)
        if r is None or "rps" not in r or db is None or "rps" not in db:
            return None, r
        return r["rps"] / db["rps"], r

    def note(r):
        bad = (r.get("non2xx") or 0) + r.get("errors", 0)
        return f"  ({bad} non-2xx/errors of {r['requests']})" if bad else ""

    def line(what, aim, figure, met, r=None):
        verdict = "-" if met is None else ("met" if met else "SHORT")
        lines.append(f"  {what:40} {aim:26} {figure:24} {verdict}{note(r) if r else ''}")

    x, r = ratio("get_ticket")
    if x is not None:
        line("GET ticket", ">= 0.35 x DB floor", f"{x:.3f}", x >= 0.35, r)
    for key in ("get_list", "queue_t5", "queue_t50", "queue_admin", "get_events", "inbox_t50",
                "inbox_lead"):
        x, r = ratio(key)
        if x is not None:
            line(r["label"], ">= 0.1 x, p99 < 50 ms", f"{x:.3f}, p99 {r['p99_ms']:.1f} ms",
                 x >= 0.1 and r["p99_ms"] < 50, r)
    for key in ("post_ticket", "patch_ticket", "post_comment", "post_escalation", "post_time"):
        x, r = ratio(key)
        if x is not None:
            line(r["label"], ">= 0.1 x DB floor", f"{x:.3f}", x >= 0.1, r)
    for key in ("get_ticket", "get_list", "post_ticket"):
        a, b = by_key.get(key), by_key.get("t20_" + key)
        if a and b and "rps" in a and "rps" in b and b["rps"]:
            x = a["rps"] / b["rps"]
            ca, cb = a.get("cpu") or {}, b.get("cpu") or {}
            y = ((cb["nginx"] + cb["pg"]) / (ca["nginx"] + ca["pg"])
                 if "nginx" in ca and "nginx" in cb and ca["nginx"] + ca["pg"] else None)
            line(f"{a['label']}: {many} / 20 tenants", ">= 0.8",
                 f"{x:.3f} (CPU: {'-' if y is None else f'{y:.3f}'})", x >= 0.8)
    sla = results / "sla"
    if (sla / "drain.out").exists() and (sla / "counts.before").exists():
        d = drain_figures(sla)
        if d is not None:
            due, calls, start = d
            total = calls[-1][1] - start
            rate = due / total if total else 0
            line("SLA sweep: draining the due tickets", ">= 1,000 tickets/s", f"{rate:,.0f} tickets/s",
                 rate >= 1000)
    if lines:
        print()
        print("aims (from the issue; reported, not asserted):")
        print(f"  {'':40} {'aim':26} {'measured':24} verdict")
        for l in lines:
            print(l)


def main():
    if sys.argv[1] == "--plans":
        print_plans(sys.argv[2])
        return
    if sys.argv[1] == "--sla":
        sla_report(pathlib.Path(sys.argv[2]), sys.argv[3])
        return
    results = pathlib.Path(sys.argv[1])
    rows = load_rows(results)
    by_key = {r["key"]: r for r in rows}
    db = by_key.get("db_floor") if "rps" in by_key.get("db_floor", {}) else None
    http = by_key.get("http_floor") if "rps" in by_key.get("http_floor", {}) else None

    head = (f"{'':30} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'/DB floor':>9} {'/HTTP':>6} "
            f"{'nginx':>6} {'PG':>6} {'wrk':>6} {'non-2xx':>7} {'errors':>6}  statuses")
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["key"].startswith("t20_"):
            continue
        if "error" in r:
            print(f"{r['label']:30} {'-':>8} {'-':>7} {'-':>7} {'-':>9} {'-':>6} {'-':>6} {'-':>6} {'-':>6} "
                  f"{'-':>7} {'-':>6}  {r['error']}")
            continue
        is_floor = r["key"] in ("http_floor", "db_floor")
        to_db = "-" if is_floor or db is None else f"{r['rps'] / db['rps']:.3f}"
        to_http = "-" if is_floor or http is None else f"{r['rps'] / http['rps']:.3f}"
        non2xx = "-" if r["non2xx"] is None else str(r["non2xx"])
        cpu = r.get("cpu") or {}
        c = [f"{cpu[k]:.3f}" if k in cpu else "-" for k in ("nginx", "pg", "wrk")]
        print(f"{r['label']:30} {r['rps']:8.1f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {to_db:>9} "
              f"{to_http:>6} {c[0]:>6} {c[1]:>6} {c[2]:>6} {non2xx:>7} {r['errors']:>6}  {fmt_statuses(r)}")
    print()
    if db is not None:
        print(f"/DB floor: the row's req/s divided by the DB floor's ({db['rps']:.1f}/s: one ticket by "
              "primary key,\nno row-level security).  /HTTP: divided by the HTTP floor's"
              + (f" ({http['rps']:.1f}/s)." if http else "."))
    print("nginx, PG, wrk: CPU milliseconds per request (user + system) of the nginx workers, of the\n"
          "PostgreSQL cluster's processes and of wrk (for the DB floor: of pgbench), over the measured\n"
          "run (2 CPUs x the run's seconds is what there was; what they leave is other work).")
    print("non-2xx: responses wrk counted as neither 2xx nor 3xx.  errors: socket errors and "
          "timeouts (wrk),\nfailed transactions and aborted clients (pgbench).  statuses: what "
          "nginx logged for the run;\n499 is a request still in flight when wrk closed its "
          "connections at the end.")

    scaled = [r for r in rows if r["key"].startswith("t20_")]
    many = (results / "tenants").read_text().strip() if (results / "tenants").exists() else "1000"
    many = f"{int(many):,}"
    if scaled:
        print()
        note = (results / "scaling.txt").read_text().strip() if (results / "scaling.txt").exists() else ""
        print(f"tenant scaling: the same rows on {note}, as tech.t5, each run next to its "
              f"{many}-tenant row:")
        head = (f"{'':22} {'20: req/s':>10} {'p99 ms':>7} {'CPU ms':>7} {many + ': req/s':>13} {'p99 ms':>7} "
                f"{'CPU ms':>7} {'req/s ' + many + '/20':>15} {'CPU 20/' + many:>13}  statuses (20)")
        print(head)
        print("-" * len(head))

        def cpu(r):
            c = r.get("cpu") or {}
            return c["nginx"] + c["pg"] if "nginx" in c and "pg" in c else None

        for t in scaled:
            r = by_key.get(t["key"][4:])
            label = t["label"].rsplit(",", 1)[0]
            if "error" in t or r is None or "error" in r:
                print(f"{label:22} {'-':>10}  {t.get('error') or (r or {}).get('error', 'not run')}")
                continue
            c20, c1000 = cpu(t), cpu(r)
            print(f"{label:22} {t['rps']:10.1f} {t['p99_ms']:7.2f} "
                  f"{'-' if c20 is None else f'{c20:.3f}':>7} {r['rps']:13.1f} {r['p99_ms']:7.2f} "
                  f"{'-' if c1000 is None else f'{c1000:.3f}':>7} {r['rps'] / t['rps']:15.3f} "
                  f"{'-' if not (c20 and c1000) else f'{c20 / c1000:.3f}':>13}  {fmt_statuses(t)}")
        print(f"CPU ms: nginx workers' and PostgreSQL's CPU milliseconds per request.  CPU 20/{many}: "
              f"the 20-tenant\nrow's CPU per request over the {many}-tenant row's (1.0: the number "
              "of tenants costs nothing;\nless noisy than req/s when other work shares the machine).")

    rss = results / "rss.tsv"
    if rss.exists():
        samples = {}
        for line in rss.read_text().split("\n"):
            if line.strip():
                when, pid, kb = line.split("\t")
                samples.setdefault(when, []).append((int(pid), int(kb)))
        if samples:
            print()
            print("nginx worker RSS (KiB), per worker pid:")
            first = None
            for when, workers in samples.items():
                total = sum(kb for _, kb in workers)
                first = total if first is None else first
                per = "  ".join(f"{pid}:{kb}" for pid, kb in sorted(workers))
                print(f"  {when:40} total {total:8}  (change {total - first:+d})   {per}")

    aims(by_key, results, many)


if __name__ == "__main__":
    main()
