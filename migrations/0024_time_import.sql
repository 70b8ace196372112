-- Importing time entries from a time-tracking export (`mspctl time
-- import`): each imported entry keeps the key of the row it came from (the
-- export's own entry id, or a digest of the row), so that importing the
-- same file again finds every row already there and changes nothing.
ALTER TABLE time_entries ADD COLUMN import_key text
    CHECK (length(import_key) BETWEEN 1 AND 200);
CREATE UNIQUE INDEX time_entries_import_key ON time_entries (tenant_id, import_key)
    WHERE import_key IS NOT NULL;

-- Imports rows into the tenant p_slug (p_rows: a JSON array of {line,
-- key, prefix, number, subject, side, worked_on, minutes, billable,
-- in_scope, note}, each field already checked by mspctl): the entries, a
-- time_logged event and an audit row each, in one statement.  A row per
-- row given, by line: created (with its entry), unchanged (its key was
-- imported before with the same values) or rejected (with the reason:
-- no such ticket, a day after the tenant's today, its key imported before
-- with other values).
CREATE FUNCTION app.import_time_entries(p_slug text, p_rows jsonb)
    RETURNS TABLE (line integer, outcome text, entry_id bigint, reason text)
    LANGUAGE sql
    AS $$
    WITH t AS (
        SELECT tenant_id, ticket_prefix, (now() AT TIME ZONE timezone)::date AS today
          FROM public.tenants WHERE slug = p_slug
    ), r AS (
        SELECT r.* FROM jsonb_to_recordset(p_rows) AS r (line integer, key text, prefix text,
               number integer, subject text, side text, worked_on date, minutes integer,
               billable boolean, in_scope boolean, note text)
    ), c AS (
        SELECT r.*, t.tenant_id,
               CASE WHEN k.number IS NULL
                    THEN 'no ticket ' || r.prefix || '-' || r.number || ' in this tenant'
                    WHEN r.worked_on > t.today
                    THEN 'the day worked is after today (' || t.today
                         || ') in the tenant''s time zone' END AS wrong,
               x.entry_id AS old_id,
               (x.ticket_number, x.subject, x.side, x.worked_on, x.minutes, x.billable,
                x.in_scope, x.note)
                   IS NOT DISTINCT FROM (r.number, r.subject, r.side, r.worked_on, r.minutes,
                                         r.billable, r.in_scope, r.note) AS same
          FROM r CROSS JOIN t
          LEFT JOIN public.tickets k ON k.tenant_id = t.tenant_id AND k.number = r.number
                                    AND r.prefix = t.ticket_prefix
          LEFT JOIN public.time_entries x ON x.tenant_id = t.tenant_id AND x.import_key = r.key
    ), ins AS (
        INSERT INTO public.time_entries (tenant_id, ticket_number, subject, side, worked_on,
                                         minutes, billable, in_scope, note, import_key)
        SELECT c.tenant_id, c.number, c.subject, c.side, c.worked_on, c.minutes, c.billable,
               c.in_scope, c.note, c.key
          FROM c WHERE c.wrong IS NULL AND c.old_id IS NULL
        ON CONFLICT (tenant_id, import_key) WHERE import_key IS NOT NULL DO NOTHING
        RETURNING *
    ), ev AS (
        INSERT INTO public.ticket_events (tenant_id, ticket_number, kind, data)
        SELECT i.tenant_id, i.ticket_number, 'time_logged',
               jsonb_build_object('entry_id', i.entry_id, 'minutes', i.minutes,
                                  'worked_on', i.worked_on, 'billable', i.billable,
                                  'in_scope', i.in_scope, 'subject', i.subject,
                                  'imported', true)
          FROM ins i
    ), au AS (
        INSERT INTO public.audit_log (tenant_id, action, target, detail)
        SELECT i.tenant_id, 'time.import', 'ticket:' || t.ticket_prefix || '-' || i.ticket_number,
               jsonb_build_object('entry_id', i.entry_id, 'minutes', i.minutes,
                                  'subject', i.subject, 'import_key', i.import_key)
          FROM ins i, t
    )
    SELECT c.line,
           CASE WHEN c.wrong IS NOT NULL THEN 'rejected'
                WHEN i.entry_id IS NOT NULL THEN 'created'
                WHEN c.same THEN 'unchanged'
                ELSE 'rejected' END,
           coalesce(i.entry_id, c.old_id),
           CASE WHEN c.wrong IS NOT NULL THEN c.wrong
                WHEN i.entry_id IS NOT NULL OR c.same THEN NULL
                WHEN c.old_id IS NULL THEN 'imported at the same time by another run'
                ELSE 'imported before with other values, as time entry ' || c.old_id
                     || '; change that entry instead' END
      FROM c LEFT JOIN ins i ON i.import_key = c.key
     ORDER BY c.line
    $$;
