-- What msp_gateway, the role nginx logs in as, may do: read and write
-- tenant work through row-level security, append to history and audit,
-- nothing else.  It owns nothing and cannot bypass RLS (deploy/bootstrap.sh
-- creates it NOSUPERUSER NOBYPASSRLS); it has no privilege on partitions,
-- on ticket_counters or on the migrations table.

GRANT USAGE ON SCHEMA public, app TO msp_gateway;

GRANT SELECT ON tenants, assignments TO msp_gateway;
GRANT SELECT, INSERT, UPDATE ON tickets, assets TO msp_gateway;
GRANT SELECT, INSERT, DELETE ON ticket_assets TO msp_gateway;
GRANT SELECT, INSERT ON ticket_events, audit_log TO msp_gateway;
GRANT SELECT, INSERT, UPDATE ON idempotency_keys TO msp_gateway;

GRANT USAGE ON SEQUENCE assets_asset_id_seq, ticket_events_event_id_seq,
                        audit_log_audit_id_seq TO msp_gateway;
