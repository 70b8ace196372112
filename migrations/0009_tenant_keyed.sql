-- Tenant-keyed tables, and the principal's context computed once per
-- transaction.
--
-- Until 0008 every tenant-owned table was LIST-partitioned with one
-- partition per tenant, and each policy compared tenant_id with a set of
-- tenants that a function recomputed, through another table's policy, in
-- every statement.  PostgreSQL 15 cannot prune partitions by such a
-- condition before it has planned and locked all of them, so every request
-- cost grew with the number of tenants.  From here on:
--
--   - tenant-owned tables are ordinary tables; tenant_id leads every
--     primary key, foreign key and per-tenant index, so a statement that
--     names its tenant reads that tenant's rows by index, whatever the
--     number of tenants.  (A few partial indexes of open work, below, are
--     global on purpose: they serve the cross-tenant reads of an admin and
--     the sweep, which must not grow with the number of tenants either.)
--   - app.set_principal(sub, org, role), called once at the start of each
--     request's transaction, states who is asking and computes the sets of
--     tenants the principal may read, and where its role lets it do what
--     (transaction-local settings).  Every policy compares tenant_id with
--     one of those sets, read once per statement.  Nothing set, nothing
--     seen: a transaction without a principal sees and writes no tenant
--     data.
--
-- This file also holds every policy and every function that depends on
-- the tables' row types, so the access rules read in one place.

-- ---- 1. the context -----------------------------------------------------

-- What each role may do in a tenant, by capability:
--   read      see the tenant's tickets, assets and public history
--   staff     see staff comments, escalations and the audit log
--   provider  see provider-only comments (the provider's staff)
--   own       see only the tickets it requested (requesters)
--   write     open tickets and comment (everyone but auditors)
--   work      change tickets and take part in escalations
-- services/ticket_rules.c says the same for its 403s, with the reasons.
CREATE FUNCTION app.role_may(p_provider boolean, p_role text, p_capability text)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(CASE p_capability
        WHEN 'read'     THEN true
        WHEN 'staff'    THEN p_role IN ('technician', 'lead', 'account_manager', 'admin',
                                        'auditor', 'it_staff', 'it_leader')
        WHEN 'provider' THEN p_provider AND p_role IN ('technician', 'lead', 'account_manager',
                                                       'admin', 'auditor')
        WHEN 'own'      THEN p_role = 'requester'
        WHEN 'write'    THEN p_role <> 'auditor'
        WHEN 'work'     THEN p_role IN ('technician', 'lead', 'account_manager', 'admin',
                                        'it_staff', 'it_leader')
    END, false)
    $$;

-- The principal's tenant for a tenant-side principal, NULL for provider
-- staff: only this lets app.set_principal find a tenant principal's
-- tenant (tenants_of_org below).
CREATE OR REPLACE FUNCTION app.principal_tenant_slug() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT app.principal_org()
     WHERE app.principal_sub() IS NOT NULL
       AND app.principal_org() <> 'provider'
       AND app.principal_role() IN ('it_staff', 'it_leader', 'requester', 'auditor', 'integration')
    $$;

-- Whether the principal is the provider's administrator: every tenant,
-- every capability.
CREATE FUNCTION app.sees_all() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('msp.all', true) = 'on', false) $$;

-- The tenants where the principal has a capability (app.role_may's
-- names); empty without a principal.  Policies call it as
-- (SELECT app.tenant_ids('...')) so that it is read once per statement.
CREATE FUNCTION app.tenant_ids(p_capability text) RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(nullif(current_setting('msp.tenants_' || p_capability, true), '')::uuid[],
                    '{}')
    $$;

-- The principal's role in a tenant: its assignment's for provider staff,
-- its own for the tenant's people, admin for the provider's admins; NULL
-- where it has none.
CREATE FUNCTION app.role_in(p_tenant uuid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN app.sees_all() THEN 'admin'
                ELSE (nullif(current_setting('msp.roles', true), '')::text[])
                     [array_position(app.tenant_ids('read'), p_tenant)]
           END
    $$;

-- A provider technician's tier in a tenant (its assignment's), or NULL.
CREATE FUNCTION app.tier_in(p_tenant uuid) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN NOT app.sees_all()
                THEN (nullif(current_setting('msp.tiers', true), '')::text[])
                     [array_position(app.tenant_ids('read'), p_tenant)]
           END
    $$;

-- A tenant's gate, which every write to the tenant passes and offboarding
-- closes: a write request takes the shared advisory lock in its first
-- statement (msp_sql_tenant), before any row lock; `mspctl tenant
-- offboard` takes the exclusive one, so it waits for the writes in flight,
-- and writes that come later wait for it (behind it in the lock's queue,
-- so a stream of writes cannot starve it) and then find the tenant gone:
-- app.enter_tenant answers whether the tenant still exists once through
-- (a volatile function's query sees what committed while it waited).
-- Reads do not pass it: they see the tenant until the offboarding commits.
CREATE FUNCTION app.tenant_gate(p_tenant uuid) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashtextextended('msp.tenant:' || p_tenant::text, 0) $$;

CREATE FUNCTION app.enter_tenant(p_tenant uuid) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF current_setting('transaction_read_only')::boolean THEN
        RETURN true;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(app.tenant_gate(p_tenant));
    RETURN EXISTS (SELECT FROM public.tenants WHERE tenant_id = p_tenant);
END
$$;

-- The tenants a principal that does not see them all reads, with its role
-- and tier in each (the cross-tenant reads walk these one by one).
CREATE FUNCTION app.principal_tenants() RETURNS TABLE (tenant_id uuid, role text, tier text)
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT * FROM unnest(app.tenant_ids('read'),
                         nullif(current_setting('msp.roles', true), '')::text[],
                         nullif(current_setting('msp.tiers', true), '')::text[])
    $$;

-- States the transaction's principal and computes its context.  The
-- gateway and mspctl call it first in every transaction; the settings are
-- transaction-local (set_config(..., true)), so nothing outlives the
-- request on a pooled connection, and the assignments are read afresh
-- each time, so `mspctl unassign` takes effect on the next request.
--
-- How the token's role and the assignments combine: a tenant's people act
-- in their own tenant with their token's role.  Provider staff act in each
-- tenant they are assigned to with the role of that assignment (the same
-- person can be a technician for one client and an auditor for another);
-- a provider token whose role is admin acts as admin in every tenant.
-- A principal it does not recognise (a tenant role claimed by the
-- provider, an unknown tenant, no subject) gets empty sets.
--
-- SECURITY DEFINER so that it reads assignments and tenants whatever the
-- caller's privileges; row-level security still applies (it is FORCEd),
-- through the two policies that let a principal find its own rows.
CREATE FUNCTION app.set_principal(p_sub text, p_org text, p_role text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    v_provider boolean := coalesce(p_org = 'provider', false);
    v_ids      uuid[] := '{}';
    v_roles    text[] := '{}';
    v_tiers    text[] := '{}';
    v_staff    uuid[];
    v_prov     uuid[];
    v_own      uuid[];
    v_write    uuid[];
    v_work     uuid[];
BEGIN
    -- Who is asking; no tenant yet (a principal set earlier in the same
    -- transaction leaves nothing behind).
    PERFORM set_config('msp.sub', coalesce(p_sub, ''), true),
            set_config('msp.org', coalesce(p_org, ''), true),
            set_config('msp.role', coalesce(p_role, ''), true),
            set_config('msp.all', 'off', true),
            set_config('msp.tenants_read', '', true),
            set_config('msp.roles', '', true),
            set_config('msp.tiers', '', true);
    IF coalesce(p_sub, '') = '' THEN
        NULL;
    ELSIF v_provider AND p_role = 'admin' THEN
        PERFORM set_config('msp.all', 'on', true);
    ELSIF v_provider AND p_role IN ('technician', 'lead', 'account_manager', 'auditor',
                                    'integration') THEN
        SELECT coalesce(array_agg(a.tenant_id ORDER BY a.tenant_id), '{}'),
               coalesce(array_agg(a.role ORDER BY a.tenant_id), '{}'),
               coalesce(array_agg(a.tier ORDER BY a.tenant_id), '{}')
          INTO v_ids, v_roles, v_tiers
          FROM public.assignments a
         WHERE a.subject = p_sub;
    ELSIF app.principal_tenant_slug() IS NOT NULL THEN
        SELECT coalesce(array_agg(t.tenant_id), '{}'), coalesce(array_agg(p_role), '{}'),
               coalesce(array_agg(NULL::text), '{}')
          INTO v_ids, v_roles, v_tiers
          FROM public.tenants t
         WHERE t.slug = p_org;
    END IF;

    SELECT coalesce(array_agg(u.id) FILTER (WHERE app.role_may(v_provider, u.role, 'staff')), '{}'),
           coalesce(array_agg(u.id) FILTER (WHERE app.role_may(v_provider, u.role, 'provider')), '{}'),
           coalesce(array_agg(u.id) FILTER (WHERE app.role_may(v_provider, u.role, 'own')), '{}'),
           coalesce(array_agg(u.id) FILTER (WHERE app.role_may(v_provider, u.role, 'write')), '{}'),
           coalesce(array_agg(u.id) FILTER (WHERE app.role_may(v_provider, u.role, 'work')), '{}')
      INTO v_staff, v_prov, v_own, v_write, v_work
      FROM unnest(v_ids, v_roles) AS u (id, role);

    PERFORM set_config('msp.tenants_read', v_ids::text, true),
            set_config('msp.roles', v_roles::text, true),
            set_config('msp.tiers', v_tiers::text, true),
            set_config('msp.tenants_staff', v_staff::text, true),
            set_config('msp.tenants_provider', v_prov::text, true),
            set_config('msp.tenants_own', v_own::text, true),
            set_config('msp.tenants_write', v_write::text, true),
            set_config('msp.tenants_work', v_work::text, true);
END
$$;

REVOKE ALL ON FUNCTION app.set_principal(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.set_principal(text, text, text) TO msp_gateway;

-- The migration itself reads and writes as the provider's administrator.
SELECT app.set_principal('mspctl:migrate', 'provider', 'admin');

-- ---- 2. the tables, rebuilt without partitions --------------------------

-- Their rows wait in temporary tables while the partitioned tables (with
-- every partition, policy and the functions taking their row types) are
-- dropped and the plain ones created; the generated visibility of
-- ticket_events is generated again.
CREATE TEMP TABLE old_tickets ON COMMIT DROP AS SELECT * FROM tickets;
CREATE TEMP TABLE old_assets ON COMMIT DROP AS SELECT * FROM assets;
CREATE TEMP TABLE old_ticket_assets ON COMMIT DROP AS SELECT * FROM ticket_assets;
CREATE TEMP TABLE old_ticket_events ON COMMIT DROP AS SELECT * FROM ticket_events;
CREATE TEMP TABLE old_escalations ON COMMIT DROP AS SELECT * FROM escalations;
CREATE TEMP TABLE old_audit_log ON COMMIT DROP AS SELECT * FROM audit_log;

DROP TABLE audit_log, escalations, ticket_events, ticket_assets, assets, tickets CASCADE;
DROP FUNCTION app.tenant_partitioned_tables(), app.tenant_partition_name(text, text),
              app.create_tenant_partitions(uuid), app.add_partition_policies(text, text),
              app.lock_tenant_partitions(uuid), app.drop_tenant(uuid);

CREATE TABLE tickets (
    tenant_id      uuid        NOT NULL REFERENCES tenants (tenant_id),
    number         integer     NOT NULL,
    title          text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description    text        NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    category       text        NOT NULL DEFAULT 'general'
                               CHECK (category ~ '^[a-z][a-z0-9_]{0,39}$'),
    impact         text        NOT NULL CHECK (impact IN ('high', 'medium', 'low')),
    urgency        text        NOT NULL CHECK (urgency IN ('high', 'medium', 'low')),
    priority       text        NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    status         text        NOT NULL DEFAULT 'new'
                               CHECK (status IN ('new', 'assigned', 'in_progress',
                                   'pending_customer', 'pending_vendor', 'resolved', 'closed')),
    side           text        NOT NULL DEFAULT 'provider'
                               CHECK (side IN ('provider', 'internal_it', 'vendor', 'customer')),
    tier           text        CHECK (tier IN ('L1', 'L2', 'L3')),
    assignee       text        CHECK (length(assignee) BETWEEN 1 AND 200),
    requester      text        NOT NULL CHECK (length(requester) BETWEEN 1 AND 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    closed_at      timestamptz,
    -- bumped by every update; the API's ETag
    version        integer     NOT NULL DEFAULT 1,
    -- the SLA clocks' latest computation (0007, services/sla/clock.h)
    sla            jsonb,
    response_due   timestamptz,
    resolution_due timestamptz,
    breach_at      timestamptz,
    sla_pending    jsonb       NOT NULL DEFAULT '[]',
    sla_next_at    timestamptz,
    PRIMARY KEY (tenant_id, number)
);

CREATE TABLE assets (
    tenant_id   uuid        NOT NULL REFERENCES tenants (tenant_id),
    asset_id    bigint      NOT NULL DEFAULT nextval('assets_asset_id_seq'),
    tag         text        NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text        NOT NULL CHECK (kind IN ('laptop', 'desktop', 'server', 'network',
                                'printer', 'mobile', 'software', 'cloud', 'other')),
    serial      text,
    owner       text,
    location    text,
    status      text        NOT NULL DEFAULT 'in_service'
                            CHECK (status IN ('in_service', 'in_repair', 'in_stock', 'retired')),
    details     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, asset_id),
    UNIQUE (tenant_id, tag)
);

CREATE TABLE ticket_assets (
    tenant_id     uuid    NOT NULL,
    ticket_number integer NOT NULL,
    asset_id      bigint  NOT NULL,
    PRIMARY KEY (tenant_id, ticket_number, asset_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number),
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, asset_id)
);

CREATE TABLE ticket_events (
    tenant_id     uuid        NOT NULL,
    event_id      bigint      NOT NULL DEFAULT nextval('ticket_events_event_id_seq'),
    ticket_number integer     NOT NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_sub     text        NOT NULL DEFAULT app.principal_sub(),
    actor_org     text        NOT NULL DEFAULT app.principal_org(),
    actor_role    text        NOT NULL DEFAULT app.principal_role(),
    kind          text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    data          jsonb       NOT NULL DEFAULT '{}',
    -- who may read it (0008): the ticket's own changes are public, a
    -- comment is what its author chose, everything else is for staff
    visibility    text        NOT NULL GENERATED ALWAYS AS (
                      CASE WHEN kind IN ('created', 'updated') THEN 'public'
                           WHEN kind = 'comment' AND data->>'visibility' IN ('public', 'provider')
                               THEN data->>'visibility'
                           ELSE 'staff'
                      END) STORED,
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number)
);

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
    from_side      text        NOT NULL,
    from_tier      text,
    from_assignee  text,
    assignee       text        CHECK (length(assignee) BETWEEN 1 AND 200),
    group_name     text        CHECK (length(group_name) BETWEEN 1 AND 100),
    note           jsonb       NOT NULL,
    context        jsonb       NOT NULL,
    rule           text        NOT NULL,
    auto_key       text,
    parent_id      bigint,
    raised_by      text        NOT NULL DEFAULT app.principal_sub(),
    raised_at      timestamptz NOT NULL DEFAULT now(),
    acknowledge_by timestamptz,
    timed_out_at   timestamptz,
    decided_by     text,
    decided_at     timestamptz,
    reason         text        CHECK (length(reason) BETWEEN 1 AND 4000),
    PRIMARY KEY (tenant_id, escalation_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number)
);

CREATE TABLE audit_log (
    tenant_id   uuid        NOT NULL REFERENCES tenants (tenant_id),
    audit_id    bigint      NOT NULL DEFAULT nextval('audit_log_audit_id_seq'),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_sub   text        NOT NULL DEFAULT app.principal_sub(),
    actor_org   text        NOT NULL DEFAULT app.principal_org(),
    actor_role  text        NOT NULL DEFAULT app.principal_role(),
    action      text        NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
    target      text        NOT NULL,
    detail      jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, audit_id)
);

INSERT INTO tickets SELECT * FROM old_tickets;
INSERT INTO assets SELECT * FROM old_assets;
INSERT INTO ticket_assets SELECT * FROM old_ticket_assets;
INSERT INTO ticket_events (tenant_id, event_id, ticket_number, occurred_at, actor_sub,
                           actor_org, actor_role, kind, data)
SELECT tenant_id, event_id, ticket_number, occurred_at, actor_sub, actor_org, actor_role,
       kind, data
  FROM old_ticket_events;
INSERT INTO escalations SELECT * FROM old_escalations;
INSERT INTO audit_log SELECT * FROM old_audit_log;

-- A tenant called "provider" would make its people provider staff.
ALTER TABLE tenants ADD CONSTRAINT tenants_slug_not_provider CHECK (slug <> 'provider');

-- ---- 3. indexes ---------------------------------------------------------

-- One tenant's tickets: newest first (the primary key), changed since, by
-- breach, and its open work in the queue's three orders.
CREATE INDEX tickets_updated ON tickets (tenant_id, updated_at, number);
CREATE INDEX tickets_breach ON tickets (tenant_id, breach_at, number)
    WHERE breach_at IS NOT NULL;
CREATE INDEX tickets_open ON tickets (tenant_id, priority, created_at, number)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_open_age ON tickets (tenant_id, created_at, number)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_open_breach ON tickets (tenant_id, breach_at, number)
    WHERE status NOT IN ('resolved', 'closed') AND breach_at IS NOT NULL;
-- Everyone's open work in the same orders, for a principal who sees many
-- tenants (the queue walks these in order and stops after a page).
CREATE INDEX tickets_open_all ON tickets (priority, created_at, tenant_id, number)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_open_age_all ON tickets (created_at, tenant_id, number)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX tickets_open_breach_all ON tickets (breach_at, tenant_id, number)
    WHERE status NOT IN ('resolved', 'closed') AND breach_at IS NOT NULL;
-- What is assigned to whom and still open, soonest breach first (the inbox).
CREATE INDEX tickets_assignee_open ON tickets (assignee, breach_at, tenant_id, number)
    WHERE status NOT IN ('resolved', 'closed') AND assignee IS NOT NULL;
-- The breach sweep: the next announcement due, across tenants.
CREATE INDEX tickets_sla_next ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;

CREATE INDEX ticket_events_ticket ON ticket_events (tenant_id, ticket_number, event_id);
-- Exactly once: one sla_warning or sla_breached event per ticket, clock and
-- threshold, whoever runs the sweep and however often.
CREATE UNIQUE INDEX ticket_events_sla_once ON ticket_events
    (tenant_id, ticket_number, kind, (data->>'clock'), (data->>'threshold'))
    WHERE kind IN ('sla_warning', 'sla_breached');

CREATE INDEX escalations_ticket ON escalations (tenant_id, ticket_number, escalation_id);
-- What waits: per tenant, and across tenants for those who see them all.
CREATE INDEX escalations_open ON escalations (tenant_id, escalation_id) WHERE status = 'open';
CREATE INDEX escalations_open_all ON escalations (escalation_id) WHERE status = 'open';
-- The acknowledgement sweep.
CREATE INDEX escalations_ack ON escalations (acknowledge_by)
    WHERE status = 'open' AND timed_out_at IS NULL AND acknowledge_by IS NOT NULL;
-- One handoff or functional escalation waits at a time per ticket.
CREATE UNIQUE INDEX escalations_one_waiting ON escalations (tenant_id, ticket_number)
    WHERE status = 'open' AND kind <> 'hierarchical';
-- Every automatic step once per ticket, whoever sweeps and however often.
CREATE UNIQUE INDEX escalations_auto_once ON escalations (tenant_id, ticket_number, auto_key)
    WHERE auto_key IS NOT NULL;

-- ---- 4. triggers --------------------------------------------------------

CREATE TRIGGER tickets_number BEFORE INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION app.assign_ticket_number();
CREATE TRIGGER tickets_identity BEFORE UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION app.keep_ticket_identity();
CREATE TRIGGER tickets_withdraw_escalations AFTER UPDATE OF status ON tickets
    FOR EACH ROW WHEN (NEW.status IN ('resolved', 'closed')
                       AND OLD.status NOT IN ('resolved', 'closed'))
    EXECUTE FUNCTION app.withdraw_escalations();

-- History and audit are append-only for every role, the owner included,
-- except for the rows of the tenant being offboarded (mspctl tenant
-- offboard names it in msp.offboarding).
CREATE OR REPLACE FUNCTION app.reject_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.tenant_id::text = current_setting('msp.offboarding', true) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION app.reject_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION app.reject_change();

-- ---- 5. row-level security ----------------------------------------------
--
-- Enabled and forced on every tenant table.  Each policy compares tenant_id
-- with one of the context's sets, evaluated once per statement; the
-- provider's admins (app.sees_all()) pass every one.  Reading needs the
-- set of the capability that reveals the rows; writing needs "write"
-- (new tickets, comments, audit rows) or "work" (changes).  Only admins
-- delete (mspctl, offboarding a tenant).  On top, restrictive policies:
-- a requester sees only the tickets it requested and their history, and
-- history is shown only at the levels the principal may read there.

ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
ALTER TABLE assets ENABLE ROW LEVEL SECURITY;
ALTER TABLE assets FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_assets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_assets FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_events FORCE ROW LEVEL SECURITY;
ALTER TABLE escalations ENABLE ROW LEVEL SECURITY;
ALTER TABLE escalations FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;

DROP POLICY assignments_read ON assignments;
DROP POLICY assignments_admin ON assignments;
DROP POLICY tenants_read ON tenants;
DROP POLICY tenants_admin ON tenants;
DROP POLICY tenant_isolation ON ticket_counters;
DROP POLICY own_keys ON idempotency_keys;
DROP FUNCTION app.visible_levels(), app.visible_tenant_ids(), app.principal_is_admin(),
              app.principal_is_provider();

-- tenants: the ones the principal may read; a tenant principal finds its
-- own by slug (what app.set_principal needs before the sets exist).
CREATE POLICY tenants_read ON tenants FOR SELECT
    USING ((SELECT app.sees_all())
           OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[])
           OR slug = (SELECT app.principal_tenant_slug()));
CREATE POLICY tenants_admin ON tenants FOR ALL
    USING ((SELECT app.sees_all())) WITH CHECK ((SELECT app.sees_all()));

-- assignments: provider staff read their own (app.set_principal does).
CREATE POLICY assignments_read ON assignments FOR SELECT
    USING ((SELECT app.sees_all())
           OR (subject = (SELECT app.principal_sub()) AND (SELECT app.principal_org()) = 'provider'));
CREATE POLICY assignments_admin ON assignments FOR ALL
    USING ((SELECT app.sees_all())) WITH CHECK ((SELECT app.sees_all()));

-- ticket_counters: the tickets_number trigger takes the next number for
-- whoever may open a ticket there.
CREATE POLICY counters_write ON ticket_counters FOR ALL
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]))
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));

-- idempotency_keys: a principal's own stored responses.
CREATE POLICY own_keys ON idempotency_keys FOR SELECT
    USING ((SELECT app.sees_all())
           OR (tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[])
               AND subject = (SELECT app.principal_sub())));
CREATE POLICY own_keys_insert ON idempotency_keys FOR INSERT
    WITH CHECK (((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]))
                AND subject = (SELECT app.principal_sub()));
CREATE POLICY own_keys_update ON idempotency_keys FOR UPDATE
    USING (tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[])
           AND subject = (SELECT app.principal_sub()))
    WITH CHECK (tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[])
                AND subject = (SELECT app.principal_sub()));
CREATE POLICY keys_admin ON idempotency_keys FOR DELETE USING ((SELECT app.sees_all()));

-- tickets
CREATE POLICY tickets_read ON tickets FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]));
CREATE POLICY tickets_insert ON tickets FOR INSERT
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY tickets_update ON tickets FOR UPDATE
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]))
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
CREATE POLICY tickets_delete ON tickets FOR DELETE USING ((SELECT app.sees_all()));
-- A requester sees, opens and comments on its own tickets only.
CREATE POLICY requester_own ON tickets AS RESTRICTIVE
    USING (NOT tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[])
           OR requester = (SELECT app.principal_sub()))
    WITH CHECK (NOT tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[])
                OR requester = (SELECT app.principal_sub()));

-- assets
CREATE POLICY assets_read ON assets FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]));
CREATE POLICY assets_insert ON assets FOR INSERT
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
CREATE POLICY assets_update ON assets FOR UPDATE
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]))
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
CREATE POLICY assets_delete ON assets FOR DELETE USING ((SELECT app.sees_all()));

-- ticket_assets: linked when a ticket is opened, unlinked by whoever works it.
CREATE POLICY ticket_assets_read ON ticket_assets FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]));
CREATE POLICY ticket_assets_insert ON ticket_assets FOR INSERT
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY ticket_assets_delete ON ticket_assets FOR DELETE
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
-- (Reads only: a ticket being opened links its assets in the statement
-- that inserts it, where the new ticket is not yet visible to a check.)
CREATE POLICY requester_own ON ticket_assets AS RESTRICTIVE FOR SELECT
    USING (NOT tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[])
           OR EXISTS (SELECT FROM tickets k WHERE k.tenant_id = ticket_assets.tenant_id
                                              AND k.number = ticket_assets.ticket_number));

-- ticket_events: appended by whoever may write; read at the levels the
-- principal may read in the event's tenant, for requesters on their own
-- tickets only.
CREATE POLICY ticket_events_read ON ticket_events FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[]));
CREATE POLICY ticket_events_insert ON ticket_events FOR INSERT
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY ticket_events_delete ON ticket_events FOR DELETE USING ((SELECT app.sees_all()));
CREATE POLICY visibility ON ticket_events AS RESTRICTIVE
    USING (visibility = 'public'
           OR (SELECT app.sees_all())
           OR (visibility = 'staff' AND tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[]))
           OR (visibility = 'provider' AND tenant_id = ANY ((SELECT app.tenant_ids('provider'))::uuid[])))
    WITH CHECK (visibility = 'public'
                OR (SELECT app.sees_all())
                OR (visibility = 'staff' AND tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[]))
                OR (visibility = 'provider'
                    AND tenant_id = ANY ((SELECT app.tenant_ids('provider'))::uuid[])));
-- (Reads only, as for ticket_assets: a new ticket's "created" event is
-- written with it.  A requester's comment goes through the ticket it
-- reads, which is its own.)
CREATE POLICY requester_own ON ticket_events AS RESTRICTIVE FOR SELECT
    USING (NOT tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[])
           OR EXISTS (SELECT FROM tickets k WHERE k.tenant_id = ticket_events.tenant_id
                                              AND k.number = ticket_events.ticket_number));

-- escalations: for staff of both sides; raised and decided (through the
-- functions below) by those who work tickets.
CREATE POLICY escalations_read ON escalations FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[]));
CREATE POLICY escalations_insert ON escalations FOR INSERT
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
CREATE POLICY escalations_update ON escalations FOR UPDATE
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]))
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
CREATE POLICY escalations_delete ON escalations FOR DELETE USING ((SELECT app.sees_all()));

-- audit_log: every writer appends; staff read.
CREATE POLICY audit_read ON audit_log FOR SELECT
    USING ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[]));
CREATE POLICY audit_insert ON audit_log FOR INSERT
    WITH CHECK ((SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY audit_delete ON audit_log FOR DELETE USING ((SELECT app.sees_all()));

-- What msp_gateway may do; row-level security narrows it to the principal.
GRANT SELECT, INSERT, UPDATE ON tickets, assets TO msp_gateway;
GRANT SELECT, INSERT, DELETE ON ticket_assets TO msp_gateway;
GRANT SELECT, INSERT ON ticket_events, audit_log TO msp_gateway;
GRANT SELECT ON escalations TO msp_gateway;

-- ---- 6. the functions that take the tables' rows -------------------------

-- A ticket as the API shows it.  Takes the row, its tenant and its asset
-- ids so that a statement that has just inserted or updated the ticket
-- (and cannot yet read it back) builds the same document as a read.
CREATE FUNCTION app.ticket_doc(k public.tickets, t public.tenants, asset_ids bigint[])
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

-- A comment as the API shows it: a ticket event of kind 'comment'.
CREATE FUNCTION app.comment_doc(e public.ticket_events) RETURNS json
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

-- The ticket as a handoff carries it: what the receiver needs to start.
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

-- Whether an open escalation waits for a principal of this role (and, for
-- a technician, tier) in its tenant: work sent to the role's side (to a
-- technician: at its tier or below), the vendor's answer to work its side
-- sent, management attention asked of its role.  The same rule as
-- msp_esc_may_decide() in services/escalation_policy.c.
CREATE FUNCTION app.escalation_waits_for(x public.escalations, p_role text, p_tier text)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN x.kind = 'hierarchical' THEN
            x.target = CASE WHEN p_role IN ('it_staff', 'it_leader') THEN 'internal_it:'
                            ELSE 'provider:' END || p_role
            OR (p_role = 'admin' AND x.target LIKE 'provider:%')
        WHEN p_role IN ('technician', 'lead', 'admin') THEN
            (x.target LIKE 'provider:L_'
             AND (p_role <> 'technician' OR split_part(x.target, ':', 2) <= coalesce(p_tier, 'L3')))
            OR (x.target = 'vendor' AND x.from_side = 'provider')
        WHEN p_role IN ('it_staff', 'it_leader') THEN
            x.target = 'internal_it' OR (x.target = 'vendor' AND x.from_side = 'internal_it')
        ELSE false
    END
    $$;

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
-- the ticket must be visible, and the caller one who works tickets there.
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
    v_change jsonb := '{}';
BEGIN
    SELECT * INTO k FROM public.tickets
     WHERE tenant_id = p_tenant AND number = p_number FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT ticket_prefix INTO v_prefix FROM public.tenants WHERE tenant_id = p_tenant;
    INSERT INTO public.escalations (tenant_id, ticket_number, kind, target, from_side,
                                    from_tier, from_assignee, assignee, group_name, note,
                                    context, rule, auto_key, parent_id, acknowledge_by)
    VALUES (p_tenant, p_number, p_kind, p_target, k.side, k.tier, k.assignee, p_assignee,
            p_group, p_note, app.escalation_context(k, app.ticket_asset_ids(p_tenant, p_number)),
            p_rule, p_auto_key, p_parent,
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

-- ---- 7. the breach sweep, set-based -------------------------------------

-- Announces, as ticket events, the warnings and breaches whose instant has
-- come, for at most p_limit tickets, in one statement: the due tickets
-- (soonest first, by the tickets_sla_next index, skipping what a request
-- is changing), their events and audit rows, and what they have left to
-- announce.  Then the escalation policy's automatic steps for the alerts
-- that call for one (each at most once per ticket, escalations_auto_once)
-- and the acknowledgement timeouts.  One sweeper at a time across every
-- worker and host (a transaction-level advisory lock; the others return -1
-- at once), and once only per ticket, clock and threshold whatever happens
-- (ticket_events_sla_once).  Returns the number of events written.
-- SECURITY DEFINER so that the steps it takes are the gateway's only way
-- to them; row-level security applies as the caller's principal (the
-- sweeper's, an admin).
CREATE OR REPLACE FUNCTION app.sla_sweep(p_limit integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
DECLARE
    v_written   integer;
    v_tenants   uuid[];
    v_numbers   integer[];
    v_clocks    text[];
    v_percents  integer[];
    v_ack_dues  timestamptz[];
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('msp.sla_sweep')) THEN
        RETURN -1;
    END IF;
    WITH due AS (
        SELECT k.tenant_id, k.number, k.sla_pending
          FROM public.tickets k
         WHERE k.sla_next_at <= now()
         ORDER BY k.sla_next_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    ), alert AS (
        SELECT d.tenant_id, d.number, a.ord, a.value->>'clock' AS clock,
               (a.value->>'threshold')::integer AS percent, a.value->>'at' AS at,
               (a.value->>'ack_due')::timestamptz AS ack_due,
               (a.value->>'at')::timestamptz <= now() AS is_due, a.value
          FROM due d, jsonb_array_elements(d.sla_pending) WITH ORDINALITY AS a (value, ord)
    ), event AS (
        INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
        SELECT tenant_id, number,
               CASE WHEN percent >= 100 THEN 'sla_breached' ELSE 'sla_warning' END,
               jsonb_build_object('clock', clock, 'threshold', percent, 'reached_at', at)
          FROM alert
         WHERE is_due
         ORDER BY tenant_id, number, ord
        ON CONFLICT DO NOTHING
        RETURNING tenant_id, ticket_number, data->>'clock' AS clock,
                  (data->>'threshold')::integer AS percent
    ), audit AS (
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        SELECT e.tenant_id, CASE WHEN e.percent >= 100 THEN 'sla.breached' ELSE 'sla.warning' END,
               'ticket:' || t.ticket_prefix || '-' || e.ticket_number,
               jsonb_build_object('clock', e.clock, 'threshold', e.percent)
          FROM event e JOIN public.tenants t USING (tenant_id)
    ), rest AS (
        UPDATE public.tickets k
           SET sla_pending = r.pending, sla_next_at = r.next_at
          FROM (SELECT d.tenant_id, d.number,
                       coalesce(jsonb_agg(a.value ORDER BY a.ord) FILTER (WHERE NOT a.is_due),
                                '[]') AS pending,
                       min(a.at::timestamptz) FILTER (WHERE NOT a.is_due) AS next_at
                  FROM due d LEFT JOIN alert a USING (tenant_id, number)
                 GROUP BY d.tenant_id, d.number) r
         WHERE k.tenant_id = r.tenant_id AND k.number = r.number
    ), step AS (
        -- the written alerts whose threshold is one of the policy's steps
        SELECT e.tenant_id, e.ticket_number, e.clock, e.percent, a.ack_due, a.at, a.ord
          FROM event e
          JOIN public.tenants t USING (tenant_id)
          JOIN alert a ON a.tenant_id = e.tenant_id AND a.number = e.ticket_number
                      AND a.clock = e.clock AND a.percent = e.percent
         WHERE (e.percent >= 100
                AND coalesce((t.escalation_policy->'automatic'->>'hierarchical_on_breach')::boolean,
                             false))
            OR (e.clock = 'resolution'
                AND e.percent IN ((t.escalation_policy->'automatic'->>'notify_lead_at_percent')::integer,
                                  (t.escalation_policy->'automatic'->>'escalate_tier_at_percent')::integer))
    )
    SELECT (SELECT count(*) FROM event),
           array_agg(tenant_id ORDER BY tenant_id, ticket_number, at::timestamptz, ord),
           array_agg(ticket_number ORDER BY tenant_id, ticket_number, at::timestamptz, ord),
           array_agg(clock ORDER BY tenant_id, ticket_number, at::timestamptz, ord),
           array_agg(percent ORDER BY tenant_id, ticket_number, at::timestamptz, ord),
           array_agg(ack_due ORDER BY tenant_id, ticket_number, at::timestamptz, ord)
      INTO v_written, v_tenants, v_numbers, v_clocks, v_percents, v_ack_dues
      FROM step;

    FOR i IN 1 .. coalesce(cardinality(v_tenants), 0) LOOP
        v_written := v_written + app.escalation_steps(v_tenants[i], v_numbers[i], v_clocks[i],
                                                      v_percents[i], v_ack_dues[i]);
    END LOOP;
    RETURN v_written + app.acknowledgement_sweep(p_limit);
END
$$;

-- The sweep runs every few seconds and mostly finds nothing due: its
-- statement is planned once per connection, not at every call (a custom
-- plan for each p_limit costs more than the sweep itself).
ALTER FUNCTION app.sla_sweep(integer) SET plan_cache_mode = force_generic_plan;

-- ---- 8. what every ticket read calls, planned once per connection --------
-- A SQL function that cannot be inlined is planned again, row-level
-- security and all, at every call; in PL/pgSQL its statement's plan is
-- kept.  The same bodies as 0006 and 0008.
CREATE OR REPLACE FUNCTION app.ticket_asset_ids(p_tenant uuid, p_number integer) RETURNS bigint[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(asset_id ORDER BY asset_id), '{}')
              FROM public.ticket_assets
             WHERE tenant_id = p_tenant AND ticket_number = p_number);
END
$$;

CREATE OR REPLACE FUNCTION app.ticket_sla_history(p_tenant uuid, p_number integer) RETURNS json
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
BEGIN
    RETURN (
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
                      'escalated', 'escalation_accepted', 'escalation_rejected'));
END
$$;

ANALYZE tickets, assets, ticket_assets, ticket_events, escalations, audit_log;
