-- The trend (services/reports/METRICS.md, "Trend"): the headline metrics
-- of a run of periods, each computed by its own report's function, so a
-- trend's month is the same numbers as that month's reports.

-- p_periods: [{"period", "start", "end", "complete", "from", "to",
-- "before"}, ...] oldest first, as the gateway computes them in the
-- tenant's time zone: the name and local bounds shown, and the instants
-- counted in microseconds since the epoch (to is the period's end or
-- as_of, whichever is first; before, the start of the period before).
CREATE FUNCTION app.report_trend(p_tenant uuid, p_periods json, p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(json_agg(json_build_object(
               'period', p.value->>'period', 'start', p.value->>'start',
               'end', p.value->>'end', 'complete', (p.value->>'complete')::boolean,
               'created', (v.doc->>'created')::bigint,
               'resolved', (v.doc->>'resolved')::bigint,
               'net_change', (v.doc->>'net_change')::bigint,
               'open_at_end', (b.doc->>'open_at_end')::bigint,
               'response_attainment', (s.doc->'attainment'->'response'->>'attainment')::numeric,
               'resolution_attainment',
                   (s.doc->'attainment'->'resolution'->>'attainment')::numeric,
               'resolution_median_business_seconds',
                   (s.doc->'times'->'resolution'->'business_seconds'->>'median')::bigint,
                   'resolution_p90_business_seconds',
                   (s.doc->'times'->'resolution'->'business_seconds'->>'p90')::bigint,
               'first_contact_resolution_rate',
                   (q.doc->>'first_contact_resolution_rate')::numeric,
               'reopen_rate', (q.doc->>'reopen_rate')::numeric,
               'recurrence_rate', (q.doc->>'recurrence_rate')::numeric)
             ORDER BY p.ordinality), '[]')
      FROM json_array_elements(p_periods) WITH ORDINALITY p
      CROSS JOIN LATERAL (SELECT to_timestamp((p.value->>'from')::bigint / 1e6) AS f,
                                 to_timestamp((p.value->>'to')::bigint / 1e6) AS t,
                                 to_timestamp((p.value->>'before')::bigint / 1e6) AS b) i
      CROSS JOIN LATERAL (SELECT app.report_volume(p_tenant, i.f, i.t)::jsonb AS doc) v
      CROSS JOIN LATERAL (SELECT app.report_backlog(p_tenant, i.f, i.t)::jsonb AS doc) b
      CROSS JOIN LATERAL (SELECT app.report_sla(p_tenant, i.f, i.t)::jsonb AS doc) s
      CROSS JOIN LATERAL (SELECT app.report_quality(p_tenant, i.f, i.t, p_as_of, i.b)::jsonb
                                     AS doc) q
    $$;
