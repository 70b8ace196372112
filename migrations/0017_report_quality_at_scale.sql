-- Quality (services/reports/METRICS.md) at the size of a large client:
-- what its rows needed per ticket is now kept on write or read in one
-- pass.
--  - A ticket's category at creation is kept on the ticket
--    (tickets.created_category), as 0014's app.category_at_creation()
--    defined it: the creating event's category, or else the first
--    recategorisation's "from"; NULL means neither is recorded and the
--    category now is it.
--  - Recurrence is found in one pass: the tickets created in the period
--    and the recurrence window before it, grouped by requester and
--    category (and by asset and category), each ticket's latest strictly
--    earlier one found by two window functions over one sort.  It was a
--    look-back per ticket, which grew with the square of a busy
--    requester's tickets (a monitoring client raising thousands a month).
--  - A resolved ticket's events are read once for its one-touch and reopen
--    tests, not three times.

-- The API sets the column as it creates a ticket (its creating event
-- holds the same category), so that the trigger, which keeps it for
-- histories written otherwise, finds nothing to write then.

-- A tenant's tickets created in a span of time, by index.
CREATE INDEX tickets_created ON tickets (tenant_id, created_at);

ALTER TABLE tickets ADD COLUMN created_category text;

CREATE FUNCTION app.track_created_category() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
BEGIN
    UPDATE public.tickets
       SET created_category = CASE WHEN NEW.kind = 'created' THEN NEW.data->>'category'
                                   ELSE NEW.data->'category'->>'from' END
     WHERE tenant_id = NEW.tenant_id AND number = NEW.ticket_number
       AND created_category IS NULL;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.track_created_category() FROM PUBLIC;

CREATE TRIGGER ticket_events_created_category AFTER INSERT ON ticket_events
    FOR EACH ROW WHEN (NEW.kind IN ('created', 'updated') AND NEW.data ? 'category')
    EXECUTE FUNCTION app.track_created_category();

-- Read as coalesce(created_category, category) now; the function that
-- looked it up in the history has no caller left (the rows below replace
-- those of 0014 that used it).
DROP FUNCTION app.category_at_creation(uuid, integer);

-- The history so far.
SELECT set_config('msp.all', 'on', true);
UPDATE tickets k SET created_category = c.category
  FROM (SELECT DISTINCT ON (e.tenant_id, e.ticket_number) e.tenant_id, e.ticket_number,
               CASE WHEN e.kind = 'created' THEN e.data->>'category'
                    ELSE e.data->'category'->>'from' END AS category
          FROM ticket_events e
         WHERE e.kind IN ('created', 'updated') AND e.data ? 'category'
         ORDER BY e.tenant_id, e.ticket_number, e.kind <> 'created', e.event_id) c
 WHERE k.tenant_id = c.tenant_id AND k.number = c.ticket_number;

-- Same rows as before: the tickets created in [p_from, p_to) that recur,
-- with the latest earlier ticket that makes them recur.
CREATE OR REPLACE FUNCTION app.report_recurring_rows(p_tenant uuid, p_from timestamptz,
                                                     p_to timestamptz)
    RETURNS TABLE (ticket_number integer, created_at timestamptz, category text,
                   earlier integer)
    LANGUAGE sql STABLE
    AS $$
    WITH w AS (
        SELECT make_interval(days => coalesce((t.reporting->>'recurrence_days')::integer, 30))
                   AS days
          FROM public.tenants t WHERE t.tenant_id = p_tenant
    ), k AS MATERIALIZED (
        -- key orders tickets by creation, then number, in one number
        SELECT k.number, k.created_at, k.requester,
               coalesce(k.created_category, k.category) AS category,
               (extract(epoch FROM k.created_at) * 1000000)::numeric * 2147483648 + k.number
                   AS key
          FROM public.tickets k, w
         WHERE k.tenant_id = p_tenant AND k.created_at >= p_from - w.days
           AND k.created_at < p_to
    ), paths AS (
        SELECT k.number, k.created_at, k.category, k.key, 'requester' AS via, k.requester AS who
          FROM k
        UNION ALL
        SELECT k.number, k.created_at, k.category, k.key, 'asset', a.asset_id::text
          FROM k JOIN public.ticket_assets a ON a.tenant_id = p_tenant
                                            AND a.ticket_number = k.number
    ), ordered AS (
        SELECT p.*, lag(p.key) OVER (PARTITION BY p.via, p.who, p.category ORDER BY p.key)
                        AS just_before
          FROM paths p
    ), prev AS (
        -- the latest ticket of the same requester (or asset) and category
        -- created strictly before: the one just before the first of the
        -- tickets created at the same instant
        SELECT o.number, o.created_at, o.category,
               first_value(o.just_before) OVER (PARTITION BY o.via, o.who, o.category,
                                                             o.created_at ORDER BY o.key)
                   AS before
          FROM ordered o
    )
    SELECT p.number, p.created_at, p.category, (max(p.before) % 2147483648)::integer
      FROM prev p, w
     WHERE p.created_at >= p_from AND p.before IS NOT NULL
       AND floor(p.before / 2147483648)
           >= (extract(epoch FROM p.created_at - w.days) * 1000000)::numeric
     GROUP BY p.number, p.created_at, p.category
    $$;

-- Same rows as before (0014): resolved, first_contact, reopened, created,
-- proactive or reactive, recurring.
CREATE OR REPLACE FUNCTION app.report_quality_rows(p_tenant uuid, p_from timestamptz,
                                                   p_to timestamptz, p_as_of timestamptz)
    RETURNS TABLE (metric text, ticket_number integer, at timestamptz, category text,
                   earlier integer)
    LANGUAGE sql STABLE
    AS $$
    WITH v AS MATERIALIZED (
        SELECT * FROM app.report_volume_rows(p_tenant, p_from, p_to)
         WHERE metric IN ('created', 'resolved')
    ), resolved AS (
        SELECT v.ticket_number, v.at, h.reopened,
               -- one touch: never reopened, moved or escalated by as_of, at
               -- most one public staff reply before the resolution
               NOT h.moved AND h.replies <= 1 AS one_touch
          FROM v,
               LATERAL (SELECT
                   -- a reopening after the resolution, as of p_as_of
                   coalesce(bool_or(e.occurred_at >= v.at AND x.reopen), false) AS reopened,
                   coalesce(bool_or(e.kind <> 'created'
                                    AND (e.kind LIKE 'escalat%' OR e.data ? 'side'
                                         OR e.data ? 'tier' OR x.reopen)), false) AS moved,
                   count(*) FILTER (WHERE e.occurred_at <= v.at AND e.kind = 'comment'
                                      AND e.visibility = 'public'
                                      AND e.actor_role NOT IN ('requester', 'integration'))
                       AS replies
                  FROM public.ticket_events e,
                       LATERAL (SELECT e.data->'status'->>'from' IN ('resolved', 'closed')
                                       AND e.data->'status'->>'to' NOT IN ('resolved', 'closed')
                                           AS reopen) x
                 WHERE e.tenant_id = p_tenant AND e.ticket_number = v.ticket_number
                   AND e.occurred_at < p_as_of) h
         WHERE v.metric = 'resolved'
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

-- Same rows as before (0011), from lighter intermediate rows: the events
-- of the period are kept with the few fields the rows need, not their
-- whole data, so that a large client's month sorts in memory (with the
-- work_mem its callers set: a function with settings of its own is
-- planned anew at every call, which the portfolio makes per tenant).
CREATE OR REPLACE FUNCTION app.report_volume_rows(p_tenant uuid, p_from timestamptz,
                                                  p_to timestamptz)
    RETURNS TABLE (metric text, ticket_number integer, at timestamptz, priority text,
                   category text, source text, first_side text)
    LANGUAGE sql STABLE
    AS $$
    WITH ev AS MATERIALIZED (
        SELECT e.event_id, e.ticket_number, e.kind, e.occurred_at,
               CASE WHEN e.kind = 'created' THEN e.data->>'priority' END AS priority,
               CASE WHEN e.kind = 'created' THEN e.data->>'category' END AS category,
               CASE WHEN e.kind = 'created' THEN e.data->>'side' END AS side,
               CASE WHEN e.kind = 'created' THEN app.ticket_source(e.actor_org, e.actor_role)
                    END AS source,
               e.data->'status'->>'from' AS st_from, e.data->'status'->>'to' AS st_to
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
    SELECT 'created', ev.ticket_number, ev.occurred_at, ev.priority,
           coalesce(ev.category,
                    (SELECT coalesce(k.created_category, k.category) FROM public.tickets k
                      WHERE k.tenant_id = p_tenant AND k.number = ev.ticket_number)),
           ev.source, ev.side
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

-- Same rows as before (0012), in the order that stays cheap for a large
-- client: the open spans first (a few thousand, by index), then each one's
-- ticket by its key.  (The planner, misjudging how many spans are open at
-- an instant, would read every ticket of the tenant instead; OFFSET 0
-- keeps the spans a query of their own.)
CREATE OR REPLACE FUNCTION app.report_open_rows(p_tenant uuid, p_at timestamptz)
    RETURNS TABLE (ticket_number integer, created_at timestamptz, age text, side text)
    LANGUAGE sql STABLE
    AS $$
    SELECT s.ticket_number, k.created_at,
           CASE WHEN p_at - k.created_at < interval '8 days' THEN '0-7'
                WHEN p_at - k.created_at < interval '31 days' THEN '8-30'
                WHEN p_at - k.created_at < interval '91 days' THEN '31-90'
                ELSE 'over_90' END,
           coalesce((SELECT coalesce(e.data->'side'->>'to', e.data->>'side')
                       FROM public.ticket_events e
                      WHERE e.tenant_id = p_tenant AND e.ticket_number = s.ticket_number
                        AND e.occurred_at < p_at
                        AND (e.kind = 'created' OR e.data->'side' ? 'to')
                      ORDER BY e.event_id DESC LIMIT 1), 'unknown')
      FROM (SELECT o.ticket_number FROM public.ticket_open_spans o
             WHERE o.tenant_id = p_tenant AND o.opened_at < p_at
               AND (o.closed_at IS NULL OR o.closed_at >= p_at)
            OFFSET 0) s
      CROSS JOIN LATERAL (SELECT x.created_at FROM public.tickets x
                           WHERE x.tenant_id = p_tenant AND x.number = s.ticket_number) k
    $$;

-- A large client's month sorts and aggregates a few hundred thousand rows:
-- in memory rather than in temporary files (each report runs on one
-- connection of the gateway's pool).
ALTER FUNCTION app.report_volume(uuid, timestamptz, timestamptz) SET work_mem = '32MB';
ALTER FUNCTION app.report_sla(uuid, timestamptz, timestamptz) SET work_mem = '32MB';
ALTER FUNCTION app.report_quality(uuid, timestamptz, timestamptz, timestamptz, timestamptz)
    SET work_mem = '32MB';
ALTER FUNCTION app.report_comanagement(uuid, timestamptz, timestamptz) SET work_mem = '32MB';
