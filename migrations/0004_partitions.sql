-- Onboarding and offboarding of a tenant's partitions.  Only the schema
-- owner (mspctl) may call these.

-- The partitioned tables, parents before children; offboarding walks the
-- list backwards so that no foreign key is left pointing into a dropped
-- partition.
CREATE FUNCTION app.tenant_partitioned_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT ARRAY['tickets', 'assets', 'ticket_assets', 'ticket_events', 'audit_log'] $$;

-- tickets + acme-corp -> tickets_acme_corp (slugs never contain '_', so
-- two slugs never map to one name).
CREATE FUNCTION app.tenant_partition_name(parent text, slug text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT parent || '_' || replace(slug, '-', '_') $$;

-- Creates whatever partitions the tenant lacks and its ticket counter.
-- Returns how many partitions it created (0 when all existed).
CREATE FUNCTION app.create_tenant_partitions(p_tenant uuid) RETURNS integer
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
        v_created := v_created + 1;
    END LOOP;
    INSERT INTO public.ticket_counters (tenant_id) VALUES (p_tenant)
        ON CONFLICT (tenant_id) DO NOTHING;
    RETURN v_created;
END
$$;

-- Detaches and drops every partition of the tenant, then its rows in the
-- shared tables.  Returns how many partitions it dropped.
CREATE FUNCTION app.drop_tenant(p_tenant uuid) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    v_slug    text;
    v_tables  text[] := app.tenant_partitioned_tables();
    v_name    text;
    v_dropped integer := 0;
BEGIN
    SELECT slug INTO STRICT v_slug FROM public.tenants WHERE tenant_id = p_tenant;
    FOR i IN REVERSE array_upper(v_tables, 1) .. 1 LOOP
        v_name := app.tenant_partition_name(v_tables[i], v_slug);
        CONTINUE WHEN to_regclass(format('public.%I', v_name)) IS NULL;
        EXECUTE format('ALTER TABLE public.%I DETACH PARTITION public.%I', v_tables[i], v_name);
        EXECUTE format('DROP TABLE public.%I', v_name);
        v_dropped := v_dropped + 1;
    END LOOP;
    DELETE FROM public.idempotency_keys WHERE tenant_id = p_tenant;
    DELETE FROM public.ticket_counters WHERE tenant_id = p_tenant;
    DELETE FROM public.assignments WHERE tenant_id = p_tenant;
    DELETE FROM public.tenants WHERE tenant_id = p_tenant;
    RETURN v_dropped;
END
$$;

REVOKE ALL ON FUNCTION app.create_tenant_partitions(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.drop_tenant(uuid) FROM PUBLIC;

-- Blocks writes to every partition of the tenant until the end of the
-- transaction, so that an offboarding export is complete: rows committed
-- after the export began would otherwise be dropped unexported.
CREATE FUNCTION app.lock_tenant_partitions(p_tenant uuid) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public
    AS $$
DECLARE
    v_slug   text;
    v_parent text;
    v_name   text;
BEGIN
    SELECT slug INTO STRICT v_slug FROM public.tenants WHERE tenant_id = p_tenant;
    FOREACH v_parent IN ARRAY app.tenant_partitioned_tables() LOOP
        v_name := app.tenant_partition_name(v_parent, v_slug);
        CONTINUE WHEN to_regclass(format('public.%I', v_name)) IS NULL;
        EXECUTE format('LOCK TABLE public.%I IN SHARE MODE', v_name);
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION app.lock_tenant_partitions(uuid) FROM PUBLIC;
