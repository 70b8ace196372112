-- SLA clocks.  The clocks are a pure function of a ticket's history, its
-- tenant's calendar and its SLA policy, computed in C (services/sla/).
-- What is stored here is that computation's latest result, for queries
-- that must not recompute it: the due instants (filters, sorting, the
-- breach sweep) and a snapshot the API extends to the present.

ALTER TABLE tickets
    -- The snapshot (services/sla/clock.h): every clock's elapsed business
    -- seconds and state as of its "as_of" instant, per-side held time, and
    -- the tenant document (calendar and policy) it was computed with.
    ADD COLUMN sla            jsonb,
    ADD COLUMN response_due   timestamptz,
    ADD COLUMN resolution_due timestamptz,
    -- The earliest due instant of a clock still running: when this ticket
    -- breaches (or did) if nobody acts.  NULL when no clock runs.
    ADD COLUMN breach_at      timestamptz,
    -- Warnings and breaches not yet announced, [{"clock", "threshold",
    -- "at"}] sorted by "at", and the first of their instants: the sweep
    -- looks for sla_next_at <= now().
    ADD COLUMN sla_pending    jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN sla_next_at    timestamptz;

-- A tenant's tickets by breach time, and everyone's (the provider's queue).
CREATE INDEX tickets_breach ON tickets (tenant_id, breach_at, number)
    WHERE breach_at IS NOT NULL;
CREATE INDEX tickets_breach_all ON tickets (breach_at)
    WHERE breach_at IS NOT NULL;
CREATE INDEX tickets_sla_next ON tickets (sla_next_at)
    WHERE sla_next_at IS NOT NULL;

-- Exactly once: one sla_warning or sla_breached event per ticket, clock and
-- threshold, whoever runs the sweep and however often.
CREATE UNIQUE INDEX ticket_events_sla_once ON ticket_events
    (tenant_id, ticket_number, kind, (data->>'clock'), (data->>'threshold'))
    WHERE kind IN ('sla_warning', 'sla_breached');

-- The ticket document gains its due instants and the raw snapshot, which
-- the services turn into the "sla" member shown to users.
CREATE OR REPLACE FUNCTION app.ticket_doc(k public.tickets, t public.tenants, asset_ids bigint[])
    RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'id', t.ticket_prefix || '-' || k.number,
        'tenant', t.slug,
        'number', k.number,
        'title', k.title,
        'description', k.description,
        'category', k.category,
        'impact', k.impact,
        'urgency', k.urgency,
        'priority', k.priority,
        'status', k.status,
        'side', k.side,
        'tier', k.tier,
        'assignee', k.assignee,
        'requester', k.requester,
        'asset_ids', coalesce(to_json(asset_ids), '[]'::json),
        'created_at', app.rfc3339(k.created_at),
        'updated_at', app.rfc3339(k.updated_at),
        'resolved_at', app.rfc3339(k.resolved_at),
        'closed_at', app.rfc3339(k.closed_at),
        'response_due', app.rfc3339(k.response_due),
        'resolution_due', app.rfc3339(k.resolution_due),
        'sla', k.sla,
        'version', k.version)
    $$;

-- What the SLA clocks are computed from: the ticket's history as a compact
-- JSON array, oldest first, one [at, kind, status, side, priority,
-- responds, clock, threshold] per event:
--   at         Unix seconds;
--   status, side, priority   the new value when the event set it, else null;
--   responds   a public comment by staff (not the requester, not a machine
--              client): the first one meets the first-response target;
--   clock, threshold         of an sla_warning / sla_breached event.
CREATE FUNCTION app.ticket_sla_history(p_tenant uuid, p_number integer) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(json_agg(json_build_array(
               floor(extract(epoch FROM e.occurred_at))::bigint,
               e.kind,
               CASE e.kind WHEN 'created' THEN e.data->>'status' ELSE e.data->'status'->>'to' END,
               CASE e.kind WHEN 'created' THEN e.data->>'side' ELSE e.data->'side'->>'to' END,
               CASE e.kind WHEN 'created' THEN e.data->>'priority'
                           ELSE e.data->'priority'->>'to' END,
               e.kind = 'comment' AND e.data->>'visibility' = 'public'
                   AND e.actor_role NOT IN ('requester', 'integration'),
               e.data->>'clock',
               (e.data->>'threshold')::integer)
             ORDER BY e.event_id), '[]'::json)
      FROM public.ticket_events e
     WHERE e.tenant_id = p_tenant AND e.ticket_number = p_number
       AND e.kind IN ('created', 'updated', 'comment', 'sla_warning', 'sla_breached')
    $$;

-- The breach sweep: announces, as ticket events, the warnings and breaches
-- whose instant has come, at most p_limit tickets per call.  One sweeper
-- at a time across every worker and host (a transaction-level advisory
-- lock; the others return -1 at once), and once only per ticket, clock and
-- threshold whatever happens (ticket_events_sla_once).  Tickets a request
-- is changing are skipped and found by the next sweep.  Returns the number
-- of events written.  (A single set-based statement per batch was tried:
-- with 500 partitions its UPDATE ... FROM planned a scan of every ticket.)
CREATE FUNCTION app.sla_sweep(p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    r       record;
    a       jsonb;
    rest    jsonb;
    written integer := 0;
    n       integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('msp.sla_sweep')) THEN
        RETURN -1;
    END IF;
    FOR r IN
        SELECT k.tenant_id, k.number, k.sla_pending, t.ticket_prefix
          FROM public.tickets k JOIN public.tenants t USING (tenant_id)
         WHERE k.sla_next_at <= now()
         ORDER BY k.sla_next_at
         LIMIT p_limit
           FOR UPDATE OF k SKIP LOCKED
    LOOP
        rest := '[]';
        FOR a IN SELECT value FROM jsonb_array_elements(r.sla_pending) LOOP
            IF (a->>'at')::timestamptz > now() THEN
                rest := rest || jsonb_build_array(a);
                CONTINUE;
            END IF;
            INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
            VALUES (r.tenant_id, r.number,
                    CASE WHEN (a->>'threshold')::integer >= 100 THEN 'sla_breached'
                         ELSE 'sla_warning' END,
                    jsonb_build_object('clock', a->>'clock',
                                       'threshold', (a->>'threshold')::integer,
                                       'reached_at', a->>'at'))
            ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                INSERT INTO public.audit_log (tenant_id, action, target, detail)
                VALUES (r.tenant_id,
                        CASE WHEN (a->>'threshold')::integer >= 100 THEN 'sla.breached'
                             ELSE 'sla.warning' END,
                        'ticket:' || r.ticket_prefix || '-' || r.number,
                        jsonb_build_object('clock', a->>'clock',
                                           'threshold', (a->>'threshold')::integer));
                written := written + 1;
            END IF;
        END LOOP;
        UPDATE public.tickets
           SET sla_pending = rest,
               sla_next_at = (SELECT min((x->>'at')::timestamptz)
                                FROM jsonb_array_elements(rest) x)
         WHERE tenant_id = r.tenant_id AND number = r.number;
    END LOOP;
    RETURN written;
END
$$;

GRANT EXECUTE ON FUNCTION app.sla_sweep(integer) TO msp_gateway;
