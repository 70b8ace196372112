-- Time entries (README, "Governance records"): the work logged on a
-- ticket, by whom, on which side, for how long, on which day of the
-- tenant's calendar, billable or not, inside the contract's scope or not.
-- The cost figures are derived from them and the tenant file's contract.
-- Each entry written also writes a ticket event ("time_logged", seen by
-- staff only) and an audit row, in the same statement.

CREATE TABLE time_entries (
    tenant_id     uuid        NOT NULL,
    entry_id      bigint      GENERATED ALWAYS AS IDENTITY,
    ticket_number integer     NOT NULL,
    -- who did the work: the principal who logs it
    subject       text        NOT NULL DEFAULT app.principal_sub(),
    side          text        NOT NULL CHECK (side IN ('provider', 'internal_it')),
    -- the day worked, in the tenant's time zone
    worked_on     date        NOT NULL,
    minutes       integer     NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    billable      boolean     NOT NULL,
    in_scope      boolean     NOT NULL,
    note          text        NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    version       integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, entry_id),
    FOREIGN KEY (tenant_id, ticket_number) REFERENCES tickets (tenant_id, number),
    CHECK (subject <> '')
);
-- a period's entries, in a stable order for keyset pages
CREATE INDEX time_entries_worked ON time_entries (tenant_id, worked_on, entry_id);
CREATE INDEX time_entries_ticket ON time_entries (tenant_id, ticket_number, entry_id);

-- Staff of both sides read the tenant's entries (requesters none); those
-- who work tickets (not auditors) log their own.
ALTER TABLE time_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE time_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY time_entries_read ON time_entries FOR SELECT
    USING ((SELECT app.sees_all())
           OR tenant_id = ANY ((SELECT app.tenant_ids('staff'))::uuid[]));
CREATE POLICY time_entries_insert ON time_entries FOR INSERT
    WITH CHECK ((SELECT app.sees_all())
                OR (tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[])
                    AND subject = app.principal_sub()));
CREATE POLICY time_entries_update ON time_entries FOR UPDATE
    USING ((SELECT app.sees_all())
           OR (tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[])
               AND subject = app.principal_sub()))
    WITH CHECK ((SELECT app.sees_all())
                OR (tenant_id = ANY ((SELECT app.tenant_ids('work'))::uuid[])
                    AND subject = app.principal_sub()));
CREATE POLICY time_entries_delete ON time_entries FOR DELETE
    USING ((SELECT app.sees_all()));
GRANT SELECT, INSERT, UPDATE ON time_entries TO msp_gateway;

-- An entry as the API shows it; t is its tenant's row.
CREATE FUNCTION app.time_entry_doc(e public.time_entries, t public.tenants) RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT json_build_object(
        'id', e.entry_id::text,
        'ticket', t.ticket_prefix || '-' || e.ticket_number,
        'subject', e.subject, 'side', e.side,
        'worked_on', to_char(e.worked_on, 'YYYY-MM-DD'), 'minutes', e.minutes,
        'billable', e.billable, 'in_scope', e.in_scope, 'note', e.note,
        'version', e.version,
        'created_at', app.rfc3339(e.created_at), 'updated_at', app.rfc3339(e.updated_at))
    $$;

-- Logs time on a ticket of a tenant as the principal: the entry, its
-- ticket event and its audit row, in one statement, and the response
-- stored with the principal's Idempotency-Key p_key (when not NULL; the
-- gateway claimed it).  p_worked_on NULL is the tenant's today (the
-- gateway refuses a day after it).  No row when the ticket is not one the
-- principal sees.
CREATE FUNCTION app.log_time(p_slug text, p_prefix text, p_number integer, p_side text,
                             p_worked_on date, p_minutes integer, p_billable boolean,
                             p_in_scope boolean, p_note text, p_key text)
    RETURNS TABLE (entry_id bigint, version integer, doc json)
    LANGUAGE sql
    AS $$
    WITH k AS (
        SELECT t, k.tenant_id, k.number, t.ticket_prefix,
               (now() AT TIME ZONE t.timezone)::date AS today
          FROM public.tenants t JOIN public.tickets k ON k.tenant_id = t.tenant_id
         WHERE t.slug = p_slug AND t.ticket_prefix = p_prefix AND k.number = p_number
    ), e AS (
        INSERT INTO public.time_entries (tenant_id, ticket_number, side, worked_on, minutes,
                                         billable, in_scope, note)
        SELECT k.tenant_id, k.number, p_side, coalesce(p_worked_on, k.today),
               p_minutes, p_billable, p_in_scope, p_note
          FROM k RETURNING *
    ), ev AS (
        INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
        SELECT e.tenant_id, e.ticket_number, 'time_logged',
               jsonb_build_object('entry_id', e.entry_id, 'minutes', e.minutes,
                                  'worked_on', e.worked_on, 'billable', e.billable,
                                  'in_scope', e.in_scope)
          FROM e
    ), au AS (
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        SELECT e.tenant_id, 'time.log', 'ticket:' || k.ticket_prefix || '-' || e.ticket_number,
               jsonb_build_object('entry_id', e.entry_id, 'minutes', e.minutes)
          FROM e, k
    ), d AS (
        SELECT e.entry_id, e.version, app.time_entry_doc(e, k.t) AS doc FROM e, k
    ), i AS (
        UPDATE public.idempotency_keys x SET response_status = 201,
               response_body = (SELECT d.doc::text FROM d)
          FROM k WHERE x.tenant_id = k.tenant_id AND x.subject = app.principal_sub()
           AND x.key = p_key
    )
    SELECT d.entry_id, d.version, d.doc FROM d
    $$;

-- Changes an entry as the principal, from version p_version: the fields
-- given (NULL: unchanged), its ticket event (time_updated, with the
-- change) and its audit row, in one statement.  No row when the entry is
-- not one the principal may change or is no longer at that version.
CREATE FUNCTION app.update_time_entry(p_slug text, p_id bigint, p_version integer,
                                      p_worked_on date, p_minutes integer, p_billable boolean,
                                      p_in_scope boolean, p_note text, p_change jsonb)
    RETURNS TABLE (version integer, doc json)
    LANGUAGE sql
    AS $$
    WITH t AS (SELECT * FROM public.tenants WHERE slug = p_slug),
    e AS (
        UPDATE public.time_entries e
           SET worked_on = coalesce(p_worked_on, e.worked_on),
               minutes = coalesce(p_minutes, e.minutes),
               billable = coalesce(p_billable, e.billable),
               in_scope = coalesce(p_in_scope, e.in_scope),
               note = coalesce(p_note, e.note),
               version = e.version + 1, updated_at = now()
          FROM t
         WHERE e.tenant_id = t.tenant_id AND e.entry_id = p_id AND e.version = p_version
        RETURNING e.*
    ), ev AS (
        INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
        SELECT e.tenant_id, e.ticket_number, 'time_updated',
               p_change || jsonb_build_object('entry_id', e.entry_id)
          FROM e
    ), au AS (
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        SELECT e.tenant_id, 'time.update', 'ticket:' || t.ticket_prefix || '-' || e.ticket_number,
               p_change || jsonb_build_object('entry_id', e.entry_id)
          FROM e, t
    )
    SELECT e.version, app.time_entry_doc(e, t) FROM e, t
    $$;
