"""Tenant isolation at the SQL level, connected as msp_gateway (the role
nginx uses): row-level security must hold whatever a service forgets."""
import psycopg
import pytest

from conftest import run_mspctl, set_principal

# Every tenant table the gateway may read.  The remaining one,
# ticket_counters, it may not read at all (see below).
TABLES = ["tenants", "assignments", "tickets", "ticket_events", "assets", "ticket_assets",
          "ticket_open_spans", "ticket_sla_facts", "ticket_status_changes",
          "ticket_report_facts", "report_headlines", "time_entries", "satisfaction_ratings",
          "governance_events", "objectives", "projects", "risks", "actions", "decisions",
          "packs", "pack_files", "asset_events", "asset_import_rows",
          "audit_log", "idempotency_keys"]
ALPHA = ("alpha.it.ann", "alpha", "it_staff")
# review packs are for the tenant's IT leader, not its IT staff
ALPHA_LEADER = ("alpha.cio", "alpha", "it_leader")
TECH = ("tech.tina", "provider", "technician")


def tenant_ids(db):
    return dict(db.admin_rows("SELECT slug, tenant_id FROM tenants"))


def visible(db, principal, table):
    with db.gateway() as conn:
        if principal:
            set_principal(conn, *principal)
        return conn.execute(f"SELECT tenant_id FROM {table}").fetchall()


@pytest.mark.parametrize("table", TABLES)
def test_tenant_principal_sees_only_its_tenant(two_tenants, table):
    ids = tenant_ids(two_tenants)
    rows = visible(two_tenants, ALPHA_LEADER if table.startswith("pack") else ALPHA, table)
    assert {r[0] for r in rows} <= {ids["alpha"]}
    if table == "assignments":
        return  # tenant principals do not list provider staff
    assert rows, f"alpha sees none of its own {table}"
    # The other tenant has rows there, so the check above is not vacuous.
    beta = two_tenants.admin_rows(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                                  (ids["beta"],))
    assert beta[0][0] > 0


@pytest.mark.parametrize("table", TABLES)
def test_no_principal_sees_nothing(two_tenants, table):
    assert visible(two_tenants, None, table) == []
    assert visible(two_tenants, ("", "", ""), table) == []


@pytest.mark.parametrize("principal", [
    ("someone", "alpha", "admin"),          # a provider role claimed by a tenant
    ("someone", "provider", "it_staff"),    # a tenant role claimed by the provider
    ("", "alpha", "it_staff"),              # no subject
    ("someone", "no-such-tenant", "it_staff"),
])
def test_malformed_principals_see_nothing(two_tenants, principal):
    for table in TABLES:
        assert visible(two_tenants, principal, table) == [], table


def test_tenant_principal_cannot_write_into_another_tenant(two_tenants):
    ids = tenant_ids(two_tenants)
    attempts = [
        ("INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester)"
         " VALUES (%s, 'x', 'low', 'low', 'P4', 'x')", (ids["beta"],)),
        ("INSERT INTO assets (tenant_id, tag, name, kind) VALUES (%s, 'x', 'x', 'other')",
         (ids["beta"],)),
        ("INSERT INTO ticket_events (tenant_id, ticket_number, kind) VALUES (%s, 1, 'x')",
         (ids["beta"],)),
        ("INSERT INTO audit_log (tenant_id, action, target) VALUES (%s, 'x', 'x')",
         (ids["beta"],)),
        ("INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id) VALUES (%s, 1, 1)",
         (ids["beta"],)),
    ]
    for sql, params in attempts:
        with two_tenants.gateway() as conn:
            set_principal(conn, *ALPHA)
            with pytest.raises((psycopg.errors.InsufficientPrivilege,
                                psycopg.errors.ForeignKeyViolation)):
                conn.execute(sql, params)

    # Updates and deletes of the other tenant's rows touch nothing.
    with two_tenants.gateway() as conn:
        set_principal(conn, *ALPHA)
        cur = conn.execute("UPDATE tickets SET title = 'hijacked' WHERE tenant_id = %s",
                           (ids["beta"],))
        assert cur.rowcount == 0
        cur = conn.execute("UPDATE assets SET name = 'hijacked' WHERE tenant_id = %s",
                           (ids["beta"],))
        assert cur.rowcount == 0
        cur = conn.execute("DELETE FROM ticket_assets WHERE tenant_id = %s", (ids["beta"],))
        assert cur.rowcount == 0
        # Moving its own ticket into the other tenant is refused too.
        with pytest.raises(psycopg.Error):
            conn.execute("UPDATE tickets SET tenant_id = %s WHERE tenant_id = %s",
                         (ids["beta"], ids["alpha"]))
    assert two_tenants.admin_rows("SELECT count(*) FROM tickets WHERE title = 'hijacked'") \
        == [(0,)]


def test_no_principal_cannot_write(two_tenants):
    ids = tenant_ids(two_tenants)
    with two_tenants.gateway() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO audit_log (tenant_id, action, target)"
                         " VALUES (%s, 'x', 'x')", (ids["alpha"],))


def test_tenant_principal_can_write_its_own_tenant(two_tenants):
    ids = tenant_ids(two_tenants)
    with two_tenants.gateway() as conn:
        set_principal(conn, *ALPHA)
        number = conn.execute(
            "INSERT INTO tickets (tenant_id, title, impact, urgency, priority, requester)"
            " VALUES (%s, 'Mine', 'low', 'low', 'P4', 'ann') RETURNING number",
            (ids["alpha"],)).fetchone()[0]
        conn.execute("INSERT INTO ticket_events (tenant_id, ticket_number, kind)"
                     " VALUES (%s, %s, 'created')", (ids["alpha"], number))
        actor = conn.execute("SELECT actor_sub, actor_org, actor_role FROM ticket_events"
                             " WHERE ticket_number = %s", (number,)).fetchone()
    assert number == 2  # the fixture made ticket 1
    assert actor == ALPHA


def test_history_and_audit_are_append_only_for_the_gateway(two_tenants):
    for table in ("ticket_events", "audit_log"):
        for sql in (f"UPDATE {table} SET tenant_id = tenant_id", f"DELETE FROM {table}"):
            with two_tenants.gateway() as conn:
                set_principal(conn, *ALPHA)
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql)
    # Even the owner cannot rewrite history.
    with two_tenants.owner_tx() as conn:
        set_principal(conn, "test.admin", "provider", "admin")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM ticket_events")


def test_ticket_counters_are_closed_to_the_gateway_and_isolated_for_the_owner(two_tenants):
    with two_tenants.gateway() as conn:
        set_principal(conn, *ALPHA)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM ticket_counters")
    ids = tenant_ids(two_tenants)
    with two_tenants.owner_tx() as conn:
        set_principal(conn, *ALPHA)
        rows = conn.execute("SELECT tenant_id FROM ticket_counters").fetchall()
        assert rows == [(ids["alpha"],)]
        set_principal(conn, "", "", "")
        assert conn.execute("SELECT count(*) FROM ticket_counters").fetchone()[0] == 0


# The few indexes that do not lead with tenant_id: global partial indexes
# of open work, read by the cross-tenant reads of a principal who sees many
# tenants (the queue, escalations waiting), the inbox (by assignee) and
# the sweeps.  Every other index leads with tenant_id.
GLOBAL_INDEXES = {"tickets_open_all", "tickets_open_age_all", "tickets_open_breach_all",
                  "tickets_assignee_open", "tickets_sla_next", "escalations_open_all",
                  "escalations_ack", "assignments_subject", "tenants_slug_key",
                  "tenants_ticket_prefix_key"}


# The tables that are no tenant's: the migrations applied, the provider's
# public pack keys, and its portfolio packs (each an account manager's,
# read while they see every tenant it covers: tests/e2e/test_packs.py).
NOT_TENANTS = "('schema_migrations', 'pack_keys', 'portfolio_packs', 'portfolio_pack_files')"


def test_tenant_tables_are_plain_tables_keyed_by_tenant(two_tenants):
    with two_tenants.owner() as conn:
        tables = conn.execute(
            "SELECT c.relname, c.relkind, c.relispartition FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'"
            " WHERE c.relkind IN ('r', 'p')").fetchall()
        assert {t[0] for t in tables} >= {"tickets", "ticket_events", "assets",
                                          "ticket_assets", "escalations", "audit_log"}
        assert all(kind == "r" and not part for _, kind, part in tables), tables
        # tenant_id leads every primary key, foreign key and index
        keys = conn.execute(
            "SELECT c.conrelid::regclass::text, c.contype, c.conname,"
            " (SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid"
            "   AND attnum = c.conkey[1])"
            " FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid"
            " WHERE c.contype IN ('p', 'f') AND r.relnamespace = 'public'::regnamespace"
            "   AND r.relname NOT IN %s" % NOT_TENANTS).fetchall()
        assert keys and all(first == "tenant_id" for *_, first in keys), keys
        indexes = conn.execute(
            "SELECT i.indexrelid::regclass::text, a.attname FROM pg_index i"
            " JOIN pg_class r ON r.oid = i.indrelid"
            " LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
            " WHERE r.relnamespace = 'public'::regnamespace"
            "   AND r.relname NOT IN %s" % NOT_TENANTS).fetchall()
        others = {name for name, first in indexes if first != "tenant_id"}
        assert others == GLOBAL_INDEXES


def test_context_is_read_from_the_principal_function_only(two_tenants):
    # Claiming a principal by hand, without app.set_principal, shows nothing.
    with two_tenants.gateway() as conn:
        conn.execute("SELECT set_config('msp.sub', 'boss', true),"
                     " set_config('msp.org', 'provider', true),"
                     " set_config('msp.role', 'admin', true)")
        for table in TABLES:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_gateway_cannot_change_tenants_or_assignments(two_tenants):
    with two_tenants.gateway() as conn:
        set_principal(conn, "boss", "provider", "admin")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE tenants SET name = 'x'")
    with two_tenants.gateway() as conn:
        set_principal(conn, "boss", "provider", "admin")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO assignments (tenant_id, subject, role)"
                         " SELECT tenant_id, 'me', 'technician' FROM tenants")


def test_provider_admin_sees_every_tenant(two_tenants):
    ids = tenant_ids(two_tenants)
    rows = visible(two_tenants, ("boss", "provider", "admin"), "tickets")
    assert {r[0] for r in rows} == {ids["alpha"], ids["beta"]}


def test_technician_sees_assigned_tenants_and_loses_one_on_the_next_transaction(two_tenants):
    ids = tenant_ids(two_tenants)
    for table in TABLES:
        rows = visible(two_tenants, TECH, table)
        assert {r[0] for r in rows} <= {ids["alpha"]}, table
    assert {r[0] for r in visible(two_tenants, TECH, "tickets")} == {ids["alpha"]}

    # A connection held open across the change, as the gateway's pool does.
    with two_tenants.gateway() as conn:
        set_principal(conn, *TECH)
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 1
        conn.commit()

        run_mspctl("unassign", "tech.tina", "alpha", database_url=two_tenants.owner_url,
                   check=True)

        set_principal(conn, *TECH)
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM tenants").fetchone()[0] == 0
        conn.commit()

        run_mspctl("assign", "tech.tina", "beta", "technician", "L2",
                   database_url=two_tenants.owner_url, check=True)
        set_principal(conn, *TECH)
        assert {r[0] for r in conn.execute("SELECT tenant_id FROM tickets")} == {ids["beta"]}


def test_principal_does_not_outlive_its_transaction(two_tenants):
    with two_tenants.gateway() as conn:
        set_principal(conn, *ALPHA)
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 1
        conn.commit()
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 0


def test_assignments_are_audited(two_tenants):
    rows = two_tenants.admin_rows("SELECT action, target, detail->>'tier' FROM audit_log"
                                  " WHERE action LIKE 'assignment.%'")
    assert rows == [("assignment.create", "assignment:tech.tina", "L1")]
    proc = run_mspctl("assign", "tech.tina", "alpha", "technician", "L1",
                      database_url=two_tenants.owner_url)
    assert "already assigned" in proc.stdout
    assert len(two_tenants.admin_rows("SELECT 1 FROM audit_log WHERE action LIKE 'assignment.%'")) == 1


def test_assign_rejects_bad_input_and_writes_nothing(two_tenants):
    before = two_tenants.admin_rows("SELECT * FROM assignments ORDER BY subject")
    for args in (["x", "alpha", "wizard"], ["x", "alpha", "technician", "L9"],
                 ["x", "no-such-tenant", "technician"], ["", "alpha", "technician"]):
        proc = run_mspctl("assign", *args, database_url=two_tenants.owner_url)
        assert proc.returncode != 0, args
        assert proc.stderr.startswith("mspctl: "), proc.stderr
    assert two_tenants.admin_rows("SELECT * FROM assignments ORDER BY subject") == before
