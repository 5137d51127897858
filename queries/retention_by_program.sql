-- Retention of the first job at 6 months (182 days) and 12 months (365 days): among first jobs
-- started at least that long before $as_of, those still open (ended_on null) or ended on or after
-- started_on + the period. The 12-month figures equal headline_by_program.sql.
-- Grain: one row per program_type with at least one first job.
-- Parameters: $as_of and the common filters.
with first_jobs as (
    select
        program_type,
        placed_on,
        placement_ended_on
    from filtered_outcomes(
        $districts, $sectors, $programs, $date_from, $date_to, $genders, $age_bands, $educations
    )
    where placed_on is not null
)
select
    program_type,
    count(*) filter (where placed_on + 182 <= $as_of) as retention_6m_n,
    count(*) filter (
        where placed_on + 182 <= $as_of
          and (placement_ended_on is null or placement_ended_on >= placed_on + 182)
    ) as retained_6m_count,
    count(*) filter (where placed_on + 365 <= $as_of) as retention_12m_n,
    count(*) filter (
        where placed_on + 365 <= $as_of
          and (placement_ended_on is null or placement_ended_on >= placed_on + 365)
    ) as retained_12m_count
from first_jobs
group by program_type
order by program_type
