-- Placement within h days of exit, for each h in $horizons_days (e.g. 90, 180, 365): among
-- people who left with exited_on + h <= as_of (followed for h days), those whose first job
-- started between enrolled_on and exited_on + h inclusive. At h = 180 this is the headline
-- placement rate (headline_by_program.sql). The standard horizons (90, 180, 365) add up the
-- flags of views/enrollment_outcomes.sql; any other h compares the day counts defined there
-- (days_exit_to_as_of >= h: followed; days_exit_to_placement <= h: placed within h days).
-- Grain: one row per program_type x horizon_days.
-- Key: program_type, horizon_days.
-- Parameters: $horizons_days (list of integers) and the common filters.
with horizons as (
    select unnest($horizons_days::integer[]) as horizon_days
),
standard as (
    select
        program_type,
        sum(is_followed_90d)::bigint as followed_90d,
        sum(is_placed_90d)::bigint as placed_90d,
        sum(is_followed_180d)::bigint as followed_180d,
        sum(is_placed_180d)::bigint as placed_180d,
        sum(is_followed_365d)::bigint as followed_365d,
        sum(is_placed_365d)::bigint as placed_365d
    from filtered_outcomes($filters)
    group by program_type
),
other_horizons as (
    select horizon_days from horizons where horizon_days not in (90, 180, 365)
),
other as (
    select
        o.program_type,
        h.horizon_days,
        count(*) filter (where o.days_exit_to_as_of >= h.horizon_days) as placement_rate_n,
        count(*) filter (
            where o.days_exit_to_as_of >= h.horizon_days
              and o.days_exit_to_placement <= h.horizon_days
        ) as placed_count
    from filtered_outcomes($filters) as o
    cross join other_horizons as h
    group by o.program_type, h.horizon_days
)
select
    s.program_type,
    h.horizon_days,
    case h.horizon_days
        when 90 then s.followed_90d when 180 then s.followed_180d else s.followed_365d
    end as placement_rate_n,
    case h.horizon_days
        when 90 then s.placed_90d when 180 then s.placed_180d else s.placed_365d
    end as placed_count
from standard as s
cross join horizons as h
where h.horizon_days in (90, 180, 365)
union all
select program_type, horizon_days, placement_rate_n, placed_count
from other
order by program_type, horizon_days
