-- The governance records of a tenant (README, "Governance records"):
-- projects (with their milestones, RAG status and budget), risks, actions
-- and decisions (each with the review it came from) and the client's
-- objectives (each with the projects that serve it).  Staff of both sides
-- read them; the people who run the partnership write them: a new
-- capability, "govern" (account managers, leads and admins of the
-- provider, the tenant's IT leader).  Every change writes its event
-- (governance_events, with each changed field's before and after) and its
-- audit row in the same statement.
--
-- One pair of functions writes every kind (app.create_record and
-- app.update_record): the gateway validates each field against its own
-- table of the kinds (services/governance/records.c) and passes the fields
-- as JSON; the rules that span fields or records are here
-- (app.record_problem), raised as SQLSTATE 22023 naming the field.

-- ---- the "govern" capability --------------------------------------------

CREATE OR REPLACE FUNCTION app.role_may(p_provider boolean, p_role text, p_capability text)
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
        WHEN 'govern'   THEN p_role IN ('lead', 'account_manager', 'admin', 'it_leader')
    END, false)
    $$;

-- (0009's, with the "govern" set added.)
CREATE OR REPLACE FUNCTION app.set_principal(p_sub text, p_org text, p_role text) RETURNS void
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
    v_govern   uuid[];
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
           coalesce(array_agg(u.id) FILTER (WHERE app.role_may(v_provider, u.role, 'work')), '{}'),
           coalesce(array_agg(u.id) FILTER (WHERE app.role_may(v_provider, u.role, 'govern')), '{}')
      INTO v_staff, v_prov, v_own, v_write, v_work, v_govern
      FROM unnest(v_ids, v_roles) AS u (id, role);

    PERFORM set_config('msp.tenants_read', v_ids::text, true),
            set_config('msp.roles', v_roles::text, true),
            set_config('msp.tiers', v_tiers::text, true),
            set_config('msp.tenants_staff', v_staff::text, true),
            set_config('msp.tenants_provider', v_prov::text, true),
            set_config('msp.tenants_own', v_own::text, true),
            set_config('msp.tenants_write', v_write::text, true),
            set_config('msp.tenants_work', v_work::text, true),
            set_config('msp.tenants_govern', v_govern::text, true);
END
$$;


-- ---- the records ----------------------------------------------------------

-- Who owns a record: a person, on one side of the partnership.
CREATE TABLE projects (
    tenant_id     uuid        NOT NULL REFERENCES tenants (tenant_id),
    project_id    bigint      GENERATED ALWAYS AS IDENTITY,
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description   text        NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    owner         text        NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    owner_side    text        NOT NULL CHECK (owner_side IN ('provider', 'internal_it')),
    state         text        NOT NULL DEFAULT 'active'
                              CHECK (state IN ('planned', 'active', 'done', 'cancelled')),
    -- red, amber, green; anything but green says why
    rag           text        NOT NULL DEFAULT 'green' CHECK (rag IN ('green', 'amber', 'red')),
    rag_reason    text        NOT NULL DEFAULT '' CHECK (length(rag_reason) <= 2000),
    start_date    date        NOT NULL,
    due_date      date,
    budget        numeric(14, 2) CHECK (budget >= 0),
    actual        numeric(14, 2) NOT NULL DEFAULT 0 CHECK (actual >= 0),
    -- [{"name": ..., "due": "YYYY-MM-DD", "done": "YYYY-MM-DD" or null}]
    milestones    jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(milestones) = 'array'),
    version       integer     NOT NULL DEFAULT 1,
    created_by    text        NOT NULL DEFAULT app.principal_sub(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, project_id),
    CHECK (rag = 'green' OR rag_reason <> ''),
    CHECK (due_date >= start_date)
);

CREATE TABLE risks (
    tenant_id     uuid        NOT NULL REFERENCES tenants (tenant_id),
    risk_id       bigint      GENERATED ALWAYS AS IDENTITY,
    title         text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description   text        NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    likelihood    smallint    NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact        smallint    NOT NULL CHECK (impact BETWEEN 1 AND 5),
    owner         text        NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    owner_side    text        NOT NULL CHECK (owner_side IN ('provider', 'internal_it')),
    mitigation    text        NOT NULL DEFAULT '' CHECK (length(mitigation) <= 4000),
    status        text        NOT NULL DEFAULT 'open'
                              CHECK (status IN ('open', 'mitigating', 'accepted', 'closed')),
    next_review   date,
    version       integer     NOT NULL DEFAULT 1,
    created_by    text        NOT NULL DEFAULT app.principal_sub(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, risk_id)
);

-- An action comes from a review: a meeting (review_on) and, when the
-- review had a pack, its id.  done_on is the day it was done (the
-- tenant's today when marked done without one), NULL while it is not.
CREATE TABLE actions (
    tenant_id     uuid        NOT NULL REFERENCES tenants (tenant_id),
    action_id     bigint      GENERATED ALWAYS AS IDENTITY,
    title         text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description   text        NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    review_on     date        NOT NULL,
    review_pack   text        CHECK (length(review_pack) BETWEEN 1 AND 64),
    owner         text        NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    owner_side    text        NOT NULL CHECK (owner_side IN ('provider', 'internal_it')),
    due           date        NOT NULL,
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dropped')),
    done_on       date,
    version       integer     NOT NULL DEFAULT 1,
    created_by    text        NOT NULL DEFAULT app.principal_sub(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, action_id),
    CHECK ((status = 'done') = (done_on IS NOT NULL))
);

-- Who decided what, and when, in which review.
CREATE TABLE decisions (
    tenant_id     uuid        NOT NULL REFERENCES tenants (tenant_id),
    decision_id   bigint      GENERATED ALWAYS AS IDENTITY,
    title         text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    decision      text        NOT NULL CHECK (length(decision) BETWEEN 1 AND 4000),
    decided_by    text        NOT NULL CHECK (length(decided_by) BETWEEN 1 AND 200),
    decided_on    date        NOT NULL,
    review_on     date        NOT NULL,
    review_pack   text        CHECK (length(review_pack) BETWEEN 1 AND 64),
    owner         text        NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    owner_side    text        NOT NULL CHECK (owner_side IN ('provider', 'internal_it')),
    version       integer     NOT NULL DEFAULT 1,
    created_by    text        NOT NULL DEFAULT app.principal_sub(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, decision_id)
);

-- The client's business objectives for a year, and the projects serving
-- each (ids of the tenant's projects; app.record_problem checks them).
CREATE TABLE objectives (
    tenant_id     uuid        NOT NULL REFERENCES tenants (tenant_id),
    objective_id  bigint      GENERATED ALWAYS AS IDENTITY,
    title         text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description   text        NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    year          integer     NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    owner         text        NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    owner_side    text        NOT NULL CHECK (owner_side IN ('provider', 'internal_it')),
    status        text        NOT NULL DEFAULT 'on_track'
                              CHECK (status IN ('on_track', 'at_risk', 'off_track', 'achieved',
                                                'dropped')),
    projects      bigint[]    NOT NULL DEFAULT '{}',
    version       integer     NOT NULL DEFAULT 1,
    created_by    text        NOT NULL DEFAULT app.principal_sub(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, objective_id)
);

CREATE INDEX governance_events_time ON governance_events (tenant_id, occurred_at);

-- The same rules on each: staff of both sides read, those who govern
-- write, only the tenant's offboarding deletes.  The gateway may change
-- the fields, never the keys or who created a record.
DO $$
DECLARE
    v_table text;
    v_fields text;
BEGIN
    FOR v_table, v_fields IN VALUES
        ('projects', 'name, description, owner, owner_side, state, rag, rag_reason, start_date,'
                     ' due_date, budget, actual, milestones'),
        ('risks', 'title, description, likelihood, impact, owner, owner_side, mitigation,'
                  ' status, next_review'),
        ('actions', 'title, description, review_on, review_pack, owner, owner_side, due,'
                    ' status, done_on'),
        ('decisions', 'title, decision, decided_by, decided_on, review_on, review_pack, owner,'
                      ' owner_side'),
        ('objectives', 'title, description, year, owner, owner_side, status, projects')
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', v_table);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', v_table);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING ((SELECT app.sees_all())'
                       ' OR tenant_id = ANY ((SELECT app.tenant_ids(''staff''))::uuid[]))',
                       v_table || '_read', v_table);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK ((SELECT app.sees_all())'
                       ' OR tenant_id = ANY ((SELECT app.tenant_ids(''govern''))::uuid[]))',
                       v_table || '_insert', v_table);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING ((SELECT app.sees_all())'
                       ' OR tenant_id = ANY ((SELECT app.tenant_ids(''govern''))::uuid[]))'
                       ' WITH CHECK ((SELECT app.sees_all())'
                       ' OR tenant_id = ANY ((SELECT app.tenant_ids(''govern''))::uuid[]))',
                       v_table || '_update', v_table);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING ((SELECT app.sees_all()))',
                       v_table || '_delete', v_table);
        EXECUTE format('GRANT SELECT, INSERT ON %I TO msp_gateway', v_table);
        EXECUTE format('GRANT UPDATE (%s, version, updated_at) ON %I TO msp_gateway',
                       v_fields, v_table);
    END LOOP;
END
$$;

-- The table of a kind ("project": projects), NULL for another name.
CREATE FUNCTION app.record_table(p_kind text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE p_kind WHEN 'project' THEN 'projects' WHEN 'risk' THEN 'risks'
                       WHEN 'action' THEN 'actions' WHEN 'decision' THEN 'decisions'
                       WHEN 'objective' THEN 'objectives' END
    $$;

-- Where an action stands on p_today: kept (done by its due date), late
-- (done after it, or still open past it), open, or dropped.
CREATE FUNCTION app.action_standing(p_status text, p_due date, p_done_on date, p_today date)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN p_status = 'dropped' THEN 'dropped'
                WHEN p_status = 'done' THEN CASE WHEN p_done_on <= p_due THEN 'kept' ELSE 'late' END
                WHEN p_due < p_today THEN 'late'
                ELSE 'open' END
    $$;

-- A record (its row as JSON) as the API shows it: "id" and the fields,
-- times as RFC 3339, and for an action where it stands today in t's zone.
CREATE FUNCTION app.record_doc(p_kind text, p_row jsonb, t public.tenants) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('id', p_row->>(p_kind || '_id'))
           || (p_row - 'tenant_id' - (p_kind || '_id'))
           || jsonb_build_object('created_at', app.rfc3339((p_row->>'created_at')::timestamptz),
                                 'updated_at', app.rfc3339((p_row->>'updated_at')::timestamptz))
           || CASE WHEN p_kind = 'action' THEN jsonb_build_object('standing',
                  app.action_standing(p_row->>'status', (p_row->>'due')::date,
                                      (p_row->>'done_on')::date,
                                      (now() AT TIME ZONE t.timezone)::date))
              ELSE '{}' END
    $$;

-- The rules a record's fields must keep together, or with other records,
-- on p_row (the record as it would be, as JSON, with its tenant_id): the
-- first field wrong and what is wrong with it, or no row.
CREATE FUNCTION app.record_problem(p_kind text, p_row jsonb)
    RETURNS TABLE (field text, problem text)
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM (
        SELECT 'rag_reason', 'is required with rag ' || (p_row->>'rag') || ': say why'
         WHERE p_kind = 'project' AND p_row->>'rag' IN ('amber', 'red')
           AND coalesce(p_row->>'rag_reason', '') = ''
        UNION ALL
        SELECT 'due_date', 'is before start_date (' || (p_row->>'start_date') || ')'
         WHERE p_kind = 'project' AND (p_row->>'due_date')::date < (p_row->>'start_date')::date
        UNION ALL
        SELECT 'milestones', 'milestone "' || (m->>'name') || '" is due ' || (m->>'due')
                             || ', before the project starts (' || (p_row->>'start_date') || ')'
          FROM jsonb_array_elements(CASE WHEN p_kind = 'project'
                                         THEN coalesce(p_row->'milestones', '[]') ELSE '[]' END) m
         WHERE (m->>'due')::date < (p_row->>'start_date')::date
        UNION ALL
        SELECT 'done_on', 'is given with status done'
         WHERE p_kind = 'action' AND p_row->>'done_on' IS NOT NULL
           AND coalesce(p_row->>'status', 'open') <> 'done'
        UNION ALL
        SELECT 'projects', 'names projects that do not exist in this tenant: '
                           || string_agg(p.id, ', ' ORDER BY p.id::bigint)
          FROM jsonb_array_elements_text(CASE WHEN p_kind = 'objective'
                                              THEN coalesce(p_row->'projects', '[]')
                                              ELSE '[]' END) p (id)
         WHERE NOT EXISTS (SELECT FROM public.projects j
                            WHERE j.tenant_id = (p_row->>'tenant_id')::uuid
                              AND j.project_id = p.id::bigint)
        HAVING count(*) > 0
    ) problems
    LIMIT 1
    $$;

-- Raises the first of app.record_problem's problems with p_row, as
-- SQLSTATE 22023 naming the field (COLUMN): the gateway's 422.
CREATE FUNCTION app.check_record(p_kind text, p_row jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_field text;
    v_why   text;
BEGIN
    SELECT p.field, p.problem INTO v_field, v_why FROM app.record_problem(p_kind, p_row) p;
    IF v_field IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = v_why, COLUMN = v_field;
    END IF;
END
$$;

-- The fields a change sets, with what follows from them: an action marked
-- done is done today (the tenant's) unless it says when, and one not done
-- has no day.  p_old is the record before (NULL for a new one).
CREATE FUNCTION app.record_fields(p_kind text, p_fields jsonb, p_old jsonb, p_today date)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE
        WHEN p_kind <> 'action' OR NOT p_fields ? 'status' THEN p_fields
        WHEN p_fields->>'status' = 'done' THEN
            p_fields || jsonb_build_object('done_on',
                coalesce(p_fields->>'done_on', p_old->>'done_on', p_today::text))
        ELSE p_fields || '{"done_on": null}'
    END
    $$;

-- Creates a record of a kind in the tenant p_slug from its fields (names
-- the gateway checked; values as JSON): the row, its "created" event and
-- audit row, and the response stored with the Idempotency-Key p_key (when
-- not NULL), in one statement.  No row when the principal does not see the
-- tenant.  A rule of app.record_problem broken: app.check_record's error,
-- nothing written.
CREATE FUNCTION app.create_record(p_kind text, p_slug text, p_fields jsonb, p_key text)
    RETURNS TABLE (id bigint, version integer, doc text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    t       public.tenants;
    v_table text := app.record_table(p_kind);
    v_cols  text;
    v_row   jsonb;
BEGIN
    SELECT * INTO t FROM public.tenants WHERE slug = p_slug;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    p_fields := app.record_fields(p_kind, p_fields, NULL, (now() AT TIME ZONE t.timezone)::date);
    PERFORM app.check_record(p_kind, p_fields || jsonb_build_object('tenant_id', t.tenant_id));
    SELECT string_agg(quote_ident(k), ', ') INTO v_cols FROM jsonb_object_keys(p_fields) k;
    EXECUTE format('INSERT INTO public.%I (tenant_id, %s) SELECT $1, %s'
                   ' FROM jsonb_populate_record(NULL::public.%I, $2) RETURNING to_jsonb(%I.*)',
                   v_table, v_cols, v_cols, v_table, v_table)
       INTO v_row USING t.tenant_id, p_fields;
    id := (v_row->>(p_kind || '_id'))::bigint;
    version := 1;
    doc := app.record_doc(p_kind, v_row, t)::text;
    INSERT INTO public.governance_events (tenant_id, record, record_id, kind, data)
    VALUES (t.tenant_id, p_kind, id, 'created', p_fields);
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    VALUES (t.tenant_id, p_kind || '.create', p_kind || ':' || id, p_fields);
    UPDATE public.idempotency_keys x SET response_status = 201, response_body = doc
     WHERE x.tenant_id = t.tenant_id AND x.subject = app.principal_sub() AND x.key = p_key;
    RETURN NEXT;
END
$$;

-- Changes a record from version p_version: the fields given, its
-- "changed" event (each changed field's from and to) and audit row, in
-- one statement.  Fields set to what they were change nothing (no new
-- version, no event).  No row when the record does not exist for the
-- principal or is no longer at that version; rules as app.create_record.
CREATE FUNCTION app.update_record(p_kind text, p_slug text, p_id bigint, p_version integer,
                                  p_fields jsonb)
    RETURNS TABLE (id bigint, version integer, doc text)
    LANGUAGE plpgsql
    AS $$
DECLARE
    t        public.tenants;
    v_table  text := app.record_table(p_kind);
    v_key    text := p_kind || '_id';
    v_old    jsonb;
    v_row    jsonb;
    v_set    text;
    v_change jsonb;
BEGIN
    SELECT * INTO t FROM public.tenants WHERE slug = p_slug;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT to_jsonb(r.*) FROM public.%I r WHERE r.tenant_id = $1 AND r.%I = $2'
                   ' AND r.version = $3 FOR UPDATE', v_table, v_key)
       INTO v_old USING t.tenant_id, p_id, p_version;
    IF v_old IS NULL THEN
        RETURN;
    END IF;
    p_fields := app.record_fields(p_kind, p_fields, v_old, (now() AT TIME ZONE t.timezone)::date);
    PERFORM app.check_record(p_kind, v_old || p_fields);
    SELECT jsonb_object_agg(k, jsonb_build_object('from', v_old->k, 'to', p_fields->k))
      INTO v_change
      FROM jsonb_object_keys(p_fields) k
     WHERE v_old->k IS DISTINCT FROM p_fields->k;
    IF v_change IS NULL THEN
        id := p_id;
        version := p_version;
        doc := app.record_doc(p_kind, v_old, t)::text;
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT string_agg(format('%I = n.%I', k, k), ', ') INTO v_set
      FROM jsonb_object_keys(v_change) k;
    EXECUTE format('UPDATE public.%I r SET %s, version = r.version + 1, updated_at = now()'
                   ' FROM jsonb_populate_record(NULL::public.%I, $3) n'
                   ' WHERE r.tenant_id = $1 AND r.%I = $2 RETURNING to_jsonb(r.*)',
                   v_table, v_set, v_table, v_key)
       INTO v_row USING t.tenant_id, p_id, p_fields;
    id := p_id;
    version := (v_row->>'version')::integer;
    doc := app.record_doc(p_kind, v_row, t)::text;
    INSERT INTO public.governance_events (tenant_id, record, record_id, kind, data)
    VALUES (t.tenant_id, p_kind, p_id, 'changed', v_change);
    INSERT INTO public.audit_log (tenant_id, action, target, detail)
    VALUES (t.tenant_id, p_kind || '.update', p_kind || ':' || p_id, v_change);
    RETURN NEXT;
END
$$;

-- One record, with its version: no row when the principal does not see it.
CREATE FUNCTION app.record_get(p_kind text, p_slug text, p_id bigint)
    RETURNS TABLE (doc text, version integer)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT app.record_doc($1, to_jsonb(r.*), t)::text, r.version'
        ' FROM public.tenants t JOIN public.%I r ON r.tenant_id = t.tenant_id'
        ' WHERE t.slug = $2 AND r.%I = $3', app.record_table(p_kind), p_kind || '_id')
        USING p_kind, p_slug, p_id;
END
$$;

-- A page of a tenant's records of a kind, by id after p_after, those whose
-- fields contain p_filter (JSON: {"status": "open"}) when it is not NULL.
CREATE FUNCTION app.record_list(p_kind text, p_slug text, p_filter jsonb, p_after bigint,
                                p_rows integer)
    RETURNS TABLE (doc text, id bigint)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT app.record_doc($1, to_jsonb(r.*), t)::text, r.%I'
        ' FROM public.tenants t JOIN public.%I r ON r.tenant_id = t.tenant_id'
        ' WHERE t.slug = $2 AND ($3::jsonb IS NULL OR to_jsonb(r.*) @> $3)'
        '   AND ($4::bigint IS NULL OR r.%I > $4) ORDER BY r.%I LIMIT $5',
        p_kind || '_id', app.record_table(p_kind), p_kind || '_id', p_kind || '_id')
        USING p_kind, p_slug, p_filter, p_after, p_rows;
END
$$;
