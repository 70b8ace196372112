"""Shared fixtures for the end-to-end tests.

deploy/test.sh starts a throwaway stack (PostgreSQL + nginx with the
module) and exports its coordinates (see deploy/stack.sh, write_env):
MSP_DATABASE_URL (schema owner), MSP_GATEWAY_DATABASE_URL (the role nginx
uses), MSP_HTTP, MSP_BUILD.  Tests that change schema or tenants make a
fresh database of their own so they can run in any order.
"""
import json
import os
import pathlib
import subprocess
import time
import uuid

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

ROOT = pathlib.Path(__file__).resolve().parents[2]
TENANTS = ROOT / "tenants"


def env(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the end-to-end tests with `make test`", 2)
    return value


@pytest.fixture(scope="session")
def http():
    return env("MSP_HTTP")


@pytest.fixture(scope="session")
def owner_url():
    return env("MSP_DATABASE_URL")


@pytest.fixture(scope="session")
def gateway_url():
    return env("MSP_GATEWAY_DATABASE_URL")


def run_mspctl(*args, database_url=None, check=False, cwd=ROOT):
    """Runs the built mspctl; returns the CompletedProcess (text)."""
    e = dict(os.environ)
    if database_url is not None:
        e["MSP_DATABASE_URL"] = database_url
    proc = subprocess.run([os.path.join(env("MSP_BUILD"), "mspctl"), *map(str, args)],
                          env=e, cwd=cwd, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"mspctl {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def mspctl():
    return run_mspctl


class Database:
    """A database of its own for one test: URLs for the owner and gateway."""

    def __init__(self, owner_url, gateway_url, name):
        self.name = name
        self.owner_url = make_conninfo(owner_url, dbname=name)
        self.gateway_url = make_conninfo(gateway_url, dbname=name)

    def owner(self):
        """An owner connection in autocommit mode, for DDL and checks."""
        return psycopg.connect(self.owner_url, autocommit=True)

    def owner_tx(self):
        """An owner connection with transactions, so that a principal set
        with set_config(..., true) lasts until commit."""
        return psycopg.connect(self.owner_url)

    def gateway(self):
        return psycopg.connect(self.gateway_url)

    def mspctl(self, *args, check=False):
        return run_mspctl(*args, database_url=self.owner_url, check=check)

    def admin_rows(self, sql, params=None):
        """Runs a query as the owner acting as provider admin (what mspctl
        sees): the whole truth, through row-level security."""
        with psycopg.connect(self.owner_url) as conn:
            set_principal(conn, "test.admin", "provider", "admin")
            return conn.execute(sql, params).fetchall()


def set_principal(conn, sub, org, role):
    """Sets the transaction's principal exactly as the gateway does."""
    conn.execute("SELECT app.set_principal(%s, %s, %s)", (sub, org, role))


@pytest.fixture
def empty_db(owner_url, gateway_url):
    """A new, empty database owned by msp_owner; dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
        conn.execute(f'GRANT CONNECT ON DATABASE "{name}" TO msp_gateway')
    db = Database(owner_url, gateway_url, name)
    yield db
    # Plain DROP DATABASE: it stops autovacuum workers by itself, which
    # WITH (FORCE) may not (they are not msp_owner's to terminate).  A
    # connection of the test's that is still closing gets a moment.
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for attempt in range(50):
            try:
                conn.execute(f'DROP DATABASE "{name}"')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 49:
                    raise
                time.sleep(0.1)


@pytest.fixture
def db(empty_db):
    """A new database with every migration applied."""
    empty_db.mspctl("migrate", "--dir", ROOT / "migrations", check=True)
    return empty_db


def tenant_doc(slug, base="acme", **changes):
    """A valid tenant document: a demo tenant's file under a new slug."""
    doc = json.loads((TENANTS / f"{base}.json").read_text())
    doc["slug"] = slug
    doc["name"] = f"Test tenant {slug}"
    doc["ticket_prefix"] = slug.replace("-", "").upper()[:10]
    doc.update(changes)
    return doc


def write_tenant(directory, doc, name=None):
    path = pathlib.Path(directory) / f"{name or doc['slug']}.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.fixture
def two_tenants(db, tmp_path):
    """db with tenants 'alpha' (America/New_York) and 'beta' (Europe/Berlin),
    each with a ticket, its events, an asset, a ticket-asset link and audit
    rows; a technician assigned to alpha only."""
    paths = [write_tenant(tmp_path, tenant_doc("alpha", "acme")),
             write_tenant(tmp_path, tenant_doc("beta", "globex"))]
    db.mspctl("tenant", "apply", *paths, check=True)
    db.mspctl("assign", "tech.tina", "alpha", "technician", "L1", check=True)
    with db.owner() as conn:
        with conn.transaction():
            set_principal(conn, "test.seed", "provider", "admin")
            for slug in ("alpha", "beta"):
                seed_tenant(conn, slug)
    return db


def seed_tenant(conn, slug, tickets=1):
    """Adds an asset (with its event), a staged import row, tickets (each
    with its creation and a change of status, an asset link, an audit row,
    a measurement of its clocks, a time entry and its requester's rating,
    with the rating's event), one governance record of each kind, and one
    settled report headline."""
    tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = %s", (slug,)).fetchone()[0]
    # an asset with its history, and a row an import left staged
    asset = conn.execute(
        "SELECT id FROM app.create_asset(%s, %s::jsonb, NULL)",
        (slug, json.dumps({"tag": f"{slug}-lt-{uuid.uuid4().hex[:6]}", "name": "Laptop",
                           "kind": "laptop"}))).fetchone()[0]
    conn.execute("INSERT INTO asset_import_rows (tenant_id, line, fields) VALUES (%s, 1, '{}')",
                 (tid,))
    for i in range(tickets):
        number = conn.execute(
            "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester)"
            " VALUES (%s, %s, 'low', 'low', 'P4', 'someone') RETURNING number",
            (tid, f"{slug} ticket {i}, with \"quotes\",\nand a newline")).fetchone()[0]
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind)"
                     " VALUES (%s, %s, 'created')", (tid, number))
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
                     " VALUES (%s, %s, 'updated',"
                     " '{\"status\": {\"from\": \"new\", \"to\": \"assigned\"}}')",
                     (tid, number))
        conn.execute("INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id)"
                     " VALUES (%s, %s, %s)", (tid, number, asset))
        conn.execute("INSERT INTO ticket_sla_facts (tenant_id, ticket_number, valid_from,"
                     " priority, sla) VALUES (%s, %s, now(), 'P4', '{}')", (tid, number))
        conn.execute("INSERT INTO audit_log (tenant_id, action, target)"
                     " VALUES (%s, 'ticket.create', %s)", (tid, f"ticket:{number}"))
        conn.execute("INSERT INTO time_entries (tenant_id, ticket_number, side, worked_on,"
                     " minutes, billable, in_scope) VALUES (%s, %s, 'provider', current_date,"
                     " 30, true, true)", (tid, number))
    for kind, fields in (
            ("project", {"name": "Intune rollout", "owner": "am", "owner_side": "provider",
                         "start_date": "2026-01-05"}),
            ("risk", {"title": "Backups untested", "likelihood": 3, "impact": 4, "owner": "it",
                      "owner_side": "internal_it"}),
            ("action", {"title": "Test a restore", "review_on": "2026-02-01", "owner": "it",
                        "owner_side": "internal_it", "due": "2026-03-01"}),
            ("decision", {"title": "Move mail", "decision": "Move to Exchange Online",
                          "decided_by": "cio", "decided_on": "2026-02-01",
                          "review_on": "2026-02-01", "owner": "am", "owner_side": "provider"}),
            ("objective", {"title": "No unmanaged laptops", "year": 2026, "owner": "cio",
                           "owner_side": "internal_it"})):
        conn.execute("SELECT app.create_record(%s, %s, %s::jsonb, NULL)",
                     (kind, slug, json.dumps(fields)))
    conn.execute("SELECT app.settle_report_headlines(1, %s)", (tid,))
    # An issued review pack and one of its files.
    conn.execute("INSERT INTO packs (tenant_id, pack_id, kind, period, period_start, period_end,"
                 " as_of, state, manifest, signature) VALUES (%s, 'monthly-2026-01-20260201T"
                 "000000Z', 'monthly', '2026-01', '2026-01-01', '2026-02-01', '2026-02-01',"
                 " 'issued', '{}', 'x') ON CONFLICT DO NOTHING", (tid,))
    conn.execute("INSERT INTO pack_files (tenant_id, pack_id, name, media_type, content, sha256)"
                 " VALUES (%s, 'monthly-2026-01-20260201T000000Z', 'pack.json',"
                 " 'application/json', '{}', encode(sha256('{}'), 'hex'))"
                 " ON CONFLICT DO NOTHING", (tid,))
    # A rating is written by the ticket's requester only, even for the admin.
    set_principal(conn, "someone", slug, "requester")
    conn.execute("WITH r AS (INSERT INTO satisfaction_ratings (tenant_id, ticket_number, score,"
                 " resolved_at, side, editable_until) SELECT tenant_id, number, 4, now(), side,"
                 " now() + interval '14 days' FROM tickets WHERE tenant_id = %s"
                 " ON CONFLICT DO NOTHING RETURNING tenant_id, ticket_number)"
                 " INSERT INTO governance_events (tenant_id, record, record_id, kind)"
                 " SELECT tenant_id, 'rating', ticket_number, 'rated' FROM r", (tid,))
    # An idempotency key belongs to its subject: store one as the tenant's
    # own staff member, then go back to being the admin.
    set_principal(conn, f"{slug}.it.ann", slug, "it_staff")
    conn.execute("INSERT INTO idempotency_keys (tenant_id, subject, key, request_sha256)"
                 " VALUES (%s, %s, %s, 'x')", (tid, f"{slug}.it.ann", uuid.uuid4().hex))
    set_principal(conn, "test.seed", "provider", "admin")
    return tid


_tokens = {}


def token(sub, org, role, name=None):
    """A development token (HS256, the stack's key), minted by mspctl."""
    key = (sub, org, role, name)
    if key not in _tokens:
        args = ["token", "--sub", sub, "--org", org, "--role", role]
        if name:
            args += ["--name", name]
        proc = run_mspctl(*args, check=True)
        _tokens[key] = proc.stdout.strip()
    return _tokens[key]


class Client:
    """requests, as one principal, against the stack's nginx."""

    def __init__(self, base, sub, org, role):
        import requests
        self.base = base
        self.sub = sub
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(sub, org, role)}"

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.base + path, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)


@pytest.fixture(scope="session")
def as_user(http):
    """as_user(sub, org, role) -> Client."""
    def make(sub, org, role):
        return Client(http, sub, org, role)
    return make


def admin_query(sql, params=None):
    """A query on the stack's own database as the provider admin sees it."""
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "test.admin", "provider", "admin")
        return conn.execute(sql, params).fetchall()
