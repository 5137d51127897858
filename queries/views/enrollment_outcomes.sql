-- One row per enrollment, with the person's age band and the first placement on or after
-- enrolled_on: the grain every outcome question starts from.
-- Parameters: none (the as_of date is bound by each question).
create or replace view enrollment_outcomes as
with first_placements as (
    -- An aggregate instead of a window: it streams, where row_number() over 10 million
    -- placements needs them all in memory at once. Ties on started_on go to the lowest id.
    select
        p.enrollment_id,
        min_by(
            struct_pack(
                p.started_on,
                p.ended_on,
                p.sector,
                p.employer_type,
                p.monthly_wage
            ),
            struct_pack(p.started_on, p.placement_id)
        ) as placement
    from placements as p
    join enrollments as e
        on e.enrollment_id = p.enrollment_id
       and p.started_on >= e.enrolled_on
    group by p.enrollment_id
)
select
    e.enrollment_id,
    e.district,
    e.prior_sector,
    e.gender,
    e.education,
    case
        when e.birth_year is null then 'unknown'
        when year(e.enrolled_on) - e.birth_year < 30 then '16-29'
        when year(e.enrolled_on) - e.birth_year < 40 then '30-39'
        when year(e.enrolled_on) - e.birth_year < 50 then '40-49'
        else '50+'
    end as age_band,
    e.prior_monthly_wage,
    e.program_type,
    e.program_name,
    e.provider,
    e.enrolled_on,
    e.exited_on,
    e.completed,
    e.cost,
    f.placement.started_on as placed_on,
    f.placement.ended_on as placement_ended_on,
    f.placement.sector as placement_sector,
    f.placement.employer_type as placement_employer_type,
    f.placement.monthly_wage as placement_monthly_wage
from enrollments as e
left join first_placements as f
    on f.enrollment_id = e.enrollment_id
