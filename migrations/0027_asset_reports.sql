-- The assets' reports as of an instant.  Support as a sensor: the
-- failures report (services/reports/METRICS.md, "Failures").  How many tickets the
-- tenant's devices had in a period, per 100 devices of each hardware
-- model and per 100 users of each department and site, with the interval
-- a small fleet allows, and each model's most frequent categories.
--
-- The fleet is taken as it stood at the end of the period (or at as_of,
-- when the period has not ended): every field a group is made of is put
-- back from the assets' history (asset_events), in one pass over the
-- tenant's events after that instant, so a report asked for again later
-- gives the same numbers.  The compliance report and its lists now judge
-- the assets as they stood at as_of the same way, and gain the devices'
-- lifecycle (warranty, refresh age) that review packs show.

-- The tenant's assets as they were at p_at: those recorded by then, each
-- field changed since put back to what it was (the "from" of the first
-- change after p_at), set-wise: one pass over the events after p_at.
-- (app.asset_as_of does the same for one asset, with its version.)
CREATE INDEX asset_events_at ON asset_events (tenant_id, occurred_at);
CREATE FUNCTION app.assets_at(p_tenant uuid, p_at timestamptz)
    RETURNS SETOF public.assets
    LANGUAGE sql STABLE
    AS $$
    WITH back AS (
        SELECT b.asset_id, jsonb_object_agg(b.key, b.was) AS was
          FROM (SELECT DISTINCT ON (e.asset_id, c.key) e.asset_id, c.key, c.value -> 'from' AS was
                  FROM public.asset_events e, jsonb_each(e.data) c
                 WHERE e.tenant_id = p_tenant AND e.occurred_at > p_at AND e.kind = 'changed'
                 ORDER BY e.asset_id, c.key, e.event_id) b
         GROUP BY b.asset_id
    )
    -- the assets unchanged since p_at as they are (nearly all: nothing to
    -- rebuild), the others rebuilt
    SELECT a.* FROM public.assets a
     WHERE a.tenant_id = p_tenant AND a.created_at <= p_at
       AND NOT EXISTS (SELECT 1 FROM back w WHERE w.asset_id = a.asset_id)
    UNION ALL
    SELECT (jsonb_populate_record(a, w.was)).*
      FROM public.assets a JOIN back w ON w.asset_id = a.asset_id
     WHERE a.tenant_id = p_tenant AND a.created_at <= p_at
    $$;

-- The tickets created in [p_from, p_to) that name a device, a row per
-- ticket and device, with the device's groups at p_to (unknown when not
-- recorded) and the ticket's category as it stood at p_as_of.  A ticket's
-- devices are those it was opened with: the links never change.
CREATE FUNCTION app.report_failure_rows(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                        p_as_of timestamptz)
    RETURNS TABLE (ticket_number integer, at timestamptz, category text, asset_id bigint,
                   manufacturer text, model text, department text, site text)
    LANGUAGE sql STABLE
    AS $$
    SELECT k.number, k.created_at,
           coalesce(CASE WHEN c.found THEN c.was ELSE k.category END, 'unknown'),
           f.asset_id, f.manufacturer,
           coalesce(f.model, 'unknown'), coalesce(f.department, 'unknown'),
           coalesce(f.site, 'unknown')
      FROM public.tickets k
      JOIN public.ticket_assets x ON x.tenant_id = k.tenant_id AND x.ticket_number = k.number
      JOIN app.assets_at(p_tenant, p_to) f ON f.asset_id = x.asset_id AND f.kind <> 'saas_license'
      LEFT JOIN LATERAL (
          SELECT true AS found, e.data -> 'category' ->> 'from' AS was
            FROM public.ticket_events e
           WHERE e.tenant_id = p_tenant AND e.ticket_number = k.number
             AND e.kind = 'updated' AND e.data ? 'category' AND e.occurred_at > p_as_of
           ORDER BY e.event_id
           LIMIT 1) c ON true
     WHERE k.tenant_id = p_tenant AND k.created_at >= p_from AND k.created_at < p_to
    $$;

-- The bounds of the 95% interval of a Poisson count p_k (Byar's
-- approximation, within a few per cent of the exact interval from a count
-- of 1; the upper bound of 0 is 3.67, the exact one 3.69).
CREATE FUNCTION app.poisson_interval(p_k bigint, OUT low numeric, OUT high numeric)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_k = 0 THEN 0
                ELSE p_k * power(1 - 1 / (9.0 * p_k) - 1.959964 / (3 * sqrt(p_k)), 3) END,
           (p_k + 1) * power(1 - 1 / (9.0 * (p_k + 1)) + 1.959964 / (3 * sqrt(p_k + 1)), 3)
    $$;

-- p_k tickets per 100 of p_base (devices or users), with the interval:
-- no rate over nothing.
CREATE FUNCTION app.failure_rate(p_k bigint, p_base bigint) RETURNS json
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_base > 0 THEN json_build_object(
               'rate', round(100.0 * p_k / p_base, 2),
               'low', round(100 * i.low / p_base, 2),
               'high', round(100 * i.high / p_base, 2)) END
      FROM app.poisson_interval(p_k) i
    $$;

-- The failures report of [p_from, p_to) as of p_as_of: the devices in
-- service at p_to (deployed or in repair) and their users, and per model
-- (per 100 devices), per department and per site (per 100 users) the
-- tickets of the period that named one of the group's devices, each
-- ticket once per group; per model its three most frequent categories.
CREATE FUNCTION app.report_failures(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                    p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH f AS (
        SELECT * FROM app.assets_at(p_tenant, p_to)
         WHERE kind <> 'saas_license' AND status IN ('deployed', 'in_repair')
    ), r AS (
        SELECT * FROM app.report_failure_rows(p_tenant, p_from, p_to, p_as_of)
    ), base AS (
        -- a grouping each (each sorts its own devices to count users once)
        SELECT 'model' AS split, coalesce(f.model, 'unknown') AS name,
               min(f.manufacturer) AS manufacturer, count(*) AS devices, 0::bigint AS users
          FROM f GROUP BY 2
        UNION ALL
        SELECT 'department', coalesce(f.department, 'unknown'), NULL, count(*),
               count(DISTINCT f.assigned_to)
          FROM f GROUP BY 2
        UNION ALL
        SELECT 'site', coalesce(f.site, 'unknown'), NULL, count(*), count(DISTINCT f.assigned_to)
          FROM f GROUP BY 2
    ), hit AS (
        SELECT g.split, g.name, min(r.manufacturer) AS manufacturer,
               count(DISTINCT r.ticket_number) AS tickets
          FROM r, LATERAL (VALUES ('model', r.model), ('department', r.department),
                                  ('site', r.site)) g (split, name)
         GROUP BY g.split, g.name
    ), cat AS (
        SELECT c.model, json_agg(json_build_object('category', c.category, 'tickets', c.n)
                                 ORDER BY c.n DESC, c.category) AS top
          FROM (SELECT r.model, r.category, count(DISTINCT r.ticket_number) AS n,
                       row_number() OVER (PARTITION BY r.model
                                          ORDER BY count(DISTINCT r.ticket_number) DESC,
                                                   r.category) AS place
                  FROM r GROUP BY r.model, r.category) c
         WHERE c.place <= 3
         GROUP BY c.model
    ), g AS (
        SELECT coalesce(b.split, h.split) AS split, coalesce(b.name, h.name) AS name,
               coalesce(b.manufacturer, h.manufacturer) AS manufacturer,
               coalesce(b.devices, 0) AS devices, coalesce(b.users, 0) AS users,
               coalesce(h.tickets, 0) AS tickets,
               app.failure_rate(coalesce(h.tickets, 0),
                                CASE WHEN coalesce(b.split, h.split) = 'model'
                                     THEN coalesce(b.devices, 0)
                                     ELSE coalesce(b.users, 0) END) AS rate
          FROM base b FULL JOIN hit h ON h.split = b.split AND h.name = b.name
    ), ranked AS (
        SELECT g.*, row_number() OVER (PARTITION BY g.split
                                       ORDER BY (g.rate ->> 'rate')::numeric DESC NULLS LAST,
                                                g.tickets DESC, g.name) AS place
          FROM g
    )
    SELECT json_build_object(
        'devices', (SELECT count(*) FROM f),
        'users', (SELECT count(DISTINCT assigned_to) FROM f),
        'tickets', (SELECT count(DISTINCT ticket_number) FROM r),
        'confidence', 0.95,
        'by_model', coalesce((
            SELECT json_agg(json_build_object(
                       'model', g.name, 'manufacturer', g.manufacturer, 'devices', g.devices,
                       'tickets', g.tickets, 'per_100_devices', g.rate -> 'rate',
                       'low', g.rate -> 'low', 'high', g.rate -> 'high',
                       'top_categories', coalesce(c.top, '[]'))
                   ORDER BY g.place)
              FROM ranked g LEFT JOIN cat c ON c.model = g.name
             WHERE g.split = 'model'), '[]'),
        'by_department', coalesce((
            SELECT json_agg(json_build_object(
                       'department', g.name, 'users', g.users, 'devices', g.devices,
                       'tickets', g.tickets, 'per_100_users', g.rate -> 'rate',
                       'low', g.rate -> 'low', 'high', g.rate -> 'high')
                   ORDER BY g.place)
              FROM ranked g WHERE g.split = 'department'), '[]'),
        'by_site', coalesce((
            SELECT json_agg(json_build_object(
                       'site', g.name, 'users', g.users, 'devices', g.devices,
                       'tickets', g.tickets, 'per_100_users', g.rate -> 'rate',
                       'low', g.rate -> 'low', 'high', g.rate -> 'high')
                   ORDER BY g.place)
              FROM ranked g WHERE g.split = 'site'), '[]'))
    $$;
ALTER FUNCTION app.report_failures(uuid, timestamptz, timestamptz, timestamptz)
    SET work_mem = '32MB';

-- ---- compliance as of an instant, and the devices' lifecycle ---------------

-- The checks of 0026 and three of lifecycle (METRICS.md, "Asset
-- compliance"): devices in use out of warranty, past the tenant's refresh
-- age, and due for refresh (either) within 90 days, the refresh plan.
-- They are judged now on each tenant's assets as they stood at an instant
-- (app.asset_checks), in one pass over them: 0026's app.asset_fails, a
-- check and an asset at a time, goes.
DROP FUNCTION app.asset_fails(text, public.assets, public.tenants, timestamptz);

CREATE OR REPLACE FUNCTION app.compliance_checks() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT ARRAY['unencrypted', 'not_enrolled', 'not_patched', 'warranty_ending', 'not_seen',
                 'retired_assigned', 'out_of_warranty', 'past_refresh_age', 'refresh_due']
    $$;

-- Tenant p_tenant's assets as they stood at p_at (app.assets_at), each
-- with the day it reaches the refresh age (its purchase date plus the
-- tenant's assets.refresh_age_months; none without a purchase date) and,
-- a column per check named for it, whether it fails it then.  Devices in
-- use are those deployed or in repair; encryption and enrolment concern
-- computers, phones and tablets, patching those and servers and network
-- gear, the lifecycle every device but licences.  (Columns rather than an
-- array of names: a tenant of 100,000 assets is counted three times
-- faster.)
CREATE FUNCTION app.asset_checks(p_tenant uuid, p_at timestamptz)
    RETURNS TABLE (asset public.assets, asset_id bigint, in_use boolean, device boolean,
                   warranty_end date,
                   refresh_on date, unencrypted boolean, not_enrolled boolean,
                   not_patched boolean, warranty_ending boolean, not_seen boolean,
                   retired_assigned boolean, out_of_warranty boolean,
                   past_refresh_age boolean, refresh_due boolean)
    LANGUAGE sql STABLE
    AS $$
    -- the tenant's settings and as_of's day, worked out once
    WITH s AS MATERIALIZED (
        SELECT (p_at AT TIME ZONE t.timezone)::date AS today,
               make_interval(days => coalesce((t.assets->>'patch_window_days')::int, 30))
                   AS patch_window,
               make_interval(months => coalesce((t.assets->>'refresh_age_months')::int, 48))
                   AS refresh_age
          FROM public.tenants t WHERE t.tenant_id = p_tenant
    )
    SELECT a, a.asset_id, a.status IN ('deployed', 'in_repair'),
           a.status IN ('deployed', 'in_repair') AND a.kind <> 'saas_license',
           a.warranty_end, (a.purchase_date + s.refresh_age)::date,
           a.status IN ('deployed', 'in_repair')
               AND a.kind IN ('laptop', 'desktop', 'server', 'phone', 'tablet')
               AND a.encrypted IS NOT TRUE,
           a.status IN ('deployed', 'in_repair') AND a.kind IN ('laptop', 'desktop', 'phone', 'tablet')
               AND a.enrolled IS NOT TRUE,
           a.status IN ('deployed', 'in_repair')
               AND a.kind IN ('laptop', 'desktop', 'server', 'phone', 'tablet', 'network')
               AND coalesce(a.last_patched < p_at - s.patch_window, true),
           a.status NOT IN ('retired', 'lost') AND a.kind <> 'saas_license'
               AND a.warranty_end >= s.today AND a.warranty_end < s.today + 90,
           a.status = 'deployed' AND a.kind <> 'saas_license'
               AND coalesce(a.last_seen < p_at - interval '30 days', true),
           a.status = 'retired' AND a.assigned_to IS NOT NULL,
           a.status IN ('deployed', 'in_repair') AND a.kind <> 'saas_license'
               AND a.warranty_end < s.today,
           a.status IN ('deployed', 'in_repair') AND a.kind <> 'saas_license'
               AND a.purchase_date + s.refresh_age <= s.today,
           a.status IN ('deployed', 'in_repair') AND a.kind <> 'saas_license'
               AND least((a.purchase_date + s.refresh_age)::date, a.warranty_end) < s.today + 90
      FROM s, app.assets_at(p_tenant, p_at) a
    $$;

-- The tenant's compliance at p_now, its assets as they stood then: the
-- devices in use, per check how many fail it, and per quarter from
-- p_now's (four, in the tenant's time zone) the devices in use (not
-- licences) whose warranty ends and those that reach the refresh age in
-- it.  One pass over the assets.
CREATE OR REPLACE FUNCTION app.report_compliance(p_slug text, p_now timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH t AS (SELECT * FROM public.tenants WHERE slug = p_slug),
    -- the first days of the four quarters and of the one after
    b AS MATERIALIZED (
        SELECT array_agg((date_trunc('quarter', (p_now AT TIME ZONE t.timezone)::date)
                          + make_interval(months => 3 * n))::date ORDER BY n) AS q
          FROM t, generate_series(0, 4) n),
    c AS (SELECT count(*) AS assets,
                 count(*) FILTER (WHERE c.in_use) AS in_use,
                 -- in app.compliance_checks()'s order
                 ARRAY[count(*) FILTER (WHERE c.unencrypted),
                       count(*) FILTER (WHERE c.not_enrolled),
                       count(*) FILTER (WHERE c.not_patched),
                       count(*) FILTER (WHERE c.warranty_ending),
                       count(*) FILTER (WHERE c.not_seen),
                       count(*) FILTER (WHERE c.retired_assigned),
                       count(*) FILTER (WHERE c.out_of_warranty),
                       count(*) FILTER (WHERE c.past_refresh_age),
                       count(*) FILTER (WHERE c.refresh_due)] AS failing,
                 ARRAY[count(*) FILTER (WHERE c.device AND c.warranty_end >= b.q[1]
                                        AND c.warranty_end < b.q[2]),
                       count(*) FILTER (WHERE c.device AND c.warranty_end >= b.q[2]
                                        AND c.warranty_end < b.q[3]),
                       count(*) FILTER (WHERE c.device AND c.warranty_end >= b.q[3]
                                        AND c.warranty_end < b.q[4]),
                       count(*) FILTER (WHERE c.device AND c.warranty_end >= b.q[4]
                                        AND c.warranty_end < b.q[5])] AS warranty_ends,
                 ARRAY[count(*) FILTER (WHERE c.device AND c.refresh_on >= b.q[1]
                                        AND c.refresh_on < b.q[2]),
                       count(*) FILTER (WHERE c.device AND c.refresh_on >= b.q[2]
                                        AND c.refresh_on < b.q[3]),
                       count(*) FILTER (WHERE c.device AND c.refresh_on >= b.q[3]
                                        AND c.refresh_on < b.q[4]),
                       count(*) FILTER (WHERE c.device AND c.refresh_on >= b.q[4]
                                        AND c.refresh_on < b.q[5])] AS refresh_reached
            FROM t, b, app.asset_checks(t.tenant_id, p_now) c)
    SELECT json_build_object(
        'as_of', app.rfc3339(p_now),
        'patch_window_days', coalesce((t.assets->>'patch_window_days')::int, 30),
        'refresh_age_months', coalesce((t.assets->>'refresh_age_months')::int, 48),
        'assets', c.assets,
        'in_use', c.in_use,
        'checks', (SELECT json_agg(json_build_object('check', k.name, 'count', c.failing[k.n])
                                   ORDER BY k.n)
                     FROM unnest(app.compliance_checks()) WITH ORDINALITY k (name, n)),
        'lifecycle', (SELECT json_agg(json_build_object(
                                 'quarter', extract(year FROM b.q[n]) || '-Q'
                                            || extract(quarter FROM b.q[n]),
                                 'warranty_ends', c.warranty_ends[n],
                                 'refresh_age_reached', c.refresh_reached[n])
                             ORDER BY n)
                        FROM b, generate_series(1, 4) n))
      FROM t, c
    $$;

-- A page of the assets failing a check at p_now, as they stood then, by
-- id after p_after.
CREATE OR REPLACE FUNCTION app.compliance_assets(p_slug text, p_check text, p_now timestamptz,
                                                 p_after bigint, p_rows integer)
    RETURNS TABLE (doc text, id bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT app.asset_doc(to_jsonb(c.asset))::text, c.asset_id
      FROM public.tenants t, app.asset_checks(t.tenant_id, p_now) c
     WHERE t.slug = p_slug AND (p_after IS NULL OR c.asset_id > p_after)
       AND CASE p_check WHEN 'unencrypted' THEN c.unencrypted
                        WHEN 'not_enrolled' THEN c.not_enrolled
                        WHEN 'not_patched' THEN c.not_patched
                        WHEN 'warranty_ending' THEN c.warranty_ending
                        WHEN 'not_seen' THEN c.not_seen
                        WHEN 'retired_assigned' THEN c.retired_assigned
                        WHEN 'out_of_warranty' THEN c.out_of_warranty
                        WHEN 'past_refresh_age' THEN c.past_refresh_age
                        WHEN 'refresh_due' THEN c.refresh_due END
     ORDER BY c.asset_id
     LIMIT p_rows
    $$;
