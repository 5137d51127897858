-- Placement within 180 and within 365 days of exit per quarterly enrollment cohort, for the
-- trend on Overview and Trends (flags from views/enrollment_outcomes.sql). A cohort whose
-- members have not all been followed for the horizon after exit is not fully observed yet
-- (observed count < enrolled_count less those whose exit was never recorded): charts mark it
-- instead of showing a fall. is_open_quarter:
-- the quarter was still running at $as_of, so its enrollment count is partial too.
-- Grain: one row per program_type x enrollment quarter.
-- Key: program_type, cohort_start.
-- Parameters: $as_of and the common filters.
with cohorts as (
    select
        program_type,
        enrolled_quarter as cohort_start,
        count(*) as enrolled_count,
        sum(is_exit_unrecorded)::bigint as exit_unrecorded_count,
        sum(is_followed_180d)::bigint as placement_rate_180d_n,
        sum(is_placed_180d)::bigint as placed_180d_count,
        sum(is_followed_365d)::bigint as placement_rate_365d_n,
        sum(is_placed_365d)::bigint as placed_365d_count
    from filtered_outcomes($filters)
    group by program_type, enrolled_quarter
)
select
    program_type,
    cohort_start,
    (cohort_start + interval 3 month)::date > $as_of + 1 as is_open_quarter,
    enrolled_count,
    exit_unrecorded_count,
    placement_rate_180d_n,
    placed_180d_count,
    placement_rate_365d_n,
    placed_365d_count
from cohorts
order by program_type, cohort_start
