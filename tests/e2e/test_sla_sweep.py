"""The SLA breach sweep that every nginx worker runs on a timer
(msp_sla_sweep_interval, module/ngx_http_msp_sweep.c, app.sla_sweep()).

The stack's nginx (deploy/test.sh: one worker, a sweep every second) and a
second nginx started here (deploy/stack.sh nginx-up: two workers, a sweep
every second), as two hosts would be, sweep the stack's database at the
same time: every warning and breach must be announced once, however many
sweepers there are.  The tests use tenants of their own in that database.
"""
import datetime
import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import psycopg
import pytest
import requests

from conftest import ROOT, env, run_mspctl, set_principal, tenant_doc, token, write_tenant

SWEEP_LINE = re.compile(r"msp sla sweep: (\d+) done")
SWEEP_ERROR = re.compile(r".*\[(?:error|crit|alert|emerg)\].*msp sla sweep.*")
CRASH = re.compile(r".*(?:exited on signal|worker process \d+ exited with code [1-9]"
                   r"|\[(?:alert|emerg)\]).*")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def owner_tx():
    """An owner connection acting as the provider admin, in a transaction."""
    conn = psycopg.connect(env("MSP_DATABASE_URL"))
    set_principal(conn, "test.sla-sweep", "provider", "admin")
    return conn


def rows(sql, params=None):
    with owner_tx() as conn:
        return conn.execute(sql, params).fetchall()


def wait_for(predicate, what, deadline):
    started = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() - started < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class Log:
    """What an nginx error log gained since this object was made."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.start = self.path.stat().st_size if self.path.exists() else 0

    def new(self):
        if not self.path.exists():
            return ""
        with open(self.path, "rb") as f:
            f.seek(self.start)
            return f.read().decode("utf-8", "replace")


class SecondNginx:
    """Another host: nginx from deploy/nginx.conf.in on the stack's
    database (deploy/stack.sh nginx-up), with a state directory of its
    own.  Stopped gracefully by `close`, which must not take long: the
    sweep's timer does not hold up a worker's exit."""

    def __init__(self, workers=2, sweep_interval="1s", settle_interval="0", pack_interval="0"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.state = pathlib.Path(tempfile.mkdtemp(prefix="msp-host2.", dir="/var/tmp"))
        self.sweep_interval = sweep_interval
        self.settle_interval = settle_interval
        self.pack_interval = pack_interval
        self.log_path = self.state / "nginx" / "error.log"

    def start(self):
        args = ["nginx-up", self.state, "--stack", env("MSP_STATE"),
                "--http-port", self.port, "--build", env("MSP_BUILD"),
                "--workers", self.workers, "--sweep-interval", self.sweep_interval,
                "--settle-interval", self.settle_interval, "--pack-interval", self.pack_interval]
        if os.environ.get("MSP_SANITIZE") == "1":
            args.append("--sanitize")
        self._stack(*args)

    def _stack(self, *args):
        proc = subprocess.run([str(ROOT / "deploy" / "stack.sh"), *map(str, args)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def master_pid(self):
        return int((self.state / "nginx" / "nginx.pid").read_text())

    def worker_pids(self):
        master = self.master_pid()
        pids = []
        for status in pathlib.Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{master}$", text, re.M):
                pids.append(int(status.parent.name))
        return pids

    def close(self):
        """Stops nginx with SIGQUIT and returns how long it took."""
        started = time.monotonic()
        self._stack("down", self.state)
        return time.monotonic() - started

    def remove(self):
        shutil.rmtree(self.state, ignore_errors=True)


@pytest.fixture(scope="module")
def host2():
    host = SecondNginx()
    try:
        host.start()
        resp = requests.get(f"{host.url}/v1/health", timeout=10)
        assert resp.status_code == 200, resp.text
        yield host
        took = host.close()
        crashes = CRASH.findall(host.log_path.read_text())
        assert not crashes, "\n".join(crashes)
        # The timer is cancelable and the pool's idle connections hold no
        # timers: a graceful stop is prompt (stack.sh waits up to 10 s).
        assert took < 8, f"the second nginx took {took:.1f}s to stop"
    finally:
        if (host.state / "nginx" / "nginx.pid").exists():
            try:
                os.kill(host.master_pid(), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        host.remove()


def apply_tenant(tmp_path, doc):
    run_mspctl("tenant", "apply", write_tenant(tmp_path, doc), check=True)
    return rows("SELECT tenant_id FROM tenants WHERE slug = %s", (doc["slug"],))[0][0]


def new_tenant(prefix, base):
    """A tenant document under a new slug and ticket prefix."""
    tag = uuid.uuid4().hex[:8]
    return tenant_doc(f"swp-{prefix}-{tag}", base, ticket_prefix=f"S{tag.upper()}")


def sla_events(slug, number=None):
    """(number, kind, clock, threshold, reached_at, occurred_at, event_id)."""
    sql = ("SELECT e.ticket_number, e.kind, e.data->>'clock', (e.data->>'threshold')::int,"
           " (e.data->>'reached_at')::timestamptz, e.occurred_at, e.event_id"
           " FROM ticket_events e JOIN tenants t USING (tenant_id)"
           " WHERE t.slug = %s AND e.kind IN ('sla_warning', 'sla_breached')")
    params = [slug]
    if number is not None:
        sql += " AND e.ticket_number = %s"
        params.append(number)
    return rows(sql + " ORDER BY e.event_id", params)


# -- a tenant whose clocks cross in a minute, started before the load test ---


FAST_POLICY = {
    "priorities": {p: {"first_response_minutes": 1, "resolution_minutes": 2}
                   for p in ("P1", "P2", "P3", "P4")},
    "warning_thresholds": [50, 75, 90],
    "pause_statuses": ["pending_customer", "pending_vendor"],
}


@pytest.fixture(scope="module")
def fast_tickets(tmp_path_factory):
    """A 24x7 tenant with one-minute response targets, and two P1 tickets
    made through the API by a technician assigned to it: "crossing" is
    left alone, "paused" goes to pending_customer at once.  Module-scoped
    and made first, so that their minute runs while other tests do."""
    doc = new_tenant("fast", "globex")
    doc.update(holidays=[], sla_policy=FAST_POLICY)
    slug = doc["slug"]
    apply_tenant(tmp_path_factory.mktemp("tenant"), doc)
    tech = f"tech.sweep-{uuid.uuid4().hex[:6]}"
    run_mspctl("assign", tech, slug, "technician", "L1", check=True)

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token(tech, 'provider', 'technician')}"
    base = f"{env('MSP_HTTP')}/v1/tenants/{slug}/tickets"

    made, etags = {}, {}
    for name in ("crossing", "paused"):
        resp = session.post(base, json={"title": f"sweep {name}", "impact": "high",
                                        "urgency": "high"}, timeout=30)
        assert resp.status_code == 201, resp.text
        made[name], etags[name] = resp.json(), resp.headers["ETag"]
        assert made[name]["priority"] == "P1"

    resp = session.patch(f"{base}/{made['paused']['id']}", json={"status": "pending_customer"},
                         headers={"If-Match": etags["paused"]}, timeout=30)
    assert resp.status_code == 200, resp.text
    made["paused"] = resp.json()

    created = dict(rows("SELECT k.number, k.created_at FROM tickets k JOIN tenants t"
                        " USING (tenant_id) WHERE t.slug = %s", (slug,)))
    return {"slug": slug, "session": session, "base": base, "tickets": made,
            "created": created}


# -- 1. exactly once, many tickets, four sweepers on two hosts ---------------


DUE = [("response", 50), ("response", 75), ("response", 90), ("response", 100),
       ("resolution", 50)]


def rfc3339(t):
    return t.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def test_each_warning_and_breach_is_announced_once_by_many_sweepers(host2, fast_tickets,
                                                                    tmp_path):
    """300 tickets in two tenants, five alerts each, swept by the stack's
    worker and the second host's two.  (fast_tickets is only asked for so
    that its clocks run during this test.)"""
    assert len(host2.worker_pids()) == 2
    main_log = Log(pathlib.Path(env("MSP_STATE")) / "nginx" / "error.log")
    host2_log = Log(host2.log_path)

    tenants = [apply_tenant(tmp_path, new_tenant("load", base)) for base in ("acme", "initech")]

    per_tenant = 150
    with owner_tx() as conn:
        numbers = []
        for tid in tenants:
            for n, in conn.execute(
                    "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester)"
                    " SELECT %s, 'sweep load ' || i, 'high', 'high', 'P1', 'load.test'"
                    " FROM generate_series(1, %s) i RETURNING number",
                    (tid, per_tenant)).fetchall():
                numbers.append((tid, n))

        # Half the tickets are long past due.  The others each have one
        # entry past due and the rest due in waves over the next dozen
        # seconds, at random instants, so that the sweepers race for them
        # while they keep coming (and both hosts get some).
        now = conn.execute("SELECT now()").fetchone()[0]
        random.shuffle(numbers)
        updates = []
        for i, (tid, number) in enumerate(numbers):
            if i < len(numbers) // 2:
                first = now - datetime.timedelta(minutes=10)
                ats = [first + datetime.timedelta(seconds=k) for k in range(len(DUE))]
            else:
                wave = (i - len(numbers) // 2) // 3
                due = now + datetime.timedelta(seconds=1 + 0.25 * wave
                                               + random.uniform(0, 0.2))
                ats = [now - datetime.timedelta(minutes=1)] + \
                      [due + datetime.timedelta(milliseconds=k) for k in range(len(DUE) - 1)]
            pending = [{"clock": c, "threshold": th, "at": rfc3339(at)}
                       for (c, th), at in zip(DUE, ats)]
            updates.append((json.dumps(pending), min(ats), tid, number))
        with conn.cursor() as cur:
            cur.executemany("UPDATE tickets SET sla_pending = %s::jsonb, sla_next_at = %s"
                            " WHERE tenant_id = %s AND number = %s", updates)
    started = time.monotonic()

    def swept():
        return rows("SELECT count(*) FROM tickets WHERE tenant_id = ANY(%s)"
                    " AND sla_next_at IS NOT NULL", (tenants,))[0][0] == 0

    wait_for(swept, "the sweep to empty every ticket's pending alerts", deadline=60)
    took = time.monotonic() - started

    expected = {(tid, n, c, th) for tid, n in numbers for c, th in DUE}

    events = rows("SELECT e.tenant_id, e.ticket_number, e.kind, e.data->>'clock',"
                  " (e.data->>'threshold')::int, (e.data->>'reached_at')::timestamptz,"
                  " e.occurred_at, e.actor_sub, e.actor_org, e.actor_role"
                  " FROM ticket_events e WHERE e.tenant_id = ANY(%s)"
                  " AND e.kind IN ('sla_warning', 'sla_breached')", (tenants,))
    keys = [(tid, n, c, th) for tid, n, _, c, th, *_ in events]
    assert len(keys) == len(expected) == 2 * per_tenant * len(DUE)
    assert set(keys) == expected, "missing or unexpected events"
    wanted_at = {(tid, n, c, th): None for tid, n, c, th in expected}
    for pending, _, tid, n in updates:
        for entry in json.loads(pending):
            wanted_at[(tid, n, entry["clock"], entry["threshold"])] = \
                datetime.datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
    for tid, n, kind, c, th, reached, occurred, sub, org, role in events:
        assert kind == ("sla_breached" if th >= 100 else "sla_warning")
        assert reached == wanted_at[(tid, n, c, th)]
        assert occurred >= reached
        assert (sub, org, role) == ("msp-gateway:sla-sweep", "provider", "admin")

    audit = rows("SELECT a.tenant_id, a.target, a.action, a.detail->>'clock',"
                 " (a.detail->>'threshold')::int, a.actor_sub FROM audit_log a"
                 " WHERE a.tenant_id = ANY(%s) AND a.action IN ('sla.warning', 'sla.breached')",
                 (tenants,))
    prefixes = dict(rows("SELECT tenant_id, ticket_prefix FROM tenants WHERE tenant_id = ANY(%s)",
                         (tenants,)))
    audit_keys = [(tid, target, action, c, th) for tid, target, action, c, th, _ in audit]
    assert len(audit_keys) == len(set(audit_keys)) == len(expected)
    assert set(audit_keys) == {
        (tid, f"ticket:{prefixes[tid]}-{n}", "sla.breached" if th >= 100 else "sla.warning", c, th)
        for tid, n, c, th in expected}
    assert {sub for *_, sub in audit} == {"msp-gateway:sla-sweep"}

    left = rows("SELECT count(*) FROM tickets WHERE tenant_id = ANY(%s)"
                " AND (sla_pending <> '[]' OR sla_next_at IS NOT NULL)", (tenants,))[0][0]
    assert left == 0

    # Both hosts swept, and none of the sweeps failed.
    main_text, host2_text = main_log.new(), host2_log.new()
    assert SWEEP_LINE.search(main_text), "the stack's nginx logged no sweep"
    assert SWEEP_LINE.search(host2_text), "the second nginx logged no sweep"
    failures = SWEEP_ERROR.findall(main_text) + SWEEP_ERROR.findall(host2_text)
    assert not failures, "\n".join(failures)
    assert took < 45, f"sweeping took {took:.1f}s"


def test_sweep_writes_nothing_when_nothing_is_due(host2, tmp_path):
    """Future alerts stay pending, untouched, with their next instant."""
    doc = new_tenant("future", "acme")
    slug = doc["slug"]
    tid = apply_tenant(tmp_path, doc)
    pending = [{"clock": "response", "threshold": 50, "at": "2099-01-01T00:00:00Z"}]
    with owner_tx() as conn:
        number = conn.execute(
            "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester,"
            " sla_pending, sla_next_at) VALUES (%s, 'later', 'low', 'low', 'P4', 'x', %s::jsonb,"
            " '2099-01-01T00:00:00Z') RETURNING number", (tid, json.dumps(pending))).fetchone()[0]
    time.sleep(2.5)  # more than two sweeps of every worker
    assert sla_events(slug) == []
    stored = rows("SELECT sla_pending, sla_next_at FROM tickets WHERE tenant_id = %s"
                  " AND number = %s", (tid, number))[0]
    assert stored[0] == pending
    assert stored[1] == datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)


# -- 2. a clock that really crosses its thresholds ----------------------------


def test_response_clock_warns_then_breaches_once_each_on_time(fast_tickets):
    slug = fast_tickets["slug"]
    ticket = fast_tickets["tickets"]["crossing"]
    number = ticket["number"]
    created = fast_tickets["created"][number]

    def breached():
        return [e for e in sla_events(slug, number)
                if e[1] == "sla_breached" and e[2] == "response"]

    remaining = (created + datetime.timedelta(seconds=60)
                 - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    wait_for(breached, "the response breach", deadline=max(remaining, 0) + 20)

    events = [e for e in sla_events(slug, number) if e[2] == "response"]
    assert [(kind, th) for _, kind, _, th, *_ in events] == [
        ("sla_warning", 50), ("sla_warning", 75), ("sla_warning", 90), ("sla_breached", 100)]
    for (_, _, _, th, reached, occurred, _), seconds in zip(events, (30, 45, 54, 60)):
        expected = created + datetime.timedelta(seconds=seconds)
        assert abs((reached - expected).total_seconds()) <= 2, (th, reached, expected)
        # reached_at is whole seconds; the sweep runs after the instant
        assert occurred >= reached
        assert (occurred - reached).total_seconds() < 15

    resp = fast_tickets["session"].get(f"{fast_tickets['base']}/{ticket['id']}", timeout=30)
    assert resp.status_code == 200, resp.text
    sla = resp.json()["sla"]
    assert sla["response"]["state"] == "breached"


# -- 3. a paused clock has nothing due ----------------------------------------


def test_paused_ticket_gets_no_events_while_paused(fast_tickets):
    slug = fast_tickets["slug"]
    ticket = fast_tickets["tickets"]["paused"]
    number = ticket["number"]
    assert ticket["status"] == "pending_customer"
    assert ticket["sla"]["response"]["state"] == "paused"

    pending, next_at = rows("SELECT k.sla_pending, k.sla_next_at FROM tickets k"
                            " JOIN tenants t USING (tenant_id)"
                            " WHERE t.slug = %s AND k.number = %s", (slug, number))[0]
    assert pending == [] and next_at is None

    # past the instant its first warning would have had (30 s), and a sweep
    created = fast_tickets["created"][number]
    wait = (created + datetime.timedelta(seconds=33)
            - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    if wait > 0:
        time.sleep(wait)
    assert sla_events(slug, number) == []

    resp = fast_tickets["session"].get(f"{fast_tickets['base']}/{ticket['id']}", timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["sla"]["response"]["state"] == "paused"
