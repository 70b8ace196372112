-- Co-management (services/reports/METRICS.md, "Co-management"): who held
-- the work, handoffs, escalations and acknowledgement timeouts.

-- The clocks also keep the provider's held time by tier (sla/clock.h): the
-- history gives each event's tier as its ninth element, a tier's name,
-- '' for none, or NULL when the event did not change it.
CREATE OR REPLACE FUNCTION app.ticket_sla_history(p_tenant uuid, p_number integer) RETURNS json
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
BEGIN
    RETURN (
    SELECT coalesce(json_agg(json_build_array(
               floor(extract(epoch FROM e.occurred_at))::bigint,
               e.kind,
               CASE e.kind WHEN 'created' THEN e.data->>'status' ELSE e.data->'status'->>'to' END,
               CASE e.kind WHEN 'created' THEN e.data->>'side' ELSE e.data->'side'->>'to' END,
               CASE e.kind WHEN 'created' THEN e.data->>'priority'
                           ELSE e.data->'priority'->>'to' END,
               e.kind = 'comment' AND e.visibility = 'public'
                   AND e.actor_role NOT IN ('requester', 'integration'),
               e.data->>'clock',
               (e.data->>'threshold')::integer,
               CASE WHEN e.kind = 'created' THEN coalesce(e.data->>'tier', '')
                    WHEN e.data ? 'tier' THEN coalesce(e.data->'tier'->>'to', '') END)
             ORDER BY e.event_id), '[]'::json)
      FROM public.ticket_events e
     WHERE e.tenant_id = p_tenant AND e.ticket_number = p_number
       AND e.kind IN ('created', 'updated', 'comment', 'sla_warning', 'sla_breached',
                      'escalated', 'escalation_accepted', 'escalation_rejected'));
END
$$;

-- A period's escalations, and its acknowledgement timeouts, by index.
CREATE INDEX escalations_raised ON escalations (tenant_id, raised_at);
CREATE INDEX escalations_timed_out ON escalations (tenant_id, timed_out_at)
    WHERE timed_out_at IS NOT NULL;

-- What the co-management report of [p_from, p_to) counts, one row each:
--  held        a ticket whose resolution clock stopped in the period (the
--              Times cohort), with the business seconds each side, and
--              each of the provider's tiers, held it (its measurement in
--              force at p_to: final, as nothing is held once resolved);
--  handoff     an escalation raised in the period that moves the work
--              (functional, up a tier; handoff, to another side), from
--              the holder it left to its target, with its outcome at p_to
--              and, accepted, the calendar seconds to acceptance;
--  escalation  any escalation raised in the period: its kind, and whether
--              the SLA policy's steps raised it (automatic) or people;
--  ack_timeout an escalation whose acknowledgement deadline passed unheeded
--              in the period.
-- key orders rows of one instant: the ticket's number for held, else the
-- escalation's id.
CREATE FUNCTION app.report_comanagement_rows(p_tenant uuid, p_from timestamptz,
                                              p_to timestamptz)
    RETURNS TABLE (metric text, key bigint, ticket_number integer, at timestamptz,
                   kind text, origin text, from_holder text, to_holder text, outcome text,
                   seconds bigint, held jsonb)
    LANGUAGE sql STABLE
    AS $$
    SELECT 'held', s.ticket_number, s.ticket_number, s.stopped, NULL, NULL, NULL, NULL, NULL,
           NULL, jsonb_build_object('sides', f.sla->'held', 'provider_tiers',
                                    coalesce(f.sla->'held_provider_tier', '{}'))
      FROM (SELECT DISTINCT o.ticket_number FROM public.ticket_open_spans o
             WHERE o.tenant_id = p_tenant AND o.closed_at >= p_from AND o.closed_at < p_to) c
      CROSS JOIN LATERAL (SELECT x.sla FROM public.ticket_sla_facts x
                           WHERE x.tenant_id = p_tenant AND x.ticket_number = c.ticket_number
                             AND x.valid_from < p_to
                           ORDER BY x.valid_from DESC LIMIT 1) f
      CROSS JOIN LATERAL (SELECT c.ticket_number,
                                 to_timestamp((f.sla->'resolution'->>'stopped_at')::bigint)
                                     AS stopped) s
     WHERE s.stopped >= p_from AND s.stopped < p_to
    UNION ALL
    SELECT m.metric, e.escalation_id, e.ticket_number, e.raised_at, e.kind,
           CASE WHEN e.auto_key IS NULL THEN 'people' ELSE 'automatic' END,
           e.from_side || coalesce(':' || e.from_tier, ''), e.target,
           CASE WHEN e.decided_at < p_to THEN e.status ELSE 'open' END,
           CASE WHEN e.decided_at < p_to AND e.status = 'accepted'
                THEN floor(extract(epoch FROM e.decided_at - e.raised_at))::bigint END,
           NULL
      FROM public.escalations e
      CROSS JOIN LATERAL (VALUES ('escalation'), ('handoff')) m (metric)
     WHERE e.tenant_id = p_tenant AND e.raised_at >= p_from AND e.raised_at < p_to
       AND (m.metric = 'escalation' OR e.kind IN ('functional', 'handoff'))
    UNION ALL
    SELECT 'ack_timeout', e.escalation_id, e.ticket_number, e.timed_out_at, e.kind,
           CASE WHEN e.auto_key IS NULL THEN 'people' ELSE 'automatic' END,
           e.from_side || coalesce(':' || e.from_tier, ''), e.target, NULL, NULL, NULL
      FROM public.escalations e
     WHERE e.tenant_id = p_tenant AND e.timed_out_at >= p_from AND e.timed_out_at < p_to
    $$;

-- part / whole of the seconds held, to four places.
CREATE FUNCTION app.report_held(p_seconds bigint, p_total bigint) RETURNS json
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object('business_seconds', p_seconds,
                             'share', app.report_ratio(p_seconds, p_total))
    $$;

-- The co-management report of [p_from, p_to): held time by side and by
-- the provider's tier with shares of the total; handoffs overall and by
-- route (from, to) with outcomes and time to acceptance; escalations by
-- kind and origin; acknowledgement timeouts by kind.
CREATE FUNCTION app.report_comanagement(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH r AS MATERIALIZED (SELECT * FROM app.report_comanagement_rows(p_tenant, p_from, p_to)),
    held AS (
        SELECT count(*) AS tickets,
               coalesce(sum((held->'sides'->>'provider')::bigint), 0)::bigint AS provider,
               coalesce(sum((held->'sides'->>'internal_it')::bigint), 0)::bigint AS internal_it,
               coalesce(sum((held->'sides'->>'vendor')::bigint), 0)::bigint AS vendor,
               coalesce(sum((held->'sides'->>'customer')::bigint), 0)::bigint AS customer,
               coalesce(sum((held->'provider_tiers'->>'none')::bigint), 0)::bigint AS t_none,
               coalesce(sum((held->'provider_tiers'->>'L1')::bigint), 0)::bigint AS t_l1,
               coalesce(sum((held->'provider_tiers'->>'L2')::bigint), 0)::bigint AS t_l2,
               coalesce(sum((held->'provider_tiers'->>'L3')::bigint), 0)::bigint AS t_l3
          FROM r WHERE metric = 'held'
    ), h AS (
        SELECT *, provider + internal_it + vendor + customer AS total FROM held
    ), moves AS (
        SELECT from_holder, to_holder, count(*) AS raised,
               count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
               count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
               count(*) FILTER (WHERE outcome = 'withdrawn') AS withdrawn,
               count(*) FILTER (WHERE outcome = 'open') AS open_at_end,
               array_agg(seconds) FILTER (WHERE seconds IS NOT NULL) AS waits
          FROM r WHERE metric = 'handoff'
         GROUP BY GROUPING SETS ((), (from_holder, to_holder))
    ), esc AS (
        SELECT kind, count(*) AS raised,
               count(*) FILTER (WHERE origin = 'automatic') AS automatic,
               count(*) FILTER (WHERE origin = 'people') AS people
          FROM r WHERE metric = 'escalation' GROUP BY GROUPING SETS ((), (kind))
    ), acks AS (
        SELECT kind, count(*) AS n FROM r WHERE metric = 'ack_timeout'
         GROUP BY GROUPING SETS ((), (kind))
    )
    SELECT json_build_object(
        'held', json_build_object(
            'tickets', h.tickets, 'business_seconds', h.total,
            'sides', json_build_object(
                'provider', json_build_object(
                    'business_seconds', h.provider,
                    'share', app.report_ratio(h.provider, h.total),
                    -- "unknown": measured before held time was kept by tier
                    'tiers', (SELECT json_object_agg(x.tier, app.report_held(x.seconds, h.total)
                                                     ORDER BY x.o)
                                FROM (VALUES (1, 'none', h.t_none), (2, 'L1', h.t_l1),
                                             (3, 'L2', h.t_l2), (4, 'L3', h.t_l3),
                                             (5, 'unknown', h.provider - h.t_none - h.t_l1
                                                            - h.t_l2 - h.t_l3))
                                     x (o, tier, seconds)
                               WHERE x.o < 5 OR x.seconds > 0)),
                'internal_it', app.report_held(h.internal_it, h.total),
                'vendor', app.report_held(h.vendor, h.total),
                'customer', app.report_held(h.customer, h.total))),
        'handoffs', (
            SELECT json_build_object(
                'raised', coalesce(a.raised, 0), 'accepted', coalesce(a.accepted, 0),
                'rejected', coalesce(a.rejected, 0), 'withdrawn', coalesce(a.withdrawn, 0),
                'open_at_end', coalesce(a.open_at_end, 0),
                'time_to_acceptance', json_build_object(
                    'count', coalesce(cardinality(a.waits), 0),
                    'calendar_seconds', app.report_spread(a.waits)),
                'routes', (
                    SELECT coalesce(json_agg(json_build_object(
                               'from', m.from_holder, 'to', m.to_holder, 'raised', m.raised,
                               'accepted', m.accepted, 'rejected', m.rejected,
                               'withdrawn', m.withdrawn, 'open_at_end', m.open_at_end,
                               'time_to_acceptance', json_build_object(
                                   'count', coalesce(cardinality(m.waits), 0),
                                   'calendar_seconds', app.report_spread(m.waits)))
                             ORDER BY m.from_holder, m.to_holder), '[]')
                      FROM moves m WHERE m.from_holder IS NOT NULL))
              FROM (SELECT 1) one LEFT JOIN moves a ON a.from_holder IS NULL),
        'escalations', (
            SELECT json_build_object(
                'raised', coalesce(a.raised, 0), 'automatic', coalesce(a.automatic, 0),
                'by_people', coalesce(a.people, 0),
                'by_kind', (SELECT coalesce(json_object_agg(k.kind, json_build_object(
                                       'raised', k.raised, 'automatic', k.automatic,
                                       'by_people', k.people) ORDER BY k.kind), '{}')
                              FROM esc k WHERE k.kind IS NOT NULL))
              FROM (SELECT 1) one LEFT JOIN esc a ON a.kind IS NULL),
        'acknowledgement_timeouts', (
            SELECT json_build_object(
                'count', coalesce(a.n, 0),
                'by_kind', (SELECT coalesce(json_object_agg(k.kind, k.n ORDER BY k.kind), '{}')
                              FROM acks k WHERE k.kind IS NOT NULL))
              FROM (SELECT 1) one LEFT JOIN acks a ON a.kind IS NULL))
      FROM h
    $$;
