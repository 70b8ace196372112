-- The cost report (METRICS.md, "Cost"): the time logged in a period
-- against the contract of the tenant file.  The period's days are those
-- of the tenant's calendar it covers; the fee and the block of included
-- hours are monthly, so a period that is not whole months gets each
-- month's share by its days.  Hours are rounded to hundredths, sums of
-- money to cents, at the end (the sums are of minutes).

-- The share of each month of the tenant's calendar that the days from
-- p_first to p_end (excluded) cover, summed: 1 for a month, 3 for a
-- quarter, 7/31 for a week of March.
CREATE FUNCTION app.months_covered(p_first date, p_end date) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT coalesce(sum((least((m + interval '1 month')::date, p_end)
                         - greatest(m::date, p_first))::numeric
                        / ((m + interval '1 month')::date - m::date)), 0)
      FROM generate_series(date_trunc('month', p_first::timestamp),
                           (p_end - 1)::timestamp, interval '1 month') m
     WHERE p_end > p_first
    $$;

-- The cost figures of tenant p_tenant for the instants [p_from, p_to):
-- the entries worked on the days they cover (the day of p_to counts when
-- p_to is not its midnight) and logged by p_as_of, as they stand.
CREATE FUNCTION app.report_cost(p_tenant uuid, p_from timestamptz, p_to timestamptz,
                                p_as_of timestamptz)
    RETURNS json
    LANGUAGE sql STABLE
    AS $$
    WITH d AS (
        SELECT t.tenant_id, t.contract,
               (p_from AT TIME ZONE t.timezone)::date AS first_day,
               ((p_to AT TIME ZONE t.timezone) - interval '1 microsecond')::date + 1 AS end_day
          FROM public.tenants t WHERE t.tenant_id = p_tenant
    ), c AS (
        SELECT d.*, app.months_covered(d.first_day, d.end_day) AS months,
               (d.contract->>'monthly_fee')::numeric AS fee,
               (d.contract->>'hourly_rate')::numeric AS rate,
               coalesce((d.contract->>'included_hours')::numeric, 0) AS included,
               nullif((d.contract->>'supported_users')::integer, 0) AS users
          FROM d
    ), e AS (
        SELECT e.side, k.category, e.minutes, e.billable, e.in_scope
          FROM c
          JOIN public.time_entries e ON e.tenant_id = c.tenant_id
                                    AND e.worked_on >= c.first_day AND e.worked_on < c.end_day
          JOIN public.tickets k ON k.tenant_id = e.tenant_id AND k.number = e.ticket_number
         WHERE e.created_at <= p_as_of
    ), m AS (
        SELECT coalesce(sum(minutes), 0) AS total,
               coalesce(sum(minutes) FILTER (WHERE billable), 0) AS billable,
               coalesce(sum(minutes) FILTER (WHERE billable AND in_scope), 0) AS in_scope,
               coalesce(sum(minutes) FILTER (WHERE billable AND NOT in_scope), 0) AS out_of_scope,
               count(*) AS entries
          FROM e
    ), b AS (
        -- the block: included minutes for the period, used by billable
        -- work in scope; beyond it, that work is billed like work out of
        -- scope
        SELECT c.*, m.*, c.included * c.months * 60 AS block,
               least(m.in_scope, c.included * c.months * 60) AS used,
               greatest(m.in_scope - c.included * c.months * 60, 0) AS over
          FROM c, m
    ), x AS (
        SELECT b.*, round(b.fee * b.months, 2) AS period_fee,
               round(b.out_of_scope * b.rate / 60, 2) AS out_amount,
               round(b.over * b.rate / 60, 2) AS over_amount,
               (SELECT count(*) FROM public.ticket_report_facts f
                 WHERE f.tenant_id = b.tenant_id AND f.created_at >= p_from
                   AND f.created_at < p_to) AS created
          FROM b
    )
    SELECT json_build_object(
        'currency', x.contract->>'currency',
        'days', json_build_object('first', x.first_day, 'last', x.end_day - 1),
        'months', round(x.months, 4),
        'entries', x.entries,
        'hours', json_build_object(
            'total', round(x.total / 60.0, 2),
            'billable', round(x.billable / 60.0, 2),
            'non_billable', round((x.total - x.billable) / 60.0, 2),
            'by_side', (SELECT coalesce(json_object_agg(s.side, s.hours ORDER BY s.side), '{}')
                          FROM (SELECT e.side, round(sum(e.minutes) / 60.0, 2) AS hours
                                  FROM e GROUP BY e.side) s),
            'by_category', (SELECT coalesce(json_object_agg(s.category, s.hours
                                                            ORDER BY s.category), '{}')
                              FROM (SELECT e.category, round(sum(e.minutes) / 60.0, 2) AS hours
                                      FROM e GROUP BY e.category) s)),
        'block', json_build_object(
            'included', round(x.block / 60.0, 2),
            'used', round(x.used / 60.0, 2),
            'remaining', round((x.block - x.used) / 60.0, 2),
            'over', round(x.over / 60.0, 2),
            'over_amount', x.over_amount),
        'out_of_scope', json_build_object(
            'hours', round(x.out_of_scope / 60.0, 2),
            'amount', x.out_amount),
        'fee', x.period_fee,
        'total', x.period_fee + x.out_amount + x.over_amount,
        'tickets_created', x.created,
        'cost_per_ticket', round((x.period_fee + x.out_amount + x.over_amount)
                                 / nullif(x.created, 0), 2),
        'supported_users', x.users,
        'cost_per_user', round((x.period_fee + x.out_amount + x.over_amount) / x.users, 2))
      FROM x
    $$;
