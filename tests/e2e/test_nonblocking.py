"""The worker never blocks: while one request waits inside PostgreSQL for a
row lock, the same worker (the test stack runs one) answers others."""
import threading
import time

import psycopg

from conftest import env, set_principal


def test_a_request_waiting_on_a_row_lock_does_not_block_the_worker(as_user):
    assert env("MSP_WORKERS") == "1", "this test needs nginx with worker_processes 1"
    tech = as_user("tech.alice", "provider", "technician")
    make = lambda: tech.post("/v1/tenants/acme/tickets",  # noqa: E731
                             json={"title": "lock test", "impact": "low", "urgency": "low"}
                             ).json()
    locked, other = make(), make()

    with psycopg.connect(env("MSP_DATABASE_URL")) as holder:
        set_principal(holder, "test.locker", "provider", "admin")
        holder.execute("SELECT 1 FROM tickets k JOIN tenants t USING (tenant_id)"
                       " WHERE t.slug = 'acme' AND k.number = %s FOR UPDATE",
                       (locked["number"],))

        result = {}
        patch = threading.Thread(target=lambda: result.update(resp=tech.patch(
            f"/v1/tenants/acme/tickets/{locked['id']}", headers={"If-Match": '"1"'},
            json={"title": "patched while locked"})))
        patch.start()

        # Wait until the PATCH is queued behind the lock inside PostgreSQL.
        with psycopg.connect(env("MSP_DATABASE_URL"), autocommit=True) as watcher:
            for _ in range(200):
                waiting = watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                          ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting, "the PATCH never reached the row lock"

        # The same (only) worker keeps answering while the lock is held.
        health = tech.get("/v1/health")
        read = tech.get(f"/v1/tenants/acme/tickets/{other['id']}")
        queue = tech.get("/v1/queue?limit=5")
        assert health.status_code == 200
        assert read.status_code == 200 and read.json()["id"] == other["id"]
        assert queue.status_code == 200
        assert patch.is_alive() and "resp" not in result, "the PATCH did not wait"
        holder.rollback()  # release the lock

    patch.join(timeout=30)
    assert not patch.is_alive()
    assert result["resp"].status_code == 200, result["resp"].text
    assert result["resp"].json()["title"] == "patched while locked"
