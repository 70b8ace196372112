"""`mspctl tenant apply`: tenants as code."""
import json

import pytest

from conftest import TENANTS, tenant_doc, write_tenant


def snapshot(db):
    """Everything tenant apply may write, as the provider admin sees it."""
    return {
        "tenants": db.admin_rows("SELECT slug, name, timezone, calendar, sla_policy,"
                                 " document_sha256, updated_at FROM tenants ORDER BY slug"),
        "audit": db.admin_rows("SELECT count(*) FROM audit_log"),
        "counters": db.admin_rows("SELECT count(*) FROM ticket_counters"),
        "partitions": db.admin_rows("SELECT c.relname FROM pg_inherits i JOIN pg_class c"
                                    " ON c.oid = i.inhrelid ORDER BY 1"),
    }


def test_demo_files_apply_and_create_partitions(db):
    paths = sorted(TENANTS.glob("*.json"))
    proc = db.mspctl("tenant", "apply", *paths)
    assert proc.returncode == 0, proc.stderr
    slugs = [p.stem for p in paths]
    assert proc.stdout.splitlines() == [f"{s}: created" for s in slugs]

    rows = db.admin_rows("SELECT slug, timezone, co_management_model FROM tenants ORDER BY slug")
    for slug, tz, model in rows:
        doc = json.loads((TENANTS / f"{slug}.json").read_text())
        assert (tz, model) == (doc["timezone"], doc["co_management_model"])
    parts = {r[0] for r in db.admin_rows(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid")}
    for slug in slugs:
        for parent in ("tickets", "assets", "ticket_assets", "ticket_events", "audit_log"):
            assert f"{parent}_{slug}" in parts
    actions = db.admin_rows("SELECT action, target FROM audit_log ORDER BY audit_id")
    assert actions == [("tenant.create", f"tenant:{s}") for s in slugs]


def test_reapplying_the_same_file_changes_nothing(db, tmp_path):
    path = write_tenant(tmp_path, tenant_doc("gamma"))
    db.mspctl("tenant", "apply", path, check=True)
    before = snapshot(db)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "gamma: unchanged"
    assert snapshot(db) == before


def test_reformatted_file_with_same_meaning_is_unchanged(db, tmp_path):
    doc = tenant_doc("gamma")
    path = write_tenant(tmp_path, doc)
    db.mspctl("tenant", "apply", path, check=True)
    before = snapshot(db)
    # Same content: other key order, other whitespace, windows listed in reverse.
    reordered = {k: doc[k] for k in reversed(list(doc))}
    reordered["calendar"] = {d: list(reversed(w)) for d, w in doc["calendar"].items()}
    path.write_text(json.dumps(reordered))
    proc = db.mspctl("tenant", "apply", path)
    assert proc.stdout.strip() == "gamma: unchanged", proc.stderr
    assert snapshot(db) == before


def test_changed_file_updates_the_tenant_and_audits(db, tmp_path):
    doc = tenant_doc("gamma")
    path = write_tenant(tmp_path, doc)
    db.mspctl("tenant", "apply", path, check=True)
    doc["sla_policy"]["priorities"]["P1"]["resolution_minutes"] = 123
    write_tenant(tmp_path, doc)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.stdout.strip() == "gamma: updated (0 tickets' SLA clocks recomputed)", proc.stderr
    (policy,) = db.admin_rows("SELECT sla_policy FROM tenants WHERE slug = 'gamma'")[0]
    assert policy["priorities"]["P1"]["resolution_minutes"] == 123
    actions = [r[0] for r in db.admin_rows("SELECT action FROM audit_log ORDER BY audit_id")]
    assert actions == ["tenant.create", "tenant.update"]


def _broken(mutate, base="acme"):
    doc = tenant_doc("delta", base)
    mutate(doc)
    return doc


def _set(path, value):
    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _delete(*path):
    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


INVALID = {
    "unknown timezone": (_set(["timezone"], "Mars/Olympus_Mons"), "timezone"),
    "timezone path traversal": (_set(["timezone"], "../../etc/passwd"), "timezone"),
    "overlapping windows": (_set(["calendar", "monday"], [{"start": "08:00", "end": "12:00"},
                                                         {"start": "11:00", "end": "17:00"}]),
                            "calendar.monday[1]"),
    "window ending before it starts": (_set(["calendar", "tuesday"],
                                            [{"start": "17:00", "end": "09:00"}]),
                                       "calendar.tuesday[0].end"),
    "negative target": (_set(["sla_policy", "priorities", "P2", "first_response_minutes"], -30),
                        "sla_policy.priorities.P2.first_response_minutes"),
    "missing priority": (_delete("sla_policy", "priorities", "P3"), "sla_policy.priorities.P3"),
    "unknown field": (_set(["colour"], "blue"), "colour"),
    "unknown model": (_set(["co_management_model"], "fully_outsourced"), "co_management_model"),
    "missing name": (_delete("name"), "name"),
    "bad holiday date": (_set(["holidays"], [{"date": "2026-02-30", "name": "Nope"}]),
                         "holidays[0].date"),
    "bad currency": (_set(["contract", "currency"], "dollars"), "contract.currency"),
    "wrong type": (_set(["sla_policy", "priorities", "P1", "resolution_minutes"], "240"),
                   "sla_policy.priorities.P1.resolution_minutes"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_file_is_rejected_naming_file_and_field(db, tmp_path, case):
    good = write_tenant(tmp_path, tenant_doc("gamma"))
    db.mspctl("tenant", "apply", good, check=True)
    before = snapshot(db)

    mutate, field = INVALID[case]
    bad = write_tenant(tmp_path, _broken(mutate))
    # The valid file in the same call is not applied either.
    other = write_tenant(tmp_path, tenant_doc("epsilon"))
    proc = db.mspctl("tenant", "apply", other, bad)
    assert proc.returncode != 0
    assert f"{bad}: {field}" in proc.stderr, proc.stderr
    assert "no tenant was changed" in proc.stderr
    assert snapshot(db) == before


def test_slug_must_match_file_name(db, tmp_path):
    path = write_tenant(tmp_path, tenant_doc("zeta"), name="not-zeta")
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode != 0
    assert f"{path}: slug" in proc.stderr
    assert db.admin_rows("SELECT count(*) FROM tenants") == [(0,)]


def test_malformed_json_names_file_and_line(db, tmp_path):
    path = tmp_path / "eta.json"
    path.write_text('{\n  "slug": "eta",\n  "name": "Eta" "oops"\n}\n')
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode != 0
    assert f"{path}: line 3" in proc.stderr
    assert db.admin_rows("SELECT count(*) FROM tenants") == [(0,)]


def test_several_errors_are_reported_at_once(db, tmp_path):
    doc = tenant_doc("theta")
    doc["timezone"] = "Nowhere/Land"
    doc["contract"]["monthly_fee"] = -1
    doc["calendar"]["friday"] = [{"start": "18:00", "end": "08:00"}]
    path = write_tenant(tmp_path, doc)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode != 0
    for field in ("timezone", "contract.monthly_fee", "calendar.friday[0].end"):
        assert f"{path}: {field}" in proc.stderr, proc.stderr


def test_duplicate_ticket_prefix_rolls_back_the_whole_apply(db, tmp_path):
    a = write_tenant(tmp_path, tenant_doc("iota", ticket_prefix="SAME"))
    b = write_tenant(tmp_path, tenant_doc("kappa", ticket_prefix="SAME"))
    proc = db.mspctl("tenant", "apply", a, b)
    assert proc.returncode != 0
    assert "no tenant was changed" in proc.stderr
    assert db.admin_rows("SELECT count(*) FROM tenants") == [(0,)]
    assert db.admin_rows("SELECT count(*) FROM pg_inherits") == [(0,)]


def test_missing_partitions_are_recreated_by_apply(db, tmp_path):
    path = write_tenant(tmp_path, tenant_doc("lambda"))
    db.mspctl("tenant", "apply", path, check=True)
    with db.owner() as conn:
        conn.execute("ALTER TABLE audit_log DETACH PARTITION audit_log_lambda")
        conn.execute("DROP TABLE audit_log_lambda")
    proc = db.mspctl("tenant", "apply", path)
    assert proc.stdout.strip() == "lambda: partitions repaired", proc.stderr
    assert db.admin_rows("SELECT to_regclass('audit_log_lambda') IS NOT NULL") == [(True,)]

