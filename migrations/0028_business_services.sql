-- Business services (README, "Business services"): the tenant file's
-- service map (assets.services: a service, its criticality, the tags of
-- the assets it runs on) and its policy (assets.service_priority: the
-- priority a ticket on a service of each criticality gets at least).  A
-- ticket opened on an asset of such a service has its priority raised to
-- the policy's, and keeps why in business_impact, which the ticket shows:
-- the priority is the higher of impact x urgency and that floor, then and
-- at every later change of impact or urgency.

-- The policy's default, for tenants whose file does not say (as mspctl
-- tenant apply fills it in).
ALTER TABLE tenants ALTER COLUMN assets
    SET DEFAULT '{"patch_window_days": 30, "refresh_age_months": 48, "custom_fields": {},
                  "services": [], "service_priority": {"critical": "P1", "high": "P2"}}';
UPDATE tenants
   SET assets = '{"services": [], "service_priority": {"critical": "P1", "high": "P2"}}'::jsonb
                || assets
 WHERE NOT assets ? 'service_priority';

ALTER TABLE tickets ADD COLUMN business_impact jsonb
    CHECK (business_impact IS NULL OR business_impact ->> 'priority' IN ('P1', 'P2', 'P3', 'P4'));

-- Of the assets p_assets of tenant p_slug that the principal sees, the
-- one whose service asks the highest priority (then by service name and
-- asset): the service, its criticality, the asset, that priority and the
-- reason in a sentence; NULL when no service with a floor runs on them.
-- (A requester names only the assets they see: their own devices.)
-- (PL/pgSQL: its plan is kept for the session; a SQL function's would be
-- made again at every ticket.)
CREATE FUNCTION app.business_impact(p_slug text, p_assets bigint[]) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN (
    SELECT jsonb_build_object('service', s ->> 'name', 'criticality', s ->> 'criticality',
                              'asset_id', a.asset_id, 'asset_tag', a.tag,
                              'priority', p.floor,
                              'reason', format('Asset %s runs %s, a %s service: %s at least.',
                                               a.tag, s ->> 'name', s ->> 'criticality',
                                               p.floor))
      FROM public.tenants t
      JOIN public.assets a ON a.tenant_id = t.tenant_id AND a.asset_id = ANY (p_assets),
           jsonb_array_elements(coalesce(t.assets -> 'services', '[]')) s,
           LATERAL (SELECT t.assets -> 'service_priority' ->> (s ->> 'criticality')) p (floor)
     WHERE t.slug = p_slug AND s -> 'assets' ? a.tag AND p.floor IS NOT NULL
     ORDER BY p.floor, s ->> 'name', a.asset_id
     LIMIT 1);
END
$$;

CREATE OR REPLACE FUNCTION app.ticket_doc(k public.tickets, t public.tenants, asset_ids bigint[])
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
        'business_impact', k.business_impact,
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
        'response_due', app.rfc3339(k.response_due),
        'resolution_due', app.rfc3339(k.resolution_due),
        'sla', k.sla,
        'version', k.version)
    $$;
