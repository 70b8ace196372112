"""`mspctl migrate`: fresh apply, re-apply no-op, refusal on edited or
missing files, and the roles it leaves behind."""
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


def test_escalations_migration_upgrades_a_populated_database(empty_db, migrations_copy,
                                                            tmp_path):
    """0008 on a database with tenants and history: each tenant gets its
    escalations partition, and comments written as "internal" before the
    three visibility levels are staff comments, hidden from requesters."""
    later = sorted(p for p in migrations_copy.glob("*.sql") if p.name >= "0008")
    held = tmp_path / "later"
    held.mkdir()
    for p in later:
        p.rename(held / p.name)
    empty_db.mspctl("migrate", "--dir", migrations_copy, check=True)
    write_tenant(tmp_path, tenant_doc("upgr"))
    empty_db.mspctl("tenant", "apply", tmp_path / "upgr.json", check=True)
    with empty_db.owner() as conn:
        with conn.transaction():
            set_principal(conn, "test.seed", "provider", "admin")
            tid = seed_tenant(conn, "upgr", tickets=1)
            for visibility in ("internal", "public"):
                conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind, data)"
                             " VALUES (%s, 1, 'comment', jsonb_build_object('body', 'x',"
                             " 'visibility', %s::text))", (tid, visibility))

    for p in later:
        (held / p.name).rename(migrations_copy / p.name)
    proc = empty_db.mspctl("migrate", "--dir", migrations_copy)
    assert proc.returncode == 0, proc.stderr
    with empty_db.owner() as conn:
        assert conn.execute("SELECT to_regclass('escalations_upgr')").fetchone()[0] is not None
        policies = conn.execute(
            "SELECT tablename, policyname FROM pg_policies WHERE tablename IN"
            " ('ticket_events_upgr', 'escalations_upgr') ORDER BY 1, 2").fetchall()
        assert policies == [("escalations_upgr", "staff_only"),
                            ("escalations_upgr", "tenant_isolation"),
                            ("ticket_events_upgr", "tenant_isolation"),
                            ("ticket_events_upgr", "visibility")]
    with psycopg.connect(empty_db.gateway_url) as conn:
        with conn.transaction():
            set_principal(conn, "someone", "upgr", "requester")
            seen = conn.execute("SELECT kind, visibility FROM ticket_events"
                                " ORDER BY event_id").fetchall()
        assert seen == [("created", "public"), ("comment", "public")]
        with conn.transaction():
            set_principal(conn, "upgr.it", "upgr", "it_staff")
            seen = conn.execute("SELECT visibility FROM ticket_events WHERE kind = 'comment'"
                                " ORDER BY event_id").fetchall()
        assert seen == [("staff",), ("public",)]
