-- After `mspctl sla recompute` has given the benchmark's open tickets
-- their SLA clocks (response_due, resolution_due, breach_at, and the
-- warnings and breaches still to announce), as if the breach sweep had
-- kept up all along: the announcements whose instant has passed are
-- dropped from each ticket's pending list, without their events (most
-- seeded open tickets are months old and breached long ago; announcing
-- them all would be a drain of its own, and its automatic escalations
-- would swamp every inbox).  What is still to come stays, so the
-- gateway's sweeper finds a little to do while the benchmark runs, as in
-- production.  The schema owner acting as a provider admin.
--
--   psql -f seed_clocks.sql
\set ON_ERROR_STOP on
BEGIN;
SELECT app.set_principal('bench.seed', 'provider', 'admin');

UPDATE tickets k
   SET sla_pending = p.pending, sla_next_at = p.next_at
  FROM (SELECT k.tenant_id, k.number,
               coalesce(jsonb_agg(a.value ORDER BY a.ord)
                            FILTER (WHERE (a.value->>'at')::timestamptz > now()), '[]')
                   AS pending,
               min((a.value->>'at')::timestamptz)
                   FILTER (WHERE (a.value->>'at')::timestamptz > now()) AS next_at
          FROM tickets k, jsonb_array_elements(k.sla_pending) WITH ORDINALITY AS a (value, ord)
         WHERE k.sla_next_at <= now()
         GROUP BY k.tenant_id, k.number) p
 WHERE k.tenant_id = p.tenant_id AND k.number = p.number;

COMMIT;
