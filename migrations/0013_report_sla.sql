-- SLA attainment and times (services/reports/METRICS.md, "SLA attainment",
-- "Times"), as of an instant and under the policy in force at the time.
--
-- A ticket's clocks are stored with it (tickets.sla) whenever it changes,
-- and replayed when its tenant's calendar or policy changes.  Here every
-- stored snapshot is also kept, with the stretch of time it was the
-- ticket's measurement: "the clocks as they stood at T" is the fact valid
-- at T, so a policy changed later never rewrites what a past period
-- reported, and a period's figures read one fact per ticket instead of
-- replaying histories.

CREATE TABLE ticket_sla_facts (
    tenant_id     uuid        NOT NULL,
    ticket_number integer     NOT NULL,
    valid_from    timestamptz NOT NULL,
    valid_to      timestamptz,
    priority      text        NOT NULL,
    sla           jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, ticket_number, valid_from),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);

ALTER TABLE ticket_sla_facts ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_sla_facts FORCE ROW LEVEL SECURITY;
CREATE POLICY ticket_sla_facts_read ON ticket_sla_facts FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]));
CREATE POLICY requester_own ON ticket_sla_facts AS RESTRICTIVE FOR SELECT
    USING (NOT (tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[]))
           OR EXISTS (SELECT FROM tickets k WHERE k.tenant_id = ticket_sla_facts.tenant_id
                                              AND k.number = ticket_sla_facts.ticket_number));
-- Written by the trigger below for whoever may write the ticket, and by
-- `mspctl sla recompute` from a history never measured before.
CREATE POLICY ticket_sla_facts_insert ON ticket_sla_facts FOR INSERT
    WITH CHECK ((SELECT app.sees_all())
                OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY ticket_sla_facts_update ON ticket_sla_facts FOR UPDATE
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]))
    WITH CHECK ((SELECT app.sees_all())
                OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY ticket_sla_facts_delete ON ticket_sla_facts FOR DELETE
    USING ((SELECT app.sees_all()));
GRANT SELECT ON ticket_sla_facts TO msp_gateway;

-- The trigger: each change of a ticket's clocks or priority starts a new
-- fact and ends the one before.  An event is stamped with its
-- transaction's start, so a write that waited for the ticket's lock can
-- come "before" the fact it follows: it then starts where that one did.
CREATE FUNCTION app.track_sla_facts() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
DECLARE
    v_at timestamptz;
BEGIN
    IF NEW.sla IS NULL OR (TG_OP = 'UPDATE' AND OLD.sla IS NOT DISTINCT FROM NEW.sla
                           AND OLD.priority = NEW.priority) THEN
        RETURN NULL;
    END IF;
    SELECT greatest(now(), max(valid_from)) INTO v_at
      FROM public.ticket_sla_facts
     WHERE tenant_id = NEW.tenant_id AND ticket_number = NEW.number;
    v_at := coalesce(v_at, now());
    UPDATE public.ticket_sla_facts SET valid_to = v_at
     WHERE tenant_id = NEW.tenant_id AND ticket_number = NEW.number
       AND valid_to IS NULL AND valid_from < v_at;
    INSERT INTO public.ticket_sla_facts (tenant_id, ticket_number, valid_from, priority, sla)
    VALUES (NEW.tenant_id, NEW.number, v_at, NEW.priority, NEW.sla)
    ON CONFLICT (tenant_id, ticket_number, valid_from)
    DO UPDATE SET priority = EXCLUDED.priority, sla = EXCLUDED.sla, valid_to = NULL;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.track_sla_facts() FROM PUBLIC;

CREATE TRIGGER tickets_sla_facts AFTER INSERT OR UPDATE OF sla, priority ON tickets
    FOR EACH ROW EXECUTE FUNCTION app.track_sla_facts();

-- Nothing is filled here: a history's facts come from replaying it event
-- by event, which the SLA engine (C) does.  `mspctl sla recompute`, run
-- once after upgrading, fills them for every ticket that has none.

-- Each clock of each ticket open at some time in [p_from, p_to), as its
-- fact valid at p_to has it, that the period's figures count: decided as
-- met (at its stop) or breached (at its due instant) in the period, or
-- still running at its end (decided: the attainment counts it); or
-- stopped in the period (its times count it).  late: business seconds
-- past the target, for a breached clock that had stopped (one still
-- running is measured by the caller, which holds the calendar).
CREATE FUNCTION app.report_sla_rows(p_tenant uuid, p_from timestamptz, p_to timestamptz)
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
        SELECT k.ticket_number, f.priority, f.sla, n.clock,
               (f.sla->n.clock->>'target')::bigint AS target,
               (f.sla->n.clock->>'elapsed')::bigint AS elapsed,
               to_timestamp((f.sla->n.clock->>'due')::bigint) AS due,
               CASE WHEN to_timestamp((f.sla->n.clock->>'stopped_at')::bigint) < p_to
                    THEN to_timestamp((f.sla->n.clock->>'stopped_at')::bigint) END AS stopped
          FROM k
          CROSS JOIN LATERAL (SELECT x.priority, x.sla FROM public.ticket_sla_facts x
                               WHERE x.tenant_id = p_tenant AND x.ticket_number = k.ticket_number
                                 AND x.valid_from < p_to
                               ORDER BY x.valid_from DESC LIMIT 1) f
          CROSS JOIN (VALUES ('response'), ('resolution')) n (clock)
    ), o AS (
        SELECT c.*,
               CASE WHEN c.stopped IS NOT NULL AND c.elapsed < c.target THEN 'met'
                    WHEN c.due < p_to THEN 'breached'
                    WHEN c.stopped IS NULL THEN 'running' END AS outcome
          FROM c
    )
    SELECT o.ticket_number, o.clock, o.priority, o.outcome,
           CASE o.outcome WHEN 'met' THEN o.stopped WHEN 'breached' THEN o.due END,
           o.due,
           CASE WHEN o.outcome = 'breached' AND o.stopped IS NOT NULL
                THEN o.elapsed - o.target END,
           o.stopped, CASE WHEN o.stopped IS NOT NULL THEN o.elapsed END, d.counted,
           k.created_at, o.sla
      FROM o
      JOIN public.tickets k ON k.tenant_id = p_tenant AND k.number = o.ticket_number
      CROSS JOIN LATERAL (SELECT o.outcome = 'running'
                                 OR (o.outcome = 'met' AND o.stopped >= p_from)
                                 OR (o.outcome = 'breached' AND o.due >= p_from) AS counted) d
     WHERE d.counted OR o.stopped >= p_from
    $$;

-- Median and 90th percentile (nearest rank) of a set of seconds.
CREATE FUNCTION app.report_spread(p_values bigint[]) RETURNS json
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'median', percentile_disc(0.5) WITHIN GROUP (ORDER BY v),
        'p90', percentile_disc(0.9) WITHIN GROUP (ORDER BY v))
      FROM unnest(p_values) v
    $$;

-- met / (met + breached), to four places; none when nothing was decided.
CREATE FUNCTION app.report_ratio(p_part bigint, p_whole bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN p_whole > 0 THEN round(p_part::numeric / p_whole, 4) END $$;

-- The SLA report of [p_from, p_to): per clock, attainment overall and by
-- priority, and the times of the clocks that stopped in the period
-- (business seconds as the clock counted them, calendar seconds from
-- creation), overall and by priority; and the tenant documents the
-- clocks were measured under.
CREATE FUNCTION app.report_sla(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH r AS MATERIALIZED (SELECT * FROM app.report_sla_rows(p_tenant, p_from, p_to)),
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
                             FROM (SELECT sla->>'config' AS d, count(*) AS c FROM r GROUP BY 1) x))
    $$;
