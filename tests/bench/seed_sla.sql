-- Benchmark data for the breach sweep (tests/bench/run.sh, the SLA phase):
-- per_tenant open tickets for every client-NNNN tenant without tickets,
-- each with the SLA state that the clocks store (migrations/0007_sla.sql):
-- the warnings and breach not announced yet (sla_pending) and the first of
-- their instants (sla_next_at).  One ticket in every due_every (by
-- number) is due now, the rest later.  Written as the schema owner acting
-- as a provider admin, so row-level security applies as to any writer.
--
--   psql -v per_tenant=500 -v due_every=50 -f seed_sla.sql
--
-- As in seed.sql, the tickets_number trigger is off for the insert (the
-- numbers are given here) and each counter is set to per_tenant, all in
-- one transaction; random() is seeded, so every run makes the same data
-- (but for now(): instants are relative to the moment of seeding).
--
-- The shape, per ticket: status new 30%, assigned 25%, in_progress 45%
-- (the statuses whose clocks run); priorities P1 5%, P2 15%, P3 45%, P4
-- 35%.  The pending list is, oldest first, the resolution clock's last
-- 1-4 thresholds of 50, 75, 90, 100 (the normalized default warnings and
-- the breach), a quarter of the target apart, and for a new ticket
-- (no response yet) also the response clock's four, an eighth as far
-- apart.  Targets in wall time: P1 4 h, P2 8 h, P3 24 h, P4 72 h.  The
-- first instant is:
--   due tickets      1 minute to 2 hours ago: the first 1 or 2 entries of
--                    each clock due, a minute apart, the rest (if any) from
--                    an hour ahead, so that a sweep announces the due ones
--                    and keeps the ticket in the index at its next instant;
--   the others       1 hour to 30 days from now: not due while the
--                    benchmark runs.
\set ON_ERROR_STOP on
BEGIN;
SELECT app.set_principal('bench.seed', 'provider', 'admin');
SELECT setseed(0.17);

CREATE TEMP TABLE sla_tenants ON COMMIT DROP AS
SELECT tenant_id, slug
  FROM tenants t
 WHERE slug LIKE 'client-%'
   AND NOT EXISTS (SELECT FROM tickets k WHERE k.tenant_id = t.tenant_id);

CREATE TEMP TABLE sla_draws ON COMMIT DROP AS
SELECT tenant_id, slug, g,
       g % :due_every = 0 AS due,
       CASE WHEN r_status < 0.30 THEN 'new' WHEN r_status < 0.55 THEN 'assigned'
            ELSE 'in_progress' END AS status,
       CASE WHEN r_priority < 0.05 THEN 'P1' WHEN r_priority < 0.20 THEN 'P2'
            WHEN r_priority < 0.65 THEN 'P3' ELSE 'P4' END AS priority,
       r_anchor, 1 + floor(r_count * 4)::int AS entries,
       1 + floor(r_due * 2)::int AS due_entries, r_title, r_requester
  FROM (SELECT s.tenant_id, s.slug, g, random() AS r_status, random() AS r_priority,
               random() AS r_anchor, random() AS r_count, random() AS r_due,
               random() AS r_title, random() AS r_requester
          FROM sla_tenants s, generate_series(1, :per_tenant) g) d;

CREATE TEMP TABLE sla_rows ON COMMIT DROP AS
SELECT d.*, target,
       date_trunc('second', CASE WHEN due
                                 THEN now() - interval '1 minute' - r_anchor * interval '2 hours'
                                 ELSE now() + interval '1 hour' + r_anchor * interval '30 days'
                            END) AS anchor
  FROM sla_draws d,
       LATERAL (SELECT CASE priority WHEN 'P1' THEN interval '4 hours'
                                     WHEN 'P2' THEN interval '8 hours'
                                     WHEN 'P3' THEN interval '24 hours'
                                     ELSE interval '72 hours' END AS target) p;

-- The pending entries: (clock, threshold, at).  A due ticket's first
-- due_entries of each clock are due (a minute apart), the rest an hour or
-- more from now, so that nothing comes due while the benchmark runs.
CREATE TEMP TABLE sla_entries ON COMMIT DROP AS
SELECT e.tenant_id, e.g, e.clock, e.threshold,
       CASE WHEN NOT e.due THEN e.anchor + (e.i - 1) * e.spacing
            WHEN e.i <= e.due_entries THEN e.anchor + (e.i - 1) * interval '1 minute'
            ELSE date_trunc('second', now()) + interval '1 hour'
                 + (e.i - e.due_entries) * e.spacing END AS at
  FROM (SELECT r.tenant_id, r.g, r.due, r.anchor, r.due_entries, 'resolution' AS clock,
               th AS threshold, i, r.target / 4 AS spacing
          FROM sla_rows r,
               LATERAL unnest((ARRAY[50, 75, 90, 100])[5 - r.entries:4]) WITH ORDINALITY u(th, i)
        UNION ALL
        SELECT r.tenant_id, r.g, r.due, r.anchor, r.due_entries, 'response', th, i,
               r.target / 32
          FROM sla_rows r, LATERAL unnest(ARRAY[50, 75, 90, 100]) WITH ORDINALITY u(th, i)
         WHERE r.status = 'new') e;

CREATE TEMP TABLE sla_state ON COMMIT DROP AS
SELECT tenant_id, g,
       jsonb_agg(jsonb_build_object('clock', clock, 'threshold', threshold,
                                    'at', app.rfc3339(at)) ORDER BY at, clock) AS pending,
       min(at) AS next_at,
       max(at) FILTER (WHERE clock = 'response' AND threshold = 100) AS response_due,
       max(at) FILTER (WHERE clock = 'resolution' AND threshold = 100) AS resolution_due
  FROM sla_entries
 GROUP BY tenant_id, g;

ALTER TABLE tickets DISABLE TRIGGER tickets_number;

INSERT INTO tickets (tenant_id, number, title, description, category, impact, urgency, priority,
                     status, side, tier, assignee, requester, created_at, updated_at, version,
                     response_due, resolution_due, breach_at, sla_pending, sla_next_at)
SELECT r.tenant_id, r.g,
       (ARRAY['Laptop will not boot', 'Printer jams on duplex jobs', 'New hire accounts',
              'VPN drops every few minutes', 'Shared mailbox request', 'Disk latency alerts',
              'Application error on save', 'Suspicious sign-in alert', 'Access to share',
              'Slow network at branch office', 'Password reset', 'Monitor flickers'])
           [1 + floor(r.r_title * 12)::int] || ' (' || r.slug || ' #' || r.g || ')',
       'Reported by the user; details in the first comment.',
       'general',
       CASE r.priority WHEN 'P1' THEN 'high' WHEN 'P2' THEN 'high' WHEN 'P3' THEN 'medium'
                       ELSE 'low' END,
       CASE r.priority WHEN 'P1' THEN 'high' WHEN 'P2' THEN 'medium' WHEN 'P3' THEN 'medium'
                       ELSE 'low' END,
       r.priority, r.status, 'provider',
       CASE WHEN r.status <> 'new' THEN 'L1' END,
       CASE WHEN r.status <> 'new' THEN 'tech.sla' END,
       'user' || floor(r.r_requester * 150)::int || '@' || r.slug,
       -- opened when the resolution clock started, roughly
       least(s.next_at, now()) - r.target, least(s.next_at, now()) - r.target / 2,
       CASE r.status WHEN 'new' THEN 1 ELSE 2 END,
       s.response_due, s.resolution_due, least(s.response_due, s.resolution_due),
       s.pending, s.next_at
  FROM sla_rows r JOIN sla_state s USING (tenant_id, g)
 ORDER BY r.tenant_id, r.g;

UPDATE ticket_counters c SET last_number = :per_tenant
  FROM sla_tenants s WHERE c.tenant_id = s.tenant_id;

ALTER TABLE tickets ENABLE TRIGGER tickets_number;

COMMIT;
