"""`mspctl time import`: time entries from a time-tracking export (CSV),
with a report of the rows created, unchanged and rejected (each with its
line and reason); importing the same file again changes nothing; a file
that cannot be read writes nothing."""
import datetime as dt
import re

import pytest

from conftest import run_mspctl
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, q)

HEADER = "id,ticket,subject,side,date,minutes,billable,in_scope,note\r\n"


@pytest.fixture(scope="module")
def desk(tmp_path_factory, as_user):
    t = Tenant(tmp_path_factory.mktemp("timp"), as_user, prefix="timp")
    t.tickets = [t.create()["id"] for _ in range(2)]
    return t


def footprint(t):
    return q("SELECT (SELECT count(*) FROM time_entries WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM ticket_events WHERE tenant_id = %(t)s"
             "  AND kind = 'time_logged'),"
             " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s"
             "  AND action = 'time.import')", {"t": t.id})[0]


def imported(t, tmp_path, text, *extra, encoding="utf-8"):
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return run_mspctl("time", "import", t.slug, path, *extra)


def summary(proc):
    m = re.search(r"created (\d+), unchanged (\d+), rejected (\d+), of (\d+) rows", proc.stdout)
    assert m, (proc.stdout, proc.stderr)
    return tuple(int(x) for x in m.groups())


def rejections(proc):
    return {int(m.group(1)): m.group(2)
            for m in re.finditer(r"line (\d+): rejected: (.*)", proc.stdout)}


def test_an_export_is_imported_once(desk, tmp_path):
    a, b = desk.tickets
    text = HEADER + (
        f"T-1,{a},tech.tina,provider,2026-11-02,45,true,true,Replaced the toner\r\n"
        f"T-2,{b},it.ann,internal_it,2026-11-03,30,false,yes,\"Reset, then \"\"tested\"\"\r\n"
        f"on two PCs\"\r\n"
        f"T-3,{b},tech.tina,provider,2026-11-04,90,1,0,Out of scope\r\n")
    before = footprint(desk)
    proc = imported(desk, tmp_path, text)
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == (3, 0, 0, 3)
    rows = q("SELECT import_key, ticket_number, subject, side, worked_on, minutes, billable,"
             " in_scope, note FROM time_entries WHERE tenant_id = %s AND import_key LIKE 'id:%%'"
             " ORDER BY import_key", (desk.id,))
    assert [r[0] for r in rows] == ["id:T-1", "id:T-2", "id:T-3"]
    assert rows[1][2:] == ("it.ann", "internal_it", dt.date(2026, 11, 3), 30, False, True,
                           'Reset, then "tested"\r\non two PCs')
    assert rows[2][6:8] == (True, False)
    after = footprint(desk)
    assert tuple(x - y for x, y in zip(after, before)) == (3, 3, 3)
    # again: nothing changes
    proc = imported(desk, tmp_path, text)
    assert proc.returncode == 0 and summary(proc) == (0, 3, 0, 3)
    assert footprint(desk) == after
    # the same id with other values is not taken for the same entry
    changed = text.replace("2026-11-04,90", "2026-11-04,95")
    proc = imported(desk, tmp_path, changed)
    assert proc.returncode == 1 and summary(proc) == (0, 2, 1, 3)
    assert "imported before with other values" in rejections(proc)[5]
    assert footprint(desk) == after


def test_rows_without_ids_are_known_by_their_content(desk, tmp_path):
    a = desk.tickets[0]
    text = ("Ticket,Subject,Side,Worked_On,Hours\n"
            f"{a},tech.tina,provider,2026-10-01,1.5\n"
            f"{a},tech.tina,provider,2026-10-01,1.5\n"
            f"{a},tech.tina,provider,2026-10-02,0.25\n")
    before = footprint(desk)
    proc = imported(desk, tmp_path, text)
    assert proc.returncode == 0 and summary(proc) == (3, 0, 0, 3), proc.stdout
    minutes = q("SELECT minutes FROM time_entries WHERE tenant_id = %s AND worked_on"
                " BETWEEN '2026-10-01' AND '2026-10-02' ORDER BY worked_on, entry_id",
                (desk.id,))
    assert [m[0] for m in minutes] == [90, 90, 15]
    proc = imported(desk, tmp_path, text)
    assert summary(proc) == (0, 3, 0, 3)
    assert tuple(x - y for x, y in zip(footprint(desk), before)) == (3, 3, 3)


def test_bad_rows_are_rejected_with_their_lines_and_the_rest_imported(desk, tmp_path):
    a = desk.tickets[0]
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    rows = [
        f"B-1,{a},tech.tina,provider,2026-09-01,20,true,true,fine",                  # 2
        f"B-2,NOPE,tech.tina,provider,2026-09-01,20,true,true,",                     # 3
        f"B-3,{desk.tickets[0].rsplit('-', 1)[0]}-999999,tech.tina,provider,2026-09-01,20,,,",
        f"B-4,{a},tech.tina,vendor,2026-09-01,20,,,",                                # 5
        f"B-5,{a},tech.tina,provider,2026-02-30,20,,,",                              # 6
        f"B-6,{a},tech.tina,provider,{tomorrow},20,,,",                              # 7
        f"B-7,{a},tech.tina,provider,2026-09-01,0,,,",                               # 8
        f"B-8,{a},tech.tina,provider,2026-09-01,20,maybe,,",                         # 9
        f"B-1,{a},tech.tina,provider,2026-09-02,20,,,",                              # 10
        f"B-9,{a},,provider,2026-09-01,20,,,",                                       # 11
        f"B-10,{a},tech.tina,provider,2026-09-01,20,,,\"x\"y" + "z" * 70000,         # 12
        f"B-11,{a},it.ann,internal_it,2026-09-03,25,,,fine too",                     # 13
    ]
    before = footprint(desk)
    proc = imported(desk, tmp_path, HEADER + "\r\n".join(rows) + "\r\n")
    assert proc.returncode == 1
    assert summary(proc) == (2, 0, 10, 12)
    got = rejections(proc)
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12], proc.stdout
    assert "not a ticket id" in got[3]
    assert "no ticket" in got[4]
    assert "side 'vendor'" in got[5]
    assert "date '2026-02-30'" in got[6]
    assert "after today" in got[7]
    assert "minutes '0'" in got[8]
    assert "billable" in got[9]
    assert "repeats the id of line 2" in got[10]
    assert "subject" in got[11]
    assert "too long" in got[12]
    assert tuple(x - y for x, y in zip(footprint(desk), before)) == (2, 2, 2)


@pytest.mark.parametrize("name,text,encoding,message", [
    ("semicolons", "ticket;subject;side;date;minutes\nX-1;a;provider;2026-01-01;5\n", "utf-8",
     "not separated by commas"),
    ("no date", "ticket,subject,side,minutes\nX-1,a,provider,5\n", "utf-8", "'date' is missing"),
    ("no minutes", "ticket,subject,side,date\nX-1,a,provider,2026-01-01\n", "utf-8",
     "minutes"),
    ("unknown column", "ticket,subject,side,date,minutes,colour\n", "utf-8", "colour"),
    ("utf-16", "ticket,subject,side,date,minutes\n", "utf-16", "UTF-16"),
    ("open quote", "ticket,subject,side,date,minutes\nX-1,\"a,provider,2026-01-01,5\n", "utf-8",
     "never closed"),
    ("empty", "", "utf-8", "empty"),
])
def test_a_file_that_cannot_be_read_writes_nothing(desk, tmp_path, name, text, encoding,
                                                   message):
    a = desk.tickets[0]
    text = text.replace("X-1", a)
    before = footprint(desk)
    proc = imported(desk, tmp_path, text, encoding=encoding)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
    assert footprint(desk) == before


def test_a_dry_run_reports_and_writes_nothing(desk, tmp_path):
    a = desk.tickets[1]
    before = footprint(desk)
    proc = imported(desk, tmp_path, HEADER + f"D-1,{a},tech.tina,provider,2026-08-01,10,,,\n",
                    "--dry-run")
    assert proc.returncode == 0 and summary(proc) == (1, 0, 0, 1)
    assert "dry run" in proc.stdout
    assert footprint(desk) == before
    proc = run_mspctl("time", "import", "no-such-tenant", tmp_path / "export.csv")
    assert proc.returncode != 0 and "no tenant" in proc.stderr
