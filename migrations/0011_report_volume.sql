-- The volume report (services/reports/METRICS.md, "Volume"): which tickets
-- were created, resolved, closed and reopened in a period, read from the
-- tickets' history so that a report as of an instant never sees what was
-- recorded after it.
--
-- The events that create a ticket or change its status are found by one
-- index range per tenant and period; everything else a row needs (the
-- category at creation, the priority at resolution) is one short index
-- lookup per ticket.

CREATE INDEX ticket_events_status_changes ON ticket_events (tenant_id, occurred_at)
    WHERE kind = 'created' OR data ? 'status';

-- Who raised a ticket, from the creating event's actor.
CREATE FUNCTION app.ticket_source(p_org text, p_role text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_role = 'integration' THEN 'machine'
                WHEN p_role = 'requester' THEN 'user'
                WHEN p_org = 'provider' THEN 'provider'
                ELSE 'internal_it' END
    $$;

-- One row per metric and ticket counted in [p_from, p_to): the drill-down
-- of every volume figure, and what the figures count.  `at` is the event
-- that put the ticket there (the last one of its kind in the period);
-- created rows carry the split fields as they were at creation, the
-- others the priority in force when they happened.  The category at
-- creation is in the creating event (since the API records it there), or
-- else the first recategorisation's "from", or else the category now.
CREATE FUNCTION app.report_volume_rows(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (metric text, ticket_number integer, at timestamptz, priority text,
                   category text, source text, first_side text)
    LANGUAGE sql STABLE
    AS $$
    WITH ev AS (
        SELECT e.event_id, e.ticket_number, e.kind, e.occurred_at, e.actor_org, e.actor_role,
               e.data, e.data->'status'->>'from' AS st_from, e.data->'status'->>'to' AS st_to
          FROM public.ticket_events e
         WHERE e.tenant_id = p_tenant AND (e.kind = 'created' OR e.data ? 'status')
           AND e.occurred_at >= p_from AND e.occurred_at < p_to
    ), moves AS (
        SELECT DISTINCT ON (m.metric, ev.ticket_number)
               m.metric, ev.ticket_number, ev.occurred_at, ev.event_id
          FROM ev, LATERAL (VALUES
                   (CASE WHEN ev.st_to = 'resolved'
                           OR (ev.st_to = 'closed' AND ev.st_from NOT IN ('resolved', 'closed'))
                         THEN 'resolved' END),
                   (CASE WHEN ev.st_to = 'closed' THEN 'closed' END),
                   (CASE WHEN ev.st_from IN ('resolved', 'closed')
                          AND ev.st_to NOT IN ('resolved', 'closed')
                         THEN 'reopened' END)) AS m(metric)
         WHERE ev.kind <> 'created' AND m.metric IS NOT NULL
         ORDER BY m.metric, ev.ticket_number, ev.event_id DESC
    )
    SELECT 'created', ev.ticket_number, ev.occurred_at, ev.data->>'priority',
           coalesce(ev.data->>'category',
                    (SELECT c.data->'category'->>'from' FROM public.ticket_events c
                      WHERE c.tenant_id = p_tenant AND c.ticket_number = ev.ticket_number
                        AND c.kind = 'updated' AND c.data ? 'category'
                      ORDER BY c.event_id LIMIT 1),
                    (SELECT k.category FROM public.tickets k
                      WHERE k.tenant_id = p_tenant AND k.number = ev.ticket_number)),
           app.ticket_source(ev.actor_org, ev.actor_role), ev.data->>'side'
      FROM ev
     WHERE ev.kind = 'created'
    UNION ALL
    SELECT mv.metric, mv.ticket_number, mv.occurred_at,
           (SELECT coalesce(p.data->'priority'->>'to', p.data->>'priority')
              FROM public.ticket_events p
             WHERE p.tenant_id = p_tenant AND p.ticket_number = mv.ticket_number
               AND p.event_id <= mv.event_id AND (p.kind = 'created' OR p.data ? 'priority')
             ORDER BY p.event_id DESC LIMIT 1),
           NULL, NULL, NULL
      FROM moves mv
    $$;

-- The volume figures of [p_from, p_to), with their splits, keys in order;
-- a field the history does not hold (tickets loaded with SQL) counts under
-- "unknown".
CREATE FUNCTION app.report_volume(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH r AS MATERIALIZED (SELECT * FROM app.report_volume_rows(p_tenant, p_from, p_to)),
    n AS (SELECT count(*) FILTER (WHERE metric = 'created') AS created,
                 count(*) FILTER (WHERE metric = 'resolved') AS resolved,
                 count(*) FILTER (WHERE metric = 'closed') AS closed,
                 count(*) FILTER (WHERE metric = 'reopened') AS reopened
            FROM r)
    SELECT json_build_object(
        'created', n.created, 'resolved', n.resolved, 'closed', n.closed,
        'reopened', n.reopened, 'net_change', n.created - n.resolved,
        'created_by', json_build_object(
            'priority', (SELECT coalesce(json_object_agg(v, c ORDER BY v), '{}')
                           FROM (SELECT coalesce(priority, 'unknown') AS v, count(*) AS c FROM r
                                  WHERE metric = 'created' GROUP BY 1) x),
            'category', (SELECT coalesce(json_object_agg(v, c ORDER BY v), '{}')
                           FROM (SELECT coalesce(category, 'unknown') AS v, count(*) AS c FROM r
                                  WHERE metric = 'created' GROUP BY 1) x),
            'source', (SELECT coalesce(json_object_agg(v, c ORDER BY v), '{}')
                         FROM (SELECT coalesce(source, 'unknown') AS v, count(*) AS c FROM r
                                WHERE metric = 'created' GROUP BY 1) x),
            'first_side', (SELECT coalesce(json_object_agg(v, c ORDER BY v), '{}')
                             FROM (SELECT coalesce(first_side, 'unknown') AS v, count(*) AS c FROM r
                                    WHERE metric = 'created' GROUP BY 1) x)),
        'resolved_by', json_build_object(
            'priority', (SELECT coalesce(json_object_agg(v, c ORDER BY v), '{}')
                           FROM (SELECT coalesce(priority, 'unknown') AS v, count(*) AS c FROM r
                                  WHERE metric = 'resolved' GROUP BY 1) x)))
      FROM n
    $$;
