#!/usr/bin/python3
"""The gateway's SQL, read from the C sources, for the benchmark.

    sql.py statement FILE NAME    the text of the msp_sql_t named NAME in FILE
    sql.py sweep-pgbench FILE     the pgbench script of the SLA sweep's transaction
    sql.py probe-pgbench FILE     the pgbench script of its floor (an index probe)
    sql.py sql-probe-pgbench FILE a plain SQL probe, for reference
    sql.py loop-query < PROSRC    the query of a PL/pgSQL `FOR r IN <query> LOOP`
                                  (or of its CTE selecting FOR UPDATE SKIP LOCKED)

The statements are taken from the sources rather than copied, so that the
plans run.sh prints are those of the SQL the gateway runs.  A statement is
the second member of a `static const msp_sql_t x = { "name", ..., n };`
initializer: adjacent C string literals, string macros (#define X "...")
and function-like macros (#define F(A, B) "..." A "..." #B, as queue.c's
QUEUE_SQL and tickets_write.c's SLA_VALUES), defined in the file or in a
header it includes with quotes, expanded as the C preprocessor does and
concatenated.

The SLA sweep's transaction is what the module's sweeper pipelines
(module/ngx_http_msp_sweep.c), in one round trip:

    BEGIN; <principal>; <sla_sweep>; COMMIT

with the sweeper's principal bound from pgbench variables (sub, org, role,
timeout) and the batch size from :batch.  Its floor is the same
transaction with the sweep replaced by the sweep's selection alone, as a
plain index probe run the way the sweep runs it, from a cached PL/pgSQL
plan: `SELECT bench.sla_probe(:batch::integer)` (tests/bench/sla.sh creates
that function; it loops over the same tickets_sla_next index scan, in
order, without the row locks and the work per ticket).  For reference, a
plain SQL probe as a prepared statement of the client's, `SELECT count(*)
FROM tickets WHERE sla_next_at <= now()`.

loop-query reads a PL/pgSQL function's source (pg_proc.prosrc) on stdin and
prints the query of its first `FOR r IN <query> LOOP` (or of its first CTE
`name AS (<query> ... SKIP LOCKED)`), with the function's parameters
(NAME=$N arguments, default p_limit=$1) turned into $N, so that it can be
PREPAREd and EXPLAINed as PL/pgSQL plans it.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
STRING = r'"(?:[^"\\]|\\.)*"'
TOKEN = re.compile(STRING + r"|[A-Za-z_][A-Za-z0-9_]*|[0-9]+|\S")


def unescape(literal):
    body = literal[1:-1]
    if "\\" in body:
        body = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    return body


def source(path):
    return re.sub(r"/\*.*?\*/", " ", pathlib.Path(path).read_text(), flags=re.S)


def macros_of(path, macros, seen):
    """Adds the macros (#define) of path and of the headers it includes with
    quotes (found next to it or in services/), in order: name -> (params
    or None, body tokens)."""
    path = pathlib.Path(path).resolve()
    if path in seen:
        return
    seen.add(path)
    src = source(path)
    for m in re.finditer(r'^[ \t]*#[ \t]*include\s+"([^"]+)"'
                         r'|^[ \t]*#[ \t]*define[ \t]+(\w+)(\([^)]*\))?((?:.*\\\n)*.*)$', src, re.M):
        if m.group(1):
            for d in (path.parent, ROOT / "services"):
                if (d / m.group(1)).is_file():
                    macros_of(d / m.group(1), macros, seen)
                    break
            continue
        params = None
        if m.group(3) is not None:
            params = [p.strip() for p in m.group(3)[1:-1].split(",") if p.strip()]
        body = re.sub(r"//.*$", "", m.group(4).replace("\\\n", " "), flags=re.M)
        macros[m.group(2)] = (params, TOKEN.findall(body))


def arguments(tokens, i):
    """The arguments of a macro call whose '(' is tokens[i]: (list of token
    lists, index after the ')')."""
    args, cur, depth = [], [], 0
    i += 1
    while i < len(tokens):
        t = tokens[i]
        if t == "(":
            depth += 1
        elif t == ")":
            if depth == 0:
                args.append(cur)
                return args, i + 1
            depth -= 1
        elif t == "," and depth == 0:
            args.append(cur)
            cur = []
            i += 1
            continue
        cur.append(t)
        i += 1
    raise SystemExit("sql.py: unbalanced macro call")


def expand(tokens, macros, hide=frozenset()):
    out, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if t in macros and t not in hide:
            params, body = macros[t]
            if params is None:
                out.extend(expand(body, macros, hide | {t}))
                i += 1
                continue
            if i + 1 < len(tokens) and tokens[i + 1] == "(":
                args, i = arguments(tokens, i + 1)
                if len(args) != len(params) and not (params == [] and args == [[]]):
                    raise SystemExit(f"sql.py: {t} takes {len(params)} arguments")
                subst, j = [], 0
                while j < len(body):
                    b = body[j]
                    if b == "#" and j + 1 < len(body) and body[j + 1] in params:
                        text = " ".join(args[params.index(body[j + 1])]).replace("\\", "\\\\")
                        subst.append('"' + text.replace('"', '\\"') + '"')
                        j += 2
                        continue
                    if b in params:
                        subst.extend(expand(args[params.index(b)], macros, hide))
                    else:
                        subst.append(b)
                    j += 1
                out.extend(expand(subst, macros, hide | {t}))
                continue
        out.append(t)
        i += 1
    return out


def concat(tokens):
    out = []
    for tok in tokens:
        if not tok.startswith('"'):
            raise SystemExit(f"sql.py: cannot expand {tok!r}")
        out.append(unescape(tok))
    return "".join(out)


def statement(path, name):
    src = source(path)
    macros = {}
    macros_of(path, macros, set())
    m = re.search(r"msp_sql_t\s+\w+\s*=\s*\{\s*\"" + re.escape(name) + r"\"\s*,(.*?),\s*\d+\s*\};",
                  src, re.S)
    if not m:
        raise SystemExit(f"sql.py: no statement {name!r} in {path}")
    return concat(expand(TOKEN.findall(m.group(1)), macros))


def bind(sql, names):
    """Replaces $1, $2, ... by pgbench variables (or literals, for names
    starting with '=')."""
    def one(m):
        name = names[int(m.group(1)) - 1]
        return name[1:] if name.startswith("=") else ":" + name
    return re.sub(r"\$(\d+)", one, sql)


def sweep_transaction(path, what):
    call = ROOT / "services/call/call.c"
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
    elif len(sys.argv) == 3 and sys.argv[1] == "sweep-pgbench":
        sweep_transaction(sys.argv[2], statement(ROOT / "services/sla/sla_sweep.c", "sla_sweep")
                          .replace("$1", ":batch"))
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
