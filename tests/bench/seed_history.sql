-- The history of the benchmark tickets that seed.sql made: events and
-- asset links, as the schema owner acting as a provider admin.
--
--   psql -v part=0 -v parts=2 -f seed_history.sql
--
-- Each of `parts` concurrent sessions does every parts-th tenant: each row
-- here costs a foreign key check against the partitioned tickets table,
-- which locks every partition (about 0.1 ms a row at 200 tenants), so two
-- sessions on two cores take half the time.
--
-- Every ticket has a "created" event, every ticket past "new" a
-- "status_changed" event, about a third have 1-4 comments (half of the
-- technicians' comments internal), about 40% are linked to one of the
-- tenant's 25 assets.  random() is seeded per part.
\set ON_ERROR_STOP on
BEGIN;
SELECT set_config('msp.sub', 'bench.seed', true),
       set_config('msp.org', 'provider', true),
       set_config('msp.role', 'admin', true);
SELECT setseed(0.5 + :part * 0.01);

-- This session's tenants that have tickets but no history yet, with the
-- technician each is assigned to (as in seed.sql).
CREATE TEMP TABLE bench_tenants ON COMMIT DROP AS
SELECT tenant_id, slug, ticket_prefix, i,
       CASE WHEN (i - 1) / 20 = 0 THEN 'tech.bench'
            ELSE 'tech.g' || lpad(((i - 1) / 20)::text, 2, '0') END AS technician
  FROM (SELECT tenant_id, slug, ticket_prefix, row_number() OVER (ORDER BY slug) AS i
          FROM tenants WHERE slug LIKE 'client-%') t
 WHERE i % :parts = :part
   AND NOT EXISTS (SELECT FROM ticket_events e WHERE e.tenant_id = t.tenant_id);

-- History: created, the status change, comments.
INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub, actor_org,
                           actor_role, kind, data)
SELECT k.tenant_id, k.number, k.created_at, k.requester, b.slug, 'requester', 'created',
       jsonb_build_object('title', k.title, 'priority', k.priority, 'status', 'new',
                          'side', 'provider', 'requester', k.requester)
  FROM tickets k JOIN bench_tenants b USING (tenant_id);

INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub, actor_org,
                           actor_role, kind, data)
SELECT k.tenant_id, k.number, k.updated_at, b.technician, 'provider', 'technician',
       'status_changed',
       jsonb_build_object('from', 'new', 'to', k.status, 'side', k.side, 'tier', k.tier,
                          'assignee', k.assignee)
  FROM tickets k JOIN bench_tenants b USING (tenant_id)
 WHERE k.status <> 'new';

INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub, actor_org,
                           actor_role, kind, data)
SELECT tenant_id, number, occurred_at,
       CASE WHEN by_staff THEN technician ELSE requester END,
       CASE WHEN by_staff THEN 'provider' ELSE slug END,
       CASE WHEN by_staff THEN 'technician' ELSE 'requester' END,
       'comment',
       jsonb_build_object('body', CASE WHEN by_staff
                              THEN 'Checked the logs; next step is on our side. Update to follow.'
                              ELSE 'Still happening this morning, see attached screenshot.' END,
                          'visibility', CASE WHEN by_staff AND internal THEN 'internal'
                                             ELSE 'public' END,
                          'author_name', CASE WHEN by_staff THEN 'Bench Technician'
                                              ELSE 'Bench User' END)
  FROM (SELECT k.tenant_id, k.number, k.requester, b.slug, b.technician,
               k.created_at + (k.updated_at - k.created_at) * (c::float8 / (n + 1))
                   AS occurred_at,
               c % 2 = 1 AS by_staff, random() < 0.5 AS internal
          FROM (SELECT k.*, 1 + floor(random() * 4)::int AS n, random() AS r FROM tickets k) k
          JOIN bench_tenants b USING (tenant_id),
               generate_series(1, k.n) c
         WHERE k.r < 0.35) x
 ORDER BY tenant_id, number, occurred_at;

INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id)
SELECT s.tenant_id, s.number, a.asset_id
  FROM (SELECT k.tenant_id, k.number, b.ticket_prefix, 1 + floor(random() * 25)::int AS n,
               random() AS r
          FROM tickets k JOIN bench_tenants b USING (tenant_id)) s
  JOIN assets a ON a.tenant_id = s.tenant_id
               AND a.tag = s.ticket_prefix || '-A' || lpad(s.n::text, 3, '0')
 WHERE s.r < 0.4;

COMMIT;
