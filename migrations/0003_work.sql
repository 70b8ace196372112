-- The tenant-owned tables that grow with use.  Each is LIST-partitioned by
-- tenant_id with one partition per tenant, made at onboarding and dropped
-- at offboarding (app.create_tenant_partitions / app.drop_tenant_partitions).
-- tenant_id leads every primary and foreign key, which also keeps the
-- schema ready for distribution by tenant_id.

CREATE TABLE tickets (
    tenant_id   uuid        NOT NULL REFERENCES tenants (tenant_id),
    number      integer     NOT NULL,
    title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description text        NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    category    text        NOT NULL DEFAULT 'general'
                            CHECK (category ~ '^[a-z][a-z0-9_]{0,39}$'),
    impact      text        NOT NULL CHECK (impact IN ('high', 'medium', 'low')),
    urgency     text        NOT NULL CHECK (urgency IN ('high', 'medium', 'low')),
    priority    text        NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    status      text        NOT NULL DEFAULT 'new'
                            CHECK (status IN ('new', 'assigned', 'in_progress',
                                'pending_customer', 'pending_vendor',
                                'resolved', 'closed')),
    side        text        NOT NULL DEFAULT 'provider'
                            CHECK (side IN ('provider', 'internal_it', 'vendor', 'customer')),
    tier        text        CHECK (tier IN ('L1', 'L2', 'L3')),
    assignee    text        CHECK (length(assignee) BETWEEN 1 AND 200),
    requester   text        NOT NULL CHECK (length(requester) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    closed_at   timestamptz,
    -- Bumped by every update; the API's ETag.
    version     integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, number)
) PARTITION BY LIST (tenant_id);

CREATE INDEX tickets_updated ON tickets (tenant_id, updated_at, number);
CREATE INDEX tickets_open ON tickets (tenant_id, priority, created_at)
    WHERE status NOT IN ('resolved', 'closed');

CREATE SEQUENCE assets_asset_id_seq;

CREATE TABLE assets (
    tenant_id   uuid        NOT NULL REFERENCES tenants (tenant_id),
    asset_id    bigint      NOT NULL DEFAULT nextval('assets_asset_id_seq'),
    tag         text        NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text        NOT NULL CHECK (kind IN ('laptop', 'desktop', 'server',
                                'network', 'printer', 'mobile', 'software',
                                'cloud', 'other')),
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
) PARTITION BY LIST (tenant_id);

-- Which assets a ticket is about.
CREATE TABLE ticket_assets (
    tenant_id     uuid    NOT NULL,
    ticket_number integer NOT NULL,
    asset_id      bigint  NOT NULL,
    PRIMARY KEY (tenant_id, ticket_number, asset_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number),
    FOREIGN KEY (tenant_id, asset_id) REFERENCES assets (tenant_id, asset_id)
) PARTITION BY LIST (tenant_id);

CREATE SEQUENCE ticket_events_event_id_seq;

-- A ticket's history, append-only: SLA clocks, per-side holding time and
-- review-pack figures are all recomputed from it.  The actor is taken from
-- the transaction's principal, so a service cannot forget or forge it.
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
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number)
) PARTITION BY LIST (tenant_id);

CREATE INDEX ticket_events_ticket ON ticket_events (tenant_id, ticket_number, event_id);

CREATE SEQUENCE audit_log_audit_id_seq;

-- Every change, by whom, in the same transaction as the change.
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
) PARTITION BY LIST (tenant_id);

-- Isolation: one policy per table, the same for every command.
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
ALTER TABLE assets ENABLE ROW LEVEL SECURITY;
ALTER TABLE assets FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_assets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_assets FORCE ROW LEVEL SECURITY;
ALTER TABLE ticket_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_events FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON tickets
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]));
CREATE POLICY tenant_isolation ON assets
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]));
CREATE POLICY tenant_isolation ON ticket_assets
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]));
CREATE POLICY tenant_isolation ON ticket_events
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]));
CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]));

-- Ticket numbers come from the tenant's counter.  SECURITY DEFINER so the
-- gateway needs no privilege on ticket_counters; the counter row is still
-- subject to the caller's tenant visibility (the policy is FORCEd, and the
-- principal settings are the transaction's).
CREATE FUNCTION app.assign_ticket_number() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    AS $$
BEGIN
    UPDATE public.ticket_counters
       SET last_number = last_number + 1
     WHERE tenant_id = NEW.tenant_id
    RETURNING last_number INTO NEW.number;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no ticket counter visible for tenant %', NEW.tenant_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER tickets_number BEFORE INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION app.assign_ticket_number();

-- A ticket keeps its tenant and number for life.
CREATE FUNCTION app.keep_ticket_identity() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.number <> OLD.number THEN
        RAISE EXCEPTION 'a ticket''s tenant and number cannot change'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER tickets_identity BEFORE UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION app.keep_ticket_identity();

-- History and audit are append-only, for every role including the owner;
-- offboarding drops whole partitions instead.
CREATE FUNCTION app.reject_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION app.reject_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION app.reject_change();
