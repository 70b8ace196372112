-- When each ticket was open (services/reports/METRICS.md, "Backlog"): one
-- row per stretch from the instant it opened (created, or reopened) to the
-- instant it stopped (resolved or closed), closed_at NULL while it is
-- open.  Kept from the history by a trigger in the transaction that
-- records the change, and filled here from the history so far; so "open at
-- an instant" is an index range of the tenant's spans, not a replay.
CREATE TABLE ticket_open_spans (
    tenant_id     uuid        NOT NULL,
    ticket_number integer     NOT NULL,
    opened_at     timestamptz NOT NULL,
    closed_at     timestamptz,
    PRIMARY KEY (tenant_id, ticket_number, opened_at),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number),
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);

-- Open at T: opened before T, and still open or stopped at T or later.
CREATE INDEX ticket_open_spans_closed ON ticket_open_spans (tenant_id, closed_at);

ALTER TABLE ticket_open_spans ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_open_spans FORCE ROW LEVEL SECURITY;
CREATE POLICY ticket_open_spans_read ON ticket_open_spans FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]));
-- A requester sees the spans of its own tickets only, as their history.
CREATE POLICY requester_own ON ticket_open_spans AS RESTRICTIVE FOR SELECT
    USING (NOT (tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[]))
           OR EXISTS (SELECT FROM tickets k WHERE k.tenant_id = ticket_open_spans.tenant_id
                                              AND k.number = ticket_open_spans.ticket_number));
-- Written only by the trigger below, for whoever may write the history
-- that moves them; the gateway itself has SELECT only.
CREATE POLICY ticket_open_spans_insert ON ticket_open_spans FOR INSERT
    WITH CHECK ((SELECT app.sees_all())
                OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY ticket_open_spans_update ON ticket_open_spans FOR UPDATE
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]))
    WITH CHECK ((SELECT app.sees_all())
                OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
-- Given up with the rest of a tenant's rows when it is offboarded.
CREATE POLICY ticket_open_spans_delete ON ticket_open_spans FOR DELETE
    USING ((SELECT app.sees_all()));
GRANT SELECT ON ticket_open_spans TO msp_gateway;

-- Whether a status is open (METRICS.md: any but resolved and closed).  A
-- creation that records no status opened the ticket as new.
CREATE FUNCTION app.status_is_open(p_status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(p_status, 'new') NOT IN ('resolved', 'closed') $$;

-- The trigger: a ticket's history moves its spans.  SECURITY DEFINER so
-- that whoever may record the event keeps the spans true, while the
-- gateway itself may only read them.
CREATE FUNCTION app.track_open_spans() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public'
    AS $$
DECLARE
    v_from text;
    v_to   text;
BEGIN
    IF NEW.kind = 'created' THEN
        IF app.status_is_open(NEW.data->>'status') THEN
            INSERT INTO public.ticket_open_spans (tenant_id, ticket_number, opened_at)
            VALUES (NEW.tenant_id, NEW.ticket_number, NEW.occurred_at)
            ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END IF;
    v_from := NEW.data->'status'->>'from';
    v_to := NEW.data->'status'->>'to';
    IF v_to IS NULL OR app.status_is_open(v_from) = app.status_is_open(v_to) THEN
        RETURN NULL;
    ELSIF app.status_is_open(v_to) THEN
        INSERT INTO public.ticket_open_spans (tenant_id, ticket_number, opened_at)
        VALUES (NEW.tenant_id, NEW.ticket_number, NEW.occurred_at)
        ON CONFLICT DO NOTHING;
    ELSE
        -- An event is stamped with its transaction's start: one that
        -- waited for the ticket's lock can be stamped before the event it
        -- follows.  The span then closes where it opened.
        UPDATE public.ticket_open_spans SET closed_at = greatest(NEW.occurred_at, opened_at)
         WHERE tenant_id = NEW.tenant_id AND ticket_number = NEW.ticket_number
           AND closed_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.track_open_spans() FROM PUBLIC;

CREATE TRIGGER ticket_events_open_spans AFTER INSERT ON ticket_events
    FOR EACH ROW WHEN (NEW.kind = 'created' OR NEW.data ? 'status')
    EXECUTE FUNCTION app.track_open_spans();

-- The spans of the history so far: each move into an open status opens
-- one, the next move out of it closes it.
SELECT set_config('msp.all', 'on', true);
INSERT INTO ticket_open_spans (tenant_id, ticket_number, opened_at, closed_at)
SELECT tenant_id, ticket_number, occurred_at,
       CASE WHEN next_out IS NOT NULL THEN greatest(next_out, occurred_at) END
  FROM (SELECT e.tenant_id, e.ticket_number, e.occurred_at, m.open,
               lag(m.open) OVER w AS was_open,
               min(CASE WHEN NOT m.open THEN e.occurred_at END)
                   OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_out
          FROM ticket_events e,
               LATERAL (SELECT app.status_is_open(CASE e.kind WHEN 'created'
                                                  THEN e.data->>'status'
                                                  ELSE e.data->'status'->>'to' END)
                               AS open) m
         WHERE e.kind = 'created' OR e.data->'status' ? 'to'
        WINDOW w AS (PARTITION BY e.tenant_id, e.ticket_number ORDER BY e.event_id)) moves
 WHERE open AND (was_open IS NULL OR NOT was_open)
ON CONFLICT DO NOTHING;

-- The tickets open at p_at (opened before it, not yet stopped), with
-- their age in whole days and the side holding them then: the backlog's
-- rows (METRICS.md, "Backlog").
CREATE FUNCTION app.report_open_rows(p_tenant uuid, p_at timestamptz)
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
      FROM public.ticket_open_spans s
      JOIN public.tickets k ON k.tenant_id = s.tenant_id AND k.number = s.ticket_number
     WHERE s.tenant_id = p_tenant AND s.opened_at < p_at
       AND (s.closed_at IS NULL OR s.closed_at >= p_at)
    $$;

-- The backlog of [p_from, p_to): open at its start and at its end, and
-- at its end by age bucket and holding side, keys in order.
CREATE FUNCTION app.report_backlog(p_tenant uuid, p_from timestamptz, p_to timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH e AS MATERIALIZED (SELECT * FROM app.report_open_rows(p_tenant, p_to))
    SELECT json_build_object(
        'open_at_start', (SELECT count(*) FROM app.report_open_rows(p_tenant, p_from)),
        'open_at_end', (SELECT count(*) FROM e),
        'at_end_by_age', json_build_object(
            '0-7', (SELECT count(*) FROM e WHERE age = '0-7'),
            '8-30', (SELECT count(*) FROM e WHERE age = '8-30'),
            '31-90', (SELECT count(*) FROM e WHERE age = '31-90'),
            'over_90', (SELECT count(*) FROM e WHERE age = 'over_90')),
        'at_end_by_side', (SELECT coalesce(json_object_agg(side, c ORDER BY side), '{}')
                             FROM (SELECT side, count(*) AS c FROM e GROUP BY 1) x))
    $$;
