-- Retention of the first job at 6 months (182 days) and 12 months (365 days): among first jobs
-- started at least that long before as_of, those still open (ended_on null) or ended on or after
-- started_on + the period (is_followed_6m / is_retained_6m and the 12-month pair, defined in
-- views/enrollment_outcomes.sql). The 12-month figures equal headline_by_program.sql.
-- Grain: one row per program_type with at least one first job.
-- Parameters: the common filters.
select
    program_type,
    sum(is_followed_6m)::bigint as retention_6m_n,
    sum(is_retained_6m)::bigint as retained_6m_count,
    sum(is_followed_12m)::bigint as retention_12m_n,
    sum(is_retained_12m)::bigint as retained_12m_count
from filtered_outcomes(
    $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
)
where placed_on is not null
group by program_type
order by program_type
