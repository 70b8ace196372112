-- The trend and the portfolio (services/reports/METRICS.md, "Trend" and
-- "Portfolio"): the headline metrics of a run of periods of a tenant, and
-- of one period of every tenant the principal sees, each in the tenant's
-- own time.  Each figure is counted from its own report's rows, so a
-- trend's month is the same numbers as that month's reports.

-- The headline metrics of one period of a tenant.  p_period: {"period",
-- "start", "end", "complete", "from", "to", "before"}, as the gateway
-- computes them in the tenant's time zone: the name and local bounds
-- shown, whether as_of is past its end, and the instants counted in
-- microseconds since the epoch (to is the period's end or as_of,
-- whichever is first; before, the start of the period before).  Each
-- figure is counted from the rows its own report counts (the quality rows
-- hold the volume's created and resolved), without the splits, the start
-- of the backlog or the automation candidates a headline does not show.
CREATE FUNCTION app.report_headline(p_tenant uuid, p_period json, p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    SET work_mem = '32MB'
    AS $$
    WITH i AS (
        SELECT to_timestamp((p_period->>'from')::bigint / 1e6) AS f,
               to_timestamp((p_period->>'to')::bigint / 1e6) AS t
    ), q AS (
        SELECT count(*) FILTER (WHERE r.metric = 'created') AS created,
               count(*) FILTER (WHERE r.metric = 'resolved') AS resolved,
               count(*) FILTER (WHERE r.metric = 'first_contact') AS first_contact,
               count(*) FILTER (WHERE r.metric = 'reopened') AS reopened,
               count(*) FILTER (WHERE r.metric = 'recurring') AS recurring
          FROM i, app.report_quality_rows(p_tenant, i.f, i.t, p_as_of) r
    ), s AS MATERIALIZED (
        SELECT r.clock, r.outcome, r.counted, r.stopped, r.elapsed
          FROM i, app.report_sla_rows(p_tenant, i.f, i.t) r
    ), a AS (
        SELECT c.clock,
               app.report_ratio(count(*) FILTER (WHERE s.counted AND s.outcome = 'met'),
                                count(*) FILTER (WHERE s.counted
                                                   AND s.outcome IN ('met', 'breached')))
                   AS attainment
          FROM (VALUES ('response'), ('resolution')) c (clock)
          LEFT JOIN s ON s.clock = c.clock
         GROUP BY c.clock
    ), times AS (
        SELECT app.report_spread(array_agg(s.elapsed)) AS spread
          FROM s, i WHERE s.clock = 'resolution' AND s.stopped >= i.f
    )
    SELECT json_build_object(
               'period', p_period->>'period', 'start', p_period->>'start',
               'end', p_period->>'end', 'complete', (p_period->>'complete')::boolean,
               'created', q.created, 'resolved', q.resolved,
               'net_change', q.created - q.resolved,
               'open_at_end', (SELECT count(*) FROM i, app.report_open_rows(p_tenant, i.t)),
               'response_attainment',
                   (SELECT a.attainment FROM a WHERE a.clock = 'response'),
               'resolution_attainment',
                   (SELECT a.attainment FROM a WHERE a.clock = 'resolution'),
               'resolution_median_business_seconds', (times.spread->>'median')::bigint,
               'resolution_p90_business_seconds', (times.spread->>'p90')::bigint,
               'first_contact_resolution_rate', app.report_ratio(q.first_contact, q.resolved),
               'reopen_rate', app.report_ratio(q.reopened, q.resolved),
               'recurrence_rate', app.report_ratio(q.recurring, q.created))
      FROM q, times
    $$;

-- The trend: p_periods, an array of such periods, oldest first.
CREATE FUNCTION app.report_trend(p_tenant uuid, p_periods json, p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(json_agg(app.report_headline(p_tenant, p.value, p_as_of)
                             ORDER BY p.ordinality), '[]')
      FROM json_array_elements(p_periods) WITH ORDINALITY p
    $$;

-- The members of a, then those of b, in their order (json, unlike jsonb,
-- keeps it: the order a CSV's columns take).
CREATE FUNCTION app.json_merge(a json, b json) RETURNS json
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT json_object_agg(m.key, m.value ORDER BY m.part, m.n)
      FROM (SELECT 1 AS part, x.* FROM json_each(a) WITH ORDINALITY x (key, value, n)
            UNION ALL
            SELECT 2, y.* FROM json_each(b) WITH ORDINALITY y (key, value, n)) m
    $$;

-- Every tenant the principal sees (row-level security decides), in the
-- order asked: p_sort a headline metric, "tenant" or "name", descending
-- or not; a tenant with no value for the metric last, ties by slug.
-- p_periods maps each time zone to its period, as app.report_trend takes
-- one.
CREATE FUNCTION app.report_portfolio(p_periods json, p_as_of timestamptz, p_sort text,
                                     p_descending boolean)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH r AS (
        SELECT t.slug, app.json_merge(
                   json_build_object('tenant', t.slug, 'name', t.name,
                                     'timezone', t.timezone),
                   app.report_headline(t.tenant_id, p_periods->t.timezone, p_as_of)) AS row
          FROM public.tenants t
    ), k AS (
        SELECT r.*, CASE WHEN p_sort IN ('tenant', 'name') THEN r.row->>p_sort END AS word,
               CASE WHEN p_sort NOT IN ('tenant', 'name') THEN (r.row->>p_sort)::numeric
                    END AS number
          FROM r
    )
    SELECT coalesce(json_agg(k.row ORDER BY
               CASE WHEN NOT p_descending THEN k.word END,
               CASE WHEN p_descending THEN k.word END DESC,
               CASE WHEN NOT p_descending THEN k.number END NULLS LAST,
               CASE WHEN p_descending THEN k.number END DESC NULLS LAST,
               k.slug), '[]')
      FROM k
    $$;
