#!/usr/bin/python3
"""The gateway's SQL, read from the C sources, for the benchmark.

    sql.py statement FILE NAME    the text of the msp_sql_t named NAME in FILE
    sql.py pgbench FILE           the pgbench script of the GET ticket transaction

The statements are taken from the sources rather than copied, so that the
database floor runs exactly the SQL the gateway runs.  A statement is the
second member of a `static const msp_sql_t x = { "name", "..." "...", n };`
initializer: adjacent C string literals and string macros (#define X "..."),
concatenated.

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


def statement(path, name):
    src = pathlib.Path(path).read_text()
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    macros = {}
    for m in re.finditer(r"^#define\s+(\w+)\s+((?:.*\\\n)*.*)$", src, re.M):
        value = m.group(2).replace("\\\n", " ")
        if value.strip().startswith('"'):
            macros[m.group(1)] = concat(value, macros)
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
               ["slug", "prefix", "number", "=NULL", "internal"])
    pathlib.Path(path).write_text(
        "-- Written by tests/bench/sql.py: the gateway's GET ticket transaction.\n"
        "\\set t random(1, :tenants)\n"
        "\\set number random(1, :max_number)\n"
        "SELECT 'client-' || lpad(:t::text, 4, '0') AS slug, 'T' || lpad(:t::text, 4, '0') AS prefix\n"
        "\\gset\n"
        "\\startpipeline\n"
        f"{begin};\n{principal};\n{get};\n{commit};\n"
        "\\endpipeline\n")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "statement":
        print(statement(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "pgbench":
        pgbench(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
