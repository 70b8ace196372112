"""`mspctl tenant offboard SLUG --export DIR`."""
import csv
import hashlib
import json

import pytest

from conftest import seed_tenant, set_principal

TABLES = ["tenants", "assignments", "ticket_counters", "idempotency_keys", "tickets", "assets",
          "ticket_assets", "ticket_open_spans", "ticket_sla_facts", "ticket_status_changes",
          "ticket_report_facts", "report_headlines", "time_entries", "satisfaction_ratings",
          "governance_events", "objectives", "projects", "risks", "actions", "decisions",
          "packs", "pack_files", "asset_events", "asset_import_rows",
          "ticket_events", "escalations", "audit_log"]


def counts(db, slug):
    out = {}
    for table in TABLES:
        out[table] = db.admin_rows(
            f"SELECT count(*) FROM {table} t JOIN tenants USING (tenant_id)"
            f" WHERE tenants.slug = %s", (slug,))[0][0]
    return out


def test_offboard_exports_then_removes_only_that_tenant(two_tenants, tmp_path):
    db = two_tenants
    with db.owner() as conn:
        with conn.transaction():
            set_principal(conn, "test.seed", "provider", "admin")
            seed_tenant(conn, "alpha", tickets=25)
    alpha_before = counts(db, "alpha")
    beta_before = counts(db, "beta")
    beta_rows = db.admin_rows("SELECT * FROM tickets t JOIN tenants USING (tenant_id)"
                              " WHERE slug = 'beta' ORDER BY number")
    alpha_id = db.admin_rows("SELECT tenant_id FROM tenants WHERE slug = 'alpha'")[0][0]

    export = tmp_path / "alpha-export"
    proc = db.mspctl("tenant", "offboard", "alpha", "--export", export)
    assert proc.returncode == 0, proc.stderr
    assert "alpha: exported" in proc.stdout

    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["tenant"] == "alpha"
    assert manifest["tenant_id"] == str(alpha_id)
    listed = {t["table"]: t for t in manifest["tables"]}
    assert set(listed) == set(TABLES)
    for table, entry in listed.items():
        data = (export / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], table
        with open(export / entry["file"], newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        assert entry["rows"] == len(rows) - 1 == alpha_before[table], table
        if entry["rows"]:
            header = rows[0]
            assert header[0] == "tenant_id"
            assert all(r[0] == str(alpha_id) for r in rows[1:]), table
    # The ticket titles, newlines and quotes included, survive the export.
    with open(export / "tickets.csv", newline="", encoding="utf-8") as f:
        titles = {row["title"] for row in csv.DictReader(f)}
    assert 'alpha ticket 0, with "quotes",\nand a newline' in titles

    # Nothing of alpha remains, in any table or partition.
    for table in TABLES:
        assert db.admin_rows(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                             (alpha_id,)) == [(0,)], table
    assert db.admin_rows("SELECT count(*) FROM pg_class WHERE relname LIKE '%%\\_alpha'") \
        == [(0,)]
    # beta is untouched.
    assert counts(db, "beta") == beta_before
    assert db.admin_rows("SELECT * FROM tickets t JOIN tenants USING (tenant_id)"
                         " WHERE slug = 'beta' ORDER BY number") == beta_rows


def test_offboard_refuses_an_existing_directory(two_tenants, tmp_path):
    before = counts(two_tenants, "alpha")
    export = tmp_path / "exists"
    export.mkdir()
    proc = two_tenants.mspctl("tenant", "offboard", "alpha", "--export", export)
    assert proc.returncode != 0
    assert "already exists" in proc.stderr
    assert list(export.iterdir()) == []
    assert counts(two_tenants, "alpha") == before


def test_offboard_of_unknown_tenant_changes_nothing(two_tenants, tmp_path):
    export = tmp_path / "nobody"
    proc = two_tenants.mspctl("tenant", "offboard", "nobody", "--export", export)
    assert proc.returncode != 0
    assert "no tenant 'nobody'" in proc.stderr
    assert not export.exists()


def test_failed_export_leaves_the_tenant_in_place(two_tenants, tmp_path):
    before = counts(two_tenants, "alpha")
    export = tmp_path / "missing-parent" / "export"
    proc = two_tenants.mspctl("tenant", "offboard", "alpha", "--export", export)
    assert proc.returncode != 0
    assert "not offboarded" in proc.stderr
    assert counts(two_tenants, "alpha") == before


def test_offboarded_slug_can_be_onboarded_again(two_tenants, tmp_path):
    from conftest import tenant_doc, write_tenant
    two_tenants.mspctl("tenant", "offboard", "alpha", "--export", tmp_path / "x", check=True)
    path = write_tenant(tmp_path, tenant_doc("alpha"))
    proc = two_tenants.mspctl("tenant", "apply", path)
    assert proc.stdout.strip() == "alpha: created", proc.stderr
    assert counts(two_tenants, "alpha")["tickets"] == 0


@pytest.mark.parametrize("args", [["offboard", "alpha"], ["offboard", "alpha", "--to", "x"]])
def test_offboard_usage_errors(two_tenants, args):
    proc = two_tenants.mspctl("tenant", *args)
    assert proc.returncode == 2
    assert "usage" in proc.stderr


def test_offboarding_removes_the_portfolio_packs_that_show_the_tenant(two_tenants, tmp_path):
    """A portfolio pack (an account manager's, of many tenants) holds the
    departing tenant's figures: it goes with the tenant; one that does not
    show it stays."""
    db = two_tenants
    both, beta_only = (f"portfolio-monthly-2026-01-20260201T000000Z-0000000{n}" for n in (1, 2))
    with db.owner() as conn:
        with conn.transaction():
            set_principal(conn, "admin.ann", "provider", "admin")
            ids = dict(conn.execute("SELECT slug, tenant_id FROM tenants").fetchall())
            for pid, covered in ((both, [ids["alpha"], ids["beta"]]), (beta_only, [ids["beta"]])):
                conn.execute("INSERT INTO portfolio_packs (pack_id, kind, period, as_of, tenants)"
                             " VALUES (%s, 'monthly', '2026-01', '2026-02-01', %s)",
                             (pid, covered))
                conn.execute("INSERT INTO portfolio_pack_files (pack_id, name, media_type,"
                             " content, sha256) VALUES (%s, 'pack.json', 'application/json',"
                             " '{}', encode(sha256('{}'), 'hex'))", (pid,))
    proc = db.mspctl("tenant", "offboard", "alpha", "--export", tmp_path / "alpha-export")
    assert proc.returncode == 0, proc.stderr
    assert db.admin_rows("SELECT pack_id FROM portfolio_packs") == [(beta_only,)]
    assert db.admin_rows("SELECT pack_id FROM portfolio_pack_files") == [(beta_only,)]
