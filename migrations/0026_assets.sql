-- Assets (README, "Assets"): the device record that tickets, reports and
-- audits point at.  0003's assets table grows the fields an IT team keeps
-- on a device (what it is, who has it, where, its warranty, whether it is
-- encrypted, enrolled in an MDM and patched, and the custom fields the
-- tenant file declares), a version for If-Match, and a history: every
-- change is an event with each changed field's before and after
-- (asset_events), so the asset as it was at any instant can be rebuilt
-- ("who had this laptop on 3 March, was it encrypted then").
--
-- The gateway checks each field's form (services/assets/assets.c); the
-- rules that need the tenant (its custom fields) or span fields are here
-- (app.asset_problem), raised as SQLSTATE 22023 naming the field.  Imports
-- from MDM exports stage their rows in a temporary table and apply them
-- in one statement (app.import_assets), with a report row per file row.

-- ---- the tenant file's assets section -------------------------------------

ALTER TABLE tenants
    ADD COLUMN assets jsonb NOT NULL
        DEFAULT '{"patch_window_days": 30, "refresh_age_months": 48, "custom_fields": {}}'
        CHECK (jsonb_typeof(assets) = 'object');

-- ---- the asset -------------------------------------------------------------

ALTER TABLE assets DROP CONSTRAINT assets_kind_check,
                   DROP CONSTRAINT assets_status_check;
UPDATE assets SET kind = CASE kind WHEN 'mobile' THEN 'phone' WHEN 'software' THEN 'saas_license'
                                   WHEN 'cloud' THEN 'other' ELSE kind END,
                  status = CASE status WHEN 'in_service' THEN 'deployed' ELSE status END;
ALTER TABLE assets RENAME COLUMN owner TO assigned_to;
ALTER TABLE assets RENAME COLUMN location TO site;
ALTER TABLE assets RENAME COLUMN details TO custom;
ALTER TABLE assets
    ALTER COLUMN status SET DEFAULT 'in_stock',
    ADD CONSTRAINT assets_kind_check
        CHECK (kind IN ('laptop', 'desktop', 'server', 'phone', 'tablet', 'network', 'printer',
                        'saas_license', 'other')),
    ADD CONSTRAINT assets_status_check
        CHECK (status IN ('in_stock', 'deployed', 'in_repair', 'retired', 'lost')),
    ADD CONSTRAINT assets_custom_check CHECK (jsonb_typeof(custom) = 'object'),
    ADD CONSTRAINT assets_serial_check CHECK (length(serial) BETWEEN 1 AND 100),
    ADD CONSTRAINT assets_assigned_to_check CHECK (length(assigned_to) BETWEEN 1 AND 200),
    ADD CONSTRAINT assets_site_check CHECK (length(site) BETWEEN 1 AND 200),
    ADD COLUMN manufacturer  text CHECK (length(manufacturer) BETWEEN 1 AND 100),
    ADD COLUMN model         text CHECK (length(model) BETWEEN 1 AND 200),
    ADD COLUMN os            text CHECK (length(os) BETWEEN 1 AND 100),
    ADD COLUMN os_version    text CHECK (length(os_version) BETWEEN 1 AND 100),
    ADD COLUMN department    text CHECK (length(department) BETWEEN 1 AND 200),
    ADD COLUMN purchase_date date,
    ADD COLUMN warranty_end  date,
    ADD COLUMN criticality   text NOT NULL DEFAULT 'medium'
                             CHECK (criticality IN ('low', 'medium', 'high', 'critical')),
    -- NULL: not known (no MDM has said)
    ADD COLUMN encrypted     boolean,
    ADD COLUMN enrolled      boolean,
    ADD COLUMN last_seen     timestamptz,
    ADD COLUMN last_patched  timestamptz,
    -- when the status last changed: a device retired before a period is
    -- not in that period's fleet
    ADD COLUMN status_since  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN version       integer NOT NULL DEFAULT 1,
    ADD COLUMN created_by    text NOT NULL DEFAULT app.principal_sub();
UPDATE assets SET status_since = created_at;

-- An import finds a device by its serial (else its tag): one per tenant.
CREATE UNIQUE INDEX assets_serial ON assets (tenant_id, serial) WHERE serial IS NOT NULL;

-- The asset's history: "created" (its fields) and "changed" (each changed
-- field's from and to), by whom and through what (api or an import's
-- profile).
CREATE TABLE asset_events (
    tenant_id   uuid        NOT NULL,
    asset_id    bigint      NOT NULL,
    event_id    bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_sub   text        NOT NULL DEFAULT app.principal_sub(),
    kind        text        NOT NULL CHECK (kind IN ('created', 'changed')),
    source      text        NOT NULL CHECK (source ~ '^[a-z][a-z0-9_:]{0,31}$'),
    data        jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, asset_id, event_id)
);
-- (No foreign key to assets: only app.insert_asset and app.change_asset
-- write events, each beside its asset; a key's check per event would be
-- a lookup per imported row, planned once per connection while the table
-- may still be small, so a scan of every asset.)

-- Who sees assets: staff of both sides; a requester only the devices
-- assigned to them or named on their tickets.  Those who work tickets
-- write them (0009's insert and update policies), only offboarding
-- deletes.
DROP POLICY assets_read ON assets;
CREATE POLICY assets_read ON assets FOR SELECT USING (
    (SELECT app.sees_all())
    OR tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[])
    OR (tenant_id = ANY ((SELECT app.tenant_ids('own'))::uuid[])
        AND (assigned_to = (SELECT app.principal_sub())
             OR EXISTS (SELECT FROM ticket_assets x JOIN tickets k
                                 ON k.tenant_id = x.tenant_id AND k.number = x.ticket_number
                         WHERE x.tenant_id = assets.tenant_id AND x.asset_id = assets.asset_id
                           AND k.requester = (SELECT app.principal_sub())))));

ALTER TABLE asset_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE asset_events FORCE ROW LEVEL SECURITY;
CREATE POLICY asset_events_read ON asset_events FOR SELECT USING (
    (SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[]));
CREATE POLICY asset_events_insert ON asset_events FOR INSERT WITH CHECK (
    (SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
CREATE POLICY asset_events_delete ON asset_events FOR DELETE USING ((SELECT app.sees_all()));
GRANT SELECT, INSERT ON asset_events TO msp_gateway;

-- The gateway changes the fields, never the keys or who created an asset.
REVOKE UPDATE ON assets FROM msp_gateway;
GRANT UPDATE (tag, name, kind, serial, assigned_to, site, status, custom, manufacturer, model,
              os, os_version, department, purchase_date, warranty_end, criticality, encrypted,
              enrolled, last_seen, last_patched, status_since, version, updated_at)
    ON assets TO msp_gateway;

-- ---- the rules -------------------------------------------------------------

-- An asset (its row as JSON) as the API shows it, its fields in the
-- order README lists them.
CREATE FUNCTION app.asset_doc(p_row jsonb) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'id', (p_row->>'asset_id')::bigint, 'tag', p_row->'tag', 'name', p_row->'name',
        'kind', p_row->'kind', 'manufacturer', p_row->'manufacturer', 'model', p_row->'model',
        'serial', p_row->'serial', 'os', p_row->'os', 'os_version', p_row->'os_version',
        'assigned_to', p_row->'assigned_to', 'department', p_row->'department',
        'site', p_row->'site', 'status', p_row->'status',
        'status_since', app.rfc3339((p_row->>'status_since')::timestamptz),
        'purchase_date', p_row->'purchase_date', 'warranty_end', p_row->'warranty_end',
        'criticality', p_row->'criticality', 'encrypted', p_row->'encrypted',
        'enrolled', p_row->'enrolled',
        'last_seen', app.rfc3339((p_row->>'last_seen')::timestamptz),
        'last_patched', app.rfc3339((p_row->>'last_patched')::timestamptz),
        'custom', p_row->'custom', 'version', (p_row->>'version')::integer,
        'created_at', app.rfc3339((p_row->>'created_at')::timestamptz),
        'updated_at', app.rfc3339((p_row->>'updated_at')::timestamptz))
    $$;

-- Whether s is a date that exists, written YYYY-MM-DD.
CREATE FUNCTION app.is_date(s text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    RETURN s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND to_char(s::date, 'YYYY-MM-DD') = s;
EXCEPTION WHEN OTHERS THEN
    RETURN false;
END
$$;

-- Whether a custom field's value (JSON) keeps its declaration in the
-- tenant file (assets.custom_fields; tenants/FORMAT.md): NULL when it
-- does, else what is wrong.
CREATE FUNCTION app.custom_field_problem(p_decl jsonb, p_value jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE
        WHEN p_decl IS NULL THEN 'is not a custom field the tenant file declares'
        WHEN p_value IS NULL OR p_value = 'null' THEN
            CASE WHEN (p_decl->>'required')::boolean THEN 'is required' END
        WHEN p_decl->>'type' = 'text' THEN
            CASE WHEN jsonb_typeof(p_value) <> 'string'
                   OR length(p_value #>> '{}') > coalesce((p_decl->>'max_length')::int, 200)
                 THEN 'must be text of at most '
                      || coalesce((p_decl->>'max_length')::int, 200) || ' characters' END
        WHEN p_decl->>'type' = 'integer' THEN
            CASE WHEN jsonb_typeof(p_value) <> 'number' OR (p_value #>> '{}') !~ '^-?[0-9]{1,15}$'
                   OR (p_value #>> '{}')::bigint < coalesce((p_decl->>'min')::bigint, -1e15)
                   OR (p_value #>> '{}')::bigint > coalesce((p_decl->>'max')::bigint, 1e15)
                 THEN 'must be a whole number' || coalesce(' from ' || (p_decl->>'min'), '')
                      || coalesce(' up to ' || (p_decl->>'max'), '') END
        WHEN p_decl->>'type' = 'boolean' THEN
            CASE WHEN jsonb_typeof(p_value) <> 'boolean' THEN 'must be true or false' END
        WHEN p_decl->>'type' = 'date' THEN
            CASE WHEN jsonb_typeof(p_value) <> 'string' OR NOT app.is_date(p_value #>> '{}')
                 THEN 'must be a date as YYYY-MM-DD' END
        WHEN p_decl->>'type' = 'choice' THEN
            CASE WHEN NOT (p_decl->'choices') @> jsonb_build_array(p_value)
                 THEN 'must be one of ' || (SELECT string_agg(c, ', ')
                                              FROM jsonb_array_elements_text(p_decl->'choices') c)
            END
    END
    $$;

-- The rules an asset's fields keep with each other and with the tenant
-- (p_row: the asset as it would be, as JSON): the first field wrong and
-- why, or no row.
CREATE FUNCTION app.asset_problem(t public.tenants, p_row jsonb)
    RETURNS TABLE (field text, problem text)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    -- plain values, not expressions on p_row: row-level security lets
    -- only leakproof comparisons with them search the indexes
    v_id     bigint := (p_row->>'asset_id')::bigint;
    v_serial text := p_row->>'serial';
    v_tag    text := p_row->>'tag';
BEGIN
    -- (PL/pgSQL: an import checks row after row, on one cached plan)
    RETURN QUERY SELECT * FROM (
        SELECT 'warranty_end', 'is before purchase_date (' || (p_row->>'purchase_date') || ')'
         WHERE (p_row->>'warranty_end')::date < (p_row->>'purchase_date')::date
        UNION ALL
        SELECT 'serial', 'is the serial of another asset of this tenant ('
                         || a.tag || ')'
          FROM public.assets a
         WHERE a.tenant_id = t.tenant_id AND a.serial = v_serial
           AND a.asset_id IS DISTINCT FROM v_id
        UNION ALL
        SELECT 'tag', 'is the tag of another asset of this tenant'
          FROM public.assets a
         WHERE a.tenant_id = t.tenant_id AND a.tag = v_tag
           AND a.asset_id IS DISTINCT FROM v_id
        UNION ALL
        SELECT 'custom.' || d.key, d.problem
          FROM (SELECT k AS key,
                       app.custom_field_problem(t.assets->'custom_fields'->k,
                                                p_row->'custom'->k) AS problem
                  FROM (SELECT jsonb_object_keys(coalesce(p_row->'custom', '{}'))
                        UNION
                        SELECT jsonb_object_keys(coalesce(t.assets->'custom_fields', '{}'))) ks (k)
               ) d
         WHERE d.problem IS NOT NULL
    ) problems
    ORDER BY 1
    LIMIT 1;
END
$$;

-- Raises the first of app.asset_problem's problems: the gateway's 422.
CREATE FUNCTION app.check_asset(t public.tenants, p_row jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_field text;
    v_why   text;
BEGIN
    SELECT p.field, p.problem INTO v_field, v_why FROM app.asset_problem(t, p_row) p;
    IF v_field IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_why, COLUMN = v_field;
    END IF;
END
$$;

-- ---- writing ---------------------------------------------------------------

-- Inserts an asset of tenant t from its fields (checked by the caller:
-- app.check_asset), with its "created" event: the row as JSON.  Static
-- statements, so that an import of many rows plans them once.
CREATE FUNCTION app.insert_asset(t public.tenants, p_fields jsonb, p_source text)
    RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_row jsonb;
BEGIN
    INSERT INTO public.assets (tenant_id, tag, name, kind, manufacturer, model, serial, os,
                               os_version, assigned_to, department, site, status,
                               purchase_date, warranty_end, criticality, encrypted, enrolled,
                               last_seen, last_patched, custom)
    SELECT t.tenant_id, n.tag, coalesce(n.name, n.tag), n.kind, n.manufacturer, n.model,
           n.serial, n.os, n.os_version, n.assigned_to, n.department, n.site,
           coalesce(n.status, 'in_stock'), n.purchase_date, n.warranty_end,
           coalesce(n.criticality, 'medium'), n.encrypted, n.enrolled, n.last_seen,
           n.last_patched, coalesce(n.custom, '{}')
      FROM jsonb_populate_record(NULL::public.assets, p_fields) n
    RETURNING to_jsonb(assets.*) INTO v_row;
    INSERT INTO public.asset_events (tenant_id, asset_id, kind, source, data)
    VALUES (t.tenant_id, (v_row->>'asset_id')::bigint, 'created', p_source,
            app.asset_doc(v_row)::jsonb - 'id' - 'version' - 'status_since' - 'created_at'
                                        - 'updated_at');
    RETURN v_row;
END
$$;

-- Changes asset p_old (its row as JSON) to p_fields (checked by the
-- caller), with its "changed" event (each changed field's from and to):
-- the row as JSON, or p_old itself when nothing changes.
CREATE FUNCTION app.change_asset(t public.tenants, p_old jsonb, p_fields jsonb, p_source text)
    RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_change jsonb;
    v_row    jsonb;
BEGIN
    -- compared as the API shows them (times as RFC 3339)
    SELECT jsonb_object_agg(k, jsonb_build_object('from', d.o->k, 'to', d.n->k))
      INTO v_change
      FROM (VALUES (app.asset_doc(p_old)::jsonb, app.asset_doc(p_old || p_fields)::jsonb))
               d (o, n),
           jsonb_object_keys(p_fields) k
     WHERE d.o->k IS DISTINCT FROM d.n->k;
    IF v_change IS NULL THEN
        RETURN p_old;
    END IF;
    UPDATE public.assets r
       SET tag = n.tag, name = n.name, kind = n.kind, manufacturer = n.manufacturer,
           model = n.model, serial = n.serial, os = n.os, os_version = n.os_version,
           assigned_to = n.assigned_to, department = n.department, site = n.site,
           status = n.status, purchase_date = n.purchase_date, warranty_end = n.warranty_end,
           criticality = n.criticality, encrypted = n.encrypted, enrolled = n.enrolled,
           last_seen = n.last_seen, last_patched = n.last_patched, custom = n.custom,
           version = r.version + 1, updated_at = now(),
           status_since = CASE WHEN r.status IS DISTINCT FROM n.status THEN now()
                               ELSE r.status_since END
      FROM jsonb_populate_record(NULL::public.assets, p_old || p_fields) n
     WHERE r.tenant_id = t.tenant_id AND r.asset_id = (p_old->>'asset_id')::bigint
    RETURNING to_jsonb(r.*) INTO v_row;
    INSERT INTO public.asset_events (tenant_id, asset_id, kind, source, data)
    VALUES (t.tenant_id, (p_old->>'asset_id')::bigint, 'changed', p_source, v_change);
    RETURN v_row;
END
$$;

-- Creates an asset in the tenant p_slug from its fields (names the
-- gateway checked; values as JSON): the row, its event and audit row and
-- the response kept under the Idempotency-Key p_key, in one statement.
-- No row when the principal does not see the tenant.
CREATE FUNCTION app.create_asset(p_slug text, p_fields jsonb, p_key text)
    RETURNS TABLE (id bigint, version integer, doc text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    t     public.tenants;
    v_row jsonb;
BEGIN
    SELECT * INTO t FROM public.tenants WHERE slug = p_slug;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM app.check_asset(t, p_fields);
    v_row := app.insert_asset(t, p_fields, 'api');
    id := (v_row->>'asset_id')::bigint;
    version := 1;
    doc := app.asset_doc(v_row)::text;
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    VALUES (t.tenant_id, 'asset.create', 'asset:' || id, p_fields);
    UPDATE public.idempotency_keys x SET response_status = 201, response_body = doc
     WHERE x.tenant_id = t.tenant_id AND x.subject = app.principal_sub() AND x.key = p_key;
    RETURN NEXT;
END
$$;

-- Changes an asset from version p_version; no row when it does not exist
-- for the principal or is no longer at that version.  Fields set to what
-- they were change nothing (no new version, no event).
CREATE FUNCTION app.update_asset(p_slug text, p_id bigint, p_version integer, p_fields jsonb)
    RETURNS TABLE (id bigint, version integer, doc text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    t     public.tenants;
    v_old jsonb;
    v_row jsonb;
BEGIN
    SELECT * INTO t FROM public.tenants WHERE slug = p_slug;
    SELECT to_jsonb(a.*) INTO v_old FROM public.assets a
     WHERE a.tenant_id = t.tenant_id AND a.asset_id = p_id AND a.version = p_version
       FOR UPDATE;
    IF v_old IS NULL THEN
        RETURN;
    END IF;
    PERFORM app.check_asset(t, v_old || p_fields);
    v_row := app.change_asset(t, v_old, p_fields, 'api');
    id := p_id;
    version := (v_row->>'version')::integer;
    doc := app.asset_doc(v_row)::text;
    IF version <> p_version THEN
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        VALUES (t.tenant_id, 'asset.update', 'asset:' || p_id, p_fields);
    END IF;
    RETURN NEXT;
END
$$;

-- ---- reading ---------------------------------------------------------------

-- Asset p_row (its row as JSON) as it was at p_as_of: each field changed
-- since put back to what it was, or NULL when it did not exist yet.
CREATE FUNCTION app.asset_as_of(p_row jsonb, p_as_of timestamptz) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    -- plain values, so that the history is searched by its key
    v_tenant uuid := (p_row->>'tenant_id')::uuid;
    v_id     bigint := (p_row->>'asset_id')::bigint;
BEGIN
    IF (p_row->>'created_at')::timestamptz > p_as_of THEN
        RETURN NULL;
    END IF;
    RETURN (
        WITH e AS (
            SELECT e.event_id, e.occurred_at, e.data
              FROM public.asset_events e
             WHERE e.tenant_id = v_tenant AND e.asset_id = v_id AND e.kind = 'changed'
        ), later AS (
            SELECT DISTINCT ON (c.key) c.key, c.value -> 'from' AS was
              FROM e, jsonb_each(e.data) c
             WHERE e.occurred_at > p_as_of
             ORDER BY c.key, e.event_id
        )
        SELECT p_row
               || coalesce((SELECT jsonb_object_agg(later.key, later.was) FROM later), '{}')
               || jsonb_build_object(
                      'version', 1 + (SELECT count(*) FROM e WHERE e.occurred_at <= p_as_of),
                      'updated_at', coalesce((SELECT max(e.occurred_at) FROM e
                                               WHERE e.occurred_at <= p_as_of),
                                             (p_row->>'created_at')::timestamptz)));
END
$$;

-- One asset with its version, as it is or was at p_as_of; no row when
-- the principal does not see it (or it did not exist then).
CREATE FUNCTION app.asset_get(p_slug text, p_id bigint, p_as_of timestamptz DEFAULT NULL)
    RETURNS TABLE (doc text, version integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT app.asset_doc(r)::text, (r->>'version')::integer
      FROM public.tenants t JOIN public.assets a ON a.tenant_id = t.tenant_id,
           LATERAL (SELECT CASE WHEN p_as_of IS NULL THEN to_jsonb(a.*)
                                ELSE app.asset_as_of(to_jsonb(a.*), p_as_of) END) s (r)
     WHERE t.slug = p_slug AND a.asset_id = p_id AND r IS NOT NULL
    $$;

-- A page of a tenant's assets by id after p_after, those that match every
-- filter in p_filter (JSON; each optional): kind, status, site,
-- department, user (assigned_to), model, encrypted and enrolled (true or
-- false), patched_before and warranty_before (dates; a device with no
-- patch or warranty date matches), not_seen_since (a time; never seen
-- matches).
CREATE FUNCTION app.asset_list(p_slug text, p_filter jsonb, p_after bigint, p_rows integer)
    RETURNS TABLE (doc text, id bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT app.asset_doc(to_jsonb(a.*))::text, a.asset_id
      FROM public.tenants t JOIN public.assets a ON a.tenant_id = t.tenant_id
     WHERE t.slug = p_slug
       AND (p_after IS NULL OR a.asset_id > p_after)
       AND (NOT p_filter ? 'kind' OR a.kind = p_filter->>'kind')
       AND (NOT p_filter ? 'status' OR a.status = p_filter->>'status')
       AND (NOT p_filter ? 'site' OR a.site = p_filter->>'site')
       AND (NOT p_filter ? 'department' OR a.department = p_filter->>'department')
       AND (NOT p_filter ? 'user' OR a.assigned_to = p_filter->>'user')
       AND (NOT p_filter ? 'model' OR a.model = p_filter->>'model')
       AND (NOT p_filter ? 'encrypted'
            OR a.encrypted IS NOT DISTINCT FROM (p_filter->>'encrypted')::boolean)
       AND (NOT p_filter ? 'enrolled'
            OR a.enrolled IS NOT DISTINCT FROM (p_filter->>'enrolled')::boolean)
       AND (NOT p_filter ? 'patched_before'
            OR coalesce(a.last_patched < (p_filter->>'patched_before')::date
                                         AT TIME ZONE t.timezone, true))
       AND (NOT p_filter ? 'warranty_before'
            OR coalesce(a.warranty_end < (p_filter->>'warranty_before')::date, true))
       AND (NOT p_filter ? 'not_seen_since'
            OR coalesce(a.last_seen < (p_filter->>'not_seen_since')::timestamptz, true))
     ORDER BY a.asset_id
     LIMIT p_rows
    $$;

-- A page of an asset's events, oldest first, after event p_after.
CREATE FUNCTION app.asset_history(p_slug text, p_id bigint, p_after bigint, p_rows integer)
    RETURNS TABLE (doc text, id bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object('id', e.event_id, 'kind', e.kind, 'at', app.rfc3339(e.occurred_at),
                             'by', e.actor_sub, 'source', e.source, 'data', e.data)::text,
           e.event_id
      FROM public.tenants t JOIN public.asset_events e ON e.tenant_id = t.tenant_id
     WHERE t.slug = p_slug AND e.asset_id = p_id AND (p_after IS NULL OR e.event_id > p_after)
     ORDER BY e.event_id
     LIMIT p_rows
    $$;

-- A page of the tickets an asset is named on, newest first (by number,
-- before p_after).
CREATE INDEX ticket_assets_by_asset ON ticket_assets (tenant_id, asset_id, ticket_number DESC);
CREATE FUNCTION app.asset_tickets(p_slug text, p_id bigint, p_after integer, p_rows integer)
    RETURNS TABLE (doc text, id integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT app.ticket_doc(k, t, app.ticket_asset_ids(k.tenant_id, k.number))::text, k.number
      FROM public.tenants t
      JOIN public.ticket_assets x ON x.tenant_id = t.tenant_id
      JOIN public.tickets k ON k.tenant_id = x.tenant_id AND k.number = x.ticket_number
     WHERE t.slug = p_slug AND x.asset_id = p_id
       AND (p_after IS NULL OR x.ticket_number < p_after)
     ORDER BY x.ticket_number DESC
     LIMIT p_rows
    $$;
DROP INDEX ticket_assets_asset;

-- ---- compliance ------------------------------------------------------------

-- The compliance checks (services/reports/METRICS.md, "Asset compliance"):
-- whether asset a of tenant t fails check p_check at p_now.  Devices in
-- use are those deployed or in repair; encryption and enrolment concern
-- computers, phones and tablets, patching those and servers and network
-- gear.
CREATE FUNCTION app.asset_fails(p_check text, a public.assets, t public.tenants,
                                p_now timestamptz)
    RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE p_check
        WHEN 'unencrypted' THEN a.status IN ('deployed', 'in_repair')
             AND a.kind IN ('laptop', 'desktop', 'server', 'phone', 'tablet')
             AND a.encrypted IS NOT TRUE
        WHEN 'not_enrolled' THEN a.status IN ('deployed', 'in_repair')
             AND a.kind IN ('laptop', 'desktop', 'phone', 'tablet')
             AND a.enrolled IS NOT TRUE
        WHEN 'not_patched' THEN a.status IN ('deployed', 'in_repair')
             AND a.kind IN ('laptop', 'desktop', 'server', 'phone', 'tablet', 'network')
             AND coalesce(a.last_patched < p_now - make_interval(
                              days => coalesce((t.assets->>'patch_window_days')::int, 30)), true)
        WHEN 'warranty_ending' THEN a.status NOT IN ('retired', 'lost')
             AND a.kind <> 'saas_license'
             AND a.warranty_end >= (p_now AT TIME ZONE t.timezone)::date
             AND a.warranty_end < (p_now AT TIME ZONE t.timezone)::date + 90
        WHEN 'not_seen' THEN a.status = 'deployed' AND a.kind <> 'saas_license'
             AND coalesce(a.last_seen < p_now - interval '30 days', true)
        WHEN 'retired_assigned' THEN a.status = 'retired' AND a.assigned_to IS NOT NULL
    END
    $$;

CREATE FUNCTION app.compliance_checks() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT ARRAY['unencrypted', 'not_enrolled', 'not_patched', 'warranty_ending', 'not_seen',
                 'retired_assigned']
    $$;

-- The tenant's compliance at p_now: the devices in use and, per check,
-- how many fail it.  One pass over the tenant's assets.
CREATE FUNCTION app.report_compliance(p_slug text, p_now timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH t AS (SELECT * FROM public.tenants WHERE slug = p_slug),
    c AS (
        SELECT count(*) FILTER (WHERE a.status IN ('deployed', 'in_repair')) AS in_use,
               count(*) AS assets,
               count(*) FILTER (WHERE app.asset_fails('unencrypted', a, t, p_now)) AS unencrypted,
               count(*) FILTER (WHERE app.asset_fails('not_enrolled', a, t, p_now)) AS not_enrolled,
               count(*) FILTER (WHERE app.asset_fails('not_patched', a, t, p_now)) AS not_patched,
               count(*) FILTER (WHERE app.asset_fails('warranty_ending', a, t, p_now))
                   AS warranty_ending,
               count(*) FILTER (WHERE app.asset_fails('not_seen', a, t, p_now)) AS not_seen,
               count(*) FILTER (WHERE app.asset_fails('retired_assigned', a, t, p_now))
                   AS retired_assigned
          FROM t JOIN public.assets a ON a.tenant_id = t.tenant_id
    )
    SELECT json_build_object(
        'as_of', app.rfc3339(p_now),
        'patch_window_days', coalesce((t.assets->>'patch_window_days')::int, 30),
        'assets', c.assets, 'in_use', c.in_use,
        'checks', json_build_array(
            json_build_object('check', 'unencrypted', 'count', c.unencrypted),
            json_build_object('check', 'not_enrolled', 'count', c.not_enrolled),
            json_build_object('check', 'not_patched', 'count', c.not_patched),
            json_build_object('check', 'warranty_ending', 'count', c.warranty_ending),
            json_build_object('check', 'not_seen', 'count', c.not_seen),
            json_build_object('check', 'retired_assigned', 'count', c.retired_assigned)))
      FROM t, c
    $$;

-- A page of the assets failing a check at p_now, by id after p_after.
CREATE FUNCTION app.compliance_assets(p_slug text, p_check text, p_now timestamptz,
                                      p_after bigint, p_rows integer)
    RETURNS TABLE (doc text, id bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT app.asset_doc(to_jsonb(a.*))::text, a.asset_id
      FROM public.tenants t JOIN public.assets a ON a.tenant_id = t.tenant_id
     WHERE t.slug = p_slug AND (p_after IS NULL OR a.asset_id > p_after)
       AND app.asset_fails(p_check, a, t, p_now)
     ORDER BY a.asset_id
     LIMIT p_rows
    $$;

-- ---- importing -------------------------------------------------------------

-- An import's rows, staged by the importing transaction (the gateway's or
-- mspctl's) before app.import_assets applies them and deletes them, in
-- the same transaction: each row's line in the file and its fields (named
-- as in the API, values as text as the profile mapped them), the
-- fields the profile guessed for a new asset (defaults), or the reason it
-- could not be read.
CREATE TABLE asset_import_rows (
    tenant_id   uuid   NOT NULL REFERENCES tenants (tenant_id),
    import_xact xid8   NOT NULL DEFAULT pg_current_xact_id(),
    line        bigint NOT NULL,
    fields      jsonb  NOT NULL,
    defaults    jsonb  NOT NULL DEFAULT '{}',
    reason      text,
    -- the checks across rows (a serial repeated) have been made
    checked     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, import_xact, line)
);
ALTER TABLE asset_import_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE asset_import_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY asset_import_rows_work ON asset_import_rows USING (
    (SELECT app.sees_all()) OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]))
    WITH CHECK ((SELECT app.sees_all())
                OR tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[]));
GRANT SELECT, INSERT, UPDATE (reason, checked), DELETE ON asset_import_rows TO msp_gateway;

-- Stages rows (p_rows: [{line, fields, defaults, reason}]) for an import
-- into the tenant p_slug: how many, or NULL when the principal does not see it.
CREATE FUNCTION app.stage_assets(p_slug text, p_rows jsonb) RETURNS integer
    LANGUAGE sql
    AS $$
    WITH i AS (
        INSERT INTO public.asset_import_rows (tenant_id, line, fields, defaults, reason)
        SELECT t.tenant_id, (r->>'line')::bigint, coalesce(r->'fields', '{}'),
               coalesce(r->'defaults', '{}'), r->>'reason'
          FROM public.tenants t, jsonb_array_elements(p_rows) r
         WHERE t.slug = p_slug
        RETURNING 1
    )
    SELECT count(*)::integer FROM i
    $$;

-- Whether s is a time: an RFC 3339 time, or a date and time with no zone
-- (read in UTC).
CREATE FUNCTION app.is_time(s text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    RETURN s ~ ('^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?'
                || '(Z|[+-][0-9]{2}:?[0-9]{2})?$')
           AND (s || CASE WHEN s ~ '(Z|[+-][0-9]{2}:?[0-9]{2})$' THEN '' ELSE 'Z' END)
               ::timestamptz IS NOT NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN false;
END
$$;

-- What is wrong with an imported row's field (text, as exported), or NULL.
CREATE FUNCTION app.import_field_problem(p_field text, p_value text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE
        WHEN p_field IN ('purchase_date', 'warranty_end') THEN
            CASE WHEN NOT app.is_date(p_value) THEN 'must be a date as YYYY-MM-DD' END
        WHEN p_field IN ('last_seen', 'last_patched') THEN
            CASE WHEN NOT app.is_time(p_value) THEN 'must be a time as YYYY-MM-DD HH:MM:SS' END
        WHEN p_field IN ('encrypted', 'enrolled') THEN
            CASE WHEN p_value NOT IN ('true', 'false') THEN 'must be true or false' END
        WHEN p_field = 'kind' THEN
            CASE WHEN p_value NOT IN ('laptop', 'desktop', 'server', 'phone', 'tablet', 'network',
                                      'printer', 'saas_license', 'other')
                 THEN 'must be one of laptop, desktop, server, phone, tablet, network, printer,'
                      ' saas_license, other' END
        WHEN p_field = 'status' THEN
            CASE WHEN p_value NOT IN ('in_stock', 'deployed', 'in_repair', 'retired', 'lost')
                 THEN 'must be one of in_stock, deployed, in_repair, retired, lost' END
        WHEN p_field = 'criticality' THEN
            CASE WHEN p_value NOT IN ('low', 'medium', 'high', 'critical')
                 THEN 'must be one of low, medium, high, critical' END
        WHEN p_field = 'tag' THEN
            CASE WHEN length(p_value) NOT BETWEEN 1 AND 64 THEN 'must be 1 to 64 characters' END
        WHEN p_field IN ('name', 'model', 'assigned_to', 'department', 'site') THEN
            CASE WHEN length(p_value) > 200 THEN 'must be at most 200 characters' END
        WHEN p_field IN ('manufacturer', 'serial', 'os', 'os_version') THEN
            CASE WHEN length(p_value) > 100 THEN 'must be at most 100 characters' END
    END
    $$;

-- A custom field's value as exported (text) as its declaration's type
-- takes it; text that is not one stays text, for app.asset_problem to
-- refuse.
CREATE FUNCTION app.custom_from_text(p_decl jsonb, p_value text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE
        WHEN p_value = '' THEN 'null'::jsonb
        WHEN p_decl->>'type' = 'integer' AND p_value ~ '^-?[0-9]{1,15}$'
            THEN to_jsonb(p_value::bigint)
        WHEN p_decl->>'type' = 'boolean' AND lower(p_value) IN ('true', 'false')
            THEN to_jsonb(lower(p_value) = 'true')
        ELSE to_jsonb(p_value)
    END
    $$;

-- Applies the first p_limit staged rows (by line; all of them when NULL)
-- to the tenant p_slug from p_source (the profile), and lets them go.
-- Each row finds its asset by serial, else by tag; a row that finds none
-- creates one (its tag is its serial unless it says, its name its tag,
-- and it must say its kind), one that finds one changes the fields the
-- file gives, and one whose fields are all as stored is unchanged.  A
-- row is rejected (nothing of it written) with its reason when a field is
-- wrong, when an earlier row of the file has the same serial (or tag), or
-- when the asset's rules refuse it.  A row per row applied, by line.  The
-- caller's transaction is the import: a dry run rolls it back.
CREATE FUNCTION app.import_assets(p_slug text, p_source text, p_limit integer)
    RETURNS TABLE (line bigint, outcome text, asset_id bigint, reason text)
    LANGUAGE plpgsql
    -- the same statements run for every row: planned once, not each time
    -- (a custom plan of a statement under row-level security costs more
    -- than running it)
    SET plan_cache_mode = force_generic_plan
    AS $$
DECLARE
    t        public.tenants;
    r        record;
    v_old    jsonb;
    v_row    jsonb;
    v_new    jsonb;
    v_xact   xid8 := pg_current_xact_id();
    v_staged bigint;
    v_last   bigint;
    v_serial text;
    v_tag    text;
BEGIN
    SELECT * INTO t FROM public.tenants WHERE slug = p_slug;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- the rows' own problems, on the first call: a field's form, and a
    -- serial or tag an earlier row of the file has.  (Each statement
    -- scans the staged rows once: the table is new in this transaction
    -- and has no statistics, so a join of it with itself could be planned
    -- as a nested loop.)
    UPDATE public.asset_import_rows i
       SET checked = true,
           reason = coalesce(i.reason, (
               SELECT min(f.key || ' ''' || left(f.value, 60) || ''' '
                          || app.import_field_problem(f.key, f.value))
                 FROM jsonb_each_text(i.fields) f
                WHERE f.key <> 'custom' AND app.import_field_problem(f.key, f.value) IS NOT NULL),
               CASE WHEN NOT i.fields ? 'serial' AND NOT i.fields ? 'tag'
                    THEN 'neither serial nor tag: the row names no asset' END)
     WHERE i.tenant_id = t.tenant_id AND i.import_xact = v_xact AND NOT i.checked;
    GET DIAGNOSTICS v_staged = ROW_COUNT;
    FOR r IN SELECT d.line, d.key, d.value, d.first
               FROM (SELECT s.line, k.key, s.fields->>k.key AS value,
                            min(s.line) OVER (PARTITION BY k.key, s.fields->>k.key) AS first
                       FROM public.asset_import_rows s, (VALUES ('serial'), ('tag')) k (key)
                      WHERE s.tenant_id = t.tenant_id AND s.import_xact = v_xact
                        AND s.fields ? k.key) d
              WHERE d.first < d.line AND v_staged > 0
    LOOP
        UPDATE public.asset_import_rows i
           SET reason = r.key || ' ''' || left(r.value, 60) || ''' is also on line ' || r.first
         WHERE i.tenant_id = t.tenant_id AND i.import_xact = v_xact AND i.line = r.line
           AND i.reason IS NULL;
    END LOOP;

    FOR r IN SELECT s.line, s.fields, s.defaults, s.reason FROM public.asset_import_rows s
              WHERE s.tenant_id = t.tenant_id AND s.import_xact = v_xact ORDER BY s.line
              LIMIT p_limit
    LOOP
        line := r.line;
        asset_id := NULL;
        v_row := NULL;
        reason := r.reason;
        outcome := 'rejected';
        IF reason IS NULL THEN
            -- text as exported to the column's type
            v_new := (SELECT jsonb_object_agg(f.key, CASE
                          WHEN f.key IN ('encrypted', 'enrolled')
                              THEN to_jsonb(f.value #>> '{}' = 'true')
                          WHEN f.key IN ('last_seen', 'last_patched') THEN to_jsonb(
                              ((f.value #>> '{}') || CASE WHEN (f.value #>> '{}')
                                                              ~ '(Z|[+-][0-9]{2}:?[0-9]{2})$'
                                                         THEN '' ELSE 'Z' END)::timestamptz)
                          WHEN f.key = 'custom' THEN (SELECT coalesce(jsonb_object_agg(c.key,
                              app.custom_from_text(t.assets->'custom_fields'->c.key, c.value)),
                              '{}') FROM jsonb_each_text(f.value) c)
                          ELSE f.value END)
                        FROM jsonb_each(r.fields) f);
            -- the device: by serial, else by tag (a tagged device with no
            -- serial yet takes the row's)
            -- (plain values, so that the lookups search the indexes)
            v_old := NULL;
            v_serial := r.fields->>'serial';
            v_tag := r.fields->>'tag';
            SELECT to_jsonb(a.*) INTO v_old FROM public.assets a
             WHERE a.tenant_id = t.tenant_id AND a.serial = v_serial FOR UPDATE;
            IF v_old IS NULL AND v_tag IS NOT NULL THEN
                SELECT to_jsonb(a.*) INTO v_old FROM public.assets a
                 WHERE a.tenant_id = t.tenant_id AND a.tag = v_tag
                   AND (a.serial IS NULL OR v_serial IS NULL) FOR UPDATE;
            END IF;
            IF v_old IS NULL THEN
                -- a new device is tagged with its serial, named by its tag,
                -- unless the file says; the profile's guesses (an MDM's
                -- device is deployed, a MacBook a laptop) only start it
                v_new := jsonb_build_object('tag', v_new->'serial') || r.defaults || v_new;
                v_new := jsonb_build_object('name', v_new->'tag') || v_new;
                IF NOT v_new ? 'kind' THEN
                    reason := 'kind is required for a new asset';
                END IF;
            ELSIF v_new ? 'custom' THEN
                v_new := v_new || jsonb_build_object('custom',
                                                     (v_old->'custom') || (v_new->'custom'));
            END IF;
            IF reason IS NULL AND v_old IS NOT NULL
               AND app.asset_doc(v_old || v_new)::jsonb = app.asset_doc(v_old)::jsonb THEN
                -- as stored: nothing to check or write (the common case of
                -- a nightly export)
                outcome := 'unchanged';
                asset_id := (v_old->>'asset_id')::bigint;
                v_last := r.line;
                RETURN NEXT;
                CONTINUE;
            END IF;
            IF reason IS NULL THEN
                SELECT p.field || ' ' || p.problem INTO reason
                  FROM app.asset_problem(t, coalesce(v_old, '{}') || v_new) p;
            END IF;
            IF reason IS NULL AND v_old IS NULL THEN
                v_row := app.insert_asset(t, v_new, p_source);
                outcome := 'created';
            ELSIF reason IS NULL THEN
                v_row := app.change_asset(t, v_old, v_new, p_source);
                outcome := CASE WHEN v_row = v_old THEN 'unchanged' ELSE 'updated' END;
            END IF;
            asset_id := (v_row->>'asset_id')::bigint;
        END IF;
        v_last := r.line;
        RETURN NEXT;
    END LOOP;
    -- the rows applied go, in one statement (they are the first by line)
    DELETE FROM public.asset_import_rows s
     WHERE s.tenant_id = t.tenant_id AND s.import_xact = v_xact AND s.line <= v_last;
END
$$;

-- The audit row of an import into p_slug: its profile and its counts.
CREATE FUNCTION app.log_asset_import(p_slug text, p_source text, p_counts jsonb) RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    SELECT t.tenant_id, 'asset.import', 'assets', jsonb_build_object('source', p_source) || p_counts
      FROM public.tenants t WHERE t.slug = p_slug
    $$;
