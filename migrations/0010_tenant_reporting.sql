-- The tenant file's reporting section (tenants/FORMAT.md): how reports
-- are computed for the tenant, starting with the recurrence window of
-- services/reports/METRICS.md.  Existing tenants get the default that
-- `mspctl tenant apply` writes for a file without the section; their next
-- apply stores the normalized document with it.
ALTER TABLE tenants
    ADD COLUMN reporting jsonb NOT NULL DEFAULT '{"recurrence_days": 30}'
        CHECK (jsonb_typeof(reporting) = 'object');
