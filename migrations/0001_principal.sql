-- The principal of the current transaction.
--
-- The gateway (and mspctl) state who is asking with
--   set_config('msp.sub', ..., true), set_config('msp.org', ..., true),
--   set_config('msp.role', ..., true)
-- inside the request's own transaction, so the setting ends with it and
-- can never leak into the next request on a pooled connection.  Every
-- row-level security policy reads the principal through these functions;
-- a missing or empty setting is no principal at all and sees nothing.

CREATE SCHEMA app;

CREATE FUNCTION app.principal_sub() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('msp.sub', true), '') $$;

CREATE FUNCTION app.principal_org() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('msp.org', true), '') $$;

CREATE FUNCTION app.principal_role() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('msp.role', true), '') $$;

-- Provider staff: a subject of the provider organisation in a provider role.
CREATE FUNCTION app.principal_is_provider() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(app.principal_sub() IS NOT NULL
        AND app.principal_org() = 'provider'
        AND app.principal_role() IN ('technician', 'lead', 'account_manager',
                                     'admin', 'auditor', 'integration'), false)
    $$;

-- The provider's administrators see every tenant.
CREATE FUNCTION app.principal_is_admin() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT app.principal_is_provider() AND app.principal_role() = 'admin' $$;

-- The slug of the tenant a tenant-side principal belongs to, or NULL.
CREATE FUNCTION app.principal_tenant_slug() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT app.principal_org()
     WHERE app.principal_sub() IS NOT NULL
       AND app.principal_org() <> 'provider'
       AND app.principal_role() IN ('it_staff', 'it_leader', 'requester',
                                    'auditor', 'integration')
    $$;
