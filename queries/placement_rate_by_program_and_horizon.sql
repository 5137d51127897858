-- Placement within h days of exit, for each h in $horizons_days (e.g. 90, 180, 365): among
-- people who left with exited_on + h <= $as_of (followed for h days), those whose first job
-- started between enrolled_on and exited_on + h inclusive. At h = 180 this is the headline
-- placement rate (headline_by_program.sql).
-- Grain: one row per program_type x horizon_days.
-- Parameters: $as_of, $horizons_days (list of integers) and the common filters.
with horizons as (
    select unnest($horizons_days::integer[]) as horizon_days
),
outcomes as (
    select
        program_type,
        exited_on,
        placed_on
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
),
followed as (
    select
        o.program_type,
        h.horizon_days,
        o.exited_on is not null and o.exited_on + h.horizon_days <= $as_of as is_followed,
        o.placed_on is not null and o.placed_on <= o.exited_on + h.horizon_days as is_placed
    from outcomes as o
    cross join horizons as h
)
select
    program_type,
    horizon_days,
    count(*) filter (where is_followed) as placement_rate_n,
    count(*) filter (where is_followed and is_placed) as placed_count
from followed
group by program_type, horizon_days
order by program_type, horizon_days
