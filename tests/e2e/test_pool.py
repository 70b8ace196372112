"""The module's PostgreSQL pool and request path, against real outages.

PostgreSQL of the test stack is restarted and stopped here (and always
started again); a second nginx, generated from deploy/nginx.conf.in with
other pool settings, runs against a server that accepts connections and
never answers.  Times are asserted only as hang bounds.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from conftest import ROOT, admin_query, env, token

PG_CTL = "/usr/lib/postgresql/15/bin/pg_ctl"
NGINX = "/usr/sbin/nginx"
PROBLEM_TYPES = "https://msp-gateway.dev/problems/"

# A request may take this long before it counts as hung: well under the
# stack's msp_query_timeout (10s), far over any normal answer.
HANG_BOUND = 3.0
# Generous limits for things that wait on PostgreSQL itself.
REQUEST_TIMEOUT = 30
RECOVERY_DEADLINE = 15


def problem(resp, status, type_slug=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.json()
    assert body["status"] == status
    assert body["title"]
    if type_slug:
        assert body["type"] == PROBLEM_TYPES + type_slug
    return body


def timed_get(url, **kwargs):
    started = time.monotonic()
    resp = requests.get(url, timeout=REQUEST_TIMEOUT, **kwargs)
    return resp, time.monotonic() - started


# -- PostgreSQL of the test stack ------------------------------------------


def pg_ctl(*args):
    data = pathlib.Path(env("MSP_STATE")) / "pg" / "data"
    log = pathlib.Path(env("MSP_STATE")) / "pg" / "postgresql.log"
    subprocess.run(["runuser", "-u", "postgres", "--", PG_CTL, "-D", str(data),
                    "-l", str(log), "-w", "-t", "60", *args],
                   cwd="/", check=True, capture_output=True, timeout=120)


def pg_running():
    data = pathlib.Path(env("MSP_STATE")) / "pg" / "data"
    return subprocess.run(["runuser", "-u", "postgres", "--", PG_CTL, "-D", str(data),
                           "status"], cwd="/", capture_output=True).returncode == 0


def wait_until_healthy(http, in_a_row=20):
    """Waits until health answers 200 `in_a_row` times in a row, on new
    connections (so that every worker's pool is asked); returns the time
    it took, or fails after RECOVERY_DEADLINE."""
    started = time.monotonic()
    good = 0
    while good < in_a_row:
        assert time.monotonic() - started < RECOVERY_DEADLINE, \
            "the gateway did not recover after PostgreSQL came back"
        resp = requests.get(f"{http}/v1/health", timeout=REQUEST_TIMEOUT)
        if resp.status_code == 200:
            good += 1
        else:
            problem(resp, 503)
            good = 0
            time.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture
def postgres(http):
    """Lets a test stop or restart PostgreSQL: it is running and the
    gateway healthy again afterwards, whatever the test did."""
    yield
    if not pg_running():
        pg_ctl("start")
    wait_until_healthy(http)


# -- the nginx error log ----------------------------------------------------


class ErrorLog:
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

    def assert_no_crash(self):
        text = self.new()
        crashes = re.findall(r".*(?:exited on signal|worker process \d+ exited with code [1-9]).*",
                             text)
        assert not crashes, "\n".join(crashes)
        alerts = re.findall(r".*\[(?:alert|emerg)\].*", text)
        assert not alerts, "\n".join(alerts)


@pytest.fixture
def stack_log():
    log = ErrorLog(pathlib.Path(env("MSP_STATE")) / "nginx" / "error.log")
    yield log
    log.assert_no_crash()


# -- a second nginx with pool settings of its own ----------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SilentServer:
    """Accepts TCP connections and never says a word: a PostgreSQL that
    does not answer, so that the pool's connections stay CONNECTING."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SideNginx:
    """nginx from deploy/nginx.conf.in, one worker, on a free port, with
    some directives changed; stopped (and its log checked) on exit."""

    def __init__(self, conninfo, **directives):
        self.conninfo = conninfo
        self.directives = directives
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = pathlib.Path(tempfile.mkdtemp(prefix="msp-side.", dir="/var/tmp"))
        self.proc = None

    def _conf(self):
        module = pathlib.Path(env("MSP_BUILD")) / "nginx" / "objs" / "ngx_http_msp_module.so"
        text = (ROOT / "deploy" / "nginx.conf.in").read_text()
        for key, value in {"@MODULE@": str(module), "@STATE@": str(self.state),
                           "@CONNINFO@": self.conninfo, "@HTTP_PORT@": str(self.port),
                           "@WORKERS@": "1"}.items():
            text = text.replace(key, value)
        for name, value in self.directives.items():
            text, n = re.subn(rf"^(\s*){name}\s[^;]*;", rf"\g<1>{name} {value};", text,
                              flags=re.M)
            assert n == 1, f"{name} is not in deploy/nginx.conf.in"
        return module, text

    def _environ(self, module):
        """An ASan-built module needs the ASan runtime loaded first; its
        reports go where deploy/test.sh looks for them."""
        e = dict(os.environ)
        ldd = subprocess.run(["ldd", str(module)], capture_output=True, text=True).stdout
        if "libasan" in ldd:
            reports = pathlib.Path(env("MSP_STATE")) / "nginx" / "sanitizer" / "report"
            libasan = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                                     capture_output=True, text=True).stdout.strip()
            e["LD_PRELOAD"] = libasan
            e["ASAN_OPTIONS"] = f"detect_leaks=0:abort_on_error=1:log_path={reports}"
            e["UBSAN_OPTIONS"] = f"print_stacktrace=1:halt_on_error=1:log_path={reports}"
        return e

    def __enter__(self):
        os.chmod(self.state, 0o755)
        (self.state / "nginx" / "tmp").mkdir(parents=True)
        (self.state / "secrets").symlink_to(pathlib.Path(env("MSP_STATE")) / "secrets")
        module, text = self._conf()
        conf = self.state / "nginx" / "nginx.conf"
        conf.write_text(text)
        self.log = ErrorLog(self.state / "nginx" / "error.log")
        subprocess.run([NGINX, "-p", f"{self.state}/nginx/", "-c", str(conf),
                        "-e", str(self.state / "nginx" / "error.log")],
                       env=self._environ(module), check=True, capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            assert time.monotonic() < deadline, "the second nginx is not listening"
            time.sleep(0.05)

    def __exit__(self, *exc):
        pidfile = self.state / "nginx" / "nginx.pid"
        try:
            if pidfile.exists():
                pid = int(pidfile.read_text())
                os.kill(pid, signal.SIGQUIT)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    try:
                        os.kill(pid, 0)
                    except ProcessLookupError:
                        break
                    time.sleep(0.05)
                else:
                    os.kill(pid, signal.SIGKILL)
            if exc[0] is None:
                self.log.assert_no_crash()
        finally:
            shutil.rmtree(self.state, ignore_errors=True)


def staff_token():
    return token("acme.it.frank", "acme", "it_staff")


@pytest.fixture
def ticket_route(http):
    """GET /v1/tenants/acme/tickets/ACME-1 (a demo ticket) with a token."""
    headers = {"Authorization": f"Bearer {staff_token()}"}
    resp = requests.get(f"{http}/v1/tenants/acme/tickets/ACME-1", headers=headers,
                        timeout=REQUEST_TIMEOUT)
    assert resp.status_code == 200, resp.text
    return "/v1/tenants/acme/tickets/ACME-1", headers


class TableLock:
    """Holds ACCESS EXCLUSIVE on a table in a session of its own, so that
    requests reading it wait in PostgreSQL."""

    def __init__(self, owner_url, table):
        self.conn = psycopg.connect(owner_url)
        self.conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def release(self):
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def backends_waiting(owner_url):
    """Backends blocked on a lock (pg_locks is visible to every role)."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        return conn.execute("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted"
                            ).fetchone()[0]


def wait_for(predicate, what, deadline=10):
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# -- health ----------------------------------------------------------------


def test_health_runs_through_the_pool_and_reports_it(http):
    resp = requests.get(f"{http}/v1/health", timeout=REQUEST_TIMEOUT)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    pool = body["pool"]
    for field in ("worker", "size", "idle", "busy", "connecting", "closed", "waiting",
                  "queue", "served", "failed", "rejected", "timed_out"):
        assert isinstance(pool[field], int) and pool[field] >= 0, field
    assert pool["size"] >= 1
    assert pool["idle"] + pool["busy"] + pool["connecting"] + pool["closed"] == pool["size"]
    assert pool["busy"] >= 1  # this very request holds a connection


def test_health_served_count_grows(http):
    with requests.Session() as s:  # one connection, so one worker
        first = s.get(f"{http}/v1/health", timeout=REQUEST_TIMEOUT).json()["pool"]
        for _ in range(5):
            assert s.get(f"{http}/v1/health", timeout=REQUEST_TIMEOUT).status_code == 200
        last = s.get(f"{http}/v1/health", timeout=REQUEST_TIMEOUT).json()["pool"]
    assert last["worker"] == first["worker"]
    assert last["served"] >= first["served"] + 6


# -- outages -----------------------------------------------------------------


def test_postgres_restart_during_requests(http, postgres, stack_log):
    """Every request gets an answer (200, or 503/504 problem+json) while
    PostgreSQL restarts; no worker dies; service resumes by itself."""
    stop = threading.Event()
    outcomes = []

    def client():
        while not stop.is_set():
            try:
                resp, _ = timed_get(f"{http}/v1/health")
            except requests.RequestException as e:  # a hang or a reset
                outcomes.append(e)
                continue
            outcomes.append(resp)

    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(6):
            pool.submit(client)
        time.sleep(0.5)
        pg_ctl("restart", "-m", "fast")
        time.sleep(0.5)
        stop.set()

    assert outcomes
    statuses = {}
    for outcome in outcomes:
        assert isinstance(outcome, requests.Response), f"request failed: {outcome!r}"
        statuses[outcome.status_code] = statuses.get(outcome.status_code, 0) + 1
        if outcome.status_code != 200:
            assert outcome.status_code in (503, 504), outcome.text
            problem(outcome, outcome.status_code)
    assert statuses.get(200), statuses

    wait_until_healthy(http)


def test_postgres_restart_during_ticket_posts_loses_no_created_ticket(http, postgres,
                                                                      stack_log):
    """Tickets POSTed while PostgreSQL restarts: each answer is 201 or a
    503/504 problem, and every ticket answered 201 is in the database."""
    headers = {"Authorization": f"Bearer {token('tech.alice', 'provider', 'technician')}"}
    run = uuid.uuid4().hex[:8]
    stop = threading.Event()
    created, outcomes = [], []

    def client(n):
        i = 0
        while not stop.is_set():
            i += 1
            title = f"restart {run} {n}-{i}"
            try:
                resp = requests.post(f"{http}/v1/tenants/acme/tickets", headers=headers,
                                     json={"title": title, "impact": "low", "urgency": "low"},
                                     timeout=REQUEST_TIMEOUT)
            except requests.RequestException as e:
                outcomes.append(e)
                continue
            outcomes.append(resp)
            if resp.status_code == 201:
                created.append((resp.json()["id"], title))

    with ThreadPoolExecutor(max_workers=4) as pool:
        for n in range(4):
            pool.submit(client, n)
        time.sleep(0.5)
        pg_ctl("restart", "-m", "fast")
        time.sleep(1.0)
        stop.set()

    for outcome in outcomes:
        assert isinstance(outcome, requests.Response), f"request failed: {outcome!r}"
        if outcome.status_code != 201:
            problem(outcome, outcome.status_code)
            assert outcome.status_code in (503, 504), outcome.text
    assert created, "no POST succeeded around the restart"
    wait_until_healthy(http)
    stored = dict(admin_query("SELECT t.ticket_prefix || '-' || k.number, k.title"
                              " FROM tickets k JOIN tenants t USING (tenant_id)"
                              " WHERE k.title LIKE %s", (f"restart {run} %",)))
    for ticket_id, title in created:
        assert stored.get(ticket_id) == title, f"{ticket_id} answered 201 but is not stored"


def test_postgres_stopped_fails_fast_then_recovers(http, postgres, stack_log):
    pg_ctl("stop", "-m", "fast")

    for _ in range(10):
        resp, elapsed = timed_get(f"{http}/v1/health")
        problem(resp, 503, "database-unavailable")
        assert elapsed < HANG_BOUND, f"a request took {elapsed:.1f}s with PostgreSQL down"

    pg_ctl("start")
    wait_until_healthy(http)


def test_protected_route_fails_fast_when_postgres_is_down(http, postgres, stack_log,
                                                          ticket_route):
    path, headers = ticket_route
    pg_ctl("stop", "-m", "fast")
    for _ in range(5):
        resp, elapsed = timed_get(f"{http}{path}", headers=headers)
        problem(resp, 503, "database-unavailable")
        assert elapsed < HANG_BOUND


# -- waiting for a connection ------------------------------------------------


def test_full_queue_is_503_with_retry_after_and_waiting_times_out():
    """One connection that never finishes connecting, room for one waiting
    request: of three at once, one waits and gets 504 after
    msp_query_timeout, the two others are told to come back."""
    with SilentServer() as pg, \
         SideNginx(f"host=127.0.0.1 port={pg.port} dbname=msp user=msp_gateway",
                   msp_pool_size=1, msp_pool_queue=1,
                   msp_connect_timeout="60s", msp_query_timeout="1s") as side:
        with ThreadPoolExecutor(max_workers=3) as pool:
            answers = list(pool.map(lambda _: timed_get(f"{side.url}/v1/health"), range(3)))

        overloaded = [r for r, _ in answers if r.status_code == 503]
        waited = [r for r, _ in answers if r.status_code != 503]
        assert len(overloaded) == 2, [r.text for r, _ in answers]
        for resp in overloaded:
            problem(resp, 503, "overloaded")
            assert resp.headers["Retry-After"] == "1"
        problem(waited[0], 504, "database-timeout")

        # nothing is left waiting: the next request waits its turn again
        resp, _ = timed_get(f"{side.url}/v1/health")
        problem(resp, 504, "database-timeout")
        assert all(elapsed < HANG_BOUND for _, elapsed in answers)


def test_waiting_requests_fail_when_the_connect_attempt_fails():
    """A connection attempt that fails (here: times out) fails the
    requests waiting for it with 503; while no connection is usable, new
    requests get 503 at once."""
    with SilentServer() as pg, \
         SideNginx(f"host=127.0.0.1 port={pg.port} dbname=msp user=msp_gateway",
                   msp_pool_size=1, msp_connect_timeout="1s", msp_query_timeout="10s") as side:
        resp, elapsed = timed_get(f"{side.url}/v1/health")
        problem(resp, 503, "database-unavailable")
        assert elapsed < HANG_BOUND

        for _ in range(5):
            resp, elapsed = timed_get(f"{side.url}/v1/health")
            problem(resp, 503, "database-unavailable")
            assert elapsed < HANG_BOUND


def test_unreachable_database_is_503_at_once():
    """Nothing listens on the database's port: every attempt fails at once."""
    with SideNginx(f"host=127.0.0.1 port={free_port()} dbname=msp user=msp_gateway",
                   msp_pool_size=2) as side:
        for _ in range(5):
            resp, elapsed = timed_get(f"{side.url}/v1/health")
            problem(resp, 503, "database-unavailable")
            assert elapsed < HANG_BOUND
        body = requests.get(f"{side.url}/v1/health", timeout=REQUEST_TIMEOUT).json()
        assert body["status"] == 503


# -- slow statements -----------------------------------------------------------


def test_statement_timeout_is_504_and_the_connection_is_reused(owner_url, gateway_url,
                                                              ticket_route):
    """The server cancels a statement after msp_query_timeout (57014): the
    request gets 504, the transaction is rolled back and the connection
    serves the next request."""
    path, headers = ticket_route
    with SideNginx(gateway_url, msp_pool_size=1, msp_query_timeout="1s") as side:
        with TableLock(owner_url, "tickets"):
            resp, elapsed = timed_get(f"{side.url}{path}", headers=headers)
            problem(resp, 504, "database-timeout")
            assert elapsed < HANG_BOUND
        resp, _ = timed_get(f"{side.url}{path}", headers=headers)
        assert resp.status_code == 200, resp.text
        pool = requests.get(f"{side.url}/v1/health", timeout=REQUEST_TIMEOUT).json()["pool"]
        assert pool["closed"] == 0 and pool["connecting"] == 0


def test_client_gone_during_a_query_frees_the_connection(http, owner_url, ticket_route,
                                                         stack_log):
    """Clients that hang up while their statement waits on a lock: the
    pool drains their steps, rolls back, and every connection serves
    again once the lock is gone."""
    path, headers = ticket_route
    with TableLock(owner_url, "tickets") as lock:
        for _ in range(4):
            with pytest.raises(requests.Timeout):
                requests.get(f"{http}{path}", headers=headers, timeout=0.3)
        wait_for(lambda: backends_waiting(owner_url) >= 1, "a gateway backend to wait")
        lock.release()

    wait_for(lambda: backends_waiting(owner_url) == 0, "the waiting backends to finish")
    for _ in range(20):
        resp = requests.get(f"{http}{path}", headers=headers, timeout=REQUEST_TIMEOUT)
        assert resp.status_code == 200, resp.text
    # Only the health check itself is busy, once a breach sweep the worker
    # may be running meanwhile is over.
    with requests.Session() as s:
        def pool():
            return s.get(f"{http}/v1/health", timeout=REQUEST_TIMEOUT).json()["pool"]
        wait_for(lambda: pool()["busy"] == 1, "the connections to be idle again")
        p = pool()
        assert p["closed"] == 0 and p["connecting"] == 0, p


# -- request bodies ------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_spilled_to_a_temporary_file_reaches_the_service_whole(http, chunked):
    """A body over client_body_buffer_size is partly or wholly in a
    temporary file; the service gets it in one piece."""
    title = f"spilled body {chunked}"
    body = (json.dumps({"title": title, "impact": "low", "urgency": "low"})[:-1]
            + " " * 300_000 + "}").encode()
    headers = {"Authorization": f"Bearer {token('tech.alice', 'provider', 'technician')}",
               "Content-Type": "application/json"}
    data = iter([body[:100_000], body[100_000:]]) if chunked else body
    resp = requests.post(f"{http}/v1/tenants/acme/tickets", data=data, headers=headers,
                         timeout=REQUEST_TIMEOUT)
    assert resp.status_code == 201, resp.text
    assert resp.json()["title"] == title


# -- nginx's own errors are problems too ----------------------------------------


def raw_http(http, data, pause_after=None, rest=b""):
    """Sends bytes as they are (optionally in two parts); returns the
    status, headers and body of the answer."""
    host, port = http.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT) as s:
        try:
            s.sendall(data)
            if pause_after is not None:
                time.sleep(pause_after)
                s.sendall(rest)
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx answered before reading it all
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            head, sep, body = b"".join(chunks).partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
                if m and len(body) >= int(m.group(1)):
                    break
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def raw_problem(answer, status):
    got, headers, body = answer
    assert got == status, body
    assert headers["content-type"] == "application/problem+json"
    doc = json.loads(body)
    assert doc["status"] == status and doc["title"]
    return doc


def test_body_over_client_max_body_size_is_problem_413(http):
    resp = requests.post(f"{http}/v1/tenants/acme/tickets", data=b"x" * (2 * 1024 * 1024),
                         headers={"Content-Type": "application/json"},
                         timeout=REQUEST_TIMEOUT)
    problem(resp, 413)


def test_chunked_body_over_client_max_body_size_is_problem_413(http):
    chunk = b"x" * 65536
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    answer = raw_http(http, b"POST /v1/tenants/acme/tickets HTTP/1.1\r\nHost: t\r\n"
                            b"Authorization: Bearer " + staff_token().encode() + b"\r\n"
                            b"Content-Type: application/json\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n" + body)
    raw_problem(answer, 413)


@pytest.mark.parametrize("pause", [None, 0.3], ids=["at-once", "later"])
def test_malformed_chunked_body_is_problem_400(http, pause):
    """Malformed chunks, with the headers or after them (then nginx
    finalizes the request itself and error_page brings it back)."""
    head = (b"POST /v1/tenants/acme/tickets HTTP/1.1\r\nHost: t\r\n"
            b"Authorization: Bearer " + staff_token().encode() + b"\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    bad = b"zz\r\nhello\r\n0\r\n\r\n"
    if pause is None:
        answer = raw_http(http, head + bad)
    else:
        answer = raw_http(http, head, pause_after=pause, rest=bad)
    raw_problem(answer, 400)


def test_malformed_chunked_body_without_token_is_problem_400(http):
    answer = raw_http(http, b"POST /v1/tenants/acme/tickets HTTP/1.1\r\nHost: t\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    raw_problem(answer, 400)


@pytest.mark.parametrize("request_bytes, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /v1/health HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400),
    (b"GET /v1/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    (b"TRACE /v1/health HTTP/1.1\r\nHost: t\r\n\r\n", 405),
    (b"GET /v1/health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
], ids=["request-line", "header", "uri-too-long", "trace", "transfer-encoding"])
def test_malformed_requests_are_problems(http, request_bytes, status):
    raw_problem(raw_http(http, request_bytes), status)


def test_protected_route_without_token_is_401_with_challenge(http):
    resp = requests.get(f"{http}/v1/tenants/acme/tickets/ACME-1", timeout=REQUEST_TIMEOUT)
    problem(resp, 401)
    assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_if_match_is_left_to_the_service(http):
    """nginx's not_modified filter would answer 412 to any If-Match."""
    resp = requests.get(f"{http}/v1/health", headers={"If-Match": '"nope"',
                                                      "If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
                        timeout=REQUEST_TIMEOUT)
    assert resp.status_code == 200
