#!/usr/bin/python3
"""The benchmark table, from what tests/bench/run.sh left in its results dir.

    report.py RESULTS_DIR
    report.py --plans EXPLAIN_OUTPUT   the plans, with partition scans counted, not listed
    report.py --sla SLA_DIR BATCH      the SLA section (tests/bench/sla.sh)

RESULTS_DIR/rows.tsv lists the rows in order: key, label, kind (wrk,
pgbench or skipped), note.  For a wrk row, KEY.wrk.out is wrk's output
(with the BENCH_RESULT line of wrk.lua) and KEY.status the HTTP statuses
nginx logged during the run ("count status" lines).  For a pgbench row,
KEY.pgbench.out is pgbench's output, KEY.log.* its per-transaction logs and
KEY.window the measured window; req/s, p50 and p99 are computed here from
the transactions that ended inside the window.  RESULTS_DIR/rss.tsv holds the
nginx workers' resident memory at each point run.sh sampled it.

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
    return {
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
    return {
        "rps": len(latencies) / duration,
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 50) / 1000.0,
        "p99_ms": percentile(latencies, 99) / 1000.0,
        "non2xx": None,
        "errors": failed + aborted,
        "statuses": {"aborted clients": aborted} if aborted else {},
    }


PARTITION_NODE = re.compile(r"->  .* on (tickets|ticket_events|ticket_assets|assets|audit_log)_\w+ ")


def indent(line):
    return len(line) - len(line.lstrip())


def compact_plans(text):
    """EXPLAIN output with each run of sibling partition scans (tickets_acme,
    tickets_client_0001, ...) shown once, as the first scan that returned
    rows, plus a line that counts them."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        if not PARTITION_NODE.search(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        level, blocks = indent(lines[i]), []
        while i < len(lines) and PARTITION_NODE.search(lines[i]) and indent(lines[i]) == level:
            j = i + 1
            while j < len(lines) and indent(lines[j]) > level and lines[j].strip():
                j += 1
            blocks.append(lines[i:j])
            i = j
        never = [b for b in blocks if "(never executed)" in b[0]]
        ran = [b for b in blocks if b not in never]
        with_rows = [b for b in ran if not re.search(r"rows=0 loops", b[0])]
        shown = (with_rows or ran or blocks)[0]
        out.extend(shown)
        if len(blocks) > 1:
            out.append(" " * level + f"   [{len(blocks)} partition scans like this one: {len(ran)} ran, "
                       f"{len(with_rows)} of them found rows; {len(never)} never executed "
                       "(pruned at run time)]")
    # psql's header rule is as wide as the widest line; filters that inline
    # the row-level security policy run to 1,000 characters.
    out = [line.rstrip() for line in out
           if (line.strip(" -+") or not line.strip()) and line.strip() != "QUERY PLAN"]
    return "\n".join(line if len(line) <= 150 else line[:147] + "..." for line in out)


TICKETS_SCAN = re.compile(r"->  (.*?) on (tickets_\w+) ")


def plan_checks(text):
    """For each EXPLAIN in text: its title, how it reads the tickets
    partitions (node kinds, with the partition's name as *, counted) and how
    many of those reads are by index and how many Seq Scans."""
    checks, title, n = [], "", 0
    for block in re.split(r"^(?=.*QUERY PLAN\s*$)|^(?=---- )", text, flags=re.M):
        if block.startswith("---- "):
            title, n = block.split("\n", 1)[0][5:].split(":")[0].strip(), 0
            continue
        if "QUERY PLAN" not in block:
            continue
        n += 1
        kinds = {}
        for m in TICKETS_SCAN.finditer(block):
            kind = m.group(1).replace(m.group(2), "tickets_*")
            if kind.endswith("Bitmap Index Scan"):       # "... on <index>": name the index
                kind += " on " + re.sub(r"^tickets_\w+(_sla_next_at_idx)$", r"tickets_*\1", m.group(2))
            kinds[kind] = kinds.get(kind, 0) + 1
        seq = sum(v for k, v in kinds.items() if "Seq Scan" in k)
        index = sum(v for k, v in kinds.items() if "Index" in k)
        checks.append((f"{title}, {'custom' if n == 1 else 'generic'} plan", kinds, index, seq))
    return checks


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
          "run from a cached\n   generic PL/pgSQL plan as the sweep runs it once warm (the same index "
          "scans, without the join,\n   the row locks and the work per ticket).  plain SQL: a "
          "client's prepared statement, for\n   reference.  Nothing due, after VACUUM tickets.")

    # the drain
    before = (out / "counts.before").read_text().split()
    after = (out / "counts.after").read_text().split() if (out / "counts.after").exists() else []
    start, calls = None, []
    for line in (out / "drain.out").read_text().split("\n"):
        f = line.split()
        if len(f) == 2 and f[0] == "start":
            start = float(f[1])
        elif len(f) == 4 and f[0] == "call":
            calls.append((int(f[2]), float(f[3])))
    print()
    print(f"== SLA: the drain (app.sla_sweep({batch}), one session, a transaction per call, "
          "until a call writes nothing)")
    print(f"   due before: {int(before[0]):,} tickets, {int(before[1]):,} warnings/breaches due")
    if start is None or not calls:
        print("   no calls completed (see sla/drain.out)")
    else:
        times, t = [], start
        for _, end in calls:
            times.append(end - t)
            t = end
        total = calls[-1][1] - start
        events = sum(max(n, 0) for n, _ in calls)
        working = [d for (n, _), d in zip(calls, times) if n > 0]
        due = int(before[0])
        print(f"   calls: {len(calls)} ({len(working)} that wrote events, then {len(calls) - len(working)}"
              f" that wrote none); events written: {events:,}")
        print(f"   total: {total:.3f} s;  per due ticket: {1e6 * total / due if due else 0:.0f} us;"
              f"  per event: {1e6 * total / events if events else 0:.0f} us")
        middle = times[1:-1]
        print("   per call (ms): the first %.1f (it also plans the selection in this session); "
              "the others that wrote events: mean %s, min %s, max %s; the last (nothing due) %.1f" % (
                  1000 * times[0],
                  f"{1000 * sum(middle) / len(middle):.1f}" if middle else "-",
                  f"{1000 * min(middle):.1f}" if middle else "-",
                  f"{1000 * max(middle):.1f}" if middle else "-", 1000 * times[-1]))
        print("   each call: " + " ".join(f"{n}/{1000 * d:.0f}ms" for (n, _), d in zip(calls, times)))
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
    for title, kinds, index, seq in plan_checks(text):
        verdict = "all by index, OK" if index and not seq else "NOT all by index"
        ok = ok and index and not seq
        print(f"   check ({title}): the tickets partitions are read by "
              + ", ".join(f"{v} x {k}" for k, v in sorted(kinds.items())) + f": {verdict}")
    print("   check: every plan reads the tickets partitions by index, no Seq Scan: "
          + ("yes" if ok else "NO"))


def main():
    if sys.argv[1] == "--plans":
        print(compact_plans(pathlib.Path(sys.argv[2]).read_text()))
        return
    if sys.argv[1] == "--sla":
        sla_report(pathlib.Path(sys.argv[2]), sys.argv[3])
        return
    results = pathlib.Path(sys.argv[1])
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

    floors = [r for r in rows if r["key"] in ("http_floor", "db_floor") and "rps" in r]
    floor = min(floors, key=lambda r: r["rps"]) if len(floors) == 2 else None

    head = f"{'':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'/floor':>7} {'non-2xx':>8} {'errors':>7}  statuses"
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['label']:34} {'-':>9} {'-':>8} {'-':>8} {'-':>7} {'-':>8} {'-':>7}  {r['error']}")
            continue
        is_floor = r["key"].startswith(("http_", "db_"))
        ratio = "-" if is_floor or floor is None or not floor["rps"] else f"{r['rps'] / floor['rps']:.3f}"
        non2xx = "-" if r["non2xx"] is None else str(r["non2xx"])
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(r["statuses"].items()))
        print(f"{r['label']:34} {r['rps']:9.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {ratio:>7} "
              f"{non2xx:>8} {r['errors']:>7}  {statuses}")
    print()
    if floor is not None:
        print(f"/floor: the row's req/s divided by the lower floor, {floor['label'].strip()} "
              f"({floor['rps']:.1f} req/s).")
    print("non-2xx: responses wrk counted as neither 2xx nor 3xx.  errors: socket errors and "
          "timeouts (wrk),\nfailed transactions and aborted clients (pgbench).  statuses: what "
          "nginx logged for the run;\n499 is a request still in flight when wrk closed its "
          "connections at the end.")

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
                print(f"  {when:28} total {total:8}  (change {total - first:+d})   {per}")


if __name__ == "__main__":
    main()
