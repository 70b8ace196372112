"""Per-tenant ticket numbers: no gaps and no repeats under concurrency."""
import threading

from conftest import set_principal

ALPHA = ("alpha.it.ann", "alpha", "it_staff")


def test_concurrent_inserts_get_consecutive_numbers(two_tenants):
    db = two_tenants
    tid = db.admin_rows("SELECT tenant_id FROM tenants WHERE slug = 'alpha'")[0][0]
    numbers, errors = [], []

    def worker(n, rollback_every):
        try:
            with db.gateway() as conn:
                for i in range(n):
                    set_principal(conn, *ALPHA)
                    number = conn.execute(
                        "INSERT INTO tickets (tenant_id, title, impact, urgency, priority,"
                        " requester) VALUES (%s, 'race', 'low', 'low', 'P4', 'r')"
                        " RETURNING number", (tid,)).fetchone()[0]
                    if rollback_every and i % rollback_every == 0:
                        conn.rollback()  # the number is given back
                    else:
                        conn.commit()
                        numbers.append(number)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(20, k)) for k in (0, 3, 0, 5, 0, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = [r[0] for r in db.admin_rows(
        "SELECT number FROM tickets WHERE tenant_id = %s ORDER BY number", (tid,))]
    assert stored == list(range(1, len(stored) + 1))
    assert sorted(numbers) == stored[1:]  # ticket 1 came from the fixture


def test_numbers_are_per_tenant(two_tenants):
    rows = two_tenants.admin_rows("SELECT slug, max(number) FROM tickets JOIN tenants"
                                  " USING (tenant_id) GROUP BY slug ORDER BY slug")
    assert rows == [("alpha", 1), ("beta", 1)]
