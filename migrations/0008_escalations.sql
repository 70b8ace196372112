-- Escalations and co-management: warm handoffs between the sides that
-- hold work, and who sees which part of a ticket's history.
--
-- Who may move work where is the tenant's escalation policy, checked in C
-- (services/escalation_policy.c) before these functions run; what they
-- enforce themselves is what must hold whatever a service does: isolation,
-- who sees what, one waiting handoff per ticket, every automatic step once.

-- ---- visibility ---------------------------------------------------------

-- The levels of history a principal may read: provider staff all three;
-- the tenant's IT staff, leaders and auditors public and staff; requesters
-- and machine clients public only; no principal nothing.
CREATE FUNCTION app.visible_levels() RETURNS text[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN app.principal_is_provider()
             AND app.principal_role() IN ('technician', 'lead', 'account_manager',
                                          'admin', 'auditor')
            THEN ARRAY['public', 'staff', 'provider']
        WHEN app.principal_tenant_slug() IS NOT NULL
             AND app.principal_role() IN ('it_staff', 'it_leader', 'auditor')
            THEN ARRAY['public', 'staff']
        WHEN app.principal_sub() IS NOT NULL
            THEN ARRAY['public']
        ELSE '{}'::text[]
    END
    $$;

-- Each event's level, derived from the event itself so that no writer can
-- forget it: the ticket's own changes are public, a comment is what its
-- author chose, everything else (escalations, SLA alerts) is for staff.
-- A comment of a level this version does not know ("internal", from
-- before the three levels) is staff.
ALTER TABLE ticket_events ADD COLUMN visibility text NOT NULL
    GENERATED ALWAYS AS (
        CASE WHEN kind IN ('created', 'updated') THEN 'public'
             WHEN kind = 'comment' AND data->>'visibility' IN ('public', 'provider')
                 THEN data->>'visibility'
             ELSE 'staff'
        END) STORED;

-- Restrictive: on top of tenant isolation, for reads and writes alike (a
-- principal cannot write a comment of a level it could not read).
CREATE POLICY visibility ON ticket_events AS RESTRICTIVE
    USING (visibility = ANY ((SELECT app.visible_levels())::text[]))
    WITH CHECK (visibility = ANY ((SELECT app.visible_levels())::text[]));

CREATE OR REPLACE FUNCTION app.comment_doc(e public.ticket_events) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'id', e.event_id,
        'body', e.data->>'body',
        'visibility', e.visibility,
        'author', e.actor_sub,
        'author_name', e.data->>'author_name',
        'created_at', app.rfc3339(e.occurred_at))
    $$;

-- An event as the history feed shows it.
CREATE FUNCTION app.event_doc(e public.ticket_events) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'id', e.event_id,
        'kind', e.kind,
        'at', app.rfc3339(e.occurred_at),
        'actor', json_build_object('sub', e.actor_sub, 'org', e.actor_org,
                                   'role', e.actor_role),
        'visibility', e.visibility,
        'data', e.data)
    $$;

-- ---- escalations --------------------------------------------------------

CREATE SEQUENCE escalations_escalation_id_seq;

-- A request to move a ticket's work (functional, handoff) or to draw
-- management's attention to it (hierarchical), with its warm-handoff note
-- and the ticket as the sender saw it.  Decided once: accepted or rejected
-- by the receiving side, or withdrawn when the ticket is resolved first.
-- The gateway reads escalations; it changes them only through the
-- functions below, which write the ticket event and audit row with them.
CREATE TABLE escalations (
    tenant_id      uuid        NOT NULL REFERENCES tenants (tenant_id),
    escalation_id  bigint      NOT NULL DEFAULT nextval('escalations_escalation_id_seq'),
    ticket_number  integer     NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('functional', 'handoff', 'hierarchical')),
    target         text        NOT NULL CHECK (target IN ('provider:L1', 'provider:L2',
                                   'provider:L3', 'internal_it', 'vendor', 'provider:lead',
                                   'provider:account_manager', 'internal_it:it_leader')),
    status         text        NOT NULL DEFAULT 'open'
                               CHECK (status IN ('open', 'accepted', 'rejected', 'withdrawn')),
    -- where the ticket was
    from_side      text        NOT NULL,
    from_tier      text,
    from_assignee  text,
    assignee       text        CHECK (length(assignee) BETWEEN 1 AND 200),
    group_name     text        CHECK (length(group_name) BETWEEN 1 AND 100),
    -- {summary, tried, next_action}
    note           jsonb       NOT NULL,
    context        jsonb       NOT NULL,
    -- the policy rule that allowed it, or automatic:<step>
    rule           text        NOT NULL,
    -- an automatic step's once-per-ticket key, NULL for people's
    auto_key       text,
    parent_id      bigint,
    raised_by      text        NOT NULL DEFAULT app.principal_sub(),
    raised_at      timestamptz NOT NULL DEFAULT now(),
    acknowledge_by timestamptz,
    -- when its acknowledgement timeout raised the hierarchical escalation
    timed_out_at   timestamptz,
    decided_by     text,
    decided_at     timestamptz,
    reason         text        CHECK (length(reason) BETWEEN 1 AND 4000),
    PRIMARY KEY (tenant_id, escalation_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number)
) PARTITION BY LIST (tenant_id);

CREATE INDEX escalations_ticket ON escalations (tenant_id, ticket_number, escalation_id);
-- What waits, across tenants (GET /v1/escalations, the inbox).
CREATE INDEX escalations_open ON escalations (escalation_id) WHERE status = 'open';
-- The acknowledgement sweep.
CREATE INDEX escalations_ack ON escalations (acknowledge_by)
    WHERE status = 'open' AND timed_out_at IS NULL AND acknowledge_by IS NOT NULL;
-- One handoff or functional escalation waits at a time per ticket.
CREATE UNIQUE INDEX escalations_one_waiting ON escalations (tenant_id, ticket_number)
    WHERE status = 'open' AND kind <> 'hierarchical';
-- Every automatic step once per ticket, whoever sweeps and however often.
CREATE UNIQUE INDEX escalations_auto_once ON escalations (tenant_id, ticket_number, auto_key)
    WHERE auto_key IS NOT NULL;

ALTER TABLE escalations ENABLE ROW LEVEL SECURITY;
ALTER TABLE escalations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON escalations
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]));
-- Escalations are for staff of both sides, never requesters or machines.
CREATE POLICY staff_only ON escalations AS RESTRICTIVE
    USING ('staff' = ANY ((SELECT app.visible_levels())::text[]))
    WITH CHECK ('staff' = ANY ((SELECT app.visible_levels())::text[]));

GRANT SELECT ON escalations TO msp_gateway;

-- ---- partitions ---------------------------------------------------------

CREATE OR REPLACE FUNCTION app.tenant_partitioned_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT ARRAY['tickets', 'assets', 'ticket_assets', 'ticket_events', 'escalations',
                       'audit_log'] $$;

-- As before, and a partition gets its parent's restrictive policies too.
CREATE OR REPLACE FUNCTION app.create_tenant_partitions(p_tenant uuid) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    v_slug    text;
    v_parent  text;
    v_name    text;
    v_created integer := 0;
BEGIN
    SELECT slug INTO STRICT v_slug FROM public.tenants WHERE tenant_id = p_tenant;
    FOREACH v_parent IN ARRAY app.tenant_partitioned_tables() LOOP
        v_name := app.tenant_partition_name(v_parent, v_slug);
        CONTINUE WHEN to_regclass(format('public.%I', v_name)) IS NOT NULL;
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.%I FOR VALUES IN (%L)',
                       v_name, v_parent, p_tenant);
        -- A partition read directly (not through its parent) is subject to
        -- its own policies only: give it the parent's.
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', v_name);
        EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', v_name);
        EXECUTE format('CREATE POLICY tenant_isolation ON public.%I '
                       'USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[])) '
                       'WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))',
                       v_name);
        PERFORM app.add_partition_policies(v_parent, v_name);
        v_created := v_created + 1;
    END LOOP;
    INSERT INTO public.ticket_counters (tenant_id) VALUES (p_tenant)
        ON CONFLICT (tenant_id) DO NOTHING;
    RETURN v_created;
END
$$;

CREATE FUNCTION app.add_partition_policies(p_parent text, p_name text) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
BEGIN
    IF p_parent = 'ticket_events' THEN
        EXECUTE format('CREATE POLICY visibility ON public.%I AS RESTRICTIVE '
                       'USING (visibility = ANY ((SELECT app.visible_levels())::text[])) '
                       'WITH CHECK (visibility = ANY ((SELECT app.visible_levels())::text[]))',
                       p_name);
    ELSIF p_parent = 'escalations' THEN
        EXECUTE format('CREATE POLICY staff_only ON public.%I AS RESTRICTIVE '
                       'USING (''staff'' = ANY ((SELECT app.visible_levels())::text[])) '
                       'WITH CHECK (''staff'' = ANY ((SELECT app.visible_levels())::text[]))',
                       p_name);
    END IF;
END
$$;

REVOKE ALL ON FUNCTION app.create_tenant_partitions(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.add_partition_policies(text, text) FROM PUBLIC;

-- The tenants that exist: their history partitions get the visibility
-- policy, and each gets its escalations partition.  (Row-level security
-- applies to the owner too: the migration reads tenants as an admin.)
DO $$
DECLARE
    v record;
BEGIN
    PERFORM set_config('msp.sub', 'mspctl:migrate', true),
            set_config('msp.org', 'provider', true),
            set_config('msp.role', 'admin', true);
    FOR v IN SELECT tenant_id, slug FROM public.tenants LOOP
        IF to_regclass(format('public.%I', app.tenant_partition_name('ticket_events', v.slug)))
           IS NOT NULL
        THEN
            PERFORM app.add_partition_policies('ticket_events',
                app.tenant_partition_name('ticket_events', v.slug));
        END IF;
        PERFORM app.create_tenant_partitions(v.tenant_id);
    END LOOP;
END
$$;

-- What is assigned to whom and still open, soonest breach first (the inbox).
CREATE INDEX tickets_assignee_open ON tickets (assignee, breach_at)
    WHERE status NOT IN ('resolved', 'closed') AND assignee IS NOT NULL;

-- ---- documents ----------------------------------------------------------

-- The ticket as a handoff carries it: what the receiver needs to start.
-- (The asset ids come from the caller: a query inside a SQL function is
-- planned again at every call, over every tenant's partitions.)
CREATE FUNCTION app.escalation_context(k public.tickets, asset_ids bigint[]) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT jsonb_build_object(
        'title', k.title,
        'description', k.description,
        'priority', k.priority,
        'category', k.category,
        'status', k.status,
        'asset_ids', to_jsonb(asset_ids),
        'response_due', app.rfc3339(k.response_due),
        'resolution_due', app.rfc3339(k.resolution_due))
    $$;

CREATE FUNCTION app.escalation_doc(x public.escalations, t public.tenants) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'id', x.escalation_id,
        'tenant', t.slug,
        'ticket', t.ticket_prefix || '-' || x.ticket_number,
        'kind', x.kind,
        'status', x.status,
        'to', x.target,
        'from', json_build_object('side', x.from_side, 'tier', x.from_tier,
                                  'assignee', x.from_assignee),
        'assignee', x.assignee,
        'group', x.group_name,
        'note', x.note,
        'context', x.context,
        'rule', x.rule,
        'automatic', x.auto_key IS NOT NULL,
        'parent', x.parent_id,
        'raised_by', x.raised_by,
        'raised_at', app.rfc3339(x.raised_at),
        'acknowledge_by', app.rfc3339(x.acknowledge_by),
        'decided_by', x.decided_by,
        'decided_at', app.rfc3339(x.decided_at),
        'reason', x.reason)
    $$;

-- {"side": {"from", "to"}, ...} for the values that differ, as "updated"
-- events record changes (and app.ticket_sla_history reads them).
CREATE FUNCTION app.ticket_changes(old_side text, new_side text, old_tier text, new_tier text,
                                   old_assignee text, new_assignee text,
                                   old_status text, new_status text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'side', CASE WHEN old_side IS DISTINCT FROM new_side
                     THEN jsonb_build_object('from', old_side, 'to', new_side) END,
        'status', CASE WHEN old_status IS DISTINCT FROM new_status
                       THEN jsonb_build_object('from', old_status, 'to', new_status) END))
        || CASE WHEN old_tier IS DISTINCT FROM new_tier
                THEN jsonb_build_object('tier', jsonb_build_object('from', old_tier,
                                                                   'to', new_tier))
                ELSE '{}' END
        || CASE WHEN old_assignee IS DISTINCT FROM new_assignee
                THEN jsonb_build_object('assignee', jsonb_build_object('from', old_assignee,
                                                                       'to', new_assignee))
                ELSE '{}' END
    $$;

-- ---- raising and deciding -----------------------------------------------

-- Raises an escalation on a ticket and, for a functional escalation or a
-- handoff, moves the ticket to its target at once (side, tier; the
-- assignee becomes p_assignee), with its event and audit row.  Returns the
-- escalation.  When a unique index refuses it, an automatic step (p_auto_key)
-- returns no row (it happened already, or a handoff waits), and a person's
-- escalation fails with unique_violation, so that nothing of its request
-- (the clocks stored with it) is committed.
--
-- SECURITY DEFINER: the gateway may not write escalations itself.  Row-level
-- security still applies (it is FORCEd, and the principal is the caller's):
-- the ticket must be visible, and the caller staff.
CREATE FUNCTION app.raise_escalation(p_tenant uuid, p_number integer, p_kind text,
                                     p_target text, p_note jsonb, p_assignee text,
                                     p_group text, p_rule text, p_auto_key text,
                                     p_parent bigint, p_acknowledge_by timestamptz)
    RETURNS SETOF public.escalations
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    k        public.tickets;
    x        public.escalations;
    v_side   text := split_part(p_target, ':', 1);
    v_tier   text;
    v_prefix text;
    v_assets bigint[];
    v_change jsonb := '{}';
BEGIN
    SELECT * INTO k FROM public.tickets
     WHERE tenant_id = p_tenant AND number = p_number FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT ticket_prefix INTO v_prefix FROM public.tenants WHERE tenant_id = p_tenant;
    SELECT coalesce(array_agg(asset_id ORDER BY asset_id), '{}') INTO v_assets
      FROM public.ticket_assets WHERE tenant_id = p_tenant AND ticket_number = p_number;
    INSERT INTO public.escalations (tenant_id, ticket_number, kind, target, from_side,
                                    from_tier, from_assignee, assignee, group_name, note,
                                    context, rule, auto_key, parent_id, acknowledge_by)
    VALUES (p_tenant, p_number, p_kind, p_target, k.side, k.tier, k.assignee, p_assignee,
            p_group, p_note, app.escalation_context(k, v_assets), p_rule, p_auto_key, p_parent,
            CASE WHEN p_kind <> 'hierarchical' THEN p_acknowledge_by END)
    ON CONFLICT DO NOTHING
    RETURNING * INTO x;
    IF x.escalation_id IS NULL AND p_auto_key IS NULL THEN
        RAISE EXCEPTION 'another escalation waits on ticket %', p_number
            USING ERRCODE = 'unique_violation';
    END IF;
    IF x.escalation_id IS NULL THEN
        RETURN;
    END IF;
    IF p_kind <> 'hierarchical' THEN
        v_tier := CASE WHEN v_side = 'provider' THEN split_part(p_target, ':', 2) END;
        v_change := app.ticket_changes(k.side, v_side, k.tier, v_tier, k.assignee, p_assignee,
                                       k.status, k.status);
        UPDATE public.tickets
           SET side = v_side, tier = v_tier, assignee = p_assignee,
               version = version + 1, updated_at = now()
         WHERE tenant_id = p_tenant AND number = p_number;
    END IF;
    INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
    VALUES (p_tenant, p_number, 'escalated',
            jsonb_build_object('escalation_id', x.escalation_id, 'kind', p_kind,
                               'to', p_target, 'rule', p_rule, 'note', p_note,
                               'automatic', p_auto_key IS NOT NULL) || v_change);
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    VALUES (p_tenant,
            CASE WHEN p_auto_key IS NULL THEN 'escalation.create' ELSE 'escalation.automatic' END,
            'ticket:' || v_prefix || '-' || p_number,
            jsonb_build_object('escalation_id', x.escalation_id, 'kind', p_kind,
                               'to', p_target, 'rule', p_rule));
    RETURN NEXT x;
END
$$;

-- Accepts or rejects an open escalation, with its event and audit row.  A
-- functional escalation or handoff accepted goes to the accepter (who
-- becomes the assignee, unless it went to a vendor, and a new ticket
-- becomes assigned); rejected, it returns to the side and tier it came
-- from, assigned to whoever sent it (an automatic one: to its previous
-- assignee).  Returns the escalation; fails (object_not_in_prerequisite_state)
-- when it is not open.  Locks the ticket before the escalation, as every
-- path does.  SECURITY DEFINER as app.raise_escalation.
CREATE FUNCTION app.decide_escalation(p_tenant uuid, p_id bigint, p_accept boolean,
                                      p_reason text)
    RETURNS SETOF public.escalations
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    k            public.tickets;
    x            public.escalations;
    v_prefix     text;
    v_side       text;
    v_tier       text;
    v_assignee   text;
    v_status     text;
BEGIN
    SELECT k2.* INTO k FROM public.tickets k2 JOIN public.escalations e
        ON e.tenant_id = k2.tenant_id AND e.ticket_number = k2.number
     WHERE e.tenant_id = p_tenant AND e.escalation_id = p_id
       FOR UPDATE OF k2;
    UPDATE public.escalations
       SET status = CASE WHEN p_accept THEN 'accepted' ELSE 'rejected' END,
           decided_by = app.principal_sub(), decided_at = now(), reason = p_reason
     WHERE tenant_id = p_tenant AND escalation_id = p_id AND status = 'open'
    RETURNING * INTO x;
    IF x.escalation_id IS NULL THEN
        RAISE EXCEPTION 'escalation % is not open', p_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT ticket_prefix INTO v_prefix FROM public.tenants WHERE tenant_id = p_tenant;
    v_side := k.side;
    v_tier := k.tier;
    v_assignee := k.assignee;
    v_status := k.status;
    IF x.kind <> 'hierarchical' AND p_accept THEN
        IF split_part(x.target, ':', 1) <> 'vendor' THEN
            v_assignee := app.principal_sub();
        END IF;
        IF k.status = 'new' THEN
            v_status := 'assigned';
        END IF;
    ELSIF x.kind <> 'hierarchical' THEN
        v_side := x.from_side;
        v_tier := x.from_tier;
        v_assignee := CASE WHEN x.auto_key IS NULL THEN x.raised_by ELSE x.from_assignee END;
    END IF;
    IF (v_side, v_tier, v_assignee, v_status) IS DISTINCT FROM
       (k.side, k.tier, k.assignee, k.status)
    THEN
        UPDATE public.tickets
           SET side = v_side, tier = v_tier, assignee = v_assignee, status = v_status,
               version = version + 1, updated_at = now()
         WHERE tenant_id = p_tenant AND number = x.ticket_number;
    END IF;
    INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
    VALUES (p_tenant, x.ticket_number,
            CASE WHEN p_accept THEN 'escalation_accepted' ELSE 'escalation_rejected' END,
            jsonb_strip_nulls(jsonb_build_object('escalation_id', x.escalation_id,
                                                 'kind', x.kind, 'reason', p_reason))
            || app.ticket_changes(k.side, v_side, k.tier, v_tier, k.assignee, v_assignee,
                                  k.status, v_status));
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    VALUES (p_tenant, CASE WHEN p_accept THEN 'escalation.accept' ELSE 'escalation.reject' END,
            'ticket:' || v_prefix || '-' || x.ticket_number,
            jsonb_strip_nulls(jsonb_build_object('escalation_id', x.escalation_id,
                                                 'reason', p_reason)));
    RETURN NEXT x;
END
$$;

REVOKE ALL ON FUNCTION app.raise_escalation(uuid, integer, text, text, jsonb, text, text,
                                            text, text, bigint, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.decide_escalation(uuid, bigint, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.raise_escalation(uuid, integer, text, text, jsonb, text, text,
                                               text, text, bigint, timestamptz) TO msp_gateway;
GRANT EXECUTE ON FUNCTION app.decide_escalation(uuid, bigint, boolean, text) TO msp_gateway;

-- The side's management: who a hierarchical escalation about work held by
-- p_side goes to (internal IT's leader; otherwise the provider's p_role).
CREATE FUNCTION app.management_of(p_side text, p_role text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_side = 'internal_it' THEN 'internal_it:it_leader'
                ELSE 'provider:' || p_role END
    $$;

-- The escalation policy's automatic steps when the sweep announces that a
-- ticket's clock reached p_threshold percent: notify the holding side's
-- lead, escalate a tier, management attention on the first breach of
-- either clock.  Each at most once per ticket (escalations_auto_once).
-- Returns how many it raised.
CREATE FUNCTION app.escalation_steps(p_tenant uuid, p_number integer, p_clock text,
                                     p_threshold integer, p_acknowledge_by timestamptz)
    RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_auto   jsonb;
    k        public.tickets;
    v_tried  constant text := 'Raised by the SLA sweep; the ticket''s history shows what was done.';
    v_next   text;
    v_raised integer := 0;
    n        integer;
BEGIN
    SELECT escalation_policy->'automatic' INTO v_auto
      FROM public.tenants WHERE tenant_id = p_tenant;
    SELECT * INTO k FROM public.tickets WHERE tenant_id = p_tenant AND number = p_number;
    IF k.status IN ('resolved', 'closed') THEN
        RETURN 0;      -- a breach found after the fact needs no one's attention now
    END IF;
    IF p_clock = 'resolution' AND p_threshold = (v_auto->>'notify_lead_at_percent')::integer THEN
        SELECT count(*) INTO n FROM app.raise_escalation(p_tenant, p_number, 'hierarchical',
            app.management_of(k.side, 'lead'),
            jsonb_build_object('summary', p_threshold || '% of the resolution target has elapsed.',
                               'tried', v_tried,
                               'next_action', 'Check that the ticket is in the right hands '
                                              'before it breaches.'),
            NULL, NULL, 'automatic:notify_lead', 'notify_lead', NULL, NULL);
        v_raised := v_raised + n;
    END IF;
    IF p_clock = 'resolution'
       AND p_threshold = (v_auto->>'escalate_tier_at_percent')::integer
       AND k.side = 'provider' AND coalesce(k.tier, 'L1') <> 'L3'
    THEN
        v_next := CASE coalesce(k.tier, 'L1') WHEN 'L1' THEN 'L2' ELSE 'L3' END;
        SELECT count(*) INTO n FROM app.raise_escalation(p_tenant, p_number, 'functional',
            'provider:' || v_next,
            jsonb_build_object('summary', p_threshold || '% of the resolution target has elapsed at '
                                          || coalesce(k.tier, 'L1') || '.',
                               'tried', v_tried,
                               'next_action', 'Take the ticket over at ' || v_next || '.'),
            NULL, NULL, 'automatic:escalate_tier', 'escalate_tier', NULL, p_acknowledge_by);
        v_raised := v_raised + n;
    END IF;
    IF p_threshold >= 100 AND coalesce((v_auto->>'hierarchical_on_breach')::boolean, false) THEN
        SELECT count(*) INTO n FROM app.raise_escalation(p_tenant, p_number, 'hierarchical',
            app.management_of(k.side, 'account_manager'),
            jsonb_build_object('summary', 'The ' || p_clock || ' target was breached.',
                               'tried', v_tried,
                               'next_action', 'Agree the recovery with the client.'),
            NULL, NULL, 'automatic:breach', 'breach', NULL, NULL);
        v_raised := v_raised + n;
    END IF;
    RETURN v_raised;
END
$$;

-- Functional escalations and handoffs not accepted in time: each raises,
-- once, a hierarchical escalation to the receiving side's management (for
-- a vendor, the sender's).  (Resolving a ticket withdraws what waits on
-- it.)  Locks the ticket before the escalation, as every path does, and
-- skips what a request is changing.  At most p_limit per call; returns
-- how many.
CREATE FUNCTION app.acknowledgement_sweep(p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    x        record;
    v_raised integer := 0;
    n        integer;
BEGIN
    FOR x IN
        SELECT e.tenant_id, e.escalation_id, e.ticket_number, e.target, e.from_side,
               e.acknowledge_by, e.raised_at
          FROM public.escalations e
          JOIN public.tickets k ON k.tenant_id = e.tenant_id AND k.number = e.ticket_number
         WHERE e.status = 'open' AND e.timed_out_at IS NULL AND e.acknowledge_by <= now()
         ORDER BY e.acknowledge_by
         LIMIT p_limit
           FOR UPDATE OF k, e SKIP LOCKED
    LOOP
        SELECT count(*) INTO n FROM app.raise_escalation(x.tenant_id, x.ticket_number,
            'hierarchical',
            app.management_of(CASE WHEN x.target = 'vendor' THEN x.from_side
                                   ELSE split_part(x.target, ':', 1) END, 'lead'),
            jsonb_build_object('summary', 'Escalation ' || x.escalation_id || ' to '
                                          || x.target || ' was not accepted by '
                                          || app.rfc3339(x.acknowledge_by) || '.',
                               'tried', 'Raised ' || app.rfc3339(x.raised_at)
                                        || '; waiting for the receiving side since.',
                               'next_action', 'Get it accepted, or rejected with a reason.'),
            NULL, NULL, 'automatic:acknowledgement', 'acknowledgement:' || x.escalation_id,
            x.escalation_id, NULL);
        UPDATE public.escalations SET timed_out_at = now()
         WHERE tenant_id = x.tenant_id AND escalation_id = x.escalation_id;
        v_raised := v_raised + n;
    END LOOP;
    RETURN v_raised;
END
$$;

-- The sweep: as before (0007), and the automatic steps of each alert it
-- announces, then the acknowledgement timeouts.  Returns the number of
-- events written, -1 when another sweeper holds the lock.  SECURITY
-- DEFINER so that the steps it takes are the gateway's only way to them
-- (msp_gateway may call this, not app.escalation_steps or
-- app.acknowledgement_sweep); row-level security applies as the caller's
-- principal (the sweeper's, an admin).
CREATE OR REPLACE FUNCTION app.sla_sweep(p_limit integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
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
        SELECT k.tenant_id, k.number, k.sla_pending, t.ticket_prefix,
               t.escalation_policy->'automatic' AS auto
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
                IF (a->>'threshold')::integer >= 100
                       AND (r.auto->>'hierarchical_on_breach')::boolean
                   OR a->>'clock' = 'resolution'
                       AND (a->>'threshold')::integer IN ((r.auto->>'notify_lead_at_percent')::integer,
                                                          (r.auto->>'escalate_tier_at_percent')::integer)
                THEN
                    written := written + app.escalation_steps(r.tenant_id, r.number, a->>'clock',
                        (a->>'threshold')::integer, (a->>'ack_due')::timestamptz);
                END IF;
            END IF;
        END LOOP;
        UPDATE public.tickets
           SET sla_pending = rest,
               sla_next_at = (SELECT min((x->>'at')::timestamptz)
                                FROM jsonb_array_elements(rest) x)
         WHERE tenant_id = r.tenant_id AND number = r.number;
    END LOOP;
    RETURN written + app.acknowledgement_sweep(p_limit);
END
$$;

REVOKE ALL ON FUNCTION app.escalation_steps(uuid, integer, text, integer, timestamptz)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION app.acknowledgement_sweep(integer) FROM PUBLIC;

-- Resolving or closing a ticket withdraws the escalations still waiting on
-- it, whoever resolves it and however: nothing waits on finished work.
CREATE FUNCTION app.withdraw_escalations() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    x        record;
    v_prefix text;
BEGIN
    SELECT ticket_prefix INTO v_prefix FROM public.tenants WHERE tenant_id = NEW.tenant_id;
    FOR x IN
        UPDATE public.escalations
           SET status = 'withdrawn', decided_by = app.principal_sub(), decided_at = now(),
               reason = 'The ticket was ' || NEW.status || '.'
         WHERE tenant_id = NEW.tenant_id AND ticket_number = NEW.number AND status = 'open'
        RETURNING escalation_id, kind, reason
    LOOP
        INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
        VALUES (NEW.tenant_id, NEW.number, 'escalation_withdrawn',
                jsonb_build_object('escalation_id', x.escalation_id, 'kind', x.kind,
                                   'reason', x.reason));
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        VALUES (NEW.tenant_id, 'escalation.withdraw', 'ticket:' || v_prefix || '-' || NEW.number,
                jsonb_build_object('escalation_id', x.escalation_id, 'reason', x.reason));
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER tickets_withdraw_escalations AFTER UPDATE OF status ON tickets
    FOR EACH ROW WHEN (NEW.status IN ('resolved', 'closed')
                       AND OLD.status NOT IN ('resolved', 'closed'))
    EXECUTE FUNCTION app.withdraw_escalations();

-- History for the SLA clocks (0007) now includes the moves escalations
-- make: held time follows the side that holds the ticket.
CREATE OR REPLACE FUNCTION app.ticket_sla_history(p_tenant uuid, p_number integer) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
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
               (e.data->>'threshold')::integer)
             ORDER BY e.event_id), '[]'::json)
      FROM public.ticket_events e
     WHERE e.tenant_id = p_tenant AND e.ticket_number = p_number
       AND e.kind IN ('created', 'updated', 'comment', 'sla_warning', 'sla_breached',
                      'escalated', 'escalation_accepted', 'escalation_rejected')
    $$;
