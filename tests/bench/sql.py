#!/usr/bin/python3
"""The gateway's SQL, read from the C sources, for the benchmark.

    sql.py statement FILE NAME    the text of the msp_sql_t named NAME in FILE
    sql.py pgbench FILE           the pgbench script of the GET ticket transaction
    sql.py sweep-pgbench FILE     the pgbench script of the SLA sweep's transaction
    sql.py probe-pgbench FILE     the pgbench script of its floor (an index probe)
    sql.py sql-probe-pgbench FILE a plain SQL probe, for reference
    sql.py loop-query < PROSRC    the query of a PL/pgSQL `FOR r IN <query> LOOP`

The statements are taken from the sources rather than copied, so that the
database floor runs exactly the SQL the gateway runs.  A statement is the
second member of a `static const msp_sql_t x = { "name", "..." "...", n };`
initializer: adjacent C string literals and string macros (#define X "...",
in the file or a header it includes with quotes), concatenated.

The pgbench transaction is what the gateway pipelines for GET ticket, in
one round trip (\\startpipeline ... \\endpipeline):

    BEGIN READ ONLY; <principal>; <ticket_get>; COMMIT

with the parameters bound from pgbench variables: -M prepared makes each a
named prepared statement with bound parameters, as the gateway does.  The
tenant is random(1, :tenants) and the ticket random(1, :max_number).
pgbench has no string expressions, so one small query before the
transaction turns the tenant's number into its slug and prefix (client-0007,
T0007; tests/bench/make_tenants.py names them so): one more loopback round
trip, no table read.  Keeping one prepared ticket_get per connection matters:
each prepared statement plans over every tenant's partitions until it
settles on a generic plan, and a script per tenant would multiply that.
$4 (the requester, bound for requesters only) is a literal NULL: pgbench
cannot bind a NULL, and a technician's request binds NULL there.

The SLA sweep's transaction is what the module's sweeper pipelines
(module/ngx_http_msp_sweep.c), in one round trip:

    BEGIN; <principal>; <sla_sweep>; COMMIT

with the sweeper's principal bound from pgbench variables (sub, org, role,
timeout) and the batch size from :batch.  Its floor is the same
transaction with the sweep replaced by the sweep's selection alone, as a
plain index probe run the way the sweep runs it, from a cached PL/pgSQL
plan: `SELECT bench.sla_probe(:batch::integer)` (tests/bench/sla.sh creates
that function; it loops over the same tickets_sla_next index scans, in
order, without the join, the row locks and the work per ticket).  For
reference, a plain SQL probe as a prepared statement of the client's,
`SELECT count(*) FROM tickets WHERE sla_next_at <= now()`.

loop-query reads a PL/pgSQL function's source (pg_proc.prosrc) on stdin and
prints the query of its first `FOR r IN <query> LOOP` (or of its first
CTE `name AS (<query> ... SKIP LOCKED)`), with the function's
parameters (NAME=$N arguments, default p_limit=$1) turned into $N, so that
it can be PREPAREd and EXPLAINed as PL/pgSQL plans it.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
STRING = r'"(?:[^"\\]|\\.)*"'


def unescape(literal):
    body = literal[1:-1]
    if "\\" in body:
        body = bytes(body, "utf-8").decode("unicode_escape")
    return body


def concat(expr, macros):
    """Concatenates the string literals and string macros of a C expression."""
    out = []
    for tok in re.findall(STRING + r"|[A-Za-z_][A-Za-z0-9_]*", expr):
        if tok.startswith('"'):
            out.append(unescape(tok))
        elif tok in macros:
            out.append(macros[tok])
        else:
            raise SystemExit(f"sql.py: cannot expand {tok!r}")
    return "".join(out)


def source(path):
    return re.sub(r"/\*.*?\*/", " ", pathlib.Path(path).read_text(), flags=re.S)


def string_macros(path, macros, seen):
    """Adds the string macros (#define X "...") of path and of the headers it
    includes with quotes (found next to it or in services/), in order."""
    path = pathlib.Path(path).resolve()
    if path in seen:
        return
    seen.add(path)
    src = source(path)
    for m in re.finditer(r'^#include\s+"([^"]+)"|^#define\s+(\w+)\s+((?:.*\\\n)*.*)$', src, re.M):
        if m.group(1):
            for d in (path.parent, ROOT / "services"):
                if (d / m.group(1)).is_file():
                    string_macros(d / m.group(1), macros, seen)
                    break
            continue
        value = m.group(3).replace("\\\n", " ")
        if value.strip().startswith('"'):
            macros[m.group(2)] = concat(value, macros)


def statement(path, name):
    src = source(path)
    macros = {}
    string_macros(path, macros, set())
    m = re.search(r"msp_sql_t\s+\w+\s*=\s*\{\s*\"" + re.escape(name) + r"\"\s*,(.*?),\s*\d+\s*\};",
                  src, re.S)
    if not m:
        raise SystemExit(f"sql.py: no statement {name!r} in {path}")
    return concat(m.group(1), macros)


def bind(sql, names):
    """Replaces $1, $2, ... by pgbench variables (or literals, for names
    starting with '=')."""
    def one(m):
        name = names[int(m.group(1)) - 1]
        return name[1:] if name.startswith("=") else ":" + name
    return re.sub(r"\$(\d+)", one, sql)


def pgbench(path):
    call = ROOT / "services/call.c"
    begin = statement(call, "msp_begin_ro")
    principal = bind(statement(call, "msp_principal"), ["sub", "org", "role", "timeout"])
    commit = statement(call, "msp_commit")
    get = bind(statement(ROOT / "services/tickets_read.c", "ticket_get"),
               ["slug", "prefix", "number", "=NULL"])
    pathlib.Path(path).write_text(
        "-- Written by tests/bench/sql.py: the gateway's GET ticket transaction.\n"
        "\\set t random(1, :tenants)\n"
        "\\set number random(1, :max_number)\n"
        "SELECT 'client-' || lpad(:t::text, 4, '0') AS slug, 'T' || lpad(:t::text, 4, '0') AS prefix\n"
        "\\gset\n"
        "\\startpipeline\n"
        f"{begin};\n{principal};\n{get};\n{commit};\n"
        "\\endpipeline\n")


def sweep_transaction(path, what):
    call = ROOT / "services/call.c"
    begin = statement(call, "msp_begin")
    principal = bind(statement(call, "msp_principal"), ["sub", "org", "role", "timeout"])
    commit = statement(call, "msp_commit")
    pathlib.Path(path).write_text(
        "-- Written by tests/bench/sql.py: the SLA sweep's transaction"
        + ("" if "sla_sweep" in what else " (a floor: its selection as a plain index probe)")
        + ".\n\\startpipeline\n"
        f"{begin};\n{principal};\n{what};\n{commit};\n"
        "\\endpipeline\n")


def loop_query(source, params):
    m = (re.search(r"\bFOR\s+\w+\s+IN\s+(SELECT\b.*?)\s+LOOP\b", source, re.S | re.I)
         or re.search(r"\bAS\s*\(\s*(SELECT\b.*?\bSKIP\s+LOCKED)\s*\)", source, re.S | re.I))
    if not m:
        raise SystemExit("sql.py: no FOR ... IN SELECT ... LOOP, nor a CTE selecting"
                         " FOR UPDATE SKIP LOCKED, in the function's source")
    query = re.sub(r"\s+", " ", m.group(1)).strip()
    for name, number in params.items():
        query = re.sub(r"\b" + re.escape(name) + r"\b", number, query)
    return query


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "statement":
        print(statement(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "pgbench":
        pgbench(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "sweep-pgbench":
        sweep_transaction(sys.argv[2], bind(statement(ROOT / "services/sla_sweep.c", "sla_sweep"),
                                            ["batch"]))
    elif len(sys.argv) == 3 and sys.argv[1] == "probe-pgbench":
        sweep_transaction(sys.argv[2], "SELECT bench.sla_probe(:batch::integer)")
    elif len(sys.argv) == 3 and sys.argv[1] == "sql-probe-pgbench":
        sweep_transaction(sys.argv[2], "SELECT count(*) FROM tickets WHERE sla_next_at <= now()")
    elif len(sys.argv) >= 2 and sys.argv[1] == "loop-query":
        params = dict(a.split("=", 1) for a in sys.argv[2:]) or {"p_limit": "$1"}
        print(loop_query(sys.stdin.read(), params))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
