-- The one JSON representation of each resource the tickets API returns,
-- built where the rows are.

-- RFC 3339 in UTC, the API's only timestamp format.
CREATE FUNCTION app.rfc3339(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- A ticket as the API shows it.  Takes the row, its tenant and its asset
-- ids so that a statement that has just inserted or updated the ticket
-- (and cannot yet read it back) builds the same document as a read.
CREATE FUNCTION app.ticket_doc(k public.tickets, t public.tenants, asset_ids bigint[])
    RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'id', t.ticket_prefix || '-' || k.number,
        'tenant', t.slug,
        'number', k.number,
        'title', k.title,
        'description', k.description,
        'category', k.category,
        'impact', k.impact,
        'urgency', k.urgency,
        'priority', k.priority,
        'status', k.status,
        'side', k.side,
        'tier', k.tier,
        'assignee', k.assignee,
        'requester', k.requester,
        'asset_ids', coalesce(to_json(asset_ids), '[]'::json),
        'created_at', app.rfc3339(k.created_at),
        'updated_at', app.rfc3339(k.updated_at),
        'resolved_at', app.rfc3339(k.resolved_at),
        'closed_at', app.rfc3339(k.closed_at),
        'version', k.version)
    $$;

CREATE FUNCTION app.ticket_asset_ids(p_tenant uuid, p_number integer) RETURNS bigint[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(array_agg(asset_id ORDER BY asset_id), '{}')
      FROM public.ticket_assets
     WHERE tenant_id = p_tenant AND ticket_number = p_number
    $$;

-- A comment as the API shows it: a ticket event of kind 'comment'.
CREATE FUNCTION app.comment_doc(e public.ticket_events) RETURNS json
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'id', e.event_id,
        'body', e.data->>'body',
        'visibility', e.data->>'visibility',
        'author', e.actor_sub,
        'author_name', e.data->>'author_name',
        'created_at', app.rfc3339(e.occurred_at))
    $$;
