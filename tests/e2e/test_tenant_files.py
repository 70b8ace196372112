"""`mspctl tenant apply`: tenants as code."""
import copy
import json

import pytest

from conftest import TENANTS, tenant_doc, write_tenant


def snapshot(db):
    """Everything tenant apply may write, as the provider admin sees it."""
    return {
        "tenants": db.admin_rows("SELECT slug, name, timezone, calendar, sla_policy,"
                                 " escalation_policy, document_sha256, updated_at"
                                 " FROM tenants ORDER BY slug"),
        "audit": db.admin_rows("SELECT count(*) FROM audit_log"),
        "counters": db.admin_rows("SELECT count(*) FROM ticket_counters"),
        "relations": db.admin_rows("SELECT count(*) FROM pg_class"),
    }


def test_demo_files_apply_and_add_no_relation(db):
    paths = sorted(TENANTS.glob("*.json"))
    relations = db.admin_rows("SELECT count(*) FROM pg_class")
    proc = db.mspctl("tenant", "apply", *paths)
    assert proc.returncode == 0, proc.stderr
    slugs = [p.stem for p in paths]
    assert proc.stdout.splitlines() == [f"{s}: created" for s in slugs]

    rows = db.admin_rows("SELECT slug, timezone, co_management_model FROM tenants ORDER BY slug")
    for slug, tz, model in rows:
        doc = json.loads((TENANTS / f"{slug}.json").read_text())
        assert (tz, model) == (doc["timezone"], doc["co_management_model"])
    # A tenant is rows, never tables or indexes of its own.
    assert db.admin_rows("SELECT count(*) FROM pg_class") == relations
    assert db.admin_rows("SELECT count(*) FROM ticket_counters") == [(len(slugs),)]
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


def test_reporting_section_is_stored_with_its_default(db, tmp_path):
    doc = tenant_doc("gamma")
    doc.pop("reporting", None)
    path = write_tenant(tmp_path, doc)
    db.mspctl("tenant", "apply", path, check=True)
    rows = db.admin_rows("SELECT reporting FROM tenants WHERE slug = 'gamma'")
    assert rows == [({"recurrence_days": 30, "reopen_days": 7,
                     "satisfaction_days": 14, "pack_settle_hours": 24},)]
    doc["reporting"] = {"recurrence_days": 14}
    write_tenant(tmp_path, doc)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.stdout.strip() == "gamma: updated (0 tickets' SLA clocks recomputed)", proc.stderr
    rows = db.admin_rows("SELECT reporting FROM tenants WHERE slug = 'gamma'")
    assert rows == [({"recurrence_days": 14, "reopen_days": 7,
                     "satisfaction_days": 14, "pack_settle_hours": 24},)]


# A valid escalation_policy.rules for the co_managed demo tenant, its
# lists in no particular order.
RULES = [
    {"name": "provider-tiers", "kind": "functional", "roles": ["admin", "technician", "lead"],
     "from": ["provider"], "to": ["provider:L3", "provider:L2"]},
    {"name": "desk-dispatch", "kind": "handoff", "roles": ["it_leader", "it_staff"],
     "from": ["vendor", "internal_it"], "to": ["vendor", "provider:L2", "provider:L1"],
     "assign": True},
    {"name": "management", "kind": "hierarchical", "roles": ["it_leader", "technician"],
     "from": ["customer", "provider"], "to": ["internal_it:it_leader", "provider:lead"]},
]

# RULES normalized: same rule order; roles, sides and targets in the order
# of their enumerations; assign filled in.
RULES_NORMALIZED = [
    {"name": "provider-tiers", "kind": "functional", "roles": ["technician", "lead", "admin"],
     "from": ["provider"], "to": ["provider:L2", "provider:L3"], "assign": False},
    {"name": "desk-dispatch", "kind": "handoff", "roles": ["it_staff", "it_leader"],
     "from": ["internal_it", "vendor"], "to": ["provider:L1", "provider:L2", "vendor"],
     "assign": True},
    {"name": "management", "kind": "hierarchical", "roles": ["technician", "it_leader"],
     "from": ["provider", "customer"], "to": ["provider:lead", "internal_it:it_leader"],
     "assign": False},
]


def stored_escalation_policy(db, slug):
    return db.admin_rows("SELECT escalation_policy FROM tenants WHERE slug = %s", (slug,))[0][0]


def test_escalation_rules_and_intake_apply_and_reapply_changes_nothing(db, tmp_path):
    doc = tenant_doc("gamma")
    doc["escalation_policy"]["intake"] = "internal_it"
    doc["escalation_policy"]["rules"] = copy.deepcopy(RULES)
    path = write_tenant(tmp_path, doc)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "gamma: created"

    policy = stored_escalation_policy(db, "gamma")
    assert policy["intake"] == "internal_it"
    assert policy["rules"] == RULES_NORMALIZED

    before = snapshot(db)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "gamma: unchanged"
    assert snapshot(db) == before

    # The same rules with their lists in another order, assign written out:
    # the same meaning, so nothing to do.
    for rule in doc["escalation_policy"]["rules"]:
        for key in ("roles", "from", "to"):
            rule[key].reverse()
        rule.setdefault("assign", False)
    write_tenant(tmp_path, doc)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.stdout.strip() == "gamma: unchanged", proc.stderr
    assert snapshot(db) == before


def test_changed_escalation_rules_update_the_tenant(db, tmp_path):
    doc = tenant_doc("gamma")
    doc["escalation_policy"]["rules"] = copy.deepcopy(RULES)
    path = write_tenant(tmp_path, doc)
    db.mspctl("tenant", "apply", path, check=True)

    # Rule order is kept, so swapping two rules is a change.
    rules = doc["escalation_policy"]["rules"]
    rules[0], rules[1] = rules[1], rules[0]
    write_tenant(tmp_path, doc)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("gamma: updated"), proc.stdout
    stored = stored_escalation_policy(db, "gamma")["rules"]
    assert [r["name"] for r in stored] == ["desk-dispatch", "provider-tiers", "management"]
    actions = [r[0] for r in db.admin_rows("SELECT action FROM audit_log ORDER BY audit_id")]
    assert actions == ["tenant.create", "tenant.update"]


def test_model_defaults_are_not_written_into_the_stored_policy(db, tmp_path):
    """Without intake and rules the model's defaults apply when the policy
    is used; the stored document stays what the file says."""
    path = write_tenant(tmp_path, tenant_doc("gamma"))
    db.mspctl("tenant", "apply", path, check=True)
    policy = stored_escalation_policy(db, "gamma")
    assert "intake" not in policy
    assert "rules" not in policy
    assert policy["acknowledgement_minutes"] == 30


def test_invalid_rules_leave_the_applied_policy_alone(db, tmp_path):
    doc = tenant_doc("gamma")
    doc["escalation_policy"]["rules"] = copy.deepcopy(RULES)
    path = write_tenant(tmp_path, doc)
    db.mspctl("tenant", "apply", path, check=True)
    before = snapshot(db)

    doc["escalation_policy"]["rules"][1]["to"] = ["provider:lead"]
    doc["escalation_policy"]["intake"] = "vendor"
    write_tenant(tmp_path, doc)
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode != 0
    assert f"{path}: escalation_policy.rules[1].to[0]" in proc.stderr, proc.stderr
    assert f"{path}: escalation_policy.intake" in proc.stderr, proc.stderr
    assert "no tenant was changed" in proc.stderr
    assert snapshot(db) == before
    assert stored_escalation_policy(db, "gamma")["rules"] == RULES_NORMALIZED


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


def _rules(index=None, key=None, value=None):
    """Gives the tenant RULES, with rules[index][key] set to value."""
    def mutate(doc):
        rules = copy.deepcopy(RULES)
        if index is not None:
            rules[index][key] = value
        doc["escalation_policy"]["rules"] = rules
    return mutate


def _delete_from_rules(index, key):
    """Gives the tenant RULES, without rules[index][key]."""
    def mutate(doc):
        rules = copy.deepcopy(RULES)
        del rules[index][key]
        doc["escalation_policy"]["rules"] = rules
    return mutate


# case: (mutate, field[, part of the message])
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
    "unknown currency": (_set(["contract", "currency"], "XYZ"), "contract.currency",
                         "must be an ISO 4217 currency in circulation, in capitals, e.g. USD"),
    "negative included hours": (_set(["contract", "included_hours"], -10),
                                "contract.included_hours", "must be from 0 to 100000 hours a month"),
    "recurrence of a year and a day": (_set(["reporting"], {"recurrence_days": 366}),
                                       "reporting.recurrence_days", "must be at most 365"),
    "wrong type": (_set(["sla_policy", "priorities", "P1", "resolution_minutes"], "240"),
                   "sla_policy.priorities.P1.resolution_minutes"),
    "unknown escalation kind": (_rules(0, "kind", "lateral"), "escalation_policy.rules[0].kind",
                                "must be one of: functional, handoff, hierarchical"),
    "handoff to a manager": (_rules(1, "to", ["vendor", "provider:lead"]),
                             "escalation_policy.rules[1].to[1]",
                             "must be one of: provider:L1, provider:L2, provider:L3,"
                             " internal_it, vendor"),
    "functional to L1": (_rules(0, "to", ["provider:L1"]), "escalation_policy.rules[0].to[0]",
                         "must be one of: provider:L2, provider:L3"),
    "empty roles": (_rules(0, "roles", []), "escalation_policy.rules[0].roles",
                    "must not be empty"),
    "duplicate rule name": (_rules(2, "name", "provider-tiers"), "escalation_policy.rules[2].name",
                            "already the name of rules[0]"),
    "rule name with capitals": (_rules(1, "name", "Desk"), "escalation_policy.rules[1].name"),
    "requester escalates": (_rules(1, "roles", ["it_staff", "requester"]),
                            "escalation_policy.rules[1].roles[1]", "must be one of:"),
    "auditor escalates": (_rules(2, "roles", ["auditor"]), "escalation_policy.rules[2].roles[0]",
                          "must be one of:"),
    "unknown side": (_rules(0, "from", ["provider", "partner"]),
                     "escalation_policy.rules[0].from[1]", "must be one of:"),
    "unknown field in a rule": (_rules(0, "priority", "P1"), "escalation_policy.rules[0].priority",
                                "unknown field"),
    "assign not boolean": (_rules(1, "assign", "yes"), "escalation_policy.rules[1].assign",
                           "must be true or false"),
    "rule without to": (_delete_from_rules(2, "to"), "escalation_policy.rules[2].to",
                        "is required"),
    "no rules": (_set(["escalation_policy", "rules"], []), "escalation_policy.rules",
                 "must not be empty"),
    "intake vendor": (_set(["escalation_policy", "intake"], "vendor"), "escalation_policy.intake",
                      "must be one of: provider, internal_it"),
    "51 rules": (_set(["escalation_policy", "rules"],
                      [dict(RULES[0], name=f"rule-{i}") for i in range(51)]),
                 "escalation_policy.rules", "at most 50"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_file_is_rejected_naming_file_and_field(db, tmp_path, case):
    good = write_tenant(tmp_path, tenant_doc("gamma"))
    db.mspctl("tenant", "apply", good, check=True)
    before = snapshot(db)

    mutate, field, *message = INVALID[case]
    bad = write_tenant(tmp_path, _broken(mutate))
    # The valid file in the same call is not applied either.
    other = write_tenant(tmp_path, tenant_doc("epsilon"))
    proc = db.mspctl("tenant", "apply", other, bad)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith(f"{bad}: {field}: ")]
    assert errors, proc.stderr
    assert all(part in errors[0] for part in message), proc.stderr
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


def test_a_tenant_named_provider_is_refused(db, tmp_path):
    # Its people would claim msp_org "provider", the provider's own.
    path = write_tenant(tmp_path, tenant_doc("provider"))
    proc = db.mspctl("tenant", "apply", path)
    assert proc.returncode != 0
    assert f"{path}: slug: " in proc.stderr and "provider" in proc.stderr, proc.stderr
    assert db.admin_rows("SELECT count(*) FROM tenants") == [(0,)]
