-- Review packs (README, "Review packs"): a tenant's weekly operational,
-- monthly business and quarterly strategic review, generated from the
-- reports as of an instant, rendered as JSON, CSV (a zip and one file per
-- table), HTML and PDF, and signed.
--
-- A pack is asked for (POST, or the module's timer when a period ends),
-- then rendered by the pack worker (`mspctl pack worker`, a process of its
-- own: rendering never runs on nginx's event loop), which claims it,
-- records its progress, stores its files and signs their manifest.  A pack
-- once issued never changes: its files have no UPDATE grant, and the
-- packs row only moves forward (queued, rendering, issued or failed).
--
-- Who: the provider's leads, account managers and admins ask for packs;
-- they, auditors and the tenant's IT leader read them.  Technicians, the
-- tenant's IT staff, requesters and machine clients do not see them.

CREATE TABLE packs (
    tenant_id     uuid        NOT NULL REFERENCES tenants (tenant_id),
    -- "<kind>-<period>-<as_of as YYYYMMDDTHHMMSSZ>": what it shows is
    -- named by what it is computed from, so the same pack asked for
    -- twice is the same pack
    pack_id       text        NOT NULL CHECK (pack_id ~ '^[a-z]+-[0-9A-Z-]+-[0-9]{8}T[0-9]{6}Z$'),
    kind          text        NOT NULL CHECK (kind IN ('weekly', 'monthly', 'quarterly')),
    period        text        NOT NULL,
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    as_of         timestamptz NOT NULL CHECK (as_of >= period_end),
    -- the last pack of the same kind and period before this one
    supersedes    text,
    scheduled     boolean     NOT NULL DEFAULT false,
    state         text        NOT NULL DEFAULT 'queued'
                              CHECK (state IN ('queued', 'rendering', 'issued', 'failed')),
    -- {"step": ..., "done": n, "of": n}, as the worker goes
    progress      jsonb       NOT NULL DEFAULT '{"step": "queued", "done": 0, "of": 0}',
    failure       text,
    -- a worker's claim holds until then; a worker that died lets it lapse
    claimed_until timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    -- the signed manifest (its exact bytes), its Ed25519 signature
    -- (base64) and the key that made it (pack_keys)
    manifest      text,
    signature     text,
    key_id        text,
    requested_by  text        NOT NULL DEFAULT app.principal_sub(),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    issued_at     timestamptz,
    PRIMARY KEY (tenant_id, pack_id),
    CHECK (state <> 'issued' OR (manifest IS NOT NULL AND signature IS NOT NULL))
);

-- The timer asks for each period's pack once, however many workers and
-- hosts run it.
CREATE UNIQUE INDEX packs_scheduled ON packs (tenant_id, kind, period) WHERE scheduled;
CREATE INDEX packs_period ON packs (tenant_id, kind, period, requested_at);
-- The worker's queue: the packs not yet issued (few, whatever the number
-- of tenants).
CREATE INDEX packs_waiting ON packs (tenant_id, requested_at)
    WHERE state IN ('queued', 'rendering');

CREATE TABLE pack_files (
    tenant_id     uuid        NOT NULL,
    pack_id       text        NOT NULL,
    -- pack.json, pack.html, pack.pdf, pack-csv.zip, csv/<table>.csv
    name          text        NOT NULL CHECK (name ~ '^[a-z0-9_./-]{1,100}$'),
    media_type    text        NOT NULL,
    content       bytea       NOT NULL,
    sha256        text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (tenant_id, pack_id, name),
    FOREIGN KEY (tenant_id, pack_id) REFERENCES packs (tenant_id, pack_id)
);

-- The provider's pack keys: the public half of each key that signed a
-- pack, named by the first 16 hex digits of its SHA-256.  Not a tenant's.
CREATE TABLE pack_keys (
    key_id        text        PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
    public_key    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Who reads a tenant's packs: its IT leader, auditors, and the provider's
-- leads, account managers and admins.
CREATE FUNCTION app.reads_packs(p_tenant uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT app.sees_all()
        OR (p_tenant = ANY (app.tenant_ids('read'))
            AND app.role_in(p_tenant) IN ('lead', 'account_manager', 'auditor', 'it_leader'))
    $$;

-- Who asks for them: the provider's leads, account managers and admins.
CREATE FUNCTION app.asks_packs(p_tenant uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT app.sees_all()
        OR (app.principal_org() = 'provider' AND p_tenant = ANY (app.tenant_ids('govern')))
    $$;

ALTER TABLE packs ENABLE ROW LEVEL SECURITY;
ALTER TABLE packs FORCE ROW LEVEL SECURITY;
CREATE POLICY packs_read ON packs FOR SELECT USING (app.reads_packs(tenant_id));
CREATE POLICY packs_insert ON packs FOR INSERT WITH CHECK (app.asks_packs(tenant_id));
-- the worker (as the provider's admin) renders them; offboarding removes them
CREATE POLICY packs_update ON packs FOR UPDATE USING ((SELECT app.sees_all()));
CREATE POLICY packs_delete ON packs FOR DELETE USING ((SELECT app.sees_all()));

ALTER TABLE pack_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE pack_files FORCE ROW LEVEL SECURITY;
CREATE POLICY pack_files_read ON pack_files FOR SELECT USING (app.reads_packs(tenant_id));
CREATE POLICY pack_files_insert ON pack_files FOR INSERT WITH CHECK ((SELECT app.sees_all()));
CREATE POLICY pack_files_delete ON pack_files FOR DELETE USING ((SELECT app.sees_all()));

GRANT SELECT, INSERT ON packs TO msp_gateway;
GRANT SELECT ON pack_files, pack_keys TO msp_gateway;

-- A worker waiting for packs hears of a new one at once.
CREATE FUNCTION app.notify_pack() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('msp_packs', NEW.pack_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER packs_notify AFTER INSERT ON packs FOR EACH ROW EXECUTE FUNCTION app.notify_pack();

-- A period's local bounds: kind weekly ("2026-W48", ISO), monthly
-- ("2026-11") or quarterly ("2026-Q4"); NULL when the name is not of the
-- kind.  The instants are the local midnights in the tenant's zone.
CREATE FUNCTION app.pack_period(p_kind text, p_period text, p_tz text,
                                OUT first_day date, OUT end_day date,
                                OUT period_start timestamptz, OUT period_end timestamptz)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF p_kind = 'weekly' AND p_period ~ '^[0-9]{4}-W[0-9]{2}$' THEN
        first_day := to_date(p_period, 'IYYY-"W"IW');
        IF to_char(first_day, 'IYYY-"W"IW') <> p_period THEN
            RETURN;
        END IF;
        end_day := first_day + 7;
    ELSIF p_kind = 'monthly' AND p_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$' THEN
        first_day := to_date(p_period || '-01', 'YYYY-MM-DD');
        end_day := (first_day + interval '1 month')::date;
    ELSIF p_kind = 'quarterly' AND p_period ~ '^[0-9]{4}-Q[1-4]$' THEN
        first_day := make_date(left(p_period, 4)::integer,
                               (right(p_period, 1)::integer - 1) * 3 + 1, 1);
        end_day := (first_day + interval '3 months')::date;
    ELSE
        RETURN;
    END IF;
    period_start := first_day::timestamp AT TIME ZONE p_tz;
    period_end := end_day::timestamp AT TIME ZONE p_tz;
END
$$;

-- The pack's id for a kind, period and as_of.
CREATE FUNCTION app.pack_id(p_kind text, p_period text, p_as_of timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT p_kind || '-' || p_period || '-'
        || to_char(p_as_of AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')
    $$;

-- A pack as the API shows it (without its files' bytes).
CREATE FUNCTION app.pack_doc(p packs, p_slug text) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_strip_nulls(json_build_object(
        'id', p.pack_id, 'tenant', p_slug, 'kind', p.kind, 'period', p.period,
        'period_start', app.rfc3339(p.period_start), 'period_end', app.rfc3339(p.period_end),
        'as_of', app.rfc3339(p.as_of), 'state', p.state, 'progress', p.progress,
        'failure', p.failure, 'supersedes', p.supersedes, 'scheduled', p.scheduled,
        'requested_by', p.requested_by, 'requested_at', app.rfc3339(p.requested_at),
        'issued_at', app.rfc3339(p.issued_at), 'key_id', p.key_id,
        'files', (SELECT json_agg(json_build_object('name', f.name, 'media_type', f.media_type,
                                                    'bytes', length(f.content),
                                                    'sha256', f.sha256) ORDER BY f.name)
                    FROM public.pack_files f
                   WHERE f.tenant_id = p.tenant_id AND f.pack_id = p.pack_id)))
    $$;

-- Whether the tenant's pack of kind and period as of p_as_of (NULL: now,
-- to the second) may be asked for: one row, the problem (NULL when none)
-- and the pack's id.  Problems: 'unknown' (no such tenant, or not one the
-- principal asks packs of), 'period' (not a period of the kind),
-- 'not_ended' (the period has not ended), 'before_tenant' (it ended
-- before the tenant existed: its contract's start, or its creation here
-- if sooner), 'as_of' (before the period's end, or in the future),
-- 'exists' (the same pack was asked for).
CREATE FUNCTION app.pack_request_check(p_slug text, p_kind text, p_period text,
                                       p_as_of timestamptz)
    RETURNS TABLE (problem text, pack_id text)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    t       public.tenants;
    b       record;
    v_as_of timestamptz := date_trunc('second', coalesce(p_as_of, now()));
    v_id    text := app.pack_id(p_kind, p_period, v_as_of);
BEGIN
    SELECT * INTO t FROM public.tenants WHERE slug = p_slug;
    SELECT * INTO b FROM app.pack_period(p_kind, p_period, t.timezone);
    problem := CASE
        WHEN t.tenant_id IS NULL OR NOT app.asks_packs(t.tenant_id) THEN 'unknown'
        WHEN b.first_day IS NULL THEN 'period'
        WHEN b.period_end > now() THEN 'not_ended'
        -- the tenant began with its contract, or when it was created here
        -- if that was sooner
        WHEN b.period_end <= least(t.created_at,
                                   ((t.contract ->> 'start_date')::date)::timestamp
                                   AT TIME ZONE t.timezone) THEN 'before_tenant'
        WHEN v_as_of < b.period_end OR v_as_of > now() THEN 'as_of'
        WHEN EXISTS (SELECT FROM public.packs x
                      WHERE x.tenant_id = t.tenant_id AND x.pack_id = v_id) THEN 'exists'
    END;
    pack_id := v_id;
    RETURN NEXT;
END
$$;

-- Asks for a pack, after app.pack_request_check: one row, the problem
-- (NULL when none), the pack's id and its document.  The pack names the
-- last pack of its kind and period it supersedes; with p_key (an
-- Idempotency-Key claimed in the same transaction) the response is stored
-- for a retry.
CREATE FUNCTION app.request_pack(p_slug text, p_kind text, p_period text, p_as_of timestamptz,
                                 p_scheduled boolean DEFAULT false, p_key text DEFAULT NULL)
    RETURNS TABLE (problem text, pack_id text, doc json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    t       public.tenants;
    b       record;
    c       record;
    v_as_of timestamptz := date_trunc('second', coalesce(p_as_of, now()));
    v_prev  text;
    p       public.packs;
BEGIN
    SELECT * INTO c FROM app.pack_request_check(p_slug, p_kind, p_period, v_as_of);
    IF c.problem IS NOT NULL THEN
        RETURN QUERY SELECT c.problem, c.pack_id, NULL::json;
        RETURN;
    END IF;
    SELECT * INTO t FROM public.tenants WHERE slug = p_slug;
    SELECT * INTO b FROM app.pack_period(p_kind, p_period, t.timezone);
    SELECT x.pack_id INTO v_prev FROM public.packs x
     WHERE x.tenant_id = t.tenant_id AND x.kind = p_kind AND x.period = p_period
       AND x.state <> 'failed'
     ORDER BY x.requested_at DESC, x.pack_id DESC LIMIT 1;
    INSERT INTO public.packs (tenant_id, pack_id, kind, period, period_start, period_end,
                              as_of, supersedes, scheduled)
    VALUES (t.tenant_id, c.pack_id, p_kind, p_period, b.period_start, b.period_end, v_as_of,
            v_prev, p_scheduled)
    ON CONFLICT DO NOTHING
    RETURNING * INTO p;
    IF p.pack_id IS NULL THEN
        RETURN QUERY SELECT 'exists'::text, c.pack_id, NULL::json;
        RETURN;
    END IF;
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    VALUES (t.tenant_id, 'pack.request', 'pack:' || p.pack_id,
            jsonb_build_object('kind', p_kind, 'period', p_period, 'as_of', app.rfc3339(v_as_of),
                               'supersedes', v_prev, 'scheduled', p_scheduled));
    UPDATE public.idempotency_keys x SET response_status = 202,
           response_body = app.pack_doc(p, t.slug)::text
     WHERE x.tenant_id = t.tenant_id AND x.subject = app.principal_sub() AND x.key = p_key;
    RETURN QUERY SELECT NULL::text, p.pack_id, app.pack_doc(p, t.slug);
END
$$;

-- ---- the worker ------------------------------------------------------------

-- Claims the oldest pack waiting (or one whose worker's claim lapsed) for
-- p_lease, skipping those another worker holds: each pack is rendered by
-- one worker at a time, however many run.  No row when none waits.
CREATE FUNCTION app.claim_pack(p_lease interval)
    RETURNS TABLE (slug text, pack_id text, kind text, period text, as_of text,
                   supersedes text, attempts integer)
    LANGUAGE sql
    AS $$
    WITH c AS (
        SELECT p.tenant_id, p.pack_id FROM public.packs p
         WHERE p.state = 'queued' OR (p.state = 'rendering' AND p.claimed_until < now())
         ORDER BY p.requested_at, p.pack_id
         LIMIT 1
           FOR UPDATE SKIP LOCKED
    ), u AS (
        UPDATE public.packs p
           SET state = 'rendering', claimed_until = now() + p_lease, attempts = p.attempts + 1,
               progress = '{"step": "collecting", "done": 0, "of": 0}'
          FROM c WHERE p.tenant_id = c.tenant_id AND p.pack_id = c.pack_id
        RETURNING p.*
    )
    SELECT t.slug, u.pack_id, u.kind, u.period, app.rfc3339(u.as_of), u.supersedes, u.attempts
      FROM u JOIN public.tenants t ON t.tenant_id = u.tenant_id
    $$;

-- The worker's progress on a pack it holds; extends its claim.
CREATE FUNCTION app.pack_progress(p_slug text, p_pack text, p_progress jsonb, p_lease interval)
    RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE public.packs p SET progress = p_progress, claimed_until = now() + p_lease
      FROM public.tenants t
     WHERE t.slug = p_slug AND p.tenant_id = t.tenant_id AND p.pack_id = p_pack
       AND p.state = 'rendering'
    $$;

-- A pack that could not be rendered (its failure says why, for the
-- operator); asking again makes a new one.
CREATE FUNCTION app.fail_pack(p_slug text, p_pack text, p_failure text) RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE public.packs p SET state = 'failed', failure = p_failure, claimed_until = NULL
      FROM public.tenants t
     WHERE t.slug = p_slug AND p.tenant_id = t.tenant_id AND p.pack_id = p_pack
       AND p.state = 'rendering'
    $$;

-- Stores a rendered file of a pack still being rendered.
CREATE FUNCTION app.store_pack_file(p_slug text, p_pack text, p_name text, p_media_type text,
                                    p_content bytea)
    RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO public.pack_files (tenant_id, pack_id, name, media_type, content, sha256)
    SELECT p.tenant_id, p.pack_id, p_name, p_media_type, p_content,
           encode(sha256(p_content), 'hex')
      FROM public.packs p JOIN public.tenants t ON t.tenant_id = p.tenant_id
     WHERE t.slug = p_slug AND p.pack_id = p_pack AND p.state = 'rendering'
    ON CONFLICT (tenant_id, pack_id, name) DO UPDATE
       SET media_type = EXCLUDED.media_type, content = EXCLUDED.content,
           sha256 = EXCLUDED.sha256
    $$;

-- Issues a pack: its manifest, signed; the files' hashes in the manifest
-- must be those stored.  False when they are not (nothing changes).
CREATE FUNCTION app.issue_pack(p_slug text, p_pack text, p_manifest text, p_signature text,
                               p_key_id text, p_public_key text)
    RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_tenant uuid;
    v_files  jsonb := p_manifest::jsonb -> 'files';
BEGIN
    SELECT p.tenant_id INTO v_tenant
      FROM public.packs p JOIN public.tenants t ON t.tenant_id = p.tenant_id
     WHERE t.slug = p_slug AND p.pack_id = p_pack AND p.state = 'rendering'
       FOR UPDATE OF p;
    IF v_tenant IS NULL
       OR (SELECT count(*) FROM public.pack_files f
            WHERE f.tenant_id = v_tenant AND f.pack_id = p_pack)
          <> (SELECT count(*) FROM jsonb_object_keys(v_files))
       OR EXISTS (SELECT FROM public.pack_files f
                   WHERE f.tenant_id = v_tenant AND f.pack_id = p_pack
                     AND v_files ->> f.name IS DISTINCT FROM f.sha256) THEN
        RETURN false;
    END IF;
    INSERT INTO public.pack_keys (key_id, public_key) VALUES (p_key_id, p_public_key)
    ON CONFLICT DO NOTHING;
    UPDATE public.packs SET state = 'issued', manifest = p_manifest, signature = p_signature,
           key_id = p_key_id, issued_at = now(), claimed_until = NULL,
           progress = jsonb_build_object('step', 'issued', 'done', progress -> 'of',
                                         'of', progress -> 'of')
     WHERE tenant_id = v_tenant AND pack_id = p_pack;
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    VALUES (v_tenant, 'pack.issue', 'pack:' || p_pack,
            jsonb_build_object('key_id', p_key_id, 'files', v_files));
    RETURN true;
END
$$;

-- ---- governance records as of an instant ----------------------------------
--
-- A pack as of an instant shows the records as they were then, so that the
-- same pack asked for again later gives the same bytes whatever changed
-- since; and `GET .../projects?as_of=...` (each kind) shows the register as
-- the last review saw it.  A record as of T: those created by T, each field
-- changed after T at the value its first later change found ("from" of the
-- governance_events), its version and updated_at as they stood, an action's
-- standing on T's day in the tenant's zone.

-- (0022's, with the day standing is judged on: p_today.)
CREATE FUNCTION app.record_doc(p_kind text, p_row jsonb, t public.tenants, p_today date)
    RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('id', p_row->>(p_kind || '_id'))
           || (p_row - 'tenant_id' - (p_kind || '_id'))
           || jsonb_build_object('created_at', app.rfc3339((p_row->>'created_at')::timestamptz),
                                 'updated_at', app.rfc3339((p_row->>'updated_at')::timestamptz))
           || CASE WHEN p_kind = 'action' THEN jsonb_build_object('standing',
                  app.action_standing(p_row->>'status', (p_row->>'due')::date,
                                      (p_row->>'done_on')::date, p_today))
              ELSE '{}' END
    $$;

CREATE OR REPLACE FUNCTION app.record_doc(p_kind text, p_row jsonb, t public.tenants)
    RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$ SELECT app.record_doc(p_kind, p_row, t, (now() AT TIME ZONE t.timezone)::date) $$;

-- The row p_row (a record of kind p_kind, as to_jsonb) as it was at p_as_of.
CREATE FUNCTION app.record_as_of(p_kind text, p_row jsonb, p_as_of timestamptz) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    WITH e AS (
        SELECT e.event_id, e.occurred_at, e.data
          FROM public.governance_events e
         WHERE e.tenant_id = (p_row->>'tenant_id')::uuid AND e.record = p_kind
           AND e.record_id = (p_row->>(p_kind || '_id'))::bigint AND e.kind = 'changed'
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
                                         (p_row->>'created_at')::timestamptz))
    $$;

-- (0022's, with p_as_of: the records as they were then, NULL for now.)
DROP FUNCTION app.record_list(text, text, jsonb, bigint, integer);
CREATE FUNCTION app.record_list(p_kind text, p_slug text, p_filter jsonb, p_after bigint,
                                p_rows integer, p_as_of timestamptz DEFAULT NULL)
    RETURNS TABLE (doc text, id bigint)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    IF p_as_of IS NULL THEN
        RETURN QUERY EXECUTE format(
            'SELECT app.record_doc($1, to_jsonb(r.*), t)::text, r.%I'
            ' FROM public.tenants t JOIN public.%I r ON r.tenant_id = t.tenant_id'
            ' WHERE t.slug = $2 AND ($3::jsonb IS NULL OR to_jsonb(r.*) @> $3)'
            '   AND ($4::bigint IS NULL OR r.%I > $4) ORDER BY r.%I LIMIT $5',
            p_kind || '_id', app.record_table(p_kind), p_kind || '_id', p_kind || '_id')
            USING p_kind, p_slug, p_filter, p_after, p_rows;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT app.record_doc($1, a.row, t, ($6 AT TIME ZONE t.timezone)::date)::text, a.id'
        ' FROM public.tenants t JOIN public.%I r ON r.tenant_id = t.tenant_id,'
        '  LATERAL (SELECT app.record_as_of($1, to_jsonb(r.*), $6) AS row, r.%I AS id) a'
        ' WHERE t.slug = $2 AND r.created_at <= $6'
        '   AND ($3::jsonb IS NULL OR a.row @> $3)'
        '   AND ($4::bigint IS NULL OR r.%I > $4) ORDER BY r.%I LIMIT $5',
        app.record_table(p_kind), p_kind || '_id', p_kind || '_id', p_kind || '_id')
        USING p_kind, p_slug, p_filter, p_after, p_rows, p_as_of;
END
$$;

-- A rating as it stood at p_as_of: its score and comment as given or last
-- changed by then (a rating's events carry the values set).
CREATE FUNCTION app.rating_as_of(r public.satisfaction_ratings, p_as_of timestamptz)
    RETURNS public.satisfaction_ratings
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_populate_record(r, jsonb_strip_nulls(jsonb_build_object(
        'score', (SELECT e.data -> 'score' FROM public.governance_events e
                   WHERE e.tenant_id = r.tenant_id AND e.record = 'rating'
                     AND e.record_id = r.ticket_number AND e.occurred_at <= p_as_of
                     AND jsonb_typeof(e.data -> 'score') = 'number'
                   ORDER BY e.event_id DESC LIMIT 1),
        'comment', (SELECT e.data -> 'comment' FROM public.governance_events e
                     WHERE e.tenant_id = r.tenant_id AND e.record = 'rating'
                       AND e.record_id = r.ticket_number AND e.occurred_at <= p_as_of
                       AND jsonb_typeof(e.data -> 'comment') = 'string'
                     ORDER BY e.event_id DESC LIMIT 1),
        'version', 1 + (SELECT count(*) FROM public.governance_events e
                         WHERE e.tenant_id = r.tenant_id AND e.record = 'rating'
                           AND e.record_id = r.ticket_number AND e.kind = 'changed'
                           AND e.occurred_at <= p_as_of))))
    $$;


-- ---- time entries as of an instant ----------------------------------------
--
-- The cost report (and so a pack's cost) counts the time entries as they
-- stood at as_of: an entry changed since counts with the values its
-- ticket events (time_logged, then each time_updated) gave it by then.

CREATE INDEX time_entries_updated ON time_entries (tenant_id, updated_at);

CREATE FUNCTION app.time_entry_as_of(x public.time_entries, p_as_of timestamptz)
    RETURNS public.time_entries
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_populate_record(x, coalesce(jsonb_object_agg(f.key, f.value), '{}'))
      FROM (SELECT DISTINCT ON (d.key) d.key, d.value
              FROM public.ticket_events ev, jsonb_each(ev.data) d
             WHERE ev.tenant_id = x.tenant_id AND ev.ticket_number = x.ticket_number
               AND ev.kind IN ('time_logged', 'time_updated')
               AND ev.data ->> 'entry_id' = x.entry_id::text AND ev.occurred_at <= p_as_of
               AND d.key IN ('minutes', 'worked_on', 'billable', 'in_scope')
               AND jsonb_typeof(d.value) <> 'null'
             ORDER BY d.key, ev.event_id DESC) f
    $$;

-- (0023's, counting the entries as they stood at p_as_of.)
CREATE OR REPLACE FUNCTION app.report_cost(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH d AS (
        SELECT t.tenant_id, t.contract,
               (p_from AT TIME ZONE t.timezone)::date AS first_day,
               ((p_to AT TIME ZONE t.timezone) - interval '1 microsecond')::date + 1 AS end_day
          FROM public.tenants t WHERE t.tenant_id = p_tenant
    ), c AS (
        SELECT d.*, app.months_covered(d.first_day, d.end_day) AS months,
               (d.contract->>'monthly_fee')::numeric AS fee,
               (d.contract->>'hourly_rate')::numeric AS rate,
               coalesce((d.contract->>'included_hours')::numeric, 0) AS included,
               nullif((d.contract->>'supported_users')::integer, 0) AS users
          FROM d
    ), e AS (
        -- the entries logged by as_of, as they stood then: those on the
        -- period's days now, and those changed since (which may have been
        -- on them then)
        SELECT a.side, k.category, a.minutes, a.billable, a.in_scope
          FROM c,
               LATERAL (SELECT x.* FROM public.time_entries x
                         WHERE x.tenant_id = c.tenant_id AND x.worked_on >= c.first_day
                           AND x.worked_on < c.end_day AND x.updated_at <= p_as_of
                        UNION ALL
                        SELECT y.*
                          FROM public.time_entries x,
                               LATERAL app.time_entry_as_of(x, p_as_of) y
                         WHERE x.tenant_id = c.tenant_id AND x.updated_at > p_as_of) a
          JOIN public.tickets k ON k.tenant_id = a.tenant_id AND k.number = a.ticket_number
         WHERE a.created_at <= p_as_of
           AND a.worked_on >= c.first_day AND a.worked_on < c.end_day
    ), m AS (
        SELECT coalesce(sum(minutes), 0) AS total,
               coalesce(sum(minutes) FILTER (WHERE billable), 0) AS billable,
               coalesce(sum(minutes) FILTER (WHERE billable AND in_scope), 0) AS in_scope,
               coalesce(sum(minutes) FILTER (WHERE billable AND NOT in_scope), 0) AS out_of_scope,
               count(*) AS entries
          FROM e
    ), b AS (
        -- the block: included minutes for the period, used by billable
        -- work in scope; beyond it, that work is billed like work out of
        -- scope
        SELECT c.*, m.*, c.included * c.months * 60 AS block,
               least(m.in_scope, c.included * c.months * 60) AS used,
               greatest(m.in_scope - c.included * c.months * 60, 0) AS over
          FROM c, m
    ), x AS (
        SELECT b.*, round(b.fee * b.months, 2) AS period_fee,
               round(b.out_of_scope * b.rate / 60, 2) AS out_amount,
               round(b.over * b.rate / 60, 2) AS over_amount,
               (SELECT count(*) FROM public.ticket_report_facts f
                 WHERE f.tenant_id = b.tenant_id AND f.created_at >= p_from
                   AND f.created_at < p_to) AS created
          FROM b
    )
    SELECT json_build_object(
        'currency', x.contract->>'currency',
        'days', json_build_object('first', x.first_day, 'last', x.end_day - 1),
        'months', round(x.months, 4),
        'entries', x.entries,
        'hours', json_build_object(
            'total', round(x.total / 60.0, 2),
            'billable', round(x.billable / 60.0, 2),
            'non_billable', round((x.total - x.billable) / 60.0, 2),
            'by_side', (SELECT coalesce(json_object_agg(s.side, s.hours ORDER BY s.side), '{}')
                          FROM (SELECT e.side, round(sum(e.minutes) / 60.0, 2) AS hours
                                  FROM e GROUP BY e.side) s),
            'by_category', (SELECT coalesce(json_object_agg(s.category, s.hours
                                                            ORDER BY s.category), '{}')
                              FROM (SELECT e.category, round(sum(e.minutes) / 60.0, 2) AS hours
                                      FROM e GROUP BY e.category) s)),
        'block', json_build_object(
            'included', round(x.block / 60.0, 2),
            'used', round(x.used / 60.0, 2),
            'remaining', round((x.block - x.used) / 60.0, 2),
            'over', round(x.over / 60.0, 2),
            'over_amount', x.over_amount),
        'out_of_scope', json_build_object(
            'hours', round(x.out_of_scope / 60.0, 2),
            'amount', x.out_amount),
        'fee', x.period_fee,
        'total', x.period_fee + x.out_amount + x.over_amount,
        'tickets_created', x.created,
        'cost_per_ticket', round((x.period_fee + x.out_amount + x.over_amount)
                                 / nullif(x.created, 0), 2),
        'supported_users', x.users,
        'cost_per_user', round((x.period_fee + x.out_amount + x.over_amount) / x.users, 2))
      FROM x
    $$;

-- ---- the schedule ------------------------------------------------------------
--
-- The module's timer (msp_pack_schedule_interval) asks for each tenant's
-- weekly, monthly and quarterly pack once its period has ended in the
-- tenant's zone and reporting.pack_settle_hours have passed, as of that
-- instant (the period's end plus the settling delay): so a scheduled pack
-- is the same whoever renders it and whenever.  Exactly once per tenant,
-- kind and period, however many workers and hosts run the timer: one
-- scheduler at a time (an advisory lock; the others are told -1 at once),
-- and the unique index packs_scheduled.  Only the last period that ended
-- is asked for (a gateway down for a month does not ask for its weeks),
-- and none that ended before the tenant began.

-- The last period of kind p_kind that ended by p_now in zone p_tz: its
-- name and its end.
CREATE FUNCTION app.pack_last_period(p_kind text, p_now timestamptz, p_tz text,
                                     OUT period text, OUT period_end timestamptz)
    LANGUAGE sql STABLE
    AS $$
    SELECT CASE p_kind WHEN 'weekly' THEN to_char(d.start, 'IYYY-"W"IW')
                       WHEN 'monthly' THEN to_char(d.start, 'YYYY-MM')
                       ELSE to_char(d.start, 'YYYY-"Q"Q') END,
           d.finish::timestamp AT TIME ZONE p_tz
      FROM (SELECT date_trunc(u.unit, p_now AT TIME ZONE p_tz) - u.length AS start,
                   date_trunc(u.unit, p_now AT TIME ZONE p_tz) AS finish
              FROM (SELECT CASE p_kind WHEN 'weekly' THEN 'week' WHEN 'monthly' THEN 'month'
                                       ELSE 'quarter' END AS unit,
                           CASE p_kind WHEN 'weekly' THEN interval '7 days'
                                       WHEN 'monthly' THEN interval '1 month'
                                       ELSE interval '3 months' END AS length) u) d
    $$;

-- p_now: the instant to schedule at (now, but for tests of the schedule).
CREATE FUNCTION app.schedule_packs(p_limit integer, p_now timestamptz DEFAULT now())
    RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_asked integer := 0;
    r record;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('msp.schedule_packs')) THEN
        RETURN -1;
    END IF;
    FOR r IN
        SELECT t.slug, k.kind, l.period,
               l.period_end + make_interval(
                   hours => coalesce((t.reporting ->> 'pack_settle_hours')::integer, 24)) AS as_of
          FROM public.tenants t
         CROSS JOIN (VALUES ('weekly'), ('monthly'), ('quarterly')) k (kind)
         CROSS JOIN LATERAL app.pack_last_period(k.kind, p_now - make_interval(
                   hours => coalesce((t.reporting ->> 'pack_settle_hours')::integer, 24)),
                   t.timezone) l
         WHERE l.period_end > least(t.created_at, ((t.contract ->> 'start_date')::date)::timestamp
                                                  AT TIME ZONE t.timezone)
           AND NOT EXISTS (SELECT FROM public.packs p
                            WHERE p.tenant_id = t.tenant_id AND p.kind = k.kind
                              AND p.period = l.period AND p.scheduled)
         ORDER BY t.slug, k.kind
         LIMIT p_limit
    LOOP
        IF (SELECT x.problem FROM app.request_pack(r.slug, r.kind, r.period, r.as_of, true) x)
           IS NULL THEN
            v_asked := v_asked + 1;
        END IF;
    END LOOP;
    RETURN v_asked;
END
$$;

-- ---- the portfolio pack --------------------------------------------------------
--
-- An account manager's (or lead's, or admin's) pack of every tenant they
-- see: a summary row per tenant, then a page per tenant, with the same
-- definitions as the tenants' own packs (the portfolio report and each
-- tenant's reports, read as the one who asked).  It is the asker's: read
-- by them, and only while they still see every tenant it covers, and by
-- the provider's admins; tenants' people never see it.  Rendered, stored
-- and signed by the pack worker as the tenants' packs are.

CREATE TABLE portfolio_packs (
    -- "portfolio-<kind>-<period>-<as_of>-<8 hex of the asker's SHA-256>"
    pack_id       text        PRIMARY KEY
                              CHECK (pack_id ~ '^portfolio-[a-z]+-[0-9A-Z-]+-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$'),
    subject       text        NOT NULL DEFAULT app.principal_sub(),
    role          text        NOT NULL DEFAULT app.principal_role(),
    kind          text        NOT NULL CHECK (kind IN ('weekly', 'monthly', 'quarterly')),
    period        text        NOT NULL,
    as_of         timestamptz NOT NULL,
    -- the tenants it covers: those the asker saw when asking, then those
    -- it shows
    tenants       uuid[]      NOT NULL,
    state         text        NOT NULL DEFAULT 'queued'
                              CHECK (state IN ('queued', 'rendering', 'issued', 'failed')),
    progress      jsonb       NOT NULL DEFAULT '{"step": "queued", "done": 0, "of": 0}',
    failure       text,
    claimed_until timestamptz,
    attempts      integer     NOT NULL DEFAULT 0,
    manifest      text,
    signature     text,
    key_id        text,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    issued_at     timestamptz,
    CHECK (state <> 'issued' OR (manifest IS NOT NULL AND signature IS NOT NULL))
);
CREATE INDEX portfolio_packs_waiting ON portfolio_packs (requested_at)
    WHERE state IN ('queued', 'rendering');

CREATE TABLE portfolio_pack_files (
    pack_id       text        NOT NULL REFERENCES portfolio_packs (pack_id),
    name          text        NOT NULL CHECK (name ~ '^[a-z0-9_./-]{1,100}$'),
    media_type    text        NOT NULL,
    content       bytea       NOT NULL,
    sha256        text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (pack_id, name)
);

-- The asker reads it while it still sees every tenant it covers.
CREATE FUNCTION app.reads_portfolio_pack(p_subject text, p_tenants uuid[]) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT app.sees_all()
        OR (app.principal_org() = 'provider' AND p_subject = app.principal_sub()
            AND p_tenants <@ app.tenant_ids('read'))
    $$;

ALTER TABLE portfolio_packs ENABLE ROW LEVEL SECURITY;
ALTER TABLE portfolio_packs FORCE ROW LEVEL SECURITY;
CREATE POLICY portfolio_packs_read ON portfolio_packs FOR SELECT
    USING (app.reads_portfolio_pack(subject, tenants));
CREATE POLICY portfolio_packs_insert ON portfolio_packs FOR INSERT
    WITH CHECK (app.principal_org() = 'provider' AND subject = app.principal_sub()
                AND app.principal_role() IN ('lead', 'account_manager', 'admin'));
CREATE POLICY portfolio_packs_update ON portfolio_packs FOR UPDATE USING ((SELECT app.sees_all()));
CREATE POLICY portfolio_packs_delete ON portfolio_packs FOR DELETE USING ((SELECT app.sees_all()));
ALTER TABLE portfolio_pack_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE portfolio_pack_files FORCE ROW LEVEL SECURITY;
CREATE POLICY portfolio_pack_files_read ON portfolio_pack_files FOR SELECT
    USING (EXISTS (SELECT FROM portfolio_packs p WHERE p.pack_id = portfolio_pack_files.pack_id));
CREATE POLICY portfolio_pack_files_insert ON portfolio_pack_files FOR INSERT
    WITH CHECK ((SELECT app.sees_all()));
CREATE POLICY portfolio_pack_files_delete ON portfolio_pack_files FOR DELETE
    USING ((SELECT app.sees_all()));
GRANT SELECT, INSERT ON portfolio_packs TO msp_gateway;
GRANT SELECT ON portfolio_pack_files TO msp_gateway;
CREATE TRIGGER portfolio_packs_notify AFTER INSERT ON portfolio_packs
    FOR EACH ROW EXECUTE FUNCTION app.notify_pack();

CREATE FUNCTION app.portfolio_pack_doc(p portfolio_packs) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_strip_nulls(json_build_object(
        'id', p.pack_id, 'kind', p.kind, 'period', p.period, 'as_of', app.rfc3339(p.as_of),
        'tenants', cardinality(p.tenants), 'state', p.state, 'progress', p.progress,
        'failure', p.failure, 'requested_by', p.subject,
        'requested_at', app.rfc3339(p.requested_at), 'issued_at', app.rfc3339(p.issued_at),
        'key_id', p.key_id,
        'files', (SELECT json_agg(json_build_object('name', f.name, 'media_type', f.media_type,
                                                    'bytes', length(f.content),
                                                    'sha256', f.sha256) ORDER BY f.name)
                    FROM public.portfolio_pack_files f WHERE f.pack_id = p.pack_id)))
    $$;

-- Asks for the principal's portfolio pack of kind and period as of p_as_of
-- (NULL: now): the problem (NULL when none; as app.pack_request_check's,
-- 'unknown' for one who may not ask, 'not_ended' when the period has not
-- ended in every tenant's zone by as_of, 'empty' when it sees no tenant),
-- its id and its document.
CREATE FUNCTION app.request_portfolio_pack(p_kind text, p_period text, p_as_of timestamptz)
    RETURNS TABLE (problem text, pack_id text, doc json)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_as_of   timestamptz := date_trunc('second', coalesce(p_as_of, now()));
    v_id      text := 'portfolio-' || app.pack_id(p_kind, p_period, v_as_of) || '-'
                      || left(encode(sha256(convert_to(app.principal_sub(), 'UTF8')), 'hex'), 8);
    v_tenants uuid[];
    v_end     timestamptz;
    p         public.portfolio_packs;
BEGIN
    IF app.principal_org() <> 'provider'
       OR app.principal_role() NOT IN ('lead', 'account_manager', 'admin') THEN
        RETURN QUERY SELECT 'unknown'::text, NULL::text, NULL::json;
        RETURN;
    END IF;
    IF (SELECT x.first_day FROM app.pack_period(p_kind, p_period, 'UTC') x) IS NULL THEN
        RETURN QUERY SELECT 'period'::text, NULL::text, NULL::json;
        RETURN;
    END IF;
    SELECT array_agg(t.tenant_id ORDER BY t.slug), max(x.period_end)
      INTO v_tenants, v_end
      FROM public.tenants t, app.pack_period(p_kind, p_period, t.timezone) x
     WHERE app.sees_all() OR t.tenant_id = ANY (app.tenant_ids('read'));
    IF v_tenants IS NULL THEN
        RETURN QUERY SELECT 'empty'::text, NULL::text, NULL::json;
        RETURN;
    END IF;
    IF v_end > now() THEN
        RETURN QUERY SELECT 'not_ended'::text, NULL::text, NULL::json;
        RETURN;
    END IF;
    IF v_as_of < v_end OR v_as_of > now() THEN
        RETURN QUERY SELECT 'as_of'::text, NULL::text, NULL::json;
        RETURN;
    END IF;
    INSERT INTO public.portfolio_packs (pack_id, kind, period, as_of, tenants)
    VALUES (v_id, p_kind, p_period, v_as_of, v_tenants)
    ON CONFLICT DO NOTHING
    RETURNING * INTO p;
    IF p.pack_id IS NULL THEN
        RETURN QUERY SELECT 'exists'::text, v_id, NULL::json;
        RETURN;
    END IF;
    RETURN QUERY SELECT NULL::text, p.pack_id, app.portfolio_pack_doc(p);
END
$$;

-- The worker's side, as for the tenants' packs (app.claim_pack and the
-- others): claim one, record progress, fail, store a file, issue.  The
-- claim says whose the pack is: the worker reads as them.
CREATE FUNCTION app.claim_portfolio_pack(p_lease interval)
    RETURNS TABLE (pack_id text, kind text, period text, as_of text, subject text, role text)
    LANGUAGE sql
    AS $$
    WITH c AS (
        SELECT p.pack_id FROM public.portfolio_packs p
         WHERE p.state = 'queued' OR (p.state = 'rendering' AND p.claimed_until < now())
         ORDER BY p.requested_at, p.pack_id LIMIT 1 FOR UPDATE SKIP LOCKED
    )
    UPDATE public.portfolio_packs p
       SET state = 'rendering', claimed_until = now() + p_lease, attempts = p.attempts + 1,
           progress = '{"step": "collecting", "done": 0, "of": 0}'
      FROM c WHERE p.pack_id = c.pack_id
    RETURNING p.pack_id, p.kind, p.period, app.rfc3339(p.as_of), p.subject, p.role
    $$;

CREATE FUNCTION app.portfolio_pack_progress(p_pack text, p_progress jsonb, p_lease interval)
    RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE public.portfolio_packs SET progress = p_progress, claimed_until = now() + p_lease
     WHERE pack_id = p_pack AND state = 'rendering'
    $$;

CREATE FUNCTION app.fail_portfolio_pack(p_pack text, p_failure text) RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE public.portfolio_packs SET state = 'failed', failure = p_failure, claimed_until = NULL
     WHERE pack_id = p_pack AND state = 'rendering'
    $$;

CREATE FUNCTION app.store_portfolio_pack_file(p_pack text, p_name text, p_media_type text,
                                              p_content bytea)
    RETURNS void
    LANGUAGE sql
    AS $$
    INSERT INTO public.portfolio_pack_files (pack_id, name, media_type, content, sha256)
    SELECT p.pack_id, p_name, p_media_type, p_content, encode(sha256(p_content), 'hex')
      FROM public.portfolio_packs p WHERE p.pack_id = p_pack AND p.state = 'rendering'
    ON CONFLICT (pack_id, name) DO UPDATE
       SET media_type = EXCLUDED.media_type, content = EXCLUDED.content,
           sha256 = EXCLUDED.sha256
    $$;

-- Issues it: the manifest's hashes must be the files stored; p_slugs are
-- the tenants it shows, which become those it covers.
CREATE FUNCTION app.issue_portfolio_pack(p_pack text, p_manifest text, p_signature text,
                                         p_key_id text, p_public_key text, p_slugs text[])
    RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_files jsonb := p_manifest::jsonb -> 'files';
BEGIN
    PERFORM FROM public.portfolio_packs
      WHERE pack_id = p_pack AND state = 'rendering' FOR UPDATE;
    IF NOT FOUND
       OR (SELECT count(*) FROM public.portfolio_pack_files f WHERE f.pack_id = p_pack)
          <> (SELECT count(*) FROM jsonb_object_keys(v_files))
       OR EXISTS (SELECT FROM public.portfolio_pack_files f
                   WHERE f.pack_id = p_pack AND v_files ->> f.name IS DISTINCT FROM f.sha256) THEN
        RETURN false;
    END IF;
    INSERT INTO public.pack_keys (key_id, public_key) VALUES (p_key_id, p_public_key)
    ON CONFLICT DO NOTHING;
    UPDATE public.portfolio_packs
       SET state = 'issued', manifest = p_manifest, signature = p_signature, key_id = p_key_id,
           issued_at = now(), claimed_until = NULL,
           tenants = (SELECT coalesce(array_agg(t.tenant_id ORDER BY t.slug), '{}')
                        FROM public.tenants t WHERE t.slug = ANY (p_slugs)),
           progress = jsonb_build_object('step', 'issued', 'done', progress -> 'of',
                                         'of', progress -> 'of')
     WHERE pack_id = p_pack;
    RETURN true;
END
$$;

-- A tenant offboarded leaves no portfolio pack behind that holds its
-- data (mspctl tenant offboard): how many went.
CREATE FUNCTION app.forget_portfolio_packs(p_tenant uuid) RETURNS integer
    LANGUAGE sql
    AS $$
    WITH gone AS (
        SELECT p.pack_id FROM public.portfolio_packs p WHERE p_tenant = ANY (p.tenants)
    ), files AS (
        DELETE FROM public.portfolio_pack_files f USING gone WHERE f.pack_id = gone.pack_id
    ), packs AS (
        DELETE FROM public.portfolio_packs p USING gone WHERE p.pack_id = gone.pack_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM packs
    $$;
