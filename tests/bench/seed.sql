-- Benchmark data for tests/bench/run.sh: staff assignments, assets,
-- tickets and their history for every client-NNNN tenant that has no
-- tickets yet (`mspctl tenant apply` has created the tenants from the
-- files of make_tenants.py), written in one transaction, set-based, as the
-- schema owner acting as a provider admin (app.set_principal), so that
-- row-level security applies as to any writer.
--
--   psql -v per_tenant=500 -f seed.sql
--
-- Run again after more tenants are applied, it seeds only those (run.sh
-- adds the offboarding tenant that way).
--
-- Staff, by the tenant's rank i among the client-NNNN tenants (by slug):
--   tech.t5    technician L2 on tenants 1-5
--   tech.t50   technician L2 on tenants 1-50
--   lead.l200  lead on tenants 1-200
--   tech.gNN   technician L1-L3 on the tenants 50 x NN + 1 ... (every
--              tenant past the 50th has one; they are the assignees there)
--   admin.bench, a provider admin, needs no assignment.
--
-- Ticket numbers: the tickets_number trigger takes each number from the
-- tenant's counter, an UPDATE of one row per ticket; in a single
-- transaction that inserts 500 tickets per tenant each UPDATE walks the
-- chain of row versions the earlier ones left, so the trigger is disabled
-- for this insert, the numbers 1..per_tenant are given here and each
-- counter is set to per_tenant before it is enabled again: new tickets
-- continue from there, and if anything fails the whole transaction,
-- trigger state included, rolls back.  (ALTER TABLE locks tickets until
-- COMMIT; nothing else writes meanwhile.)  random() is seeded, so every
-- run makes the same data (but for now(): instants are relative to it).
--
-- The shape, per tenant: per_tenant tickets spread evenly over two years,
-- numbered in the order they were opened.  Old tickets are almost all
-- closed (a few are stuck waiting on a customer or a vendor), recent ones
-- mostly open (about 25 of 500 open per tenant); priorities P1 5%, P2 15%,
-- P3 45%, P4 35% with matching impact and urgency; a third of the tickets
-- are the tenant IT's own (side internal_it); 25 assets per tenant.
-- History: a "created" event and an audit row for every ticket, an
-- "updated" event (as the API records a change: {"status": {"from", "to"}},
-- side, tier, assignee) for every ticket past "new", 1-4 comments on about
-- a third (the staff's half public, half internal), an asset link on about
-- 40%; escalations: a functional one to provider:L2 waiting on about 30%
-- of the open tickets the provider holds at L2, a hierarchical one to
-- provider:lead waiting on about 5% of the open tickets, an accepted
-- functional one in the past of about 3% of the closed tickets, each with
-- its "escalated" (and "escalation_accepted") event and audit row.  The
-- SLA clocks of the open tickets are computed next (seed_clocks.sql); the
-- resolved and closed ones get an empty "sla" ({}), which keeps `mspctl sla
-- recompute` to the open tickets (it also replays tickets whose sla is
-- NULL) and which reads do not use (a closed ticket's clocks are not
-- extended).
\set ON_ERROR_STOP on
BEGIN;
SELECT app.set_principal('bench.seed', 'provider', 'admin');
SELECT setseed(0.42);

-- The tenants to seed, with the technician who works each one's tickets.
CREATE TEMP TABLE bench_tenants ON COMMIT DROP AS
SELECT tenant_id, slug, ticket_prefix, i,
       CASE WHEN i > 50 THEN 'tech.g' || lpad(((i - 1) / 50)::text, 2, '0')
            WHEN i > 5 THEN 'tech.t50' END AS technician
  FROM (SELECT tenant_id, slug, ticket_prefix, row_number() OVER (ORDER BY slug) AS i
          FROM tenants WHERE slug LIKE 'client-%') t
 WHERE NOT EXISTS (SELECT FROM tickets k WHERE k.tenant_id = t.tenant_id);
ANALYZE bench_tenants;

INSERT INTO assignments (tenant_id, subject, role, tier)
SELECT tenant_id, subject, role, tier
  FROM bench_tenants b,
       LATERAL (VALUES ('tech.t5', 'technician', 'L2', b.i <= 5),
                       ('tech.t50', 'technician', 'L2', b.i <= 50),
                       ('lead.l200', 'lead', NULL, b.i <= 200),
                       (b.technician, 'technician', 'L' || (1 + b.i % 3), b.i > 50))
            AS a (subject, role, tier, wanted)
 WHERE wanted
ON CONFLICT DO NOTHING;

INSERT INTO assets (tenant_id, tag, name, kind, serial, assigned_to, site, status)
SELECT b.tenant_id, b.ticket_prefix || '-A' || lpad(a::text, 3, '0'),
       (ARRAY['Laptop', 'Desktop', 'File server', 'Core switch', 'Printer', 'Phone',
              'CRM licence', 'Cloud tenant'])[1 + a % 8] || ' ' || a,
       (ARRAY['laptop', 'desktop', 'server', 'network', 'printer', 'phone', 'saas_license',
              'other'])[1 + a % 8],
       upper(substr(md5(b.slug || a), 1, 10)),
       CASE WHEN a % 8 IN (0, 1, 5) THEN 'user' || a || '@' || b.slug END,
       'Site ' || (1 + a % 3), 'deployed'
  FROM bench_tenants b, generate_series(1, 25) a;

-- One row per ticket with its random draws; the columns are derived below.
CREATE TEMP TABLE bench_draws ON COMMIT DROP AS
SELECT b.tenant_id, b.slug, b.i,
       -- tenants 1-5: tech.t5 and tech.t50 take turns
       coalesce(b.technician, CASE WHEN g % 2 = 0 THEN 'tech.t50' ELSE 'tech.t5' END)
           AS technician,
       g,
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
                     resolved_at, closed_at, version, sla)
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
       -- impact and urgency that give the priority (services/tickets/ticket_rules.c)
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
       CASE status WHEN 'new' THEN 1 WHEN 'closed' THEN 4 WHEN 'resolved' THEN 3 ELSE 2 END,
       -- see seed_clocks.sql
       CASE WHEN status IN ('resolved', 'closed') THEN '{}'::jsonb END
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

-- The tickets just made, with what the history needs.
CREATE TEMP TABLE bench_tickets ON COMMIT DROP AS
SELECT k.tenant_id, k.number, k.title, k.priority, k.status, k.side, k.tier, k.assignee,
       k.requester, k.created_at, k.updated_at, k.category, b.slug, b.ticket_prefix,
       d.technician, random() AS r_comments, random() AS r_asset, random() AS r_escalation
  FROM tickets k
  JOIN bench_tenants b USING (tenant_id)
  JOIN bench_draws d ON d.tenant_id = k.tenant_id AND d.g = k.number;

-- History: created, the status change, comments.
INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub, actor_org,
                           actor_role, kind, data)
SELECT tenant_id, number, created_at, requester, slug, 'requester', 'created',
       jsonb_build_object('title', title, 'priority', priority, 'status', 'new',
                          'side', 'provider', 'requester', requester)
  FROM bench_tickets
 ORDER BY tenant_id, number;

INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub, actor_org,
                           actor_role, kind, data)
SELECT tenant_id, number, updated_at, technician, 'provider', 'technician', 'updated',
       app.ticket_changes('provider', side, NULL, tier, NULL, assignee, 'new', status)
  FROM bench_tickets
 WHERE status <> 'new'
 ORDER BY tenant_id, number;

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
                          'visibility', CASE WHEN by_staff AND internal THEN 'provider'
                                             ELSE 'public' END,
                          'author_name', CASE WHEN by_staff THEN 'Bench Technician'
                                              ELSE 'Bench User' END)
  FROM (SELECT k.tenant_id, k.number, k.requester, k.slug, k.technician,
               k.created_at + (k.updated_at - k.created_at) * (c::float8 / (k.n + 1))
                   AS occurred_at,
               c % 2 = 0 AS by_staff, random() < 0.5 AS internal
          FROM (SELECT k.*, 1 + floor(r_comments * 12)::int % 4 AS n FROM bench_tickets k
                 WHERE k.r_comments < 0.35) k,
               generate_series(1, k.n) c) x
 ORDER BY tenant_id, number, occurred_at;

INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id)
SELECT k.tenant_id, k.number, a.asset_id
  FROM bench_tickets k
  JOIN assets a ON a.tenant_id = k.tenant_id
               AND a.tag = k.ticket_prefix || '-A' || lpad((1 + floor(k.r_asset * 62.5)::int % 25)::text, 3, '0')
 WHERE k.r_asset < 0.4
 ORDER BY 1, 2;

-- Escalations: what waits and what was decided.
CREATE TEMP TABLE bench_escalations ON COMMIT DROP AS
SELECT k.*, e.kind, e.target, e.status AS x_status
  FROM bench_tickets k,
       LATERAL (SELECT 'functional' AS kind, 'provider:L2' AS target, 'open' AS status
                 WHERE k.status NOT IN ('resolved', 'closed') AND k.side = 'provider'
                   AND k.tier = 'L2' AND k.r_escalation < 0.3
                UNION ALL
                SELECT 'hierarchical', 'provider:lead', 'open'
                 WHERE k.status NOT IN ('resolved', 'closed') AND k.r_escalation >= 0.95
                UNION ALL
                SELECT 'functional', 'provider:L2', 'accepted'
                 WHERE k.status = 'closed' AND k.r_escalation < 0.03) e;

WITH x AS (
    INSERT INTO escalations (tenant_id, ticket_number, kind, target, status, from_side,
                             from_tier, from_assignee, assignee, note, context, rule,
                             raised_by, raised_at, decided_by, decided_at)
    SELECT tenant_id, number, kind, target, x_status, 'provider',
           CASE WHEN kind = 'functional' THEN 'L1' ELSE tier END, technician,
           CASE WHEN x_status = 'accepted' THEN technician END,
           jsonb_build_object('summary', 'Needs a second pair of eyes: ' || title,
                              'tried', 'Restarted the service; checked the event log.',
                              'next_action', 'Review the configuration change of last week.'),
           jsonb_build_object('title', title, 'priority', priority, 'category', category,
                              'status', status),
           'bench', technician, created_at + (updated_at - created_at) / 2,
           CASE WHEN x_status = 'accepted' THEN technician END,
           CASE WHEN x_status = 'accepted' THEN created_at + (updated_at - created_at) * 0.6 END
      FROM bench_escalations
     ORDER BY tenant_id, number
    RETURNING *
), e AS (
    INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, actor_sub, actor_org,
                               actor_role, kind, data)
    SELECT tenant_id, ticket_number, raised_at, raised_by, 'provider', 'technician', 'escalated',
           jsonb_build_object('escalation_id', escalation_id, 'kind', kind, 'to', target,
                              'rule', rule, 'note', note, 'automatic', false)
      FROM x
    UNION ALL
    SELECT tenant_id, ticket_number, decided_at, decided_by, 'provider', 'technician',
           'escalation_accepted', jsonb_build_object('escalation_id', escalation_id, 'kind', kind)
      FROM x WHERE status = 'accepted'
)
INSERT INTO audit_log (tenant_id, occurred_at, actor_sub, actor_org, actor_role, action, target,
                       detail)
SELECT x.tenant_id, x.raised_at, x.raised_by, 'provider', 'technician', 'escalation.create',
       'ticket:' || b.ticket_prefix || '-' || x.ticket_number,
       jsonb_build_object('escalation_id', x.escalation_id, 'kind', x.kind, 'to', x.target,
                          'rule', x.rule)
  FROM x JOIN bench_tenants b USING (tenant_id);

-- Every ticket's creation in the audit log.
INSERT INTO audit_log (tenant_id, occurred_at, actor_sub, actor_org, actor_role, action, target,
                       detail)
SELECT tenant_id, created_at, requester, slug, 'requester', 'ticket.create',
       'ticket:' || ticket_prefix || '-' || number, jsonb_build_object('priority', priority)
  FROM bench_tickets
 ORDER BY tenant_id, number;

COMMIT;
