-- Employer type of the first job after enrollment (state_owned, collective, private,
-- foreign_funded, self_employed, public_works), counted over first jobs started by as_of
-- (is_placed_by_as_of, views/enrollment_outcomes.sql).
-- Grain: one row per program_type x employer_type that occurs.
-- Key: program_type, employer_type.
-- Parameters: $filters.
select
    program_type,
    placement_employer_type as employer_type,
    count(*) as placement_count
from filtered_outcomes($filters)
where is_placed_by_as_of = 1
group by program_type, placement_employer_type
order by program_type, placement_employer_type
