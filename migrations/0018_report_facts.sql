-- Reports at the size of a large client (services/reports/METRICS.md): what
-- a period's volume and quality rows need of each ticket is kept on write,
-- beside the open spans (0012) and the SLA facts (0013), so that a month of
-- a client with 100,000 tickets a month reads index ranges of narrow rows
-- instead of its whole history (the events carry each change's JSON).
--  - ticket_status_changes: each change of a ticket's status, with the
--    priority in force after it.  Resolved, closed and reopened in a
--    period are a range of them; whether a resolution was reopened by
--    as_of is a probe of its ticket's.
--  - ticket_report_facts: per ticket, what its creation recorded (instant,
--    priority, category, source, side, proactive or not), the first
--    instant it moved (escalated, changed side or tier, or was reopened)
--    and the instants of its first two public replies by staff.  First
--    contact's tests are then comparisons of instants.
-- Both are kept by one trigger on ticket_events, in the transaction that
-- records the change, and filled from the history so far here (and by the
-- benchmark's seed, which writes histories with the trigger off) by
-- app.fill_report_facts.  Nothing counts differently: the rows below are
-- those of 0011, 0014 and 0017.
--
-- And JIT is off for the database: the planner's costs for the reports'
-- set-returning functions are guesses, large enough to compile a month's
-- report (over half a second each time) and never paid back by the
-- short statements that make up the rest of the work.

DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET jit = off', current_database()); END $$;

CREATE TABLE ticket_status_changes (
    tenant_id     uuid        NOT NULL,
    ticket_number integer     NOT NULL,
    event_id      bigint      NOT NULL,
    occurred_at   timestamptz NOT NULL,
    from_status   text,
    to_status     text,
    priority      text,
    PRIMARY KEY (tenant_id, ticket_number, event_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number)
);
-- A period's changes, read from the index alone.
CREATE INDEX ticket_status_changes_at ON ticket_status_changes (tenant_id, occurred_at)
    INCLUDE (ticket_number, event_id, from_status, to_status, priority);

CREATE TABLE ticket_report_facts (
    tenant_id       uuid        NOT NULL,
    ticket_number   integer     NOT NULL,
    -- from the creating event: NULL until it is recorded
    created_at      timestamptz,
    priority        text,
    category        text,
    source          text,
    side            text,
    -- raised by a machine client or staff for the requester it names
    proactive       boolean,
    -- an escalation, a change of side or tier, or a reopening
    first_moved_at  timestamptz,
    -- public comments by staff (not the requester, not a machine client)
    first_reply_at  timestamptz,
    second_reply_at timestamptz,
    PRIMARY KEY (tenant_id, ticket_number),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number)
);
CREATE INDEX ticket_report_facts_created ON ticket_report_facts (tenant_id, created_at);

-- The same policies as the open spans: read as the ticket, written only
-- by the trigger (or the fill) for whoever may write the history.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['ticket_status_changes', 'ticket_report_facts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY %1$s_read ON %1$I FOR SELECT
            USING ((SELECT app.sees_all())
                   OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]))$p$, t);
        EXECUTE format($p$CREATE POLICY requester_own ON %1$I AS RESTRICTIVE FOR SELECT
            USING (NOT (tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[]))
                   OR EXISTS (SELECT FROM tickets k WHERE k.tenant_id = %1$I.tenant_id
                                                      AND k.number = %1$I.ticket_number))$p$, t);
        EXECUTE format($p$CREATE POLICY %1$s_insert ON %1$I FOR INSERT
            WITH CHECK ((SELECT app.sees_all())
                        OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]))$p$, t);
        EXECUTE format($p$CREATE POLICY %1$s_update ON %1$I FOR UPDATE
            USING ((SELECT app.sees_all())
                   OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]))
            WITH CHECK ((SELECT app.sees_all())
                        OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]))$p$, t);
        EXECUTE format($p$CREATE POLICY %1$s_delete ON %1$I FOR DELETE
            USING ((SELECT app.sees_all()))$p$, t);
        EXECUTE format('GRANT SELECT ON %I TO msp_gateway', t);
    END LOOP;
END $$;

-- 0011's partial index on the events that create a ticket or change its
-- status served the volume rows' scan of a period's events; they read the
-- status changes and the facts now, and nothing else reads the history by
-- period, so every such event no longer pays for its entry.
DROP INDEX ticket_events_status_changes;

-- The priority a ticket had after one of its events (0011's definition:
-- the latest creation or change of priority up to it).
CREATE FUNCTION app.priority_after(p_tenant uuid, p_number integer, p_event bigint)
    RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(p.data->'priority'->>'to', p.data->>'priority')
      FROM public.ticket_events p
     WHERE p.tenant_id = p_tenant AND p.ticket_number = p_number
       AND p.event_id <= p_event AND (p.kind = 'created' OR p.data ? 'priority')
     ORDER BY p.event_id DESC LIMIT 1
    $$;

-- What an event tells the reports (0014's tests, one event at a time).
CREATE FUNCTION app.event_moves(p_kind text, p_data jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT p_kind <> 'created'
           AND (p_kind LIKE 'escalat%' OR p_data ? 'side' OR p_data ? 'tier'
                OR coalesce(p_data->'status'->>'from' IN ('resolved', 'closed')
                            AND p_data->'status'->>'to' NOT IN ('resolved', 'closed'), false))
    $$;

CREATE FUNCTION app.event_replies(p_kind text, p_visibility text, p_role text)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT p_kind = 'comment' AND p_visibility = 'public'
           AND p_role NOT IN ('requester', 'integration')
    $$;

-- The trigger.  SECURITY DEFINER, as the spans' trigger: whoever may record
-- the event keeps the facts true, the gateway itself only reads them.
-- Upserts, so that a history written in any order (a seed's single
-- INSERT) comes out the same.
CREATE FUNCTION app.track_report_facts() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
BEGIN
    IF NEW.kind = 'created' THEN
        INSERT INTO public.ticket_report_facts AS f
               (tenant_id, ticket_number, created_at, priority, category, source, side,
                proactive)
        SELECT NEW.tenant_id, NEW.ticket_number, NEW.occurred_at, NEW.data->>'priority',
               NEW.data->>'category', app.ticket_source(NEW.actor_org, NEW.actor_role),
               NEW.data->>'side',
               app.ticket_source(NEW.actor_org, NEW.actor_role) <> 'user'
               AND NEW.actor_sub = k.requester
          FROM public.tickets k
         WHERE k.tenant_id = NEW.tenant_id AND k.number = NEW.ticket_number
        ON CONFLICT (tenant_id, ticket_number) DO UPDATE
           SET created_at = EXCLUDED.created_at, priority = EXCLUDED.priority,
               category = EXCLUDED.category, source = EXCLUDED.source, side = EXCLUDED.side,
               proactive = EXCLUDED.proactive;
        RETURN NULL;
    END IF;
    IF NEW.data ? 'status' THEN
        INSERT INTO public.ticket_status_changes
               (tenant_id, ticket_number, event_id, occurred_at, from_status, to_status,
                priority)
        VALUES (NEW.tenant_id, NEW.ticket_number, NEW.event_id, NEW.occurred_at,
                NEW.data->'status'->>'from', NEW.data->'status'->>'to',
                app.priority_after(NEW.tenant_id, NEW.ticket_number, NEW.event_id));
    END IF;
    IF app.event_moves(NEW.kind, NEW.data) THEN
        INSERT INTO public.ticket_report_facts AS f (tenant_id, ticket_number, first_moved_at)
        VALUES (NEW.tenant_id, NEW.ticket_number, NEW.occurred_at)
        ON CONFLICT (tenant_id, ticket_number) DO UPDATE
           SET first_moved_at = EXCLUDED.first_moved_at
         WHERE f.first_moved_at IS NULL OR f.first_moved_at > EXCLUDED.first_moved_at;
    END IF;
    IF app.event_replies(NEW.kind, NEW.visibility, NEW.actor_role) THEN
        -- keep the two earliest (least() skips a NULL)
        INSERT INTO public.ticket_report_facts AS f (tenant_id, ticket_number, first_reply_at)
        VALUES (NEW.tenant_id, NEW.ticket_number, NEW.occurred_at)
        ON CONFLICT (tenant_id, ticket_number) DO UPDATE
           SET first_reply_at = least(f.first_reply_at, EXCLUDED.first_reply_at),
               second_reply_at = CASE
                   WHEN f.first_reply_at IS NULL THEN NULL
                   WHEN EXCLUDED.first_reply_at < f.first_reply_at THEN f.first_reply_at
                   ELSE least(f.second_reply_at, EXCLUDED.first_reply_at) END
         WHERE f.second_reply_at IS NULL OR f.second_reply_at > EXCLUDED.first_reply_at;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.track_report_facts() FROM PUBLIC;

CREATE TRIGGER ticket_events_report_facts AFTER INSERT ON ticket_events
    FOR EACH ROW WHEN (NEW.kind IN ('created', 'comment') OR NEW.kind LIKE 'escalat%'
                       OR NEW.data ?| ARRAY['status', 'side', 'tier'])
    EXECUTE FUNCTION app.track_report_facts();

-- A tenant's facts (every tenant's, p_tenant NULL) from its history, as
-- the trigger would have kept them.  Run by the principal's rights, as an
-- admin would.
CREATE FUNCTION app.fill_report_facts(p_tenant uuid) RETURNS void
    LANGUAGE sql
    AS $$
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

SELECT set_config('msp.all', 'on', true);
SELECT app.fill_report_facts(NULL);

-- Same rows as before (0017), from the status changes and the facts: the
-- changes of the period that resolve, close or reopen are read once, each
-- ticket's last of each kind kept.
CREATE OR REPLACE FUNCTION app.report_volume_rows(p_tenant uuid, p_from timestamptz,
                                                  p_to timestamptz)
    RETURNS TABLE (metric text, ticket_number integer, at timestamptz, priority text,
                   category text, source text, first_side text)
    LANGUAGE sql STABLE
    AS $$
    SELECT 'created', f.ticket_number, f.created_at, f.priority,
           coalesce(f.category,
                    (SELECT coalesce(k.created_category, k.category) FROM public.tickets k
                      WHERE k.tenant_id = p_tenant AND k.number = f.ticket_number)),
           f.source, f.side
      FROM public.ticket_report_facts f
     WHERE f.tenant_id = p_tenant AND f.created_at >= p_from AND f.created_at < p_to
    UNION ALL
    (WITH c AS MATERIALIZED (
        SELECT c.ticket_number, c.event_id, c.occurred_at, c.priority,
               c.to_status = 'resolved'
               OR (c.to_status = 'closed' AND c.from_status NOT IN ('resolved', 'closed'))
                   AS resolves,
               c.to_status = 'closed' AS closes,
               c.from_status IN ('resolved', 'closed')
               AND c.to_status NOT IN ('resolved', 'closed') AS reopens
          FROM public.ticket_status_changes c
         WHERE c.tenant_id = p_tenant AND c.occurred_at >= p_from AND c.occurred_at < p_to
           AND (c.to_status IN ('resolved', 'closed') OR c.from_status IN ('resolved', 'closed'))
    )
    SELECT * FROM (SELECT DISTINCT ON (c.ticket_number) 'resolved', c.ticket_number,
                          c.occurred_at, c.priority, NULL::text, NULL::text, NULL::text
                     FROM c WHERE c.resolves ORDER BY c.ticket_number, c.event_id DESC) r
    UNION ALL
    SELECT * FROM (SELECT DISTINCT ON (c.ticket_number) 'closed', c.ticket_number,
                          c.occurred_at, c.priority, NULL, NULL, NULL
                     FROM c WHERE c.closes ORDER BY c.ticket_number, c.event_id DESC) k
    UNION ALL
    SELECT * FROM (SELECT DISTINCT ON (c.ticket_number) 'reopened', c.ticket_number,
                          c.occurred_at, c.priority, NULL, NULL, NULL
                     FROM c WHERE c.reopens ORDER BY c.ticket_number, c.event_id DESC) o)
    $$;

-- Same rows as before (0017): a resolution is first contact when, by
-- as_of, its ticket never moved and had at most one public reply by staff
-- up to it; reopened when a reopening of its ticket follows it by as_of.
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
        SELECT v.ticket_number, v.at,
               EXISTS (SELECT FROM public.ticket_status_changes c
                        WHERE c.tenant_id = p_tenant AND c.ticket_number = v.ticket_number
                          AND c.occurred_at >= v.at AND c.occurred_at < p_as_of
                          AND c.from_status IN ('resolved', 'closed')
                          AND c.to_status NOT IN ('resolved', 'closed')) AS reopened,
               NOT coalesce(f.first_moved_at < p_as_of, false)
               AND NOT coalesce(f.second_reply_at <= v.at, false) AS one_touch
          FROM v
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
    UNION ALL SELECT 'first_contact', ticket_number, at, NULL, NULL FROM resolved WHERE one_touch
    UNION ALL SELECT 'reopened', ticket_number, at, NULL, NULL FROM resolved WHERE reopened
    UNION ALL SELECT 'created', ticket_number, at, category, NULL FROM created
    UNION ALL SELECT CASE WHEN proactive THEN 'proactive' ELSE 'reactive' END,
                     ticket_number, at, category, NULL FROM created
    UNION ALL SELECT 'recurring', ticket_number, created_at, category, earlier
                FROM app.report_recurring_rows(p_tenant, p_from, p_to)
    $$;

-- Same rows as before (0013), each clock's fields read once from its
-- measurement (the planner otherwise copies each expression into every
-- test that uses it), and the ticket's creation looked up by its key.
CREATE OR REPLACE FUNCTION app.report_sla_rows(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS TABLE (ticket_number integer, clock text, priority text, outcome text,
                   at timestamptz, due timestamptz, late bigint, stopped timestamptz,
                   elapsed bigint, counted boolean, created_at timestamptz, sla jsonb)
    LANGUAGE sql STABLE
    AS $$
    WITH k AS (
        SELECT DISTINCT s.ticket_number
          FROM public.ticket_open_spans s
         WHERE s.tenant_id = p_tenant AND s.opened_at < p_to
           AND (s.closed_at IS NULL OR s.closed_at >= p_from)
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

-- Same report as before (0013), keeping only the fields it counts of each
-- row (not the whole measurement).
CREATE OR REPLACE FUNCTION app.report_sla(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH r AS MATERIALIZED (
        SELECT r.clock, r.priority, r.outcome, r.counted, r.stopped, r.elapsed, r.created_at,
               r.sla->>'config' AS config
          FROM app.report_sla_rows(p_tenant, p_from, p_to) r),
    a AS (
        SELECT clock, priority,
               count(*) FILTER (WHERE outcome = 'met') AS met,
               count(*) FILTER (WHERE outcome = 'breached') AS breached,
               count(*) FILTER (WHERE outcome = 'running') AS running
          FROM r WHERE counted GROUP BY GROUPING SETS ((clock), (clock, priority))
    ), t AS (
        SELECT clock, priority, count(*) AS n,
               app.report_spread(array_agg(elapsed)) AS business,
               app.report_spread(array_agg(floor(extract(epoch FROM stopped - created_at))::bigint))
                   AS calendar
          FROM r WHERE stopped >= p_from
         GROUP BY GROUPING SETS ((clock), (clock, priority))
    )
    SELECT json_build_object(
        'attainment', (SELECT json_object_agg(n.clock, (
            SELECT json_build_object(
                'met', coalesce(o.met, 0), 'breached', coalesce(o.breached, 0),
                'running_at_end', coalesce(o.running, 0),
                'attainment', app.report_ratio(o.met, o.met + o.breached),
                'by_priority', (SELECT coalesce(json_object_agg(p.priority, json_build_object(
                                    'met', p.met, 'breached', p.breached,
                                    'running_at_end', p.running,
                                    'attainment', app.report_ratio(p.met, p.met + p.breached))
                                  ORDER BY p.priority), '{}')
                                  FROM a p WHERE p.clock = n.clock AND p.priority IS NOT NULL))
              FROM (SELECT 1) one LEFT JOIN a o ON o.clock = n.clock AND o.priority IS NULL)
            ORDER BY n.clock)
            FROM (VALUES ('resolution'), ('response')) n (clock)),
        'times', (SELECT json_object_agg(n.clock, (
            SELECT json_build_object(
                'count', coalesce(o.n, 0),
                'business_seconds', coalesce(o.business, '{"median": null, "p90": null}'),
                'calendar_seconds', coalesce(o.calendar, '{"median": null, "p90": null}'),
                'by_priority', (SELECT coalesce(json_object_agg(p.priority, json_build_object(
                                    'count', p.n, 'business_seconds', p.business,
                                    'calendar_seconds', p.calendar) ORDER BY p.priority), '{}')
                                  FROM t p WHERE p.clock = n.clock AND p.priority IS NOT NULL))
              FROM (SELECT 1) one LEFT JOIN t o ON o.clock = n.clock AND o.priority IS NULL)
            ORDER BY n.clock)
            FROM (VALUES ('resolution'), ('response')) n (clock)),
        'measured_under', (SELECT coalesce(json_agg(json_build_object('document', d, 'clocks', c)
                                                    ORDER BY d), '[]')
                             FROM (SELECT config AS d, count(*) AS c FROM r GROUP BY 1) x))
    $$;
ALTER FUNCTION app.report_sla(uuid, timestamptz, timestamptz) SET work_mem = '32MB';
