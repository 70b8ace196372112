"""Review packs (POST/GET .../packs, the pack worker, mspctl pack): the
New York scenario tenant's monthly pack of March 2026, every number of it
recomputed here (test_reports' oracles from the seeded histories, and the
records and time this test writes); the HTML's and the CSV's numbers equal
to the JSON's; the same bytes rendered again after the records changed;
signatures that verify and a tampered file that does not; who may ask
and read; bad requests that store nothing; and the schedule, once per
tenant and period with two more nginx instances, across a change of the
clocks."""
import csv
import datetime as dt
import hashlib
import html.parser
import io
import json
import os
import pathlib
import subprocess
import time
import uuid
import zipfile
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
import requests

from conftest import ROOT, env, run_mspctl, set_principal, tenant_doc, write_tenant
from test_reports import (  # noqa: F401  (tenants: the scenario's tenants, a fixture)
    expected_comanagement, expected_quality, expected_sla, expected_volume, month, sla_rows,
    tenants)
from test_sla_sweep import SecondNginx

ZONE = "America/New_York"
PERIOD = "2026-03"
AS_OF = "2026-04-20T12:00:00Z"
PRIORITIES = ("P1", "P2", "P3", "P4")
# ratings of the scenario's tickets by their requester: (ticket, given at,
# score, a change after the pack's instant or None)
RATINGS = [(1, "2026-03-20T15:00:00Z", 4, 1), (2, "2026-03-25T15:00:00Z", 5, None),
           (3, "2026-04-02T15:00:00Z", 2, None)]
# time logged on the scenario's tickets: (ticket number, day, minutes,
# billable, in scope)
ENTRIES = [(1, "2026-03-02", 90, True, True), (2, "2026-03-10", 45, True, False),
           (2, "2026-03-31", 30, False, True), (3, "2026-04-01", 60, True, True)]


def owner_rows(sql, params=None):
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "test.packs", "provider", "admin")
        return conn.execute(sql, params).fetchall()


def wait_issued(client, slug, pack, deadline=90):
    """The pack's JSON once the worker issued it."""
    started = time.monotonic()
    while True:
        resp = client.get(f"/v1/tenants/{slug}/packs/{pack}")
        if resp.status_code == 200:
            return resp.json()
        assert resp.status_code == 202, resp.text
        assert time.monotonic() - started < deadline, f"{pack} was not issued: {resp.text}"
        time.sleep(0.3)


def ask(client, slug, **body):
    return client.post(f"/v1/tenants/{slug}/packs", json=body)


def table(doc, key):
    for s in doc["sections"]:
        for t in s["tables"]:
            if t["key"] == key:
                return t
    raise KeyError(key)


def section(doc, key):
    return next(s for s in doc["sections"] if s["key"] == key)


def rows_by_label(t):
    return {r[0]: r[1:] for r in t["rows"]}


def ratio(part, whole):
    if not whole:
        return None
    return float(Decimal(part) / Decimal(whole))


@pytest.fixture(scope="module")
def pack(tenants, as_user):
    """The New York tenant's records and time, and its March pack as of
    AS_OF, issued by the worker."""
    t = tenants[ZONE]
    slug, leader = t["slug"], t["leader"]
    run_mspctl("assign", f"am.{slug}", slug, "account_manager", check=True)
    am = as_user(f"am.{slug}", "provider", "account_manager")
    prefix = leader.get(f"/v1/tenants/{slug}").json()["ticket_prefix"]
    for number, day, minutes, billable, in_scope in ENTRIES:
        resp = leader.post(f"/v1/tenants/{slug}/tickets/{prefix}-{number}/time-entries",
                           json={"worked_on": day, "minutes": minutes, "billable": billable,
                                 "in_scope": in_scope})
        assert resp.status_code == 201, resp.text
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "someone", slug, "requester")
        for number, at, score, _ in RATINGS:
            conn.execute(
                "WITH r AS (INSERT INTO satisfaction_ratings (tenant_id, ticket_number, score,"
                " resolved_at, side, editable_until, created_at, updated_at)"
                " SELECT tenant_id, %s, %s, %s, 'provider', now() + interval '1 day', %s, %s"
                " FROM tenants WHERE slug = %s RETURNING tenant_id)"
                " INSERT INTO governance_events (tenant_id, record, record_id, kind, data,"
                " occurred_at) SELECT tenant_id, 'rating', %s, 'rated', %s::jsonb, %s FROM r",
                (number, score, at, at, at, slug, number,
                 json.dumps({"score": score, "comment": ""}), at))
    project = leader.post(f"/v1/tenants/{slug}/projects", json={
        "name": "Intune rollout", "owner": "am.jo", "owner_side": "provider",
        "start_date": "2026-01-05", "due_date": "2026-06-30", "budget": 12000.5,
        "actual": 4000, "milestones": [{"name": "Pilot", "due": "2026-02-15", "done": None}]})
    assert project.status_code == 201, project.text
    actions = []
    for title, review_on in (("Test a restore", "2026-03-04"), ("Old one", "2026-01-10")):
        resp = leader.post(f"/v1/tenants/{slug}/actions", json={
            "title": title, "review_on": review_on, "owner": "it.ann",
            "owner_side": "internal_it", "due": "2026-03-20"})
        assert resp.status_code == 201, resp.text
        actions.append(resp.json())
    # as of now: the records and time above are in it
    as_of = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=1)
    time.sleep(1.2)
    as_of_text = as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    resp = ask(am, slug, kind="monthly", period=PERIOD, as_of=as_of_text)
    assert resp.status_code == 202, resp.text
    made = resp.json()
    assert made["state"] == "queued" and resp.headers["Location"].endswith(made["id"])
    doc = wait_issued(am, slug, made["id"])
    return {"t": t, "slug": slug, "am": am, "leader": leader, "id": made["id"], "doc": doc,
            "as_of": as_of_text, "prefix": prefix, "project": project.json(),
            "actions": actions}


def test_the_pack_names_what_it_is_of(pack):
    p = pack["doc"]["pack"]
    assert p["id"] == f"monthly-{PERIOD}-" + pack["as_of"].replace("-", "").replace(":", "")
    assert p["kind"] == "monthly" and p["period"]["name"] == PERIOD
    assert p["period"]["start"] == "2026-03-01T00:00:00-05:00"
    assert p["period"]["end"] == "2026-04-01T00:00:00-04:00"     # DST began in March
    assert p["tenant"]["slug"] == pack["slug"] and p["as_of"] == pack["as_of"]
    assert p["provider"] == env("MSP_PROVIDER_NAME") and p["definitions"] == "2"


def test_volume_and_sla_equal_the_oracles(pack):
    doc, t = pack["doc"], pack["t"]
    start, end = month(ZONE, 2026, 3)
    vol = expected_volume(t["tickets"], start, end)
    totals = rows_by_label(table(doc, "volume_totals"))
    assert totals["Created"] == [vol["created"]] and totals["Resolved"] == [vol["resolved"]]
    assert totals["Closed"] == [vol["closed"]] and totals["Reopened"] == [vol["reopened"]]
    assert totals["Net change (created - resolved)"] == [vol["net_change"]]
    by_priority = rows_by_label(table(doc, "volume_by_priority"))
    for p in PRIORITIES:
        assert by_priority[p] == [vol["created_by"]["priority"].get(p, 0),
                                  vol["resolved_by"]["priority"].get(p, 0)], p
    assert rows_by_label(table(doc, "volume_by_category")) == {
        k: [v] for k, v in vol["created_by"]["category"].items()}
    assert rows_by_label(table(doc, "volume_by_source")) == {
        k: [v] for k, v in vol["created_by"]["source"].items()}

    sla = expected_sla(sla_rows(t, start, end))
    got = {(r[0], r[1]): r[2:] for r in table(doc, "sla_by_priority")["rows"]}
    for clock in ("response", "resolution"):
        a = sla["attainment"][clock]
        assert got[(clock, "all")] == [a["met"], a["breached"], a["running_at_end"],
                                       a["attainment"]]
        for p, f in a["by_priority"].items():
            assert got[(clock, p)] == [f["met"], f["breached"], f["running_at_end"],
                                       f["attainment"]]
    times = {r[0]: r[1:] for r in table(doc, "sla_times")["rows"]}
    for clock in ("response", "resolution"):
        s = sla["times"][clock]
        assert times[clock] == [s["count"], s["business_seconds"]["median"],
                                s["business_seconds"]["p90"]]
    rows = sla_rows(t, start, end)
    breached = sorted((f"{pack['prefix']}-{r['number']}", r["clock"], r["late"])
                      for r in rows if r["outcome"] == "breached")
    assert breached, "the scenario has breaches"
    assert sorted((r[0], r[1], r[4]) for r in table(doc, "sla_breaches")["rows"]) == breached


def test_the_scorecard_month_equals_the_oracles(pack):
    doc, t = pack["doc"], pack["t"]
    start, end = month(ZONE, 2026, 3)
    card = table(doc, "scorecard")
    assert [r[0] for r in card["rows"]] == [f"{y}-{m:02d}" for y, m in
                                           [(2025, m) for m in range(4, 13)]
                                           + [(2026, m) for m in range(1, 4)]]
    march = dict(zip([c["key"] for c in card["columns"]], card["rows"][-1]))
    vol = expected_volume(t["tickets"], start, end)
    sla = expected_sla(sla_rows(t, start, end))
    before = month(ZONE, 2026, 2)[0]
    as_of = dt.datetime.fromisoformat(pack["as_of"].replace("Z", "+00:00"))
    _, quality = expected_quality(t["tickets"], start, end, before, as_of,
                                  reopen_days=t["doc"]["reporting"].get("reopen_days", 7))
    users = t["doc"]["contract"]["supported_users"]
    assert march["created"] == vol["created"] and march["resolved"] == vol["resolved"]
    assert march["per_user"] == float((Decimal(vol["created"] * 100) / users).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP))
    assert march["response"] == sla["attainment"]["response"]["attainment"]
    assert march["resolution"] == sla["attainment"]["resolution"]["attainment"]
    assert march["median"] == sla["times"]["resolution"]["business_seconds"]["median"]
    assert march["p90"] == sla["times"]["resolution"]["business_seconds"]["p90"]
    assert march["fcr"] == quality["first_contact_resolution_rate"]
    assert march["reopen"] == quality["reopen_rate"]
    assert march["recurrence"] == quality["recurrence_rate"]
    scores = [r[2] for r in RATINGS if r[1].startswith("2026-03")]
    assert march["ratings"] == len(scores) == 2
    assert march["satisfaction"] == float((Decimal(sum(scores)) / len(scores)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP))
    # every month of the twelve: its volume, its SLA attainment
    for row in card["rows"]:
        y, m = map(int, row[0].split("-"))
        lo, hi = month(ZONE, y, m)
        vol = expected_volume(t["tickets"], lo, hi)
        attained = expected_sla(sla_rows(t, lo, hi))["attainment"]
        assert row[1:3] == [vol["created"], vol["resolved"]], row[0]
        assert row[4:6] == [attained["response"]["attainment"],
                            attained["resolution"]["attainment"]], row[0]
    assert any(r[1] for r in card["rows"][:-1]), "months before March have tickets"


def test_automation_candidates_are_the_recurring_categories_with_their_hours(pack):
    doc, t = pack["doc"], pack["t"]
    start, end = month(ZONE, 2026, 3)
    before = month(ZONE, 2026, 2)[0]
    as_of = dt.datetime.fromisoformat(pack["as_of"].replace("Z", "+00:00"))
    _, quality = expected_quality(t["tickets"], start, end, before, as_of,
                                  reopen_days=t["doc"]["reporting"].get("reopen_days", 7))
    want = quality["automation_candidates"]
    if not want:
        assert section(doc, "automation")["note"] == "No category recurred in the period."
        return
    # the hours logged in March on each category's tickets (their category now)
    hours = {}
    for number, day, minutes, _, _ in ENTRIES:
        if day.startswith("2026-03"):
            category = t["tickets"][number - 1][0]
            hours[category] = hours.get(category, 0) + minutes
    got = table(doc, "automation_candidates")["rows"]
    assert [r[:3] for r in got] == [[c["category"], c["recurring"], c["previous_period"]]
                                    for c in want]
    for r in got:
        h = hours.get(r[0])
        assert r[3] == (None if h is None else round(h / 60, 2)), r


def test_the_summary_states_the_figures_it_cites(pack):
    doc = pack["doc"]
    summary = section(doc, "summary")
    assert len(summary["sentences"]) >= 4
    for s in summary["sentences"]:
        c = s["cites"]
        assert table(doc, c["table"])["rows"][c["row"]][c["column"]] == c["value"]
        v = c["value"]
        if isinstance(v, int):
            assert str(v) in s["text"], s
        elif isinstance(v, float):
            assert f"{v * 100:.1f}%" in s["text"] or f"{v:.2f}" in s["text"], s


def test_comanagement_equals_the_oracle(pack):
    doc, t = pack["doc"], pack["t"]
    start, end = month(ZONE, 2026, 3)
    _, co = expected_comanagement(t, start, end)
    held = rows_by_label(table(doc, "held_by_side"))
    words = {"provider": "Provider", "internal_it": "Internal IT", "vendor": "Vendor",
             "customer": "Customer (waiting on the requester)"}
    for side, label in words.items():
        want = co["held"]["sides"][side]
        assert held[label] == [want["business_seconds"], want["share"]], side
    h = rows_by_label(table(doc, "handoffs"))
    assert h["Handoffs raised"] == [co["handoffs"]["raised"]]
    assert h["Handoffs open at the period's end"] == [co["handoffs"]["open_at_end"]]
    assert h["Escalations raised"] == [co["escalations"]["raised"]]
    assert h["Acknowledgement timeouts"] == [co["acknowledgement_timeouts"]["count"]]


def test_cost_counts_the_time_logged_against_the_contract(pack):
    doc, t = pack["doc"], pack["t"]
    contract = t["doc"]["contract"]
    march = [e for e in ENTRIES if e[1].startswith("2026-03")]
    minutes = sum(e[2] for e in march)
    billable = sum(e[2] for e in march if e[3])
    in_scope = sum(e[2] for e in march if e[3] and e[4])
    out_scope = sum(e[2] for e in march if e[3] and not e[4])
    rate = Decimal(str(contract["hourly_rate"]))
    included = Decimal(str(contract.get("included_hours", 0))) * 60
    over = max(Decimal(in_scope) - included, Decimal(0))
    money = lambda x: float(Decimal(x).quantize(Decimal("0.01"), ROUND_HALF_UP))  # noqa: E731
    fee = Decimal(str(contract["monthly_fee"]))
    total = fee + Decimal(out_scope) * rate / 60 + over * rate / 60
    cost = {r[0]: r[1] for r in table(doc, "cost")["rows"]}
    assert cost["Hours logged"] == money(Decimal(minutes) / 60)
    assert cost["Billable hours"] == money(Decimal(billable) / 60)
    assert cost["Included hours used"] == money(min(Decimal(in_scope), included) / 60)
    assert cost["Hours out of scope"] == money(Decimal(out_scope) / 60)
    assert cost["Billed out of scope"] == money(Decimal(out_scope) * rate / 60)
    assert cost["Fee for the period"] == money(fee)
    assert cost["Total cost"] == money(total)
    assert "note" not in section(doc, "cost")


def test_records_are_those_of_the_review(pack):
    doc = pack["doc"]
    projects = table(doc, "projects")
    assert projects["rows"] == [["Intune rollout", "active", "green", "", "2026-06-30", 1,
                                 12000.5, 4000]]
    assert projects["links"][0][0] == (
        f"/v1/tenants/{pack['slug']}/projects/{pack['project']['id']}")
    # only the action raised at a review held in March
    actions = table(doc, "actions")
    assert [r[0] for r in actions["rows"]] == ["Test a restore"]
    assert actions["rows"][0][2:] == ["2026-03-20", "open",
                                      pack["actions"][0]["standing"]]


class Cells(html.parser.HTMLParser):
    """Every table cell of the HTML with an id: its data-value, its text
    and its link."""

    def __init__(self):
        super().__init__()
        self.cells, self.external, self._cell = {}, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "id" in a:
            self._cell = a["id"]
            self.cells[a["id"]] = {"value": a.get("data-value"), "text": "", "href": None}
        elif tag == "a" and self._cell:
            self.cells[self._cell]["href"] = a.get("href")
        for name in ("src", "srcset"):
            if name in a:
                self.external.append(a[name])

    def handle_endtag(self, tag):
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._cell:
            self.cells[self._cell]["text"] += data


def download(client, slug, pack, **params):
    resp = client.get(f"/v1/tenants/{slug}/packs/{pack}", params=params)
    assert resp.status_code == 200, resp.text
    return resp


def test_html_and_csv_numbers_equal_the_json(pack):
    doc, am, slug = pack["doc"], pack["am"], pack["slug"]
    page = download(am, slug, pack["id"], format="html")
    assert page.headers["Content-Type"].startswith("text/html")
    cells = Cells()
    cells.feed(page.text)
    assert not cells.external and "<script" not in page.text and "@import" not in page.text
    checked = 0
    with zipfile.ZipFile(io.BytesIO(download(am, slug, pack["id"], format="csv").content)) as z:
        for s in doc["sections"]:
            for t in s["tables"]:
                shown = [i for i, c in enumerate(t["columns"]) if c["key"] != "unit"]
                for r, row in enumerate(t["rows"]):
                    for c in shown:
                        cell = cells.cells[f"{t['key']}-{r}-{c}"]
                        v = row[c]
                        if isinstance(v, (int, float)) and not isinstance(v, bool):
                            assert json.loads(cell["value"]) == v, (t["key"], r, c)
                            checked += 1
                        link = t["links"][r][c]
                        if link:
                            assert cell["href"] == env("MSP_PUBLIC_URL") + link
                # the table's CSV, in the zip and alone: the same values
                text = z.read(f"{t['key']}.csv").decode("utf-8")
                alone = download(am, slug, pack["id"], format="csv", table=t["key"]).content
                assert alone.decode("utf-8") == text
                parsed = list(csv.reader(io.StringIO(text)))
                assert parsed[0] == [c["key"] for c in t["columns"]]
                assert len(parsed) == len(t["rows"]) + 1
                for row, line in zip(t["rows"], parsed[1:]):
                    for v, x in zip(row, line):
                        if v is None:
                            assert x == ""
                        elif isinstance(v, str):
                            assert x == v
                        else:
                            assert json.loads(x) == v, (t["key"], row)
    assert checked > 100


def test_the_pdf_names_tenant_period_and_pack_on_every_page(pack, tmp_path):
    pdf = download(pack["am"], pack["slug"], pack["id"], format="pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf.content)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages")))
    assert pages >= 3
    name = pack["doc"]["pack"]["tenant"]["name"]
    for n in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), "-layout", path, "-"],
                              capture_output=True, text=True, check=True).stdout
        assert f"{name} - {PERIOD}" in text and pack["id"] in text, n
        assert f"Page {n}" in text and env("MSP_PROVIDER_NAME") in text
    whole = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True,
                           check=True).stdout
    created = rows_by_label(table(pack["doc"], "volume_totals"))["Created"][0]
    said = " ".join(whole.split())
    assert f"{created} tickets were created in {PERIOD}" in said, said[:2000]


def files_of(pack):
    return {f["name"]: f for f in pack_entry(pack)["files"]}


def pack_entry(pack):
    listed = pack["am"].get(f"/v1/tenants/{pack['slug']}/packs", params={"period": PERIOD})
    assert listed.status_code == 200, listed.text
    return next(p for p in listed.json()["items"] if p["id"] == pack["id"])


def stored_bytes(pack):
    """Every stored file of the pack, as downloaded."""
    out = {}
    for name in files_of(pack):
        if name.startswith("csv/"):
            params = {"format": "csv", "table": name[4:-4]}
        elif name == "pack-csv.zip":
            params = {"format": "csv"}
        else:
            params = {"format": name.split(".")[-1]}
        out[name] = download(pack["am"], pack["slug"], pack["id"], **params).content
    return out


def render_again(pack, out):
    proc = run_mspctl("pack", "render", pack["slug"], "monthly", PERIOD, "--as-of",
                      pack["as_of"], "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_rendering_again_gives_the_same_bytes_whatever_changed_since(pack, tmp_path):
    stored = stored_bytes(pack)
    listed = files_of(pack)
    assert set(stored) >= {"pack.json", "pack.html", "pack.pdf", "pack-csv.zip"}
    for name, data in stored.items():
        assert hashlib.sha256(data).hexdigest() == listed[name]["sha256"], name
    assert render_again(pack, tmp_path / "a") == dict(stored, **{
        "manifest.json": (tmp_path / "a" / "manifest.json").read_bytes()})

    # the records and time change after as_of: the pack as of then does not
    slug, leader = pack["slug"], pack["leader"]
    project = pack["project"]
    etag = leader.get(f"/v1/tenants/{slug}/projects/{project['id']}").headers["ETag"]
    resp = leader.patch(f"/v1/tenants/{slug}/projects/{project['id']}",
                        json={"rag": "red", "rag_reason": "Vendor late", "actual": 9000},
                        headers={"If-Match": etag})
    assert resp.status_code == 200, resp.text
    entry = leader.get(f"/v1/tenants/{slug}/time-entries",
                       params={"from": "2026-03-01", "to": "2026-04-01"}).json()["items"][0]
    etag = leader.get(f"/v1/tenants/{slug}/time-entries/{entry['id']}").headers["ETag"]
    resp = leader.patch(f"/v1/tenants/{slug}/time-entries/{entry['id']}",
                        json={"minutes": 500, "worked_on": "2026-02-27"},
                        headers={"If-Match": etag})
    assert resp.status_code == 200, resp.text
    rated = RATINGS[0]
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "someone", slug, "requester")
        conn.execute("WITH r AS (UPDATE satisfaction_ratings SET score = %s, version = version + 1"
                     " WHERE ticket_number = %s AND tenant_id = (SELECT tenant_id FROM tenants"
                     " WHERE slug = %s) RETURNING tenant_id)"
                     " INSERT INTO governance_events (tenant_id, record, record_id, kind, data)"
                     " SELECT tenant_id, 'rating', %s, 'changed', %s::jsonb FROM r",
                     (rated[3], rated[0], slug, rated[0], json.dumps({"score": rated[3]})))
    later = leader.post(f"/v1/tenants/{slug}/actions", json={
        "title": "Raised later", "review_on": "2026-03-05", "owner": "it.ann",
        "owner_side": "internal_it", "due": "2026-03-25"})
    assert later.status_code == 201
    again = render_again(pack, tmp_path / "b")
    again.pop("manifest.json")
    assert again == stored
    # and now, the same pack as of now shows the change
    now = render_again(dict(pack, as_of=dt.datetime.now(dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")), tmp_path / "c")
    assert json.loads(now["pack.json"])["sections"] != pack["doc"]["sections"]


def test_verify_checks_files_and_signature(pack, tmp_path):
    am, slug = pack["am"], pack["slug"]
    verdict = am.get(f"/v1/tenants/{slug}/packs/{pack['id']}/verify")
    assert verdict.status_code == 200, verdict.text
    v = verdict.json()
    assert v["valid"] and v["signature_valid"] and all(f["matches"] for f in v["files"])
    assert len(v["files"]) == len(files_of(pack))
    manifest = download(am, slug, pack["id"], format="manifest").json()
    assert manifest["key_id"] == v["key_id"]
    assert manifest["public_key"] == pathlib.Path(env("MSP_PACK_PUBLIC_KEY")).read_text()
    man = tmp_path / "manifest.json"
    man.write_text(json.dumps(manifest))
    key = env("MSP_PACK_PUBLIC_KEY")
    for fmt in ("pdf", "html", "json"):
        f = tmp_path / f"pack.{fmt}"
        f.write_bytes(download(am, slug, pack["id"], format=fmt).content)
        proc = run_mspctl("pack", "verify", str(f), str(man), "--key", key)
        assert proc.returncode == 0 and proc.stdout.startswith("OK:"), proc.stdout + proc.stderr
    # a CSV downloaded with a byte order mark for Excel is still the file
    bom = download(am, slug, pack["id"], format="csv", table="cost", bom="1").content
    assert bom.startswith(b"\xef\xbb\xbf")
    (tmp_path / "cost.csv").write_bytes(bom)
    assert run_mspctl("pack", "verify", str(tmp_path / "cost.csv"), str(man),
                      "--key", key).returncode == 0

    # one byte changed in the PDF: not a file of the pack
    pdf = bytearray((tmp_path / "pack.pdf").read_bytes())
    pdf[len(pdf) // 2] ^= 1
    (tmp_path / "bad.pdf").write_bytes(bytes(pdf))
    proc = run_mspctl("pack", "verify", str(tmp_path / "bad.pdf"), str(man), "--key", key)
    assert proc.returncode == 1 and proc.stdout.startswith("INVALID:"), proc.stdout
    # a manifest whose hash was swapped for the tampered file's: the
    # signature no longer holds
    forged = json.loads(json.dumps(manifest))
    forged["manifest"]["files"]["pack.pdf"] = hashlib.sha256(bytes(pdf)).hexdigest()
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    proc = run_mspctl("pack", "verify", str(tmp_path / "bad.pdf"), str(tmp_path / "forged.json"),
                      "--key", key)
    assert proc.returncode == 1 and "signature does not verify" in proc.stdout
    # another key than the provider's: refused
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", other], check=True)
    other_pub = tmp_path / "other.pub.pem"
    subprocess.run(["openssl", "pkey", "-in", other, "-pubout", "-out", other_pub], check=True)
    proc = run_mspctl("pack", "verify", str(tmp_path / "pack.pdf"), str(man),
                      "--key", str(other_pub))
    assert proc.returncode == 1


def test_who_may_ask_and_read(pack, as_user, tenants):
    slug, pid = pack["slug"], pack["id"]
    other = tenants["Australia/Sydney"]["slug"]
    run_mspctl("assign", f"lead.{slug}", slug, "lead", check=True)
    run_mspctl("assign", f"tech.{slug}", slug, "technician", "L1", check=True)
    run_mspctl("assign", f"aud.{slug}", slug, "auditor", check=True)
    who = {
        "lead": as_user(f"lead.{slug}", "provider", "lead"),
        "admin": as_user("admin.erin", "provider", "admin"),
        "auditor": as_user(f"aud.{slug}", "provider", "auditor"),
        "leader": pack["leader"],
        "tech": as_user(f"tech.{slug}", "provider", "technician"),
        "it": as_user(f"it.{slug}", slug, "it_staff"),
        "requester": as_user(f"req.{slug}", slug, "requester"),
        "integration": as_user(f"mon.{slug}", slug, "integration"),
        "stranger": tenants["Australia/Sydney"]["leader"],
        "unassigned_am": as_user(f"am.{other}", "provider", "account_manager"),
    }
    reads = {"lead", "admin", "auditor", "leader"}
    for name, c in who.items():
        listed = c.get(f"/v1/tenants/{slug}/packs")
        one = c.get(f"/v1/tenants/{slug}/packs/{pid}", params={"format": "pdf"})
        verify = c.get(f"/v1/tenants/{slug}/packs/{pid}/verify")
        if name in reads:
            assert (listed.status_code, one.status_code, verify.status_code) == (200, 200, 200)
        elif name in ("stranger", "unassigned_am"):
            assert (listed.status_code, one.status_code, verify.status_code) == (404, 404, 404)
        else:
            for resp in (listed, one, verify):
                assert resp.status_code == 403, (name, resp.text)
                assert resp.headers["Content-Type"] == "application/problem+json"
    before = owner_rows("SELECT count(*) FROM packs p JOIN tenants t USING (tenant_id)"
                        " WHERE t.slug = %s", (slug,))[0][0]
    for name in ("auditor", "leader", "tech", "it", "requester", "integration"):
        resp = ask(who[name], slug, kind="monthly", period="2026-02")
        assert resp.status_code == 403, (name, resp.text)
    for name in ("stranger", "unassigned_am"):
        assert ask(who[name], slug, kind="monthly", period="2026-02").status_code == 404
    after = owner_rows("SELECT count(*) FROM packs p JOIN tenants t USING (tenant_id)"
                       " WHERE t.slug = %s", (slug,))[0][0]
    assert after == before
    # a lead asks: a new pack of February
    resp = ask(who["lead"], slug, kind="monthly", period="2026-02", as_of=AS_OF)
    assert resp.status_code == 202, resp.text
    # another tenant's pack id under this tenant is no pack
    assert who["lead"].get(f"/v1/tenants/{other}/packs/{pid}").status_code == 404


def test_row_level_security_hides_packs_as_sql(pack, tenants):
    """As msp_gateway, another tenant's IT leader reads no pack and no
    file of this tenant, and cannot store one."""
    other = tenants["Australia/Sydney"]["slug"]
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, f"cio.{other}", other, "it_leader")
        assert conn.execute("SELECT count(*) FROM packs p JOIN tenants t USING (tenant_id)"
                            " WHERE t.slug = %s", (pack["slug"],)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pack_files").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO pack_files (tenant_id, pack_id, name, media_type, content,"
                         " sha256) SELECT tenant_id, %s, 'x.pdf', 'application/pdf', 'x', %s"
                         " FROM tenants WHERE slug = %s", (pack["id"], "0" * 64, pack["slug"]))
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, f"tech.{pack['slug']}", "provider", "technician")
        assert conn.execute("SELECT count(*) FROM pack_files").fetchone()[0] == 0
        # the files are never changed once stored, by anyone
        set_principal(conn, "admin.erin", "provider", "admin")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE pack_files SET content = 'x'")


BAD = [
    ({"kind": "yearly", "period": "2026-03"}, "kind"),
    ({"period": "2026-03"}, "kind"),
    ({"kind": "monthly"}, "period"),
    ({"kind": "weekly", "period": "2026-03"}, "period"),
    ({"kind": "quarterly", "period": "2026-13"}, "period"),
    ({"kind": "monthly", "period": "2025-06"}, "period"),         # before the tenant began
    ({"kind": "monthly", "period": "2099-01"}, "period"),         # not ended
    ({"kind": "monthly", "period": "2026-03", "as_of": "2026-03-31T23:00:00Z"}, "as_of"),
    ({"kind": "monthly", "period": "2026-03", "as_of": "2999-01-01T00:00:00Z"}, "as_of"),
    ({"kind": "monthly", "period": "2026-03", "as_of": "yesterday"}, "as_of"),
    ({"kind": "monthly", "period": "2026-03", "colour": "blue"}, "colour"),
    ({"kind": 3, "period": "2026-03"}, "kind"),
]


@pytest.mark.parametrize("body,field", BAD)
def test_bad_requests_store_nothing(pack, body, field):
    slug = pack["slug"]

    def stored():
        return owner_rows("SELECT (SELECT count(*) FROM packs p JOIN tenants t USING (tenant_id)"
                          "         WHERE t.slug = %s),"
                          " (SELECT count(*) FROM audit_log a JOIN tenants t USING (tenant_id)"
                          "   WHERE t.slug = %s AND a.action = 'pack.request')", (slug, slug))[0]
    before = stored()
    resp = ask(pack["am"], slug, **body)
    assert resp.status_code == 422, resp.text
    assert resp.headers["Content-Type"] == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == 422 and field in [e["field"] for e in problem["errors"]]
    assert stored() == before


def test_the_same_pack_twice_is_one_pack(pack):
    resp = ask(pack["am"], pack["slug"], kind="monthly", period=PERIOD, as_of=pack["as_of"])
    assert resp.status_code == 409, resp.text
    assert resp.headers["Location"].endswith(pack["id"])


def test_a_new_pack_of_the_period_supersedes_the_last(pack):
    resp = ask(pack["am"], pack["slug"], kind="monthly", period=PERIOD, as_of=AS_OF)
    assert resp.status_code == 202, resp.text
    newer = resp.json()
    assert newer["supersedes"] == pack["id"]
    doc = wait_issued(pack["am"], pack["slug"], newer["id"])
    assert doc["pack"]["supersedes"] == pack["id"]
    manifest = download(pack["am"], pack["slug"], newer["id"], format="manifest").json()
    assert manifest["manifest"]["supersedes"] == pack["id"]


def test_bad_downloads_are_400_and_unknown_packs_404(pack):
    am, slug = pack["am"], pack["slug"]
    for params, field in (({"format": "docx"}, "format"), ({"table": "cost"}, "table"),
                          ({"format": "pdf", "table": "cost"}, "table"),
                          ({"format": "csv", "table": "a;b"}, "table"),
                          ({"format": "csv", "bom": "yes", "table": "cost"}, "bom"),
                          ({"colour": "1"}, "colour")):
        resp = am.get(f"/v1/tenants/{slug}/packs/{pack['id']}", params=params)
        assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == field, params
    for pid in ("monthly-2026-03-20260101T000000Z", "x" * 80, "..%2f"):
        assert am.get(f"/v1/tenants/{slug}/packs/{pid}").status_code == 404
    assert am.get(f"/v1/tenants/{slug}/packs/{pack['id']}",
                  params={"format": "csv", "table": "nope"}).status_code == 404
    # Accept picks the format
    resp = am.get(f"/v1/tenants/{slug}/packs/{pack['id']}", headers={"Accept": "application/pdf"})
    assert resp.headers["Content-Type"] == "application/pdf"


def test_a_pack_being_rendered_says_how_far_it_is(pack):
    """A pack a worker holds: 202 with its progress (written here as a
    worker would, on a pack no worker will find: its claim is held)."""
    slug = pack["slug"]
    pid = "monthly-2026-01-20260420T120000Z"
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "test.packs", "provider", "admin")
        conn.execute(
            "INSERT INTO packs (tenant_id, pack_id, kind, period, period_start, period_end,"
            " as_of, state, claimed_until, progress) SELECT tenant_id, %s, 'monthly', '2026-01',"
            " '2026-01-01T05:00Z', '2026-02-01T05:00Z', '2026-04-20T12:00Z', 'rendering',"
            " now() + interval '1 hour', '{\"step\": \"pdf\", \"done\": 3, \"of\": 4}'"
            " FROM tenants WHERE slug = %s", (pid, slug))
    resp = pack["am"].get(f"/v1/tenants/{slug}/packs/{pid}", params={"format": "pdf"})
    assert resp.status_code == 202
    assert resp.json()["progress"] == {"step": "pdf", "done": 3, "of": 4}
    assert resp.json()["state"] == "rendering"
    verify = pack["am"].get(f"/v1/tenants/{slug}/packs/{pid}/verify")
    assert verify.status_code == 409


def test_a_pack_that_failed_says_why(pack):
    """A pack the worker could not render (app.fail_pack): 409 with its
    reason, in every format, and nothing to verify."""
    slug = pack["slug"]
    pid = "monthly-2025-12-20260420T120000Z"
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "test.packs", "provider", "admin")
        conn.execute(
            "INSERT INTO packs (tenant_id, pack_id, kind, period, period_start, period_end,"
            " as_of, state, claimed_until) SELECT tenant_id, %s, 'monthly', '2025-12',"
            " '2025-12-01T05:00Z', '2026-01-01T05:00Z', '2026-04-20T12:00Z', 'rendering',"
            " now() + interval '1 hour' FROM tenants WHERE slug = %s", (pid, slug))
        conn.execute("SELECT app.fail_pack(%s, %s, 'GET /v1/...: 504')", (slug, pid))
    for params in ({}, {"format": "pdf"}):
        resp = pack["am"].get(f"/v1/tenants/{slug}/packs/{pid}", params=params)
        assert resp.status_code == 409, resp.text
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert "GET /v1/...: 504" in resp.json()["detail"]
    assert pack["am"].get(f"/v1/tenants/{slug}/packs/{pid}/verify").status_code == 409


def test_weekly_and_quarterly_packs(pack):
    t, am, slug = pack["t"], pack["am"], pack["slug"]
    made = {}
    for kind, period in (("weekly", "2026-W11"), ("quarterly", "2026-Q1")):
        resp = ask(am, slug, kind=kind, period=period, as_of=AS_OF)
        assert resp.status_code == 202, resp.text
        made[kind] = resp.json()["id"]
    weekly = wait_issued(am, slug, made["weekly"])
    start = dt.datetime(2026, 3, 9, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    vol = expected_volume(t["tickets"], start, start + dt.timedelta(days=7))
    totals = rows_by_label(table(weekly, "volume_totals"))
    assert totals["Created"] == [vol["created"]] and totals["Resolved"] == [vol["resolved"]]
    assert weekly["pack"]["period"]["start"] == "2026-03-09T00:00:00-04:00"
    keys = [s["key"] for s in weekly["sections"]]
    assert keys[:2] == ["headline", "scorecard"] and "escalations" in keys
    assert "backlog" in keys and "cost" not in keys

    quarterly = wait_issued(am, slug, made["quarterly"])
    card = table(quarterly, "scorecard")
    assert card["rows"][-1][0] == "2026-Q1" and card["rows"][-2][0] == "2025-Q4"
    q_start, _ = month(ZONE, 2026, 1)
    _, q_end = month(ZONE, 2026, 3)
    vol = expected_volume(t["tickets"], q_start, q_end)
    assert card["rows"][-1][1:3] == [vol["created"], vol["resolved"]]
    targets = {r[0]: r for r in table(quarterly, "targets")["rows"]}
    sla = expected_sla(sla_rows(t, q_start, q_end))
    got = targets["Response SLA attainment"]
    assert got[2] == sla["attainment"]["response"]["attainment"]
    assert got[3] == card["rows"][-2][4] and got[4] == card["rows"][-5][4]
    contract_targets = t["doc"]["contract"].get("targets")
    if not contract_targets:
        assert section(quarterly, "targets")["note"].startswith("The contract sets no")
    keys = [s["key"] for s in quarterly["sections"]]
    for k in ("objectives", "risks", "decisions", "projects", "actions"):
        assert k in keys


# ---- the schedule -----------------------------------------------------------


def scheduled(slug):
    return owner_rows(
        "SELECT p.kind, p.period, p.period_start, p.period_end, p.as_of, p.requested_by"
        " FROM packs p JOIN tenants t USING (tenant_id) WHERE t.slug = %s AND p.scheduled"
        " ORDER BY p.kind, p.period", (slug,))


def new_tenant(tmp_path, zone, settle):
    slug = f"pk{uuid.uuid4().hex[:6]}"
    doc = tenant_doc(slug, "acme", timezone=zone, reporting={"pack_settle_hours": settle})
    doc["contract"] = dict(doc["contract"], start_date="2025-01-01")
    run_mspctl("tenant", "apply", write_tenant(tmp_path, doc), check=True)
    return slug


def test_each_period_is_asked_for_once_by_many_schedulers(tmp_path):
    """Two more nginx instances, two workers each, all running the
    schedule every second: each kind's last ended period once."""
    slug = new_tenant(tmp_path, "Asia/Kolkata", 0)
    hosts = [SecondNginx(workers=2, sweep_interval="0", pack_interval="1s") for _ in range(2)]
    try:
        for h in hosts:
            h.start()
        started = time.monotonic()
        while len(scheduled(slug)) < 3:
            assert time.monotonic() - started < 30, scheduled(slug)
            time.sleep(0.5)
        time.sleep(3)           # every scheduler has had more turns
        rows = scheduled(slug)
    finally:
        for h in hosts:
            try:
                h.close()
            finally:
                h.remove()
        # the schedulers asked for every other test tenant's packs too:
        # those not rendered yet are let go, not to load the tests after
        owner_rows("DELETE FROM packs p USING tenants t WHERE t.tenant_id = p.tenant_id"
                   " AND p.scheduled AND p.state = 'queued' AND t.slug <> %s RETURNING 1",
                   (slug,))
    assert [r[0] for r in rows] == ["monthly", "quarterly", "weekly"]
    now = dt.datetime.now(dt.timezone.utc)
    for kind, period, start, end, as_of, by in rows:
        assert as_of == end <= now and by == "msp-gateway:pack-schedule"
        assert end.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).time() == \
            dt.time(0, 0)
    audit = owner_rows("SELECT count(*) FROM audit_log a JOIN tenants t USING (tenant_id)"
                       " WHERE t.slug = %s AND a.action = 'pack.request'", (slug,))[0][0]
    assert audit == 3


def test_the_schedule_across_a_change_of_the_clocks(tmp_path):
    """Berlin leaves summer time on 25 October 2026: the week and the month
    that hold it end at midnight CET, 23:00Z; a pack waits its settling
    hours after that, counted in real hours."""
    slug = new_tenant(tmp_path, "Europe/Berlin", 30)
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "test.packs", "provider", "admin")
        # an hour before the week's pack is due: nothing of it
        conn.execute("SELECT app.schedule_packs(1000, '2026-10-27T04:59:00Z')")
    assert "2026-W43" not in [r[1] for r in scheduled(slug)]
    with psycopg.connect(env("MSP_DATABASE_URL")) as conn:
        set_principal(conn, "test.packs", "provider", "admin")
        conn.execute("SELECT app.schedule_packs(1000, '2026-10-27T05:00:00Z')")
        conn.execute("SELECT app.schedule_packs(1000, '2026-11-02T05:00:00Z')")
        conn.execute("SELECT app.schedule_packs(1000, '2026-11-02T05:00:00Z')")
    rows = {r[1]: r for r in scheduled(slug)}
    utc = dt.timezone.utc
    week = rows["2026-W43"]
    assert week[2] == dt.datetime(2026, 10, 18, 22, 0, tzinfo=utc)    # CEST midnight
    assert week[3] == dt.datetime(2026, 10, 25, 23, 0, tzinfo=utc)    # CET midnight
    assert week[4] == dt.datetime(2026, 10, 27, 5, 0, tzinfo=utc)     # + 30 hours
    october = rows["2026-10"]
    assert october[2] == dt.datetime(2026, 9, 30, 22, 0, tzinfo=utc)
    assert october[3] == dt.datetime(2026, 10, 31, 23, 0, tzinfo=utc)
    assert october[4] == dt.datetime(2026, 11, 2, 5, 0, tzinfo=utc)
    assert rows["2026-Q3"][3] == dt.datetime(2026, 9, 30, 22, 0, tzinfo=utc)
    assert sorted(r[1] for r in scheduled(slug)).count("2026-10") == 1


def test_a_retried_request_is_the_same_pack(pack):
    """Idempotency-Key: the retry a second later (as_of now, so another id
    if it were asked again) gets the first response; the same key with
    another body is 422; one pack in all."""
    am, slug = pack["am"], pack["slug"]
    key = f"pack-{uuid.uuid4().hex}"
    body = {"kind": "monthly", "period": "2026-01"}

    def count():
        return owner_rows("SELECT count(*) FROM packs p JOIN tenants t USING (tenant_id)"
                          " WHERE t.slug = %s AND p.period = '2026-01'", (slug,))[0][0]
    before = count()
    first = am.post(f"/v1/tenants/{slug}/packs", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 202, first.text
    time.sleep(1.1)
    again = am.post(f"/v1/tenants/{slug}/packs", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    other = am.post(f"/v1/tenants/{slug}/packs", json=dict(body, period="2026-02"),
                    headers={"Idempotency-Key": key})
    assert other.status_code == 422, other.text
    assert count() == before + 1
    wait_issued(am, slug, first.json()["id"])


# ---- the portfolio pack -------------------------------------------------------


@pytest.fixture(scope="module")
def portfolio(pack, tenants, as_user):
    """An account manager of the New York and Sydney tenants, and their
    portfolio pack of March as of AS_OF, issued by the worker."""
    sub = f"am.pf.{pack['slug']}"
    for zone in (ZONE, "Australia/Sydney"):
        run_mspctl("assign", sub, tenants[zone]["slug"], "account_manager", check=True)
    am = as_user(sub, "provider", "account_manager")
    resp = am.post("/v1/portfolio-packs", json={"kind": "monthly", "period": PERIOD,
                                                "as_of": AS_OF})
    assert resp.status_code == 202, resp.text
    made = resp.json()
    assert made["tenants"] == 2 and resp.headers["Location"].endswith(made["id"])
    started = time.monotonic()
    while True:
        got = am.get(f"/v1/portfolio-packs/{made['id']}")
        if got.status_code == 200:
            break
        assert got.status_code == 202 and time.monotonic() - started < 90, got.text
        time.sleep(0.3)
    return {"am": am, "sub": sub, "id": made["id"], "doc": got.json()}


def test_the_portfolio_has_a_row_and_a_page_per_tenant_with_the_same_figures(portfolio,
                                                                            tenants):
    doc, am = portfolio["doc"], portfolio["am"]
    assert doc["pack"]["kind"] == "portfolio" and doc["pack"]["period_kind"] == "monthly"
    report = am.get("/v1/reports/portfolio", params={"period": PERIOD, "as_of": AS_OF}).json()
    rows = table(doc, "portfolio")["rows"]
    assert [r[0] for r in rows] == [i["name"] for i in report["items"]]
    for row, item in zip(rows, report["items"]):
        assert row[1:] == [item["created"], item["resolved"], item["open_at_end"],
                           item["response_attainment"], item["resolution_attainment"],
                           item["resolution_median_business_seconds"],
                           item["first_contact_resolution_rate"], item["reopen_rate"]]
    # each tenant's page, the New York one against the oracle
    t = tenants[ZONE]
    page = section(doc, t["slug"])
    assert page["page_break"] and page["title"] == report["items"][
        [i["tenant"] for i in report["items"]].index(t["slug"])]["name"]
    start, end = month(ZONE, 2026, 3)
    vol = expected_volume(t["tickets"], start, end)
    by = rows_by_label(table(doc, f"{t['slug']}-by-priority"))
    for p in PRIORITIES:
        assert by[p] == [vol["created_by"]["priority"].get(p, 0),
                         vol["resolved_by"]["priority"].get(p, 0)]
    headline = rows_by_label(table(doc, f"{t['slug']}-headline"))
    assert headline["Created"][0] == vol["created"]
    sla = expected_sla(sla_rows(t, start, end))["attainment"]
    att = rows_by_label(table(doc, f"{t['slug']}-sla"))
    assert att["Resolution"] == [sla["resolution"]["met"], sla["resolution"]["breached"],
                                 sla["resolution"]["attainment"]]


def test_the_portfolio_is_signed_paged_and_only_its_askers(portfolio, tenants, as_user,
                                                          tmp_path):
    am, pid = portfolio["am"], portfolio["id"]
    v = am.get(f"/v1/portfolio-packs/{pid}/verify").json()
    assert v["valid"] and v["signature_valid"]
    pdf = am.get(f"/v1/portfolio-packs/{pid}", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    path = tmp_path / "portfolio.pdf"
    path.write_bytes(pdf.content)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    assert int(next(x.split()[-1] for x in info.splitlines() if x.startswith("Pages"))) >= 3
    second = subprocess.run(["pdftotext", "-f", "2", "-l", "2", path, "-"], capture_output=True,
                            text=True, check=True).stdout
    names = [r[0] for r in table(portfolio["doc"], "portfolio")["rows"]]
    assert names[0] in second and pid in second
    # others: a tenant's IT leader, another account manager, a technician
    leader = tenants[ZONE]["leader"]
    other = as_user(f"am.other.{uuid.uuid4().hex[:6]}", "provider", "account_manager")
    for c in (leader, other):
        assert c.get(f"/v1/portfolio-packs/{pid}").status_code == 404
        assert c.get("/v1/portfolio-packs").json()["items"] == [] or \
            pid not in [i["id"] for i in c.get("/v1/portfolio-packs").json()["items"]]
    tech = as_user(f"tech.pf.{uuid.uuid4().hex[:6]}", "provider", "technician")
    refused = tech.post("/v1/portfolio-packs", json={"kind": "monthly", "period": PERIOD})
    assert refused.status_code == 403
    assert leader.post("/v1/portfolio-packs",
                       json={"kind": "monthly", "period": PERIOD}).status_code == 403
    bad = am.post("/v1/portfolio-packs", json={"kind": "yearly", "period": PERIOD})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    # no longer assigned to one of its tenants: the pack is no longer theirs to read
    run_mspctl("unassign", portfolio["sub"], tenants["Australia/Sydney"]["slug"], check=True)
    try:
        assert am.get(f"/v1/portfolio-packs/{pid}").status_code == 404
    finally:
        run_mspctl("assign", portfolio["sub"], tenants["Australia/Sydney"]["slug"],
                   "account_manager", check=True)
    assert am.get(f"/v1/portfolio-packs/{pid}").status_code == 200
