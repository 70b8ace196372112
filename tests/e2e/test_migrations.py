"""`mspctl migrate`: fresh apply, re-apply no-op, refusal on edited or
missing files, and the roles it leaves behind."""
import json
import shutil

import psycopg
import pytest

from conftest import ROOT, seed_tenant, set_principal, tenant_doc, write_tenant

MIGRATIONS = sorted(p.name for p in (ROOT / "migrations").glob("*.sql"))


def applied(db):
    with db.owner() as conn:
        return conn.execute("SELECT name, sha256 FROM schema_migrations ORDER BY name").fetchall()


@pytest.fixture
def migrations_copy(tmp_path):
    d = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", d)
    return d


def test_fresh_apply_applies_every_file_in_order(empty_db):
    proc = empty_db.mspctl("migrate", "--dir", ROOT / "migrations")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"applied {m}" for m in MIGRATIONS]
    rows = applied(empty_db)
    assert [r[0] for r in rows] == MIGRATIONS
    assert all(len(sha) == 64 for _, sha in rows)


def test_reapply_is_a_no_op(empty_db):
    empty_db.mspctl("migrate", "--dir", ROOT / "migrations", check=True)
    before = applied(empty_db)
    proc = empty_db.mspctl("migrate", "--dir", ROOT / "migrations")
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout
    assert "applied " not in proc.stdout
    assert applied(empty_db) == before


def test_edited_applied_file_is_refused_and_nothing_changes(empty_db, migrations_copy):
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    before = applied(empty_db)
    edited = migrations_copy / MIGRATIONS[1]
    edited.write_text(edited.read_text() + "\n-- a harmless-looking edit\n")
    (migrations_copy / "9999_new_table.sql").write_text("CREATE TABLE should_not_exist (x int);")

    proc = empty_db.mspctl("migrate", "--dir", migrations_copy)
    assert proc.returncode != 0
    assert MIGRATIONS[1] in proc.stderr and "edited" in proc.stderr
    assert "nothing was applied" in proc.stderr
    assert applied(empty_db) == before
    with empty_db.owner() as conn:
        assert conn.execute("SELECT to_regclass('should_not_exist')").fetchone()[0] is None


def test_missing_applied_file_is_refused(empty_db, migrations_copy):
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    before = applied(empty_db)
    (migrations_copy / MIGRATIONS[-1]).unlink()
    proc = empty_db.mspctl("migrate", "--dir", migrations_copy)
    assert proc.returncode != 0
    assert MIGRATIONS[-1] in proc.stderr and "missing" in proc.stderr
    assert applied(empty_db) == before


def test_new_file_numbered_before_an_applied_one_is_refused(empty_db, migrations_copy):
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    (migrations_copy / "0001_aa_late_arrival.sql").write_text("CREATE TABLE late (x int);")
    proc = empty_db.mspctl("migrate", "--dir", migrations_copy)
    assert proc.returncode != 0
    assert "0001_aa_late_arrival.sql" in proc.stderr and "sorts before" in proc.stderr
    with empty_db.owner() as conn:
        assert conn.execute("SELECT to_regclass('late')").fetchone()[0] is None


def test_failing_migration_rolls_back_itself_only(empty_db, migrations_copy):
    (migrations_copy / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (x int);\nSELECT no_such_function();\n")
    proc = empty_db.mspctl("migrate", "--dir", migrations_copy)
    assert proc.returncode != 0
    assert "9999_broken.sql failed" in proc.stderr
    assert [r[0] for r in applied(empty_db)] == MIGRATIONS
    with empty_db.owner() as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone()[0] is None


def test_badly_named_sql_file_is_refused(empty_db, migrations_copy):
    (migrations_copy / "add-things.sql").write_text("SELECT 1;")
    proc = empty_db.mspctl("migrate", "--dir", migrations_copy)
    assert proc.returncode != 0
    assert "add-things.sql" in proc.stderr
    with empty_db.owner() as conn:
        assert conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None


def test_gateway_role_owns_nothing_and_cannot_bypass_rls(db):
    with db.owner() as conn:
        role = conn.execute("SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole"
                            " FROM pg_roles WHERE rolname = 'msp_gateway'").fetchone()
        assert role == (False, False, False, False)
        owned = conn.execute("SELECT count(*) FROM pg_class c JOIN pg_roles r"
                             " ON r.oid = c.relowner WHERE r.rolname = 'msp_gateway'").fetchone()[0]
        assert owned == 0
        # Every tenant table has RLS enabled and forced.
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'"
            " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
            " WHERE c.relkind IN ('r', 'p')").fetchall()
        assert {r[0] for r in rows} >= {"tenants", "assignments", "ticket_counters", "tickets",
                                         "ticket_events", "assets", "ticket_assets", "audit_log"}
        assert all(r[1] and r[2] for r in rows), rows


def test_gateway_cannot_read_the_migrations_table(db):
    with db.gateway() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM schema_migrations")


# The tables whose rows the upgrade keeps (schema_migrations aside).
DATA_TABLES = ("tenants", "assignments", "ticket_counters", "idempotency_keys", "tickets",
               "assets", "ticket_assets", "ticket_events", "escalations", "audit_log")


def every_row(conn):
    """Every row of every data table, whatever the policies say: the owner
    lifts FORCE ROW LEVEL SECURITY inside a transaction that is rolled back
    (DDL is transactional), so nothing outlives the dump."""
    rows = {}
    with conn.transaction(force_rollback=True):
        for table in DATA_TABLES:
            conn.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            rows[table] = sorted(r[0] for r in conn.execute(
                f"SELECT to_jsonb(t)::text FROM {table} t"))
    return rows


def insert_tenant(db, doc):
    """A tenant as an older schema holds it (today's mspctl writes columns
    that later migrations add), as the provider admin."""
    with db.owner() as conn, conn.transaction():
        set_principal(conn, "seed.admin", "provider", "admin")
        conn.execute(
            "INSERT INTO tenants (slug, name, ticket_prefix, timezone, co_management_model,"
            " calendar, holidays, sla_policy, escalation_policy, contract, document_sha256)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'sha')",
            (doc["slug"], doc["name"], doc["ticket_prefix"], doc["timezone"],
             doc["co_management_model"],
             *(json.dumps(doc[k]) for k in ("calendar", "holidays", "sla_policy",
                                            "escalation_policy", "contract"))))
        conn.execute("INSERT INTO ticket_counters (tenant_id) SELECT tenant_id FROM tenants"
                     " WHERE slug = %s", (doc["slug"],))


def seed_0008(conn, slug, doc, tickets):
    """A tenant as mspctl wrote it at 0008 (a row, its partitions), with
    tickets of every kind of history, written by a provider admin whose
    context is the 0008 one (three settings)."""
    for name, value in (("sub", "seed.admin"), ("org", "provider"), ("role", "admin")):
        conn.execute("SELECT set_config(%s, %s, true)", (f"msp.{name}", value))
    tid = conn.execute(
        "INSERT INTO tenants (slug, name, ticket_prefix, timezone, co_management_model,"
        " calendar, holidays, sla_policy, escalation_policy, contract, document_sha256)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'sha') RETURNING tenant_id",
        (slug, doc["name"], doc["ticket_prefix"], doc["timezone"], doc["co_management_model"],
         *(json.dumps(doc[k]) for k in ("calendar", "holidays", "sla_policy",
                                        "escalation_policy", "contract")))).fetchone()[0]
    conn.execute("SELECT app.create_tenant_partitions(%s)", (tid,))
    conn.execute("INSERT INTO assignments (tenant_id, subject, role, tier)"
                 " VALUES (%s, 'tech.up', 'technician', 'L1')", (tid,))
    asset = conn.execute("INSERT INTO assets (tenant_id, tag, name, kind, details)"
                         " VALUES (%s, 'LT-1', 'Laptop', 'laptop', '{\"ram\": 16}')"
                         " RETURNING asset_id", (tid,)).fetchone()[0]
    for n in range(1, tickets + 1):
        status = ("new", "in_progress", "resolved")[n % 3]
        conn.execute(
            "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester,"
            " status, assignee, sla, response_due, sla_pending, sla_next_at)"
            " VALUES (%s, %s, 'high', 'low', 'P2', %s, %s, %s, '{\"state\": \"running\"}',"
            " now() + interval '1 hour', '[\"resolution.warning\"]', now() + interval '2 hours')",
            (tid, f"{slug} ticket {n}", f"user{n % 2}", status, "tech.up" if n % 2 else None))
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
                     " VALUES (%s, %s, 'created', '{}'), (%s, %s, 'sla.warning', '{}')",
                     (tid, n, tid, n))
        for visibility in ("public", "provider", "staff"):
            conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
                         " VALUES (%s, %s, 'comment', jsonb_build_object('body', %s::text,"
                         " 'visibility', %s::text))", (tid, n, f"{visibility} note", visibility))
        conn.execute("INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id)"
                     " VALUES (%s, %s, %s)", (tid, n, asset))
        conn.execute("INSERT INTO audit_log (tenant_id, action, target, detail)"
                     " VALUES (%s, 'ticket.create', %s, '{\"n\": 1}')", (tid, f"ticket:{n}"))
    conn.execute(
        "INSERT INTO escalations (tenant_id, ticket_number, kind, target, from_side, note,"
        " context, rule, status) VALUES"
        " (%s, 1, 'handoff', 'internal_it', 'provider', '{\"summary\": \"s\"}', '{}', 'r', 'open'),"
        " (%s, 2, 'functional', 'provider:L2', 'provider', '{\"summary\": \"t\"}', '{}', 'r',"
        " 'accepted')", (tid, tid))
    conn.execute("INSERT INTO idempotency_keys (tenant_id, subject, key, request_sha256,"
                 " response_status, response_body) VALUES (%s, 'seed.admin', 'k1', 'x', 201, '{}')",
                 (tid,))
    return tid


def test_tenant_keyed_migration_upgrades_a_populated_database(empty_db, migrations_copy,
                                                              tmp_path):
    """0009 on a 0008 database (a partition per tenant) with tenants,
    tickets with history, escalations and audit rows: every row of every
    table is kept, byte for byte, no tenant relation is left, ids go on
    from where they were, and the new policies give each reader what the
    old ones did."""
    later = sorted(p for p in migrations_copy.glob("*.sql") if p.name >= "0009")
    held = tmp_path / "later"
    held.mkdir()
    for p in later:
        p.rename(held / p.name)
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    with empty_db.owner() as conn:
        with conn.transaction():
            ids = [seed_0008(conn, "upa", tenant_doc("upa", "acme"), 4),
                   seed_0008(conn, "upb", tenant_doc("upb", "globex"), 3)]
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%_upa'"
                            ).fetchone()[0] > 0
        before = every_row(conn)
    assert len(before["tickets"]) == 7 and len(before["ticket_events"]) == 35

    # 0009 alone: later migrations may add columns of their own.
    (held / later[0].name).rename(migrations_copy / later[0].name)
    proc = empty_db.mspctl("migrate", "--dir", migrations_copy)
    assert proc.returncode == 0, proc.stderr
    with empty_db.owner() as conn:
        after = every_row(conn)
        assert after == before
        # no relation per tenant is left, and none is partitioned
        assert conn.execute("SELECT count(*) FROM pg_class WHERE relname ~ '_(upa|upb)$'"
                            " OR relkind = 'p'").fetchone()[0] == 0
        with conn.transaction():
            set_principal(conn, "seed.admin", "provider", "admin")
            fresh = conn.execute(
                "INSERT INTO ticket_events (tenant_id, ticket_number, kind)"
                " VALUES (%s, 1, 'updated') RETURNING event_id", (ids[0],)).fetchone()[0]
            assert fresh > max(json.loads(r)["event_id"] for r in before["ticket_events"])
            number = conn.execute(
                "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester)"
                " VALUES (%s, 'after', 'low', 'low', 'P4', 'x') RETURNING number",
                (ids[0],)).fetchone()[0]
            assert number == 5

    with psycopg.connect(empty_db.gateway_url) as conn:
        with conn.transaction():
            set_principal(conn, "user1", "upa", "requester")
            seen = conn.execute("SELECT number FROM tickets ORDER BY number").fetchall()
            assert seen == [(1,), (3,)]
            seen = conn.execute("SELECT DISTINCT visibility FROM ticket_events"
                                " ORDER BY 1").fetchall()
            assert seen == [("public",)]
        with conn.transaction():
            set_principal(conn, "upa.it", "upa", "it_staff")
            seen = conn.execute("SELECT DISTINCT tenant_id, visibility FROM ticket_events"
                                " ORDER BY 2").fetchall()
            assert seen == [(ids[0], "public"), (ids[0], "staff")]
        with conn.transaction():
            set_principal(conn, "tech.up", "provider", "technician")
            seen = conn.execute("SELECT tenant_id, count(*) FROM tickets GROUP BY 1"
                                " ORDER BY 2").fetchall()
            assert sorted(seen) == sorted([(ids[0], 5), (ids[1], 3)])


def test_reporting_migration_gives_existing_tenants_the_default(empty_db, migrations_copy,
                                                                tmp_path):
    """0010 on a 0009 database with a tenant: the tenant gets the reporting
    section a file without one normalizes to, and its next apply, which
    stores the normalized document, changes nothing but the hash."""
    held = tmp_path / "later"
    held.mkdir()
    for p in migrations_copy.glob("*.sql"):
        if p.name >= "0010":
            p.rename(held / p.name)
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    doc = tenant_doc("upc", "acme")
    insert_tenant(empty_db, doc)
    for p in held.glob("*.sql"):
        p.rename(migrations_copy / p.name)
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    assert empty_db.admin_rows("SELECT reporting FROM tenants") == [({"recurrence_days": 30},)]
    path = write_tenant(tmp_path, doc)
    proc = empty_db.mspctl("tenant", "apply", path)
    assert proc.returncode == 0, proc.stderr
    assert empty_db.admin_rows("SELECT reporting FROM tenants") == \
        [({"recurrence_days": 30, "reopen_days": 7, "satisfaction_days": 14,
           "pack_settle_hours": 24},)]


def test_open_spans_migration_fills_them_from_the_history(empty_db, migrations_copy, tmp_path):
    """0012 on a 0011 database with history: each stretch a ticket was
    open becomes a span, closed where the next resolution or closing was,
    open when it still is; later events keep them by the trigger."""
    held = tmp_path / "later"
    held.mkdir()
    for p in migrations_copy.glob("*.sql"):
        if p.name >= "0012":
            p.rename(held / p.name)
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    insert_tenant(empty_db, tenant_doc("ups", "acme"))
    moves = {1: [("new", "resolved", 2), ("resolved", "in_progress", 3),
                 ("in_progress", "closed", 5)],
             2: [("new", "in_progress", 1)],
             3: [("new", "closed", 4), ("closed", "new", 6)]}
    with empty_db.owner() as conn, conn.transaction():
        set_principal(conn, "seed.admin", "provider", "admin")
        tid = conn.execute("SELECT tenant_id FROM tenants WHERE slug = 'ups'").fetchone()[0]
        for n in moves:
            conn.execute("INSERT INTO tickets (tenant_id, title, impact, urgency, priority,"
                         " requester) VALUES (%s, 't', 'low', 'low', 'P4', 'x')", (tid,))
            conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at,"
                         " kind) VALUES (%s, %s, timestamptz '2026-01-01Z', 'created')",
                         (tid, n))
            for was, now, day in moves[n]:
                conn.execute(
                    "INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, kind,"
                    " data) VALUES (%s, %s, timestamptz '2026-01-01Z' + %s * interval '1 day',"
                    " 'updated', %s)",
                    (tid, n, day, json.dumps({"status": {"from": was, "to": now}})))
    for p in held.glob("*.sql"):
        p.rename(migrations_copy / p.name)
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)

    def spans():
        return [(n, o.day, c.day if c else None) for n, o, c in empty_db.admin_rows(
            "SELECT ticket_number, opened_at AT TIME ZONE 'UTC', closed_at AT TIME ZONE 'UTC'"
            " FROM ticket_open_spans ORDER BY 1, 2")]
    assert spans() == [(1, 1, 3), (1, 4, 6), (2, 1, None), (3, 1, 5), (3, 7, None)]
    with empty_db.owner() as conn, conn.transaction():
        set_principal(conn, "seed.admin", "provider", "admin")
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, kind,"
                     " data) VALUES (%s, 2, timestamptz '2026-01-09Z', 'updated',"
                     " '{\"status\": {\"from\": \"in_progress\", \"to\": \"resolved\"}}')",
                     (tid,))
    assert spans()[2] == (2, 1, 9)
