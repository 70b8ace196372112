-- Tenants (the provider's client companies) and the provider staff
-- assigned to them.  Both are written only by mspctl, from tenants/*.json
-- ("tenants as code"), acting as a provider admin.

CREATE TABLE tenants (
    tenant_id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    slug                text        NOT NULL UNIQUE
                                    CHECK (slug ~ '^[a-z][a-z0-9-]{1,30}$'),
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    ticket_prefix       text        NOT NULL UNIQUE
                                    CHECK (ticket_prefix ~ '^[A-Z][A-Z0-9]{1,9}$'),
    timezone            text        NOT NULL,
    co_management_model text        NOT NULL
                                    CHECK (co_management_model IN ('fully_managed',
                                        'co_managed', 'staff_augmentation',
                                        'project', 'on_demand')),
    calendar            jsonb       NOT NULL,
    holidays            jsonb       NOT NULL,
    sla_policy          jsonb       NOT NULL,
    escalation_policy   jsonb       NOT NULL,
    contract            jsonb       NOT NULL,
    -- SHA-256 of the normalized tenant file: re-applying an unchanged
    -- file is recognised without comparing every column.
    document_sha256     text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);

CREATE TABLE assignments (
    tenant_id   uuid        NOT NULL REFERENCES tenants (tenant_id),
    subject     text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    role        text        NOT NULL CHECK (role IN ('technician', 'lead',
                                'account_manager', 'auditor', 'integration')),
    tier        text        CHECK (tier IN ('L1', 'L2', 'L3')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subject)
);

CREATE INDEX assignments_subject ON assignments (subject);

-- Per-tenant ticket numbers (ACME-1, ACME-2, ...).  The counter row is
-- updated in the inserting transaction: concurrent inserts of one tenant
-- queue on its row lock, and a rollback gives the number back, so numbers
-- have no gaps and never repeat.
CREATE TABLE ticket_counters (
    tenant_id   uuid    NOT NULL REFERENCES tenants (tenant_id),
    last_number integer NOT NULL DEFAULT 0 CHECK (last_number >= 0),
    PRIMARY KEY (tenant_id)
);

-- Visibility.  These two policies must not call app.visible_tenant_ids():
-- that function reads tenants, whose policy reads assignments.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;

-- Provider staff see their own assignments; the removal of one is seen by
-- the next transaction, which is what makes revocation immediate.
CREATE POLICY assignments_read ON assignments FOR SELECT
    USING (app.principal_is_admin()
           OR (app.principal_is_provider() AND subject = app.principal_sub()));

CREATE POLICY assignments_admin ON assignments FOR ALL
    USING (app.principal_is_admin())
    WITH CHECK (app.principal_is_admin());

CREATE POLICY tenants_read ON tenants FOR SELECT
    USING (app.principal_is_admin()
           OR slug = app.principal_tenant_slug()
           OR (app.principal_is_provider()
               AND tenant_id IN (SELECT a.tenant_id FROM assignments a)));

CREATE POLICY tenants_admin ON tenants FOR ALL
    USING (app.principal_is_admin())
    WITH CHECK (app.principal_is_admin());

-- The tenants the principal may see: the rows of tenants that its policy
-- lets through.  Policies call it as (SELECT app.visible_tenant_ids())::uuid[] so
-- that it runs once per statement, as an InitPlan that also prunes
-- partitions and drives index scans.
CREATE FUNCTION app.visible_tenant_ids() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(t.tenant_id), '{}') FROM public.tenants t $$;

ALTER TABLE ticket_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticket_counters
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[]));

-- Responses to POSTs sent with an Idempotency-Key, so that a retry gets
-- the first response instead of a second ticket.
CREATE TABLE idempotency_keys (
    tenant_id       uuid        NOT NULL REFERENCES tenants (tenant_id),
    subject         text        NOT NULL,
    key             text        NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    -- SHA-256 of method, path and body: the same key sent with another
    -- request is refused rather than answered with the first response.
    request_sha256  text        NOT NULL,
    response_status integer,
    response_body   text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subject, key)
);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
-- A principal sees its own keys in its visible tenants; admins all of them.
CREATE POLICY own_keys ON idempotency_keys
    USING (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[])
           AND (subject = app.principal_sub() OR app.principal_is_admin()))
    WITH CHECK (tenant_id = ANY ((SELECT app.visible_tenant_ids())::uuid[])
                AND subject = app.principal_sub());
