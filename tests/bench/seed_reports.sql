-- Benchmark data for the reports part of tests/bench/run.sh (reports.py
-- measures it), written as the schema owner acting as a provider admin, in
-- one transaction, set-based:
--
--   psql -v slug=client-1002 -v per_month=100000 -v months=12 -f seed_reports.sql
--
-- 1. The large client: tenant :slug (applied from its file, no tickets
--    yet) gets :per_month tickets in each of the :months local months
--    before the current one, with the history the reports read, written
--    as the API writes it: the "created" event, "updated" events with
--    {"status": {"from", "to"}} (and the tier given), a technician's
--    public reply; resolution for about 88% (15% of them reopened once,
--    60% closed three days later), a few still open; 8% escalated to
--    another tier or side, decided within two hours (a few rejected).
--    Requesters are skewed (a few ask often), categories too (a third are
--    access requests), so recurrence has something to find.
-- 2. Every ticket of every tenant with no SLA measurement of its past
--    (seed.sql gives resolved and closed tickets an empty one, '{}') gets
--    two: as created, and as it stopped.
--
-- The open-ticket spans, the SLA measurements, the category at creation
-- and the report facts (ticket_open_spans, ticket_sla_facts,
-- tickets.created_category, app.fill_report_facts) are written here
-- rather than by their triggers, set-based: the spans from the same draws
-- as the events, the facts from the events, the measurements in calendar
-- time (the benchmark's clocks run around the clock: the reports' cost
-- does not depend on the calendar, and replaying 1.2 million histories
-- with the SLA engine would take longer than the rest of the benchmark).
\set ON_ERROR_STOP on
BEGIN;
SELECT app.set_principal('bench.seed', 'provider', 'admin');
SELECT setseed(0.24);

-- A measurement as tickets.sla stores one (sla/clock.h): both clocks from
-- created, stopped at the given instants (NULL: running), as of `at`.
CREATE FUNCTION pg_temp.bench_sla(p_config text, p_at timestamptz, p_created timestamptz,
                                  p_side text, p_tier text, p_response integer,
                                  p_resolution integer, p_responded timestamptz,
                                  p_resolved timestamptz) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    WITH c (name, target, stop) AS (VALUES ('response', p_response, p_responded),
                                           ('resolution', p_resolution, p_resolved)),
    k AS (SELECT name, target, stop,
                 floor(extract(epoch FROM coalesce(stop, p_at) - p_created))::bigint
                     AS elapsed
            FROM c)
    SELECT jsonb_build_object(
               'config', p_config, 'as_of', floor(extract(epoch FROM p_at))::bigint,
               'holder', CASE WHEN p_resolved IS NULL THEN p_side END,
               'held', jsonb_build_object(
                   'provider', CASE WHEN p_side = 'provider' THEN h.s ELSE 0 END,
                   'internal_it', CASE WHEN p_side = 'internal_it' THEN h.s ELSE 0 END,
                   'vendor', 0, 'customer', 0),
               'held_provider_tier', jsonb_build_object(
                   'none', 0, 'L1', CASE WHEN p_tier = 'L1' THEN h.s ELSE 0 END,
                   'L2', CASE WHEN p_tier = 'L2' THEN h.s ELSE 0 END,
                   'L3', CASE WHEN p_tier = 'L3' THEN h.s ELSE 0 END))
           || (SELECT jsonb_object_agg(k.name, jsonb_build_object(
                   'target', k.target, 'elapsed', k.elapsed,
                   'due', floor(extract(epoch FROM p_created)) + k.target,
                   'stopped_at', floor(extract(epoch FROM k.stop))::bigint,
                   'running', k.stop IS NULL, 'paused', false)) FROM k)
      FROM (SELECT floor(extract(epoch FROM coalesce(p_resolved, p_at) - p_created))::bigint
                       AS s) h
    $$;

-- ---- 1. the large client ---------------------------------------------------
CREATE TEMP TABLE big ON COMMIT DROP AS
SELECT t.tenant_id, t.slug, t.ticket_prefix, t.timezone, t.document_sha256 AS config,
       t.sla_policy
  FROM tenants t WHERE t.slug = :'slug'
   AND NOT EXISTS (SELECT FROM tickets k WHERE k.tenant_id = t.tenant_id);

CREATE TEMP TABLE big_draws ON COMMIT DROP AS
SELECT b.tenant_id, b.config, b.sla_policy, m.month_start, m.month_end,
       row_number() OVER (ORDER BY m.month_start + (m.month_end - m.month_start) * r.r_at)
           AS number,
       m.month_start + (m.month_end - m.month_start) * r.r_at AS created_at, r.*
  FROM big b,
       LATERAL (SELECT (date_trunc('month', now() AT TIME ZONE b.timezone)
                        - make_interval(months => :months - i)) AT TIME ZONE b.timezone
                           AS month_start,
                       (date_trunc('month', now() AT TIME ZONE b.timezone)
                        - make_interval(months => :months - i - 1)) AT TIME ZONE b.timezone
                           AS month_end
                  FROM generate_series(0, :months - 1) i) m,
       LATERAL (SELECT random() AS r_at, random() AS r_priority, random() AS r_category,
                       random() AS r_requester, random() AS r_source, random() AS r_side,
                       random() AS r_tier, random() AS r_response, random() AS r_resolution,
                       random() AS r_outcome, random() AS r_escalation, random() AS r_wait
                  -- naming m makes the draws anew for each month
                  FROM generate_series(1, :per_month) WHERE m.month_start IS NOT NULL) r;

CREATE TEMP TABLE big_rows ON COMMIT DROP AS
SELECT d.tenant_id, d.config, d.number, d.created_at, p.priority, x.category, x.requester,
       x.role, x.org, x.side, x.tier,
       (d.sla_policy->'priorities'->p.priority->>'first_response_minutes')::integer * 60
           AS t_response,
       (d.sla_policy->'priorities'->p.priority->>'resolution_minutes')::integer * 60
           AS t_resolution,
       -- a reply within twice the response target, a resolution within 1.4
       -- times the resolution target: most met, some not
       d.created_at + (d.sla_policy->'priorities'->p.priority->>'first_response_minutes')::integer
                      * interval '2 minutes' * d.r_response AS responded_at,
       d.created_at + (d.sla_policy->'priorities'->p.priority->>'resolution_minutes')::integer
                      * interval '1.4 minutes' * d.r_resolution AS resolved_at,
       d.r_outcome < 0.07 AS stays_open,
       d.r_outcome >= 0.07 AND d.r_outcome < 0.20 AS reopened,
       d.r_outcome >= 0.40 AS closed,
       d.r_escalation, d.r_wait
  FROM big_draws d,
       LATERAL (SELECT CASE WHEN d.r_priority < 0.05 THEN 'P1' WHEN d.r_priority < 0.20 THEN 'P2'
                            WHEN d.r_priority < 0.65 THEN 'P3' ELSE 'P4' END AS priority) p,
       LATERAL (SELECT CASE WHEN d.r_category < 0.33 THEN 'access'
                            ELSE (ARRAY['end_user_device', 'printing', 'onboarding', 'network',
                                        'email', 'infrastructure', 'application', 'security',
                                        'general'])[1 + floor((d.r_category - 0.33) / 0.67 * 9)::int]
                            END AS category,
                       CASE WHEN d.r_source < 0.15 THEN 'monitor'
                            ELSE 'user' || floor(d.r_requester ^ 3 * 4000)::int END AS requester,
                       CASE WHEN d.r_source < 0.15 THEN 'integration'
                            WHEN d.r_source < 0.25 THEN 'technician'
                            WHEN d.r_source < 0.30 THEN 'it_staff' ELSE 'requester' END AS role,
                       CASE WHEN d.r_source < 0.25 THEN 'provider' END AS org,
                       CASE WHEN d.r_side < 0.7 THEN 'provider' ELSE 'internal_it' END AS side,
                       CASE WHEN d.r_side >= 0.7 THEN NULL WHEN d.r_tier < 0.7 THEN 'L1'
                            WHEN d.r_tier < 0.95 THEN 'L2' ELSE 'L3' END AS tier) x;

-- The instants of each ticket's life; a ticket whose resolution would come
-- after now stays open.
CREATE TEMP TABLE big_life ON COMMIT DROP AS
SELECT r.*,
       r.created_at + (r.responded_at - r.created_at) / 2 AS started_at,
       CASE WHEN NOT r.stays_open AND r.resolved_at < now() - interval '3 days'
            THEN r.resolved_at END AS first_resolved,
       CASE WHEN r.reopened THEN r.resolved_at + interval '1 day' END AS reopened_at,
       CASE WHEN r.reopened THEN r.resolved_at + interval '2 days' END AS second_resolved
  FROM big_rows r;
UPDATE big_life SET reopened_at = NULL, second_resolved = NULL WHERE first_resolved IS NULL;
ALTER TABLE big_life ADD COLUMN final_resolved timestamptz;
UPDATE big_life SET final_resolved = coalesce(second_resolved, first_resolved);

ALTER TABLE tickets DISABLE TRIGGER tickets_number;
ALTER TABLE tickets DISABLE TRIGGER tickets_sla_facts;
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_open_spans;
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_created_category;
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_report_facts;

INSERT INTO tickets (tenant_id, number, title, description, category, impact, urgency, priority,
                     status, side, tier, assignee, requester, created_at, updated_at,
                     resolved_at, closed_at, version, sla, created_category)
SELECT l.tenant_id, l.number, initcap(replace(l.category, '_', ' ')) || ' request #' || l.number,
       'Seeded for the reports benchmark.', l.category,
       CASE l.priority WHEN 'P1' THEN 'high' WHEN 'P2' THEN 'high' WHEN 'P3' THEN 'medium'
                       ELSE 'low' END,
       CASE l.priority WHEN 'P1' THEN 'high' WHEN 'P2' THEN 'medium' WHEN 'P3' THEN 'medium'
                       ELSE 'low' END,
       l.priority,
       CASE WHEN l.final_resolved IS NULL THEN 'in_progress' WHEN l.closed THEN 'closed'
            ELSE 'resolved' END,
       l.side, l.tier, CASE WHEN l.side = 'provider' THEN 'tech.r' || l.number % 40
                            ELSE 'it.r' || l.number % 10 END,
       l.requester, l.created_at,
       coalesce(CASE WHEN l.closed THEN l.final_resolved + interval '3 days' END,
                l.final_resolved, l.responded_at),
       l.final_resolved, CASE WHEN l.closed THEN l.final_resolved + interval '3 days' END,
       5,
       pg_temp.bench_sla(l.config, coalesce(l.final_resolved, now()), l.created_at, l.side,
                         l.tier, l.t_response, l.t_resolution, l.responded_at, l.final_resolved),
       l.category
  FROM big_life l
 ORDER BY l.number;

UPDATE ticket_counters c SET last_number = (SELECT max(number) FROM big_life)
  FROM big b WHERE c.tenant_id = b.tenant_id;

-- The history, in the order it happened per ticket.
INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub, actor_org,
                           actor_role, kind, data)
SELECT e.tenant_id, e.number, e.at, e.actor, e.org, e.role, e.kind, e.data
  FROM (SELECT l.tenant_id, l.number, l.created_at AS at, 1 AS seq, l.requester AS actor,
               coalesce(l.org, b.slug) AS org, l.role, 'created' AS kind,
               jsonb_build_object('title', 'seeded', 'priority', l.priority, 'status', 'new',
                                  'side', l.side, 'category', l.category,
                                  'requester', l.requester) AS data
          FROM big_life l, big b
        UNION ALL
        SELECT l.tenant_id, l.number, l.started_at, 2, 'tech.r' || l.number % 40, 'provider',
               'technician', 'updated',
               app.ticket_changes(l.side, l.side, NULL, l.tier, NULL, NULL, 'new', 'in_progress')
          FROM big_life l
        UNION ALL
        SELECT l.tenant_id, l.number, l.responded_at, 3, 'tech.r' || l.number % 40, 'provider',
               'technician', 'comment',
               jsonb_build_object('body', 'Looking into it.', 'visibility', 'public')
          FROM big_life l WHERE l.responded_at < now()
        UNION ALL
        SELECT l.tenant_id, l.number, s.at, s.seq, 'tech.r' || l.number % 40, 'provider',
               'technician', 'updated',
               jsonb_build_object('status', jsonb_build_object('from', s.f, 'to', s.t))
          FROM big_life l,
               LATERAL (VALUES (l.first_resolved, 4, 'in_progress', 'resolved'),
                               (l.reopened_at, 5, 'resolved', 'in_progress'),
                               (l.second_resolved, 6, 'in_progress', 'resolved'),
                               (CASE WHEN l.closed THEN l.final_resolved + interval '3 days' END,
                                7, 'resolved', 'closed')) s (at, seq, f, t)
         WHERE s.at IS NOT NULL) e
 ORDER BY e.tenant_id, e.number, e.seq;

INSERT INTO ticket_open_spans (tenant_id, ticket_number, opened_at, closed_at)
SELECT l.tenant_id, l.number, l.created_at, l.first_resolved FROM big_life l
UNION ALL
SELECT l.tenant_id, l.number, l.reopened_at, l.second_resolved FROM big_life l
 WHERE l.reopened_at IS NOT NULL;

-- As created, and as it was resolved for the last time.
INSERT INTO ticket_sla_facts (tenant_id, ticket_number, valid_from, valid_to, priority, sla)
SELECT l.tenant_id, l.number, l.created_at, l.final_resolved, l.priority,
       pg_temp.bench_sla(l.config, l.created_at, l.created_at, l.side, l.tier, l.t_response,
                         l.t_resolution, NULL, NULL)
  FROM big_life l
UNION ALL
SELECT l.tenant_id, l.number, l.final_resolved, NULL, l.priority,
       pg_temp.bench_sla(l.config, l.final_resolved, l.created_at, l.side, l.tier,
                         l.t_response, l.t_resolution, l.responded_at, l.final_resolved)
  FROM big_life l WHERE l.final_resolved IS NOT NULL;

-- Escalations that move the work, decided within two hours.
INSERT INTO escalations (tenant_id, ticket_number, kind, target, status, from_side, from_tier,
                         note, context, rule, auto_key, raised_by, raised_at, acknowledge_by,
                         timed_out_at, decided_by, decided_at, reason)
SELECT l.tenant_id, l.number,
       CASE WHEN l.side = 'provider' AND l.tier <> 'L3' THEN 'functional' ELSE 'handoff' END,
       CASE WHEN l.side = 'provider' AND l.tier = 'L1' THEN 'provider:L2'
            WHEN l.side = 'provider' AND l.tier = 'L2' THEN 'provider:L3'
            WHEN l.side = 'provider' THEN 'internal_it' ELSE 'provider:L1' END,
       CASE WHEN l.r_wait < 0.05 THEN 'rejected' ELSE 'accepted' END,
       l.side, l.tier, '{}', '{}', 'bench',
       CASE WHEN l.r_escalation < 0.02 THEN 'resolution:75' END, 'tech.r' || l.number % 40,
       l.started_at, l.started_at + interval '1 hour',
       CASE WHEN l.r_wait > 0.9 THEN l.started_at + interval '1 hour' END,
       'tech.r' || (l.number + 1) % 40, l.started_at + l.r_wait * interval '2 hours',
       CASE WHEN l.r_wait < 0.05 THEN 'not for this tier' END
  FROM big_life l WHERE l.r_escalation < 0.08;

SELECT app.fill_report_facts(tenant_id) FROM big;

ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_open_spans;
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_created_category;
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_report_facts;
ALTER TABLE tickets ENABLE TRIGGER tickets_sla_facts;
ALTER TABLE tickets ENABLE TRIGGER tickets_number;

-- ---- 2. the other tenants' past --------------------------------------------
DELETE FROM ticket_sla_facts WHERE sla = '{}';
INSERT INTO ticket_sla_facts (tenant_id, ticket_number, valid_from, valid_to, priority, sla)
SELECT k.tenant_id, k.number, f.valid_from, f.valid_to, k.priority, f.sla
  FROM tickets k
  JOIN tenants t USING (tenant_id),
       LATERAL (SELECT (t.sla_policy->'priorities'->k.priority->>'first_response_minutes')
                           ::integer * 60 AS t_response,
                       (t.sla_policy->'priorities'->k.priority->>'resolution_minutes')
                           ::integer * 60 AS t_resolution,
                       k.created_at + (k.resolved_at - k.created_at) / 5 AS responded) p,
       LATERAL (VALUES (k.created_at, k.resolved_at,
                        pg_temp.bench_sla(t.document_sha256, k.created_at, k.created_at, k.side,
                                          k.tier, p.t_response, p.t_resolution, NULL, NULL)),
                       (k.resolved_at, NULL,
                        pg_temp.bench_sla(t.document_sha256, k.resolved_at, k.created_at,
                                          k.side, k.tier, p.t_response, p.t_resolution,
                                          p.responded, k.resolved_at)))
            f (valid_from, valid_to, sla)
 WHERE k.sla = '{}' AND k.resolved_at IS NOT NULL
   AND NOT EXISTS (SELECT FROM ticket_sla_facts x
                    WHERE x.tenant_id = k.tenant_id AND x.ticket_number = k.number);

COMMIT;
