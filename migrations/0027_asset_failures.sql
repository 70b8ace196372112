-- Support as a sensor: the failures report (services/reports/METRICS.md,
-- "Failures by model, department and site").  How many tickets the
-- tenant's devices had in a period, per 100 devices of each hardware
-- model and per 100 users of each department and site, with the interval
-- a small fleet allows, and each model's most frequent categories.
--
-- The fleet is taken as it stood at the end of the period (or at as_of,
-- when the period has not ended): every field a group is made of is put
-- back from the assets' history (asset_events), in one pass over the
-- tenant's events after that instant, so a report asked for again later
-- gives the same numbers.

-- The tenant's assets as they were at p_at: those recorded by then, each
-- grouping field changed since put back to what it was (the "from" of
-- the first change after p_at).  Licences are not devices.
CREATE FUNCTION app.fleet_at(p_tenant uuid, p_at timestamptz)
    RETURNS TABLE (asset_id bigint, kind text, status text, manufacturer text, model text,
                   department text, site text, assigned_to text)
    LANGUAGE sql STABLE
    AS $$
    WITH back AS (
        SELECT b.asset_id, jsonb_object_agg(b.key, b.was) AS was
          FROM (SELECT DISTINCT ON (e.asset_id, c.key) e.asset_id, c.key, c.value -> 'from' AS was
                  FROM public.asset_events e, jsonb_each(e.data) c
                 WHERE e.tenant_id = p_tenant AND e.kind = 'changed' AND e.occurred_at > p_at
                   AND c.key IN ('kind', 'status', 'manufacturer', 'model', 'department',
                                 'site', 'assigned_to')
                 ORDER BY e.asset_id, c.key, e.event_id) b
         GROUP BY b.asset_id
    ), f AS (
        SELECT a.asset_id,
               CASE WHEN w.was ? 'kind' THEN w.was ->> 'kind' ELSE a.kind END AS kind,
               CASE WHEN w.was ? 'status' THEN w.was ->> 'status' ELSE a.status END AS status,
               CASE WHEN w.was ? 'manufacturer' THEN w.was ->> 'manufacturer'
                    ELSE a.manufacturer END AS manufacturer,
               CASE WHEN w.was ? 'model' THEN w.was ->> 'model' ELSE a.model END AS model,
               CASE WHEN w.was ? 'department' THEN w.was ->> 'department'
                    ELSE a.department END AS department,
               CASE WHEN w.was ? 'site' THEN w.was ->> 'site' ELSE a.site END AS site,
               CASE WHEN w.was ? 'assigned_to' THEN w.was ->> 'assigned_to'
                    ELSE a.assigned_to END AS assigned_to
          FROM public.assets a LEFT JOIN back w ON w.asset_id = a.asset_id
         WHERE a.tenant_id = p_tenant AND a.created_at <= p_at
    )
    SELECT * FROM f WHERE f.kind <> 'saas_license'
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
      JOIN app.fleet_at(p_tenant, p_to) f ON f.asset_id = x.asset_id
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
        SELECT * FROM app.fleet_at(p_tenant, p_to) WHERE status IN ('deployed', 'in_repair')
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
