"""A requester's rating of a resolved ticket (POST, GET and PATCH
.../tickets/{id}/satisfaction, GET .../satisfaction): once per ticket, by its
requester, inside the tenant file's window and never after; who reads it;
what a bad rating gets (and that it writes nothing); the event and audit row
each change writes; and the isolation the database holds."""
import datetime as dt
import time

import psycopg
import pytest

from conftest import env, set_principal
# close_owner_connection closes the owner connections q() made, at the module's end
from test_escalations import (  # noqa: F401
    Tenant, close_owner_connection, ok, parse_time, problem, q)

WINDOW_DAYS = 3


@pytest.fixture(scope="module")
def ta(tmp_path_factory, as_user):
    t = Tenant(tmp_path_factory.mktemp("sat"), as_user, prefix="sat",
               reporting={"satisfaction_days": WINDOW_DAYS})
    return t


def resolved(t, **fields):
    """A ticket of t's requester, resolved by its IT staff."""
    ticket = t.create(**fields)["id"]
    t.patch(ticket, by=t.it, status="resolved")
    return ticket


def rating_url(t, ticket):
    return t.url(ticket, "satisfaction")


def footprint(t):
    """What a rating request could write in the tenant."""
    return q("SELECT (SELECT count(*) FROM satisfaction_ratings WHERE tenant_id = %(t)s),"
             " (SELECT coalesce(sum(version), 0) FROM satisfaction_ratings"
             "  WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM governance_events WHERE tenant_id = %(t)s),"
             " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s AND action LIKE 'rating.%%')",
             {"t": t.id})[0]


def events_of(t, ticket):
    return q("SELECT kind, data, actor_sub FROM governance_events WHERE tenant_id = %s"
             " AND record = 'rating' AND record_id = %s ORDER BY event_id",
             (t.id, int(ticket.rsplit("-", 1)[1])))


def audits_of(t, ticket):
    return q("SELECT action, detail, actor_sub FROM audit_log WHERE tenant_id = %s"
             " AND target = %s AND action LIKE 'rating.%%' ORDER BY audit_id",
             (t.id, f"ticket:{ticket}"))


def age_resolution(t, ticket, delta):
    """Moves the ticket's resolution back by delta (a timedelta).  A rating
    is not moved: no one may change one after its window, not even the
    provider's admin, so a test that needs a window to close waits for it."""
    q("UPDATE tickets SET resolved_at = resolved_at - %s WHERE tenant_id = %s AND number = %s"
      " RETURNING number", (delta, t.id, int(ticket.rsplit("-", 1)[1])))


def test_the_requester_rates_a_resolved_ticket_once(ta):
    ticket = resolved(ta)
    assignee = ta.get(ticket)["assignee"]
    resp = ta.req.post(rating_url(ta, ticket), json={"score": 4, "comment": "Quick, thanks"})
    doc = ok(resp, 201)
    assert resp.headers["ETag"] == '"1"'
    assert {k: doc[k] for k in ("ticket", "score", "comment", "rated_by", "side", "assignee",
                                "version")} == {
        "ticket": ticket, "score": 4, "comment": "Quick, thanks", "rated_by": ta.req.sub,
        "side": "provider", "assignee": assignee, "version": 1}
    # the window runs from the resolution, as the tenant file says
    resolved_at = parse_time(ta.get(ticket)["resolved_at"])
    assert parse_time(doc["resolved_at"]) == resolved_at
    assert parse_time(doc["editable_until"]) == resolved_at + dt.timedelta(days=WINDOW_DAYS)
    assert events_of(ta, ticket) == [("rated", {"score": 4, "comment": "Quick, thanks"},
                                      ta.req.sub)]
    assert audits_of(ta, ticket) == [("rating.create", {"score": 4}, ta.req.sub)]
    # once: a second rating is refused, and writes nothing; anyone else
    # still hears that the requester rates
    before = footprint(ta)
    body = problem(ta.req.post(rating_url(ta, ticket), json={"score": 1}), 409)
    assert "rated already" in body["detail"]
    assert "requester" in problem(ta.it.post(rating_url(ta, ticket), json={"score": 1}),
                                  403)["detail"]
    assert footprint(ta) == before


def test_staff_of_both_sides_read_a_rating_and_the_requester_its_own(ta, as_user):
    ticket = resolved(ta)
    ok(ta.req.post(rating_url(ta, ticket), json={"score": 5}), 201)
    for reader in (ta.req, ta.it, ta.itl, ta.aud, ta.tech1, ta.lead, ta.am, ta.admin):
        resp = reader.get(rating_url(ta, ticket))
        assert ok(resp)["score"] == 5, reader.sub
        assert resp.headers["ETag"] == '"1"'
    # another requester of the tenant does not see the ticket at all
    other = as_user(f"req2.{ta.slug}", ta.slug, "requester")
    problem(other.get(rating_url(ta, ticket)), 404)
    # a ticket not rated: 404 that says so
    unrated = resolved(ta)
    assert "no rating" in problem(ta.it.get(rating_url(ta, unrated)), 404)["detail"]


def test_only_the_requester_rates_and_only_a_resolved_ticket(ta, as_user):
    ticket = resolved(ta)
    before = footprint(ta)
    for who in (ta.it, ta.itl, ta.tech1, ta.lead, ta.am, ta.admin):
        body = problem(who.post(rating_url(ta, ticket), json={"score": 3}), 403)
        assert "requester" in body["detail"], who.sub
    assert "Auditors" in problem(ta.aud.post(rating_url(ta, ticket), json={"score": 3}),
                                 403)["detail"]
    # another requester cannot see the ticket
    other = as_user(f"req3.{ta.slug}", ta.slug, "requester")
    problem(other.post(rating_url(ta, ticket), json={"score": 3}), 404)
    # an open ticket, and a reopened one
    open_ticket = ta.create()["id"]
    body = problem(ta.req.post(rating_url(ta, open_ticket), json={"score": 3}), 409)
    assert "not resolved" in body["detail"]
    ta.patch(ticket, by=ta.it, status="in_progress")
    problem(ta.req.post(rating_url(ta, ticket), json={"score": 3}), 409)
    assert footprint(ta) == before


@pytest.mark.parametrize("body,field", [
    ({"score": 6}, "score"),
    ({"score": 0}, "score"),
    ({"score": "5"}, "score"),
    ({"score": 4.5}, "score"),
    ({"comment": "no score"}, "score"),
    ({"score": 3, "comment": "x" * 2001}, "comment"),
    ({"score": 3, "comment": 7}, "comment"),
    ({"score": 3, "stars": 3}, "stars"),
])
def test_a_bad_rating_is_422_and_writes_nothing(ta, body, field):
    ticket = resolved(ta)
    before = footprint(ta)
    doc = problem(ta.req.post(rating_url(ta, ticket), json=body), 422)
    assert field in {e["field"] for e in doc["errors"]}, doc
    assert footprint(ta) == before


def test_a_body_that_is_not_json_is_400(ta):
    ticket = resolved(ta)
    before = footprint(ta)
    problem(ta.req.post(rating_url(ta, ticket), data="{score: 5",
                        headers={"Content-Type": "application/json"}), 400)
    assert footprint(ta) == before


def test_no_rating_after_the_window(ta):
    ticket = resolved(ta)
    age_resolution(ta, ticket, dt.timedelta(days=WINDOW_DAYS, seconds=-60))   # still inside
    ok(ta.req.post(rating_url(ta, ticket), json={"score": 2}), 201)
    ticket = resolved(ta)
    age_resolution(ta, ticket, dt.timedelta(days=WINDOW_DAYS, seconds=1))     # past it
    before = footprint(ta)
    body = problem(ta.req.post(rating_url(ta, ticket), json={"score": 2}), 409)
    assert "time to rate" in body["detail"]
    assert footprint(ta) == before


def test_the_rater_changes_a_rating_while_it_is_open_and_never_after(ta):
    ticket = resolved(ta)
    url = rating_url(ta, ticket)
    # resolved so long ago that the window closes a few seconds from now
    age_resolution(ta, ticket, dt.timedelta(days=WINDOW_DAYS, seconds=-4))
    until = parse_time(ok(ta.req.post(url, json={"score": 2, "comment": "Slow"}), 201)[
        "editable_until"])
    problem(ta.req.patch(url, json={"score": 3}), 428)
    problem(ta.req.patch(url, json={"score": 3}, headers={"If-Match": "soon"}), 400)
    problem(ta.req.patch(url, json={"score": 3}, headers={"If-Match": '"7"'}), 412)
    problem(ta.req.patch(url, json={}, headers={"If-Match": '"1"'}), 422)
    problem(ta.req.patch(url, json={"score": 9}, headers={"If-Match": '"1"'}), 422)
    for who in (ta.it, ta.lead, ta.admin):
        problem(who.patch(url, json={"score": 5}, headers={"If-Match": '"1"'}), 403)
    assert events_of(ta, ticket) == [("rated", {"score": 2, "comment": "Slow"}, ta.req.sub)]
    resp = ta.req.patch(url, json={"score": 4}, headers={"If-Match": '"1"'})
    doc = ok(resp)
    assert (doc["score"], doc["comment"], doc["version"]) == (4, "Slow", 2)
    assert resp.headers["ETag"] == '"2"'
    assert events_of(ta, ticket)[1:] == [("changed", {"score": 4}, ta.req.sub)]
    assert audits_of(ta, ticket)[1:] == [("rating.update", {"score": 4}, ta.req.sub)]
    # after the window: final, through the API and in the database
    time.sleep(max(0.0, (until - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1)
    before = footprint(ta)
    body = problem(ta.req.patch(url, json={"score": 5}, headers={"If-Match": '"2"'}), 409)
    assert "time to change" in body["detail"]
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, ta.req.sub, ta.slug, "requester")
        cur = conn.execute("UPDATE satisfaction_ratings SET score = 5 WHERE tenant_id = %s"
                           " AND ticket_number = %s", (ta.id, int(ticket.rsplit("-", 1)[1])))
        assert cur.rowcount == 0
        conn.rollback()
    assert footprint(ta) == before
    assert ok(ta.it.get(url))["score"] == 4


def test_a_retried_rating_with_its_key_is_answered_once(ta):
    ticket = resolved(ta)
    headers = {"Idempotency-Key": f"rate-{ticket}"}
    first = ta.req.post(rating_url(ta, ticket), json={"score": 5}, headers=headers)
    again = ta.req.post(rating_url(ta, ticket), json={"score": 5}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json() and again.headers["ETag"] == '"1"'
    assert len(events_of(ta, ticket)) == 1
    problem(ta.req.post(rating_url(ta, ticket), json={"score": 1}, headers=headers), 422)


def test_a_tenants_ratings_are_listed_by_the_day_given_for_staff(ta):
    tickets = [resolved(ta) for _ in range(3)]
    for i, ticket in enumerate(tickets):
        ok(ta.req.post(rating_url(ta, ticket), json={"score": i + 1}), 201)
    today = dt.datetime.now(dt.timezone.utc).date()      # the tenant's zone is UTC
    url = (f"/v1/tenants/{ta.slug}/satisfaction?from={today}"
           f"&to={today + dt.timedelta(days=1)}&limit=2")
    seen, pages = [], 0
    while url:
        page = ok(ta.itl.get(url))
        seen += page["items"]
        url, pages = page["next_cursor"] and url.split("&after=")[0] + "&after=" + \
            page["next_cursor"], pages + 1
    expected = q("SELECT count(*) FROM satisfaction_ratings WHERE tenant_id = %s"
                 " AND created_at >= %s", (ta.id, today))[0][0]
    assert len(seen) == expected >= 3 and pages >= 2
    numbers = [int(r["ticket"].rsplit("-", 1)[1]) for r in seen]
    assert numbers == sorted(numbers)
    assert {r["ticket"]: r["score"] for r in seen if r["ticket"] in tickets} == {
        t: i + 1 for i, t in enumerate(tickets)}
    # a day with none, and who may not list
    yesterday = today - dt.timedelta(days=1)
    assert ok(ta.it.get(f"/v1/tenants/{ta.slug}/satisfaction?from={yesterday}&to={today}"))[
        "items"] == []
    problem(ta.req.get(f"/v1/tenants/{ta.slug}/satisfaction?from={today}"
                       f"&to={today + dt.timedelta(days=1)}"), 403)
    for bad in ("", f"?from={today}", f"?from={today}&to={today}", "?from=2026-02-30&to=2026-03-01",
                f"?from={today}&to={today + dt.timedelta(days=1)}&after=x"):
        problem(ta.it.get(f"/v1/tenants/{ta.slug}/satisfaction{bad}"), 400)


def test_ratings_are_isolated_in_the_database(ta, tmp_path_factory, as_user):
    other = Tenant(tmp_path_factory.mktemp("sat2"), as_user, prefix="sat")
    ticket = resolved(ta)
    ok(ta.req.post(rating_url(ta, ticket), json={"score": 3}), 201)
    # through HTTP: the other tenant's people see no rating of ta's
    for who in (other.it, other.itl, other.req):
        problem(who.get(rating_url(ta, ticket)), 404)
    # as SQL: the other tenant's staff read none, and cannot rate ta's
    # ticket even naming it
    number = int(ticket.rsplit("-", 1)[1])
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, other.it.sub, other.slug, "it_staff")
        assert conn.execute("SELECT count(*) FROM satisfaction_ratings").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM governance_events").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO satisfaction_ratings (tenant_id, ticket_number, score,"
                         " resolved_at, side, editable_until) VALUES (%s, %s, 1, now(),"
                         " 'provider', now() + interval '1 day')", (ta.id, number + 1))
    # and the tenant's own staff cannot write a rating in the requester's name
    with psycopg.connect(env("MSP_GATEWAY_DATABASE_URL")) as conn:
        set_principal(conn, ta.it.sub, ta.slug, "it_staff")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO satisfaction_ratings (tenant_id, ticket_number, subject,"
                         " score, resolved_at, side, editable_until) VALUES (%s, %s, %s, 1,"
                         " now(), 'provider', now() + interval '1 day')",
                         (ta.id, number, ta.req.sub))
