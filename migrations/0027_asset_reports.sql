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
    SELECT (CASE WHEN w.was IS NULL THEN a ELSE jsonb_populate_record(a, w.was) END).*
      FROM public.assets a LEFT JOIN back w ON w.asset_id = a.asset_id
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
        SELECT g.split, g.name, min(f.manufacturer) AS manufacturer, count(*) AS devices,
               count(DISTINCT f.assigned_to) AS users
          FROM f, LATERAL (VALUES ('model', coalesce(f.model, 'unknown')),
                                  ('department', coalesce(f.department, 'unknown')),
                                  ('site', coalesce(f.site, 'unknown'))) g (split, name)
         GROUP BY g.split, g.name
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

-- The day asset a reaches tenant t's refresh age: its purchase date and
-- assets.refresh_age_months (NULL without a purchase date).
CREATE FUNCTION app.refresh_date(a public.assets, t public.tenants) RETURNS date
    LANGUAGE sql STABLE
    AS $$
    SELECT (a.purchase_date
            + make_interval(months => coalesce((t.assets->>'refresh_age_months')::int, 48)))::date
    $$;

-- The checks of 0026, and three of lifecycle (METRICS.md, "Asset
-- compliance"): devices in use out of warranty, past the tenant's refresh
-- age, and due for refresh (either) within 90 days: the refresh plan.
CREATE OR REPLACE FUNCTION app.asset_fails(p_check text, a public.assets, t public.tenants,
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
        WHEN 'out_of_warranty' THEN a.status IN ('deployed', 'in_repair')
             AND a.kind <> 'saas_license'
             AND a.warranty_end < (p_now AT TIME ZONE t.timezone)::date
        WHEN 'past_refresh_age' THEN a.status IN ('deployed', 'in_repair')
             AND a.kind <> 'saas_license'
             AND app.refresh_date(a, t) <= (p_now AT TIME ZONE t.timezone)::date
        WHEN 'refresh_due' THEN a.status IN ('deployed', 'in_repair')
             AND a.kind <> 'saas_license'
             AND least(app.refresh_date(a, t), a.warranty_end)
                 < (p_now AT TIME ZONE t.timezone)::date + 90
    END
    $$;

CREATE OR REPLACE FUNCTION app.compliance_checks() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT ARRAY['unencrypted', 'not_enrolled', 'not_patched', 'warranty_ending', 'not_seen',
                 'retired_assigned', 'out_of_warranty', 'past_refresh_age', 'refresh_due']
    $$;

-- The tenant's compliance at p_now, its assets as they stood then: the
-- devices in use, per check how many fail it, and per quarter from
-- p_now's (four, in the tenant's time zone) the devices in use whose
-- warranty ends and those that reach the refresh age in it.  One pass
-- over the tenant's assets.
CREATE OR REPLACE FUNCTION app.report_compliance(p_slug text, p_now timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH t AS (SELECT * FROM public.tenants WHERE slug = p_slug),
    a AS (SELECT r AS asset, r.status, r.warranty_end, app.refresh_date(r, t) AS refresh_on,
                 r.status IN ('deployed', 'in_repair') AND r.kind <> 'saas_license' AS device
            FROM t, app.assets_at(t.tenant_id, p_now) r),
    q AS (SELECT n, (date_trunc('quarter', (p_now AT TIME ZONE t.timezone)::date)
                     + make_interval(months => 3 * n))::date AS first
            FROM t, generate_series(0, 3) n)
    SELECT json_build_object(
        'as_of', app.rfc3339(p_now),
        'patch_window_days', coalesce((t.assets->>'patch_window_days')::int, 30),
        'refresh_age_months', coalesce((t.assets->>'refresh_age_months')::int, 48),
        'assets', (SELECT count(*) FROM a),
        'in_use', (SELECT count(*) FROM a WHERE a.status IN ('deployed', 'in_repair')),
        'checks', (SELECT json_agg(json_build_object(
                              'check', k.name,
                              'count', (SELECT count(*) FROM a
                                         WHERE app.asset_fails(k.name, a.asset, t,
                                                               p_now)))
                          ORDER BY k.n)
                     FROM unnest(app.compliance_checks()) WITH ORDINALITY k (name, n)),
        'lifecycle', (SELECT json_agg(json_build_object(
                                 'quarter', to_char(q.first, 'YYYY"-Q"Q'),
                                 'warranty_ends', (SELECT count(*) FROM a WHERE a.device
                                                      AND a.warranty_end >= q.first
                                                      AND a.warranty_end < q.first + interval '3 months'),
                                 'refresh_age_reached', (SELECT count(*) FROM a WHERE a.device
                                                      AND a.refresh_on >= q.first
                                                      AND a.refresh_on < q.first + interval '3 months'))
                             ORDER BY q.n)
                        FROM q))
      FROM t
    $$;

-- A page of the assets failing a check at p_now, as they stood then, by
-- id after p_after.
CREATE OR REPLACE FUNCTION app.compliance_assets(p_slug text, p_check text, p_now timestamptz,
                                                 p_after bigint, p_rows integer)
    RETURNS TABLE (doc text, id bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT app.asset_doc(to_jsonb(a.*))::text, a.asset_id
      FROM public.tenants t, app.assets_at(t.tenant_id, p_now) a
     WHERE t.slug = p_slug AND (p_after IS NULL OR a.asset_id > p_after)
       AND app.asset_fails(p_check, a, t, p_now)
     ORDER BY a.asset_id
     LIMIT p_rows
    $$;
