-- Settled periods (services/reports/METRICS.md, version 2).  A reopening
-- counts within the tenant file's reopen window after the resolution
-- (reporting.reopen_days, default 7), so every headline figure of a
-- period that ended depends only on what was recorded before its end plus
-- that window: from then on it is final, whatever happens afterwards.
-- Such a period's headline is computed once and kept in report_headlines;
-- the trend and the portfolio read it there instead of replaying the
-- period's history at every request.  The module's timer fills the store
-- (app.settle_report_headlines, msp_report_settle_interval).

-- The tenant's reporting windows, with their defaults.
CREATE FUNCTION app.report_windows(p_tenant uuid)
    RETURNS TABLE (recurrence_days integer, reopen_days integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce((t.reporting->>'recurrence_days')::integer, 30),
           coalesce((t.reporting->>'reopen_days')::integer, 7)
      FROM public.tenants t WHERE t.tenant_id = p_tenant
    $$;

-- The open spans of a tenant that are open at some instant of
-- [p_from, p_to] (p_from = p_to: open at that instant), read as two
-- ranges of the index on (tenant_id, closed_at): those closed since
-- p_from, and those still open.  (One condition with an OR would have the
-- planner read every span of the tenant.)
CREATE FUNCTION app.open_spans(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (ticket_number integer, opened_at timestamptz, closed_at timestamptz)
    LANGUAGE sql STABLE
    AS $$
    SELECT o.ticket_number, o.opened_at, o.closed_at FROM public.ticket_open_spans o
     WHERE o.tenant_id = p_tenant AND o.closed_at >= p_from AND o.opened_at < p_to
    UNION ALL
    SELECT o.ticket_number, o.opened_at, o.closed_at FROM public.ticket_open_spans o
     WHERE o.tenant_id = p_tenant AND o.closed_at IS NULL AND o.opened_at < p_to
    $$;

-- As 0017, from app.open_spans, each ticket read by its key (OFFSET 0
-- keeps it so: the planner, misjudging how many tickets the tenant has,
-- would read them all into a hash instead).
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
      FROM (SELECT o.ticket_number FROM app.open_spans(p_tenant, p_at, p_at) o OFFSET 0) s
      CROSS JOIN LATERAL (SELECT x.created_at FROM public.tickets x
                           WHERE x.tenant_id = p_tenant AND x.number = s.ticket_number
                          OFFSET 0) k
    $$;

-- As 0018, the tickets open in the period read from app.open_spans.
CREATE OR REPLACE FUNCTION app.report_sla_rows(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (ticket_number integer, clock text, priority text, outcome text,
                   at timestamptz, due timestamptz, late bigint, stopped timestamptz,
                   elapsed bigint, counted boolean, created_at timestamptz, sla jsonb)
    LANGUAGE sql STABLE
    AS $$
    WITH k AS (
        SELECT DISTINCT s.ticket_number FROM app.open_spans(p_tenant, p_from, p_to) s
    ), c AS (
        SELECT k.ticket_number, f.priority, f.sla, n.clock, v.target, v.elapsed, v.due,
               CASE WHEN v.stopped < p_to THEN v.stopped END AS stopped
          FROM k
          CROSS JOIN LATERAL (SELECT x.priority, x.sla FROM public.ticket_sla_facts x
                               WHERE x.tenant_id = p_tenant AND x.ticket_number = k.ticket_number
                                 AND x.valid_from < p_to
                               ORDER BY x.valid_from DESC LIMIT 1) f
          CROSS JOIN (VALUES ('response'), ('resolution')) n (clock)
          CROSS JOIN LATERAL (SELECT (j.j->>'target')::bigint AS target,
                                     (j.j->>'elapsed')::bigint AS elapsed,
                                     to_timestamp((j.j->>'due')::bigint) AS due,
                                     to_timestamp((j.j->>'stopped_at')::bigint) AS stopped
                                FROM (SELECT f.sla->n.clock AS j) j OFFSET 0) v
    ), o AS (
        SELECT c.*,
               CASE WHEN c.stopped IS NOT NULL AND c.elapsed < c.target THEN 'met'
                    WHEN c.due < p_to THEN 'breached'
                    WHEN c.stopped IS NULL THEN 'running' END AS outcome
          FROM c OFFSET 0
    )
    SELECT o.ticket_number, o.clock, o.priority, o.outcome,
           CASE o.outcome WHEN 'met' THEN o.stopped WHEN 'breached' THEN o.due END,
           o.due,
           CASE WHEN o.outcome = 'breached' AND o.stopped IS NOT NULL
                THEN o.elapsed - o.target END,
           o.stopped, CASE WHEN o.stopped IS NOT NULL THEN o.elapsed END, d.counted,
           (SELECT k.created_at FROM public.tickets k
             WHERE k.tenant_id = p_tenant AND k.number = o.ticket_number), o.sla
      FROM o
      CROSS JOIN LATERAL (SELECT o.outcome = 'running'
                                 OR (o.outcome = 'met' AND o.stopped >= p_from)
                                 OR (o.outcome = 'breached' AND o.due >= p_from) AS counted) d
     WHERE d.counted OR o.stopped >= p_from
    $$;

-- As 0018, but a reopening counts only within the reopen window after
-- the resolution, and a first-contact resolution is one not moved before
-- its resolution (a reopening is a move) nor reopened within the window.
CREATE OR REPLACE FUNCTION app.report_quality_rows(p_tenant uuid, p_from timestamptz,
                                                   p_to timestamptz, p_as_of timestamptz)
    RETURNS TABLE (metric text, ticket_number integer, at timestamptz, category text,
                   earlier integer)
    LANGUAGE sql STABLE
    AS $$
    WITH w AS (
        SELECT make_interval(days => w.reopen_days) AS reopen
          FROM app.report_windows(p_tenant) w
    ), v AS MATERIALIZED (
        SELECT * FROM app.report_volume_rows(p_tenant, p_from, p_to)
         WHERE metric IN ('created', 'resolved')
    ), resolved AS (
        SELECT v.ticket_number, v.at,
               EXISTS (SELECT FROM public.ticket_status_changes c
                        WHERE c.tenant_id = p_tenant AND c.ticket_number = v.ticket_number
                          AND c.occurred_at >= v.at
                          AND c.occurred_at < least(v.at + w.reopen, p_as_of)
                          AND c.from_status IN ('resolved', 'closed')
                          AND c.to_status NOT IN ('resolved', 'closed')) AS reopened,
               NOT coalesce(f.first_moved_at < v.at, false)
               AND NOT coalesce(f.second_reply_at <= v.at, false) AS one_touch
          FROM v
          CROSS JOIN w
          LEFT JOIN public.ticket_report_facts f ON f.tenant_id = p_tenant
                                                AND f.ticket_number = v.ticket_number
         WHERE v.metric = 'resolved'
    ), created AS (
        SELECT v.ticket_number, v.at, v.category, coalesce(f.proactive, false) AS proactive
          FROM v
          JOIN public.ticket_report_facts f ON f.tenant_id = p_tenant
                                           AND f.ticket_number = v.ticket_number
         WHERE v.metric = 'created'
    )
    SELECT 'resolved', ticket_number, at, NULL::text, NULL::integer FROM resolved
    UNION ALL SELECT 'first_contact', ticket_number, at, NULL, NULL FROM resolved
                WHERE one_touch AND NOT reopened
    UNION ALL SELECT 'reopened', ticket_number, at, NULL, NULL FROM resolved WHERE reopened
    UNION ALL SELECT 'created', ticket_number, at, category, NULL FROM created
    UNION ALL SELECT CASE WHEN proactive THEN 'proactive' ELSE 'reactive' END,
                     ticket_number, at, category, NULL FROM created
    UNION ALL SELECT 'recurring', ticket_number, created_at, category, earlier
                FROM app.report_recurring_rows(p_tenant, p_from, p_to)
    $$;

-- The quality report names the reopen window it counted with.
CREATE OR REPLACE FUNCTION app.report_quality(p_tenant uuid, p_from timestamptz,
                                              p_to timestamptz, p_as_of timestamptz,
                                              p_before timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    SET work_mem = '32MB'
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
        'reopen_days', w.reopen_days,
        'created', n.created,
        'recurring', n.recurring,
        'recurrence_rate', app.report_ratio(n.recurring, n.created),
        'recurrence_days', w.recurrence_days,
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
      FROM n, app.report_windows(p_tenant) w
    $$;

-- The headline figures of [p_from, p_to) as of p_as_of, in the order a
-- row shows them: the figures of 0016's app.report_headline, each counted
-- from the rows its own report counts.  Open at the end is a count of the
-- open spans (one per ticket at any instant), without the ticket and the
-- holding side the backlog report looks up for each.
CREATE FUNCTION app.report_headline_figures(p_tenant uuid, p_from timestamptz,
                                            p_to timestamptz, p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    SET work_mem = '32MB'
    AS $$
    WITH q AS (
        SELECT count(*) FILTER (WHERE r.metric = 'created') AS created,
               count(*) FILTER (WHERE r.metric = 'resolved') AS resolved,
               count(*) FILTER (WHERE r.metric = 'first_contact') AS first_contact,
               count(*) FILTER (WHERE r.metric = 'reopened') AS reopened,
               count(*) FILTER (WHERE r.metric = 'recurring') AS recurring
          FROM app.report_quality_rows(p_tenant, p_from, p_to, p_as_of) r
         WHERE r.metric IN ('created', 'resolved', 'first_contact', 'reopened', 'recurring')
    ), s AS MATERIALIZED (
        SELECT r.clock, r.outcome, r.counted, r.stopped, r.elapsed
          FROM app.report_sla_rows(p_tenant, p_from, p_to) r
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
          FROM s WHERE s.clock = 'resolution' AND s.stopped >= p_from
    )
    SELECT json_build_object(
               'created', q.created, 'resolved', q.resolved,
               'net_change', q.created - q.resolved,
               'open_at_end', (SELECT count(*) FROM app.open_spans(p_tenant, p_to, p_to)),
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

-- Stored headlines.  A period's figures can change after its end only
-- by reopenings within the reopen window; so figures counted as of an
-- instant after the end (as_of) still hold at a later instant if no
-- reopening was recorded in between, and always once as_of is past the
-- end plus the window: the period is then *settled*.  A stored row is
-- read only while the tenant's windows are still those named.  Rows are
-- derived, written by the timer whenever it runs: one written while the
-- tenant is being offboarded goes with the tenant (ON DELETE CASCADE).
CREATE TABLE report_headlines (
    tenant_id       uuid        NOT NULL REFERENCES tenants ON DELETE CASCADE,
    from_at         timestamptz NOT NULL,
    to_at           timestamptz NOT NULL,
    recurrence_days integer     NOT NULL,
    reopen_days     integer     NOT NULL,
    -- the instant the figures were counted as of: at least to_at
    as_of           timestamptz NOT NULL,
    figures         json        NOT NULL,
    PRIMARY KEY (tenant_id, from_at, to_at),
    CHECK (as_of >= to_at)
);

ALTER TABLE report_headlines ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_headlines FORCE ROW LEVEL SECURITY;
CREATE POLICY report_headlines_read ON report_headlines FOR SELECT
    USING ((SELECT app.sees_all())
           OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]));
-- a requester sees no report, and no figure of one
CREATE POLICY requester_none ON report_headlines AS RESTRICTIVE FOR SELECT
    USING (NOT (tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[])));
CREATE POLICY report_headlines_write ON report_headlines FOR ALL
    USING ((SELECT app.sees_all())) WITH CHECK ((SELECT app.sees_all()));
GRANT SELECT, INSERT, UPDATE ON report_headlines TO msp_gateway;

-- Whether the figures of a period that ended at p_to, counted as of
-- p_counted, are still its figures as of p_as_of: settled by p_counted,
-- or no reopening recorded since (or in the ten minutes before, which a
-- write still in flight when they were counted may have stamped) that
-- falls within the window.
CREATE FUNCTION app.report_headline_holds(p_tenant uuid, p_to timestamptz,
                                          p_reopen_days integer, p_counted timestamptz,
                                          p_as_of timestamptz)
    RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT p_counted >= p_to AND p_counted <= p_as_of
           AND (p_counted >= p_to + make_interval(days => p_reopen_days)
                OR NOT EXISTS (
                    SELECT FROM public.ticket_status_changes c
                     WHERE c.tenant_id = p_tenant
                       AND c.occurred_at >= p_counted - interval '10 minutes'
                       AND c.occurred_at < least(p_as_of,
                                                 p_to + make_interval(days => p_reopen_days))
                       AND c.from_status IN ('resolved', 'closed')
                       AND c.to_status NOT IN ('resolved', 'closed')))
    $$;

-- The headline of one period (p_period as 0016 describes it): the stored
-- figures while they hold as of p_as_of, else counted now.
CREATE OR REPLACE FUNCTION app.report_headline(p_tenant uuid, p_period json,
                                               p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH i AS (
        SELECT to_timestamp((p_period->>'from')::bigint / 1e6) AS f,
               to_timestamp((p_period->>'to')::bigint / 1e6) AS t,
               (p_period->>'complete')::boolean AS complete
    )
    SELECT app.json_merge(
               json_build_object('period', p_period->>'period', 'start', p_period->>'start',
                                 'end', p_period->>'end', 'complete', i.complete),
               coalesce((SELECT h.figures
                           FROM public.report_headlines h, app.report_windows(p_tenant) w
                          WHERE i.complete AND h.tenant_id = p_tenant
                            AND h.from_at = i.f AND h.to_at = i.t
                            AND h.recurrence_days = w.recurrence_days
                            AND h.reopen_days = w.reopen_days
                            AND app.report_headline_holds(p_tenant, i.t, w.reopen_days,
                                                          h.as_of, p_as_of)),
                        app.report_headline_figures(p_tenant, i.f, i.t, p_as_of)))
      FROM i
    $$;

-- The periods the store keeps, of every tenant (of p_tenant alone, when
-- given), in its time zone: the last twelve ISO weeks, months and
-- quarters settled by p_now, and those ended but not settled yet (the
-- month just ended, which the reviews of the first days of a month ask
-- for), each with the instant it settles.  Local midnights are taken as
-- PostgreSQL resolves them; a period the gateway bounds otherwise (a zone
-- whose clocks change at midnight) is not found in the store and is
-- counted at each request.
CREATE FUNCTION app.report_stored_periods(p_now timestamptz, p_tenant uuid)
    RETURNS TABLE (tenant_id uuid, from_at timestamptz, to_at timestamptz,
                   recurrence_days integer, reopen_days integer, settles_at timestamptz)
    LANGUAGE sql STABLE
    AS $$
    SELECT t.tenant_id, p.f, p.t, w.recurrence_days, w.reopen_days,
           p.t + make_interval(days => w.reopen_days)
      FROM public.tenants t
     CROSS JOIN LATERAL app.report_windows(t.tenant_id) w
     CROSS JOIN (VALUES ('week', interval '1 week'), ('month', interval '1 month'),
                        ('quarter', interval '3 months')) k (kind, step)
     CROSS JOIN LATERAL (
         -- the start of the period still open at p_now minus the window:
         -- those before it are settled, it and those after it are not
         SELECT date_trunc(k.kind, (p_now - make_interval(days => w.reopen_days))
                                   AT TIME ZONE t.timezone) AS unsettled) u
     -- a window of at most 90 days holds at most 13 ISO weeks
     CROSS JOIN LATERAL generate_series(-13, 12) n
     CROSS JOIN LATERAL (
         SELECT (u.unsettled - n * k.step) AT TIME ZONE t.timezone AS f,
                (u.unsettled - (n - 1) * k.step) AT TIME ZONE t.timezone AS t) p
     WHERE (p_tenant IS NULL OR t.tenant_id = p_tenant) AND p.t <= p_now
    $$;

-- Counts and stores up to p_limit headlines of every tenant (of p_tenant
-- alone, when given) that the store lacks: a settled period not stored
-- as settled (counted as of its settling instant, the same figures as at
-- any later one); a period ended but not settled that is not stored, or
-- whose stored figures no longer hold and are ten minutes old (counted
-- as of now).  One settler at a time, as the breach sweep: the others get
-- -1 at once.  It starts no more headlines after a second, so that a
-- statement stays short whatever the batch (a large client's month takes
-- seconds, a small one's milliseconds).  Returns how many it stored, 0
-- when none was lacking.  The periods are taken in a random order, so
-- that one whose counting fails (a statement timeout) does not hold up
-- the others.
CREATE FUNCTION app.settle_report_headlines(p_limit integer, p_tenant uuid DEFAULT NULL)
    RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_stored integer := 0;
    v_started timestamptz := clock_timestamp();
    r record;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('msp.settle_report_headlines')) THEN
        RETURN -1;
    END IF;
    FOR r IN
        SELECT p.*, least(p.settles_at, now()) AS as_of
          FROM app.report_stored_periods(now(), p_tenant) p
          LEFT JOIN public.report_headlines h
                 ON h.tenant_id = p.tenant_id AND h.from_at = p.from_at AND h.to_at = p.to_at
                AND h.recurrence_days = p.recurrence_days AND h.reopen_days = p.reopen_days
         WHERE h.tenant_id IS NULL
            OR (p.settles_at <= now() AND h.as_of < p.settles_at)
            OR (p.settles_at > now() AND h.as_of < now() - interval '10 minutes'
                AND NOT app.report_headline_holds(p.tenant_id, p.to_at, p.reopen_days,
                                                  h.as_of, now()))
         ORDER BY random()
         LIMIT p_limit
    LOOP
        EXIT WHEN clock_timestamp() - v_started > interval '1 second';
        INSERT INTO public.report_headlines AS h
               (tenant_id, from_at, to_at, recurrence_days, reopen_days, as_of, figures)
        VALUES (r.tenant_id, r.from_at, r.to_at, r.recurrence_days, r.reopen_days, r.as_of,
                app.report_headline_figures(r.tenant_id, r.from_at, r.to_at, r.as_of))
        ON CONFLICT (tenant_id, from_at, to_at) DO UPDATE
           SET recurrence_days = EXCLUDED.recurrence_days,
               reopen_days = EXCLUDED.reopen_days, as_of = EXCLUDED.as_of,
               figures = EXCLUDED.figures;
        v_stored := v_stored + 1;
    END LOOP;
    RETURN v_stored;
END
$$;

-- Deriving the facts again from the history (as after a repair) may
-- change any period's figures: the tenant's stored headlines go, to be
-- counted again.  Otherwise as 0018.
CREATE OR REPLACE FUNCTION app.fill_report_facts(p_tenant uuid) RETURNS void
    LANGUAGE sql
    AS $$
    DELETE FROM public.report_headlines
     WHERE p_tenant IS NULL OR tenant_id = p_tenant;
    DELETE FROM public.ticket_status_changes
     WHERE p_tenant IS NULL OR tenant_id = p_tenant;
    DELETE FROM public.ticket_report_facts
     WHERE p_tenant IS NULL OR tenant_id = p_tenant;
    INSERT INTO public.ticket_status_changes
           (tenant_id, ticket_number, event_id, occurred_at, from_status, to_status, priority)
    SELECT e.tenant_id, e.ticket_number, e.event_id, e.occurred_at,
           e.data->'status'->>'from', e.data->'status'->>'to',
           app.priority_after(e.tenant_id, e.ticket_number, e.event_id)
      FROM public.ticket_events e
     WHERE (p_tenant IS NULL OR e.tenant_id = p_tenant)
       AND e.kind <> 'created' AND e.data ? 'status';
    INSERT INTO public.ticket_report_facts
           (tenant_id, ticket_number, created_at, priority, category, source, side, proactive,
            first_moved_at, first_reply_at, second_reply_at)
    SELECT e.tenant_id, e.ticket_number,
           min(e.occurred_at) FILTER (WHERE e.kind = 'created'),
           min(e.data->>'priority') FILTER (WHERE e.kind = 'created'),
           min(e.data->>'category') FILTER (WHERE e.kind = 'created'),
           min(app.ticket_source(e.actor_org, e.actor_role)) FILTER (WHERE e.kind = 'created'),
           min(e.data->>'side') FILTER (WHERE e.kind = 'created'),
           bool_or(app.ticket_source(e.actor_org, e.actor_role) <> 'user'
                   AND e.actor_sub = k.requester) FILTER (WHERE e.kind = 'created'),
           min(e.occurred_at) FILTER (WHERE app.event_moves(e.kind, e.data)),
           min(e.occurred_at) FILTER (WHERE app.event_replies(e.kind, e.visibility,
                                                              e.actor_role)),
           (array_agg(e.occurred_at ORDER BY e.occurred_at)
                FILTER (WHERE app.event_replies(e.kind, e.visibility, e.actor_role)))[2]
      FROM public.ticket_events e
      JOIN public.tickets k ON k.tenant_id = e.tenant_id AND k.number = e.ticket_number
     WHERE (p_tenant IS NULL OR e.tenant_id = p_tenant)
       AND (e.kind IN ('created', 'comment') OR e.kind LIKE 'escalat%'
            OR e.data ?| ARRAY['status', 'side', 'tier'])
     GROUP BY e.tenant_id, e.ticket_number;
    $$;
