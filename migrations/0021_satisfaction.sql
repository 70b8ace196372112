-- Satisfaction ratings (README, "Governance records"), and the history of
-- every governance record.
--
-- governance_events: what happened to a governance record (a rating
-- here; projects, risks and the rest as they come), one row per change,
-- written in the statement that makes the change, so that a review can
-- list what changed since the last one.  Tickets keep their own history
-- in ticket_events; a rating is not part of it because its author, the
-- requester, may not write the staff-only events there.
CREATE TABLE governance_events (
    tenant_id   uuid        NOT NULL REFERENCES tenants (tenant_id),
    event_id    bigint      GENERATED ALWAYS AS IDENTITY,
    record      text        NOT NULL CHECK (record ~ '^[a-z][a-z_]{0,31}$'),
    record_id   bigint      NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_sub   text        NOT NULL DEFAULT app.principal_sub(),
    actor_org   text        NOT NULL DEFAULT app.principal_org(),
    actor_role  text        NOT NULL DEFAULT app.principal_role(),
    kind        text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
    data        jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX governance_events_record ON governance_events (tenant_id, record, record_id, event_id);

-- Staff of both sides read the history; whoever may write appends to it
-- (append only: no update, and deletes only with the tenant).
ALTER TABLE governance_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE governance_events FORCE ROW LEVEL SECURITY;
CREATE POLICY governance_events_read ON governance_events FOR SELECT
    USING ((SELECT app.sees_all())
           OR tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[]));
CREATE POLICY governance_events_insert ON governance_events FOR INSERT
    WITH CHECK ((SELECT app.sees_all())
                OR tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[]));
CREATE POLICY governance_events_delete ON governance_events FOR DELETE
    USING ((SELECT app.sees_all()));
GRANT SELECT, INSERT ON governance_events TO msp_gateway;

-- One rating per ticket, by its requester, of the ticket (whoever worked
-- it): the assignee and side that resolved it are kept with it for the
-- reviews.  The requester may change it until editable_until, the
-- resolution plus the tenant file's reporting.satisfaction_days; never
-- after.  Row-level security holds the window too.
CREATE TABLE satisfaction_ratings (
    tenant_id      uuid        NOT NULL,
    ticket_number  integer     NOT NULL,
    rating_id      bigint      GENERATED ALWAYS AS IDENTITY,
    subject        text        NOT NULL DEFAULT app.principal_sub(),
    score          smallint    NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment        text        NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    resolved_at    timestamptz NOT NULL,
    assignee       text,
    side           text        NOT NULL,
    editable_until timestamptz NOT NULL,
    version        integer     NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, ticket_number),
    UNIQUE (tenant_id, rating_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number),
    CHECK (subject <> '')
);
-- a period's ratings (by when they were given), for the reviews
CREATE INDEX satisfaction_ratings_created ON satisfaction_ratings (tenant_id, created_at);

-- Staff of both sides read every rating, a requester its own; only the
-- ticket's requester rates, and changes a rating only while it is open.
ALTER TABLE satisfaction_ratings ENABLE ROW LEVEL SECURITY;
ALTER TABLE satisfaction_ratings FORCE ROW LEVEL SECURITY;
CREATE POLICY satisfaction_read ON satisfaction_ratings FOR SELECT
    USING ((SELECT app.sees_all())
           OR tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[])
           OR (tenant_id = ANY ((SELECT app.tenant_ids('read'))::uuid[])
               AND subject = (SELECT app.principal_sub())));
CREATE POLICY satisfaction_insert ON satisfaction_ratings FOR INSERT
    WITH CHECK (tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[])
                AND subject = (SELECT app.principal_sub())
                AND EXISTS (SELECT FROM tickets k
                             WHERE k.tenant_id = satisfaction_ratings.tenant_id
                               AND k.number = satisfaction_ratings.ticket_number
                               AND k.requester = (SELECT app.principal_sub())));
CREATE POLICY satisfaction_update ON satisfaction_ratings FOR UPDATE
    USING (tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[])
           AND subject = (SELECT app.principal_sub()) AND now() < editable_until)
    WITH CHECK (tenant_id = ANY ((SELECT app.tenant_ids('write'))::uuid[])
                AND subject = (SELECT app.principal_sub()) AND now() < editable_until);
CREATE POLICY satisfaction_delete ON satisfaction_ratings FOR DELETE
    USING ((SELECT app.sees_all()));
GRANT SELECT, INSERT ON satisfaction_ratings TO msp_gateway;
GRANT UPDATE (score, comment, version, updated_at) ON satisfaction_ratings TO msp_gateway;

-- How long after its resolution a ticket may be rated: the tenant file's
-- reporting.satisfaction_days (default 14).
CREATE FUNCTION app.satisfaction_window(t public.tenants) RETURNS interval
    LANGUAGE sql STABLE
    AS $$ SELECT make_interval(days => coalesce((t.reporting->>'satisfaction_days')::integer, 14)) $$;

-- A rating as the API shows it; t is its tenant's row.
CREATE FUNCTION app.rating_doc(r public.satisfaction_ratings, t public.tenants) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'ticket', t.ticket_prefix || '-' || r.ticket_number,
        'score', r.score, 'comment', r.comment, 'rated_by', r.subject,
        'resolved_at', app.rfc3339(r.resolved_at), 'assignee', r.assignee, 'side', r.side,
        'editable_until', app.rfc3339(r.editable_until), 'version', r.version,
        'created_at', app.rfc3339(r.created_at), 'updated_at', app.rfc3339(r.updated_at))
    $$;

-- Where a ticket stands for a rating by the principal: whether it is
-- resolved, whether the principal requested it, until when its latest
-- resolution may be rated and whether that is still ahead, and the
-- rating's version if it has one.  No row when the principal does not see
-- the ticket.
CREATE FUNCTION app.rating_state(p_slug text, p_prefix text, p_number integer)
    RETURNS TABLE (resolved boolean, requested boolean, open_until text, open boolean,
                   rated_version integer, rated_by text)
    LANGUAGE sql STABLE
    AS $$
    SELECT k.status IN ('resolved', 'closed') AND k.resolved_at IS NOT NULL,
           k.requester = app.principal_sub(),
           app.rfc3339(coalesce(r.editable_until, k.resolved_at + app.satisfaction_window(t))),
           now() < coalesce(r.editable_until, k.resolved_at + app.satisfaction_window(t)),
           r.version, r.subject
      FROM public.tenants t
      JOIN public.tickets k ON k.tenant_id = t.tenant_id
      LEFT JOIN public.satisfaction_ratings r
             ON r.tenant_id = k.tenant_id AND r.ticket_number = k.number
     WHERE t.slug = p_slug AND t.ticket_prefix = p_prefix AND k.number = p_number
    $$;

-- Rates a resolved ticket as its requester, inside the window: the
-- rating, its event and audit row, and the response stored with the
-- Idempotency-Key p_key (when not NULL), in one statement.  No row when
-- the ticket is not resolved, not the principal's, out of its window or
-- already rated (the gateway said which before; this holds under races).
CREATE FUNCTION app.rate_ticket(p_slug text, p_prefix text, p_number integer,
                                p_score integer, p_comment text, p_key text)
    RETURNS TABLE (version integer, doc json)
    LANGUAGE sql
    AS $$
    WITH k AS (
        SELECT t, k.tenant_id, k.number, k.resolved_at, k.assignee, k.side,
               k.resolved_at + app.satisfaction_window(t) AS until
          FROM public.tenants t JOIN public.tickets k ON k.tenant_id = t.tenant_id
         WHERE t.slug = p_slug AND t.ticket_prefix = p_prefix AND k.number = p_number
           AND k.status IN ('resolved', 'closed') AND k.resolved_at IS NOT NULL
           AND k.requester = app.principal_sub()
           AND now() < k.resolved_at + app.satisfaction_window(t)
    ), r AS (
        INSERT INTO public.satisfaction_ratings (tenant_id, ticket_number, score, comment,
                                                 resolved_at, assignee, side, editable_until)
        SELECT k.tenant_id, k.number, p_score, p_comment, k.resolved_at, k.assignee, k.side,
               k.until
          FROM k
        ON CONFLICT DO NOTHING
        RETURNING *
    ), ev AS (
        INSERT INTO public.governance_events (tenant_id, record, record_id, kind, data)
        SELECT r.tenant_id, 'rating', r.ticket_number, 'rated',
               jsonb_build_object('score', r.score, 'comment', r.comment)
          FROM r
    ), au AS (
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        SELECT r.tenant_id, 'rating.create', 'ticket:' || (k.t).ticket_prefix || '-' || r.ticket_number,
               jsonb_build_object('score', r.score)
          FROM r, k
    ), d AS (
        SELECT r.version, app.rating_doc(r, k.t) AS doc FROM r, k
    ), i AS (
        UPDATE public.idempotency_keys x SET response_status = 201,
               response_body = (SELECT d.doc::text FROM d)
          FROM k WHERE x.tenant_id = k.tenant_id AND x.subject = app.principal_sub()
           AND x.key = p_key AND EXISTS (SELECT FROM d)
    )
    SELECT d.version, d.doc FROM d
    $$;

-- Changes a rating as the one who gave it, from version p_version, while
-- it is open: score and comment (NULL: unchanged), its event (with the
-- change) and audit row, in one statement.  No row when it changed since,
-- or its window closed.
CREATE FUNCTION app.update_rating(p_slug text, p_prefix text, p_number integer,
                                  p_version integer, p_score integer, p_comment text,
                                  p_change jsonb)
    RETURNS TABLE (version integer, doc json)
    LANGUAGE sql
    AS $$
    WITH t AS (SELECT * FROM public.tenants WHERE slug = p_slug AND ticket_prefix = p_prefix),
    r AS (
        UPDATE public.satisfaction_ratings r
           SET score = coalesce(p_score, r.score), comment = coalesce(p_comment, r.comment),
               version = r.version + 1, updated_at = now()
          FROM t
         WHERE r.tenant_id = t.tenant_id AND r.ticket_number = p_number
           AND r.version = p_version AND now() < r.editable_until
        RETURNING r.*
    ), ev AS (
        INSERT INTO public.governance_events (tenant_id, record, record_id, kind, data)
        SELECT r.tenant_id, 'rating', r.ticket_number, 'changed', p_change FROM r
    ), au AS (
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        SELECT r.tenant_id, 'rating.update', 'ticket:' || t.ticket_prefix || '-' || r.ticket_number,
               p_change
          FROM r, t
    )
    SELECT r.version, app.rating_doc(r, t) FROM r, t
    $$;
