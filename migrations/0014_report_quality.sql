-- Quality (services/reports/METRICS.md, "Quality"): first-contact
-- resolution, reopen rate, recurrence with the automation candidates, and
-- proactive against reactive work, from the tickets' history.

-- A ticket's earlier tickets, by requester and by asset: what recurrence
-- looks back over.
CREATE INDEX tickets_requester ON tickets (tenant_id, requester, created_at);
CREATE INDEX ticket_assets_asset ON ticket_assets (tenant_id, asset_id, ticket_number);

-- The category a ticket was created with: recorded in its creating event
-- (since the API records it there), or else the first recategorisation's
-- "from", or else the category it has now.
CREATE FUNCTION app.category_at_creation(p_tenant uuid, p_number integer) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(
        (SELECT c.data->>'category' FROM public.ticket_events c
          WHERE c.tenant_id = p_tenant AND c.ticket_number = p_number AND c.kind = 'created'
          LIMIT 1),
        (SELECT c.data->'category'->>'from' FROM public.ticket_events c
          WHERE c.tenant_id = p_tenant AND c.ticket_number = p_number
            AND c.kind = 'updated' AND c.data ? 'category'
          ORDER BY c.event_id LIMIT 1),
        (SELECT k.category FROM public.tickets k
          WHERE k.tenant_id = p_tenant AND k.number = p_number))
    $$;

-- The tickets created in [p_from, p_to) that recur: an earlier ticket of
-- the tenant created within the recurrence window before it, with the
-- same category at creation, for the same requester or linked to one of
-- the same assets.
CREATE FUNCTION app.report_recurring_rows(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (ticket_number integer, created_at timestamptz, category text,
                   earlier integer)
    LANGUAGE sql STABLE
    AS $$
    WITH w AS (
        SELECT make_interval(days => coalesce((t.reporting->>'recurrence_days')::integer, 30))
                   AS days
          FROM public.tenants t WHERE t.tenant_id = p_tenant
    ), c AS (
        SELECT r.ticket_number, r.at AS created_at, r.category, k.requester
          FROM app.report_volume_rows(p_tenant, p_from, p_to) r
          JOIN public.tickets k ON k.tenant_id = p_tenant AND k.number = r.ticket_number
         WHERE r.metric = 'created'
    )
    SELECT c.ticket_number, c.created_at, c.category, e.number
      FROM c, w,
           LATERAL (SELECT x.number FROM (
                        SELECT k2.number, k2.created_at FROM public.tickets k2
                         WHERE k2.tenant_id = p_tenant AND k2.requester = c.requester
                           AND k2.created_at < c.created_at
                           AND k2.created_at >= c.created_at - w.days
                        UNION
                        SELECT k2.number, k2.created_at
                          FROM public.ticket_assets a
                          JOIN public.ticket_assets a2 ON a2.tenant_id = p_tenant
                                                      AND a2.asset_id = a.asset_id
                          JOIN public.tickets k2 ON k2.tenant_id = p_tenant
                                                AND k2.number = a2.ticket_number
                         WHERE a.tenant_id = p_tenant AND a.ticket_number = c.ticket_number
                           AND k2.created_at < c.created_at
                           AND k2.created_at >= c.created_at - w.days) x
                     WHERE app.category_at_creation(p_tenant, x.number) = c.category
                     ORDER BY x.created_at DESC, x.number DESC LIMIT 1) e
    $$;

-- One row per metric and ticket the quality figures of [p_from, p_to)
-- count, as of p_as_of: resolved (the cohort), first_contact (of those,
-- resolved in one touch), reopened (of those, reopened after their
-- resolution, by p_as_of), created (the cohort), recurring, proactive and
-- reactive (of those).  at: the event that put the ticket in the cohort.
CREATE FUNCTION app.report_quality_rows(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                        p_as_of timestamptz)
    RETURNS TABLE (metric text, ticket_number integer, at timestamptz, category text,
                   earlier integer)
    LANGUAGE sql STABLE
    AS $$
    WITH v AS MATERIALIZED (
        SELECT * FROM app.report_volume_rows(p_tenant, p_from, p_to)
         WHERE metric IN ('created', 'resolved')
    ), resolved AS (
        SELECT v.ticket_number, v.at,
               -- a reopening after the resolution, as of p_as_of
               EXISTS (SELECT FROM public.ticket_events e
                        WHERE e.tenant_id = p_tenant AND e.ticket_number = v.ticket_number
                          AND e.occurred_at >= v.at AND e.occurred_at < p_as_of
                          AND e.data->'status'->>'from' IN ('resolved', 'closed')
                          AND e.data->'status'->>'to' NOT IN ('resolved', 'closed'))
                   AS reopened,
               -- one touch: never reopened, moved or escalated by as_of, at
               -- most one public staff reply before the resolution
               NOT EXISTS (SELECT FROM public.ticket_events e
                            WHERE e.tenant_id = p_tenant AND e.ticket_number = v.ticket_number
                              AND e.occurred_at < p_as_of AND e.kind <> 'created'
                              AND (e.kind LIKE 'escalat%' OR e.data ? 'side'
                                   OR e.data ? 'tier'
                                   OR (e.data->'status'->>'from' IN ('resolved', 'closed')
                                       AND e.data->'status'->>'to' NOT IN ('resolved',
                                                                             'closed'))))
               AND (SELECT count(*) FROM public.ticket_events e
                     WHERE e.tenant_id = p_tenant AND e.ticket_number = v.ticket_number
                       AND e.occurred_at <= v.at AND e.kind = 'comment'
                       AND e.visibility = 'public'
                       AND e.actor_role NOT IN ('requester', 'integration')) <= 1
                   AS one_touch
          FROM v WHERE v.metric = 'resolved'
    ), created AS (
        SELECT v.ticket_number, v.at, v.category,
               v.source <> 'user' AND e.actor_sub = k.requester AS proactive
          FROM v
          JOIN public.tickets k ON k.tenant_id = p_tenant AND k.number = v.ticket_number
          LEFT JOIN LATERAL (SELECT c.actor_sub FROM public.ticket_events c
                              WHERE c.tenant_id = p_tenant AND c.ticket_number = v.ticket_number
                                AND c.kind = 'created' LIMIT 1) e ON true
         WHERE v.metric = 'created'
    )
    SELECT 'resolved', ticket_number, at, NULL::text, NULL::integer FROM resolved
    UNION ALL SELECT 'first_contact', ticket_number, at, NULL, NULL FROM resolved WHERE one_touch
    UNION ALL SELECT 'reopened', ticket_number, at, NULL, NULL FROM resolved WHERE reopened
    UNION ALL SELECT 'created', ticket_number, at, category, NULL FROM created
    UNION ALL SELECT CASE WHEN proactive THEN 'proactive' ELSE 'reactive' END,
                     ticket_number, at, category, NULL FROM created
    UNION ALL SELECT 'recurring', ticket_number, created_at, category, earlier
                FROM app.report_recurring_rows(p_tenant, p_from, p_to)
    $$;

-- The quality figures of [p_from, p_to) as of p_as_of, and the automation
-- candidates: the ten categories with the most recurring tickets, with
-- their count in the period before, [p_before, p_from).
CREATE FUNCTION app.report_quality(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                   p_as_of timestamptz, p_before timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH r AS MATERIALIZED (SELECT * FROM app.report_quality_rows(p_tenant, p_from, p_to,
                                                                   p_as_of)),
    n AS (SELECT count(*) FILTER (WHERE metric = 'resolved') AS resolved,
                 count(*) FILTER (WHERE metric = 'first_contact') AS first_contact,
                 count(*) FILTER (WHERE metric = 'reopened') AS reopened,
                 count(*) FILTER (WHERE metric = 'created') AS created,
                 count(*) FILTER (WHERE metric = 'recurring') AS recurring,
                 count(*) FILTER (WHERE metric = 'proactive') AS proactive,
                 count(*) FILTER (WHERE metric = 'reactive') AS reactive
            FROM r),
    now_by AS (SELECT category, count(*) AS c FROM r WHERE metric = 'recurring' GROUP BY 1),
    before_by AS (SELECT category, count(*) AS c
                    FROM app.report_recurring_rows(p_tenant, p_before, p_from) GROUP BY 1)
    SELECT json_build_object(
        'resolved', n.resolved,
        'first_contact_resolution', n.first_contact,
        'first_contact_resolution_rate', app.report_ratio(n.first_contact, n.resolved),
        'reopened_after_resolution', n.reopened,
        'reopen_rate', app.report_ratio(n.reopened, n.resolved),
        'created', n.created,
        'recurring', n.recurring,
        'recurrence_rate', app.report_ratio(n.recurring, n.created),
        'recurrence_days', (SELECT coalesce((t.reporting->>'recurrence_days')::integer, 30)
                              FROM public.tenants t WHERE t.tenant_id = p_tenant),
        'proactive', n.proactive,
        'reactive', n.reactive,
        'proactive_share', app.report_ratio(n.proactive, n.created),
        'automation_candidates', (
            SELECT coalesce(json_agg(json_build_object(
                       'category', a.category, 'recurring', a.c,
                       'previous_period', coalesce(b.c, 0), 'change', a.c - coalesce(b.c, 0))
                     ORDER BY a.c DESC, a.category), '[]')
              FROM (SELECT * FROM now_by ORDER BY c DESC, category LIMIT 10) a
              LEFT JOIN before_by b USING (category)))
      FROM n
    $$;
