-- Demo tickets and assets for the demo tenants, loaded by `make run` as the
-- schema owner acting as a provider admin.  A tenant that already has
-- tickets is left alone, so running it again changes nothing.
BEGIN;
SELECT app.set_principal('demo.seed', 'provider', 'admin');

CREATE TEMP TABLE demo_assets (slug text, tag text, name text, kind text, serial text,
                               assigned_to text, site text) ON COMMIT DROP;
INSERT INTO demo_assets VALUES
    ('acme',    'ACME-LT-0042', 'ThinkPad T14 (Finance)',      'laptop',  'PF3K9XQ2', 'j.miller',   'Boston HQ, 3rd floor'),
    ('acme',    'ACME-SRV-001', 'File server FS01',            'server',  'CZ2941R0', NULL,         'Boston HQ, server room'),
    ('acme',    'ACME-PRN-007', 'Canon iR-ADV C5840 (Sales)',  'printer', '2VK07731', NULL,         'Boston HQ, 2nd floor'),
    ('acme',    'ACME-FW-01',   'FortiGate 100F edge firewall','network', 'FG100FTK2', NULL,        'Boston HQ, server room'),
    ('globex',  'GLX-WMS-01',   'Warehouse management server', 'server',  'SGH123ABC', NULL,        'Hamburg DC'),
    ('globex',  'GLX-HH-0113',  'Zebra TC52 handheld',         'phone',   '21034522', 'lager.team', 'Hamburg warehouse, gate 4'),
    ('globex',  'GLX-M365',     'Microsoft 365 tenant',        'saas_license', NULL,       NULL,         NULL),
    ('initech', 'INI-LT-0201',  'MacBook Pro 14 (Dev)',        'laptop',  'C02FK1ZQ', 'p.sharma',   'Pune office'),
    ('initech', 'INI-CI-01',    'Build server (CI runners)',   'server',  'R740-88Q', NULL,         'Pune office, rack 2');

CREATE TEMP TABLE demo_tickets (slug text, title text, description text, category text,
                                impact text, urgency text, priority text, status text,
                                side text, tier text, assignee text, requester text,
                                age interval, asset_tag text) ON COMMIT DROP;
INSERT INTO demo_tickets VALUES
    ('acme', 'Finance laptop will not boot after BIOS update', 'Stuck on the vendor logo since last night''s update. Month-end close starts tomorrow.', 'end_user_device', 'medium', 'high', 'P2', 'in_progress', 'internal_it', NULL, 'acme.it.frank', 'j.miller', '5 hours', 'ACME-LT-0042'),
    ('acme', 'File server FS01 disk latency alerts', 'Monitoring reports >200 ms latency on volume D: during backups.', 'infrastructure', 'high', 'medium', 'P2', 'assigned', 'provider', 'L2', 'tech.bob', 'monitoring', '1 day', 'ACME-SRV-001'),
    ('acme', 'Sales printer jams on duplex jobs', 'Paper jams in unit 2 on every duplex job.', 'printing', 'low', 'low', 'P4', 'pending_vendor', 'vendor', NULL, NULL, 'k.wong', '3 days', 'ACME-PRN-007'),
    ('acme', 'New hire onboarding: 3 accounts for Monday', 'Accounts, laptops and VPN for three new engineers starting Monday.', 'onboarding', 'medium', 'medium', 'P3', 'new', 'internal_it', NULL, NULL, 'hr.lisa', '2 hours', NULL),
    ('acme', 'VPN drops every 10 minutes for remote staff', 'Several remote users report FortiClient disconnects.', 'network', 'high', 'high', 'P1', 'in_progress', 'provider', 'L1', 'tech.alice', 'acme.it.frank', '40 minutes', 'ACME-FW-01'),
    ('globex', 'Warehouse scanners cannot reach WMS', 'Handhelds at gate 4 time out when posting goods receipts.', 'network', 'high', 'high', 'P1', 'assigned', 'provider', 'L1', 'tech.alice', 'lager.team', '25 minutes', 'GLX-HH-0113'),
    ('globex', 'Shared mailbox for customs documents', 'Please create zoll@ with access for the customs team.', 'email', 'low', 'medium', 'P4', 'new', 'provider', NULL, NULL, 'office.hh', '6 hours', 'GLX-M365'),
    ('globex', 'Nightly WMS export failed', 'The 02:00 export to the carrier portal failed twice this week.', 'application', 'medium', 'medium', 'P3', 'resolved', 'provider', 'L2', 'lead.carol', 'it.kraus', '4 days', 'GLX-WMS-01'),
    ('initech', 'CI runners out of disk space', 'Builds fail with ENOSPC on runner 3 since this morning.', 'infrastructure', 'medium', 'high', 'P2', 'new', 'internal_it', NULL, NULL, 'p.sharma', '3 hours', 'INI-CI-01'),
    ('initech', 'Laptop keyboard replacement', 'Several keys unresponsive; needs a vendor repair.', 'end_user_device', 'low', 'low', 'P4', 'pending_customer', 'provider', 'L2', 'tech.bob', 'r.iyer', '2 days', 'INI-LT-0201');

-- Assets, for tenants that have none yet.
INSERT INTO assets (tenant_id, tag, name, kind, serial, assigned_to, site, status)
SELECT t.tenant_id, a.tag, a.name, a.kind, a.serial, a.assigned_to, a.site, 'deployed'
  FROM demo_assets a JOIN tenants t USING (slug)
 WHERE NOT EXISTS (SELECT FROM assets x WHERE x.tenant_id = t.tenant_id);

-- Tickets with their history, for tenants that have none yet.
CREATE TEMP TABLE demo_new ON COMMIT DROP AS
SELECT t.tenant_id, d.*
  FROM demo_tickets d JOIN tenants t USING (slug)
 WHERE NOT EXISTS (SELECT FROM tickets x WHERE x.tenant_id = t.tenant_id);

CREATE TEMP TABLE demo_created (tenant_id uuid, number integer, title text) ON COMMIT DROP;

WITH created AS (
    INSERT INTO tickets (tenant_id, title, description, category, impact, urgency, priority,
                         status, side, tier, assignee, requester, created_at, updated_at,
                         resolved_at)
    SELECT tenant_id, title, description, category, impact, urgency, priority, status, side,
           tier, assignee, requester, now() - age, now() - age / 2,
           CASE WHEN status = 'resolved' THEN now() - age / 2 END
      FROM demo_new
     ORDER BY age DESC
    RETURNING tenant_id, number, title
)
INSERT INTO demo_created SELECT * FROM created;

INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, kind, data)
SELECT c.tenant_id, c.number, now() - n.age, 'created',
       jsonb_build_object('title', n.title, 'priority', n.priority, 'status', 'new',
                          'side', n.side, 'category', n.category, 'requester', n.requester)
  FROM demo_created c JOIN demo_new n USING (tenant_id, title);

-- the move to where each ticket is now, recorded as the API records a change
INSERT INTO ticket_events (tenant_id, ticket_number, occurred_at, kind, data)
SELECT c.tenant_id, c.number, now() - n.age / 2, 'updated',
       app.ticket_changes(n.side, n.side, NULL, n.tier, NULL, n.assignee, 'new', n.status)
  FROM demo_created c JOIN demo_new n USING (tenant_id, title)
 WHERE n.status <> 'new';

INSERT INTO ticket_assets (tenant_id, ticket_number, asset_id)
SELECT c.tenant_id, c.number, a.asset_id
  FROM demo_created c
  JOIN demo_new n USING (tenant_id, title)
  JOIN assets a ON a.tenant_id = c.tenant_id AND a.tag = n.asset_tag;

INSERT INTO audit_log (tenant_id, action, target, detail)
SELECT c.tenant_id, 'ticket.create', 'ticket:' || t.ticket_prefix || '-' || c.number,
       jsonb_build_object('source', 'demo seed')
  FROM demo_created c JOIN tenants t USING (tenant_id);

COMMIT;
