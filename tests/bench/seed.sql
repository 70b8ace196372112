-- Benchmark data: assets and tickets for the client-NNNN tenants that
-- tests/bench/run.sh has applied and assigned (seed_history.sql adds the
-- tickets' history next), written as the schema owner acting as a provider
-- admin, so row-level security applies as to any writer.
--
--   psql -v per_tenant=1000 -f seed.sql
--
-- Ticket numbers: the tickets_number trigger takes each number from the
-- tenant's counter with an UPDATE whose row-level security check reads
-- every tenant row (about 1 ms per ticket at 200 tenants, minutes for
-- 200,000 tickets).  So this one transaction disables that trigger, gives
-- the numbers 1..per_tenant itself, sets each counter to per_tenant and
-- enables the trigger again: new tickets continue from there, and if
-- anything fails the whole transaction, trigger state included, rolls
-- back.  (ALTER TABLE locks tickets until COMMIT; nothing else runs yet.)
-- random() is seeded, so every run makes the same data.
--
-- The shape, per tenant: per_tenant tickets spread evenly over two years,
-- numbered in the order they were opened.  Old tickets are almost all
-- closed (a few are stuck waiting on a customer or a vendor), recent ones
-- mostly open; priorities P1 5%, P2 15%, P3 45%, P4 35% with matching
-- impact and urgency; a third of the tickets are the tenant IT's own
-- (side internal_it); 25 assets per tenant.
\set ON_ERROR_STOP on
BEGIN;
SELECT set_config('msp.sub', 'bench.seed', true),
       set_config('msp.org', 'provider', true),
       set_config('msp.role', 'admin', true);
SELECT setseed(0.42);

-- The tenants to seed, with the technician each is assigned to (run.sh
-- assigns tech.bench to the first 20, tech.g01 to the next 20, ...).
CREATE TEMP TABLE bench_tenants ON COMMIT DROP AS
SELECT tenant_id, slug, ticket_prefix, i,
       CASE WHEN (i - 1) / 20 = 0 THEN 'tech.bench'
            ELSE 'tech.g' || lpad(((i - 1) / 20)::text, 2, '0') END AS technician
  FROM (SELECT tenant_id, slug, ticket_prefix, row_number() OVER (ORDER BY slug) AS i
          FROM tenants WHERE slug LIKE 'client-%') t
 WHERE NOT EXISTS (SELECT FROM tickets k WHERE k.tenant_id = t.tenant_id);
-- (the same list, with the same technicians, is in seed_history.sql)

INSERT INTO assets (tenant_id, tag, name, kind, serial, owner, location)
SELECT b.tenant_id, b.ticket_prefix || '-A' || lpad(a::text, 3, '0'),
       (ARRAY['Laptop', 'Desktop', 'File server', 'Core switch', 'Printer', 'Phone',
              'CRM licence', 'Cloud tenant'])[1 + a % 8] || ' ' || a,
       (ARRAY['laptop', 'desktop', 'server', 'network', 'printer', 'mobile', 'software',
              'cloud'])[1 + a % 8],
       upper(substr(md5(b.slug || a), 1, 10)),
       CASE WHEN a % 8 IN (0, 1, 5) THEN 'user' || a || '@' || b.slug END,
       'Site ' || (1 + a % 3)
  FROM bench_tenants b, generate_series(1, 25) a;

-- One row per ticket with its random draws; the columns are derived below.
CREATE TEMP TABLE bench_draws ON COMMIT DROP AS
SELECT b.tenant_id, b.slug, b.technician, g,
       -- evenly over two years, oldest first, so numbers follow creation
       now() - ((:per_tenant - g) + random()) * (interval '730 days' / :per_tenant) AS created_at,
       random() AS r_status, random() AS r_priority, random() AS r_variant,
       random() AS r_side, random() AS r_tier, random() AS r_category,
       random() AS r_title, random() AS r_requester, random() AS r_time
  FROM bench_tenants b, generate_series(1, :per_tenant) g;

CREATE TEMP TABLE bench_rows ON COMMIT DROP AS
SELECT d.*,
       CASE WHEN age < interval '2 days' THEN
                CASE WHEN r_status < 0.30 THEN 'new' WHEN r_status < 0.55 THEN 'assigned'
                     WHEN r_status < 0.85 THEN 'in_progress'
                     WHEN r_status < 0.93 THEN 'pending_customer'
                     WHEN r_status < 0.98 THEN 'pending_vendor' ELSE 'resolved' END
            WHEN age < interval '14 days' THEN
                CASE WHEN r_status < 0.03 THEN 'new' WHEN r_status < 0.13 THEN 'assigned'
                     WHEN r_status < 0.33 THEN 'in_progress'
                     WHEN r_status < 0.45 THEN 'pending_customer'
                     WHEN r_status < 0.53 THEN 'pending_vendor'
                     WHEN r_status < 0.80 THEN 'resolved' ELSE 'closed' END
            ELSE
                CASE WHEN r_status < 0.010 THEN 'in_progress'
                     WHEN r_status < 0.025 THEN 'pending_customer'
                     WHEN r_status < 0.040 THEN 'pending_vendor'
                     WHEN r_status < 0.050 THEN 'resolved' ELSE 'closed' END
       END AS status,
       CASE WHEN r_priority < 0.05 THEN 'P1' WHEN r_priority < 0.20 THEN 'P2'
            WHEN r_priority < 0.65 THEN 'P3' ELSE 'P4' END AS priority,
       (ARRAY['end_user_device', 'printing', 'onboarding', 'network', 'email',
              'infrastructure', 'application', 'security', 'access', 'general'])
           [1 + floor(r_category * 10)::int] AS category
  FROM (SELECT *, now() - created_at AS age FROM bench_draws) d;

ALTER TABLE tickets DISABLE TRIGGER tickets_number;

INSERT INTO tickets (tenant_id, number, title, description, category, impact, urgency, priority,
                     status, side, tier, assignee, requester, created_at, updated_at,
                     resolved_at, closed_at, version)
SELECT tenant_id, g,
       (ARRAY['Laptop will not boot', 'Printer jams on duplex jobs', 'New hire accounts',
              'VPN drops every few minutes', 'Shared mailbox request', 'Disk latency alerts',
              'Application error on save', 'Suspicious sign-in alert', 'Access to share',
              'Slow network at branch office', 'Password reset', 'Monitor flickers'])
           [1 + floor(r_title * 12)::int] || ' (' || slug || ' #' || g || ')',
       'Reported by the user; steps to reproduce, screenshots and the affected '
           || 'machine are in the first comment. Business impact: '
           || priority || ', category ' || category || '.',
       category,
       -- impact and urgency that give the priority (services/ticket_rules.c)
       CASE priority WHEN 'P1' THEN 'high'
                     WHEN 'P2' THEN (ARRAY['high', 'medium'])[1 + floor(r_variant * 2)::int]
                     WHEN 'P3' THEN (ARRAY['high', 'medium', 'low'])[1 + floor(r_variant * 3)::int]
                     ELSE (ARRAY['medium', 'low', 'low'])[1 + floor(r_variant * 3)::int] END,
       CASE priority WHEN 'P1' THEN 'high'
                     WHEN 'P2' THEN (ARRAY['medium', 'high'])[1 + floor(r_variant * 2)::int]
                     WHEN 'P3' THEN (ARRAY['low', 'medium', 'high'])[1 + floor(r_variant * 3)::int]
                     ELSE (ARRAY['low', 'medium', 'low'])[1 + floor(r_variant * 3)::int] END,
       priority, status, side,
       CASE WHEN side = 'provider' AND status <> 'new' THEN
                CASE WHEN r_tier < 0.6 THEN 'L1' WHEN r_tier < 0.9 THEN 'L2' ELSE 'L3' END END,
       CASE WHEN status = 'new' THEN NULL
            WHEN side = 'internal_it' THEN slug || '.it.' || (1 + floor(r_tier * 3)::int)
            ELSE technician END,
       'user' || floor(r_requester * 150)::int || '@' || slug,
       created_at,
       coalesce(closed_at, resolved_at, created_at + (now() - created_at) * r_time),
       resolved_at, closed_at,
       CASE status WHEN 'new' THEN 1 WHEN 'closed' THEN 4 WHEN 'resolved' THEN 3 ELSE 2 END
  FROM (SELECT r.*,
               CASE WHEN status = 'pending_vendor' THEN 'vendor'
                    WHEN status = 'pending_customer' THEN 'customer'
                    WHEN r_side < 0.33 THEN 'internal_it' ELSE 'provider' END AS side,
               CASE WHEN status IN ('resolved', 'closed')
                    THEN least(created_at + r_time * interval '72 hours', now()) END
                   AS resolved_at,
               CASE WHEN status = 'closed'
                    THEN least(created_at + r_time * interval '72 hours' + interval '3 days',
                               now()) END AS closed_at
          FROM bench_rows r) x
 ORDER BY tenant_id, g;

UPDATE ticket_counters c SET last_number = :per_tenant
  FROM bench_tenants b WHERE c.tenant_id = b.tenant_id;

ALTER TABLE tickets ENABLE TRIGGER tickets_number;

COMMIT;
