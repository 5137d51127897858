-- One row per enrollment, with the person's age band and the first placement on or after
-- enrolled_on: the grain every outcome question starts from. It also carries, once, the outcome
-- flags and day counts relative to as_of that the questions add up, following data/README.md
-- (Metrics): this file is the one place that says what "exited", "followed 180 days" or
-- "retained at 12 months" means. Flags are 0/1 (utinyint, never null) so a question counts with
-- sum(flag) instead of re-evaluating date arithmetic on every row at every interaction.
-- Parameters: none in the text; as_of comes from the one-row table build_as_of(as_of), created
-- with a bound parameter before this view is materialised (reemploy/db.py, build_outcomes). The
-- materialised file belongs to one extract version, whose manifest holds as_of.
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
, base as (
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
),
dated as (
    select
        b.*,
        a.as_of,
        -- exited: exited_on not null and on or before as_of
        coalesce(b.exited_on <= a.as_of, false) as exited,
        -- first placement started by as_of
        coalesce(b.placed_on <= a.as_of, false) as placed_by_as_of,
        -- followed h days after exit: exited_on + h <= as_of; placed within h days of exit: the
        -- first placement (which starts on or after enrolled_on) starts by exited_on + h
        coalesce(b.exited_on + 90 <= a.as_of, false) as followed_90d,
        coalesce(b.exited_on + 180 <= a.as_of, false) as followed_180d,
        coalesce(b.exited_on + 365 <= a.as_of, false) as followed_365d,
        coalesce(b.placed_on <= b.exited_on + 90, false) as placed_within_90d,
        coalesce(b.placed_on <= b.exited_on + 180, false) as placed_within_180d,
        coalesce(b.placed_on <= b.exited_on + 365, false) as placed_within_365d,
        -- retention: first job started at least 182 / 365 days before as_of, still open or ended
        -- on or after started_on + the period
        coalesce(b.placed_on + 182 <= a.as_of, false) as job_followed_6m,
        coalesce(b.placed_on + 365 <= a.as_of, false) as job_followed_12m,
        b.placement_ended_on is null or b.placement_ended_on >= b.placed_on + 182 as job_lasted_6m,
        b.placement_ended_on is null or b.placement_ended_on >= b.placed_on + 365 as job_lasted_12m
    from base as b
    cross join build_as_of as a
),
-- Who enrolled, as the strata of the adjusted comparison: a missing gender or education is its
-- own level 'unknown' (age_band is already 'unknown' without a birth year). Each combination
-- present gets a small integer, so the strata question groups by one integer instead of five
-- texts (3x faster); outcome_strata (db.build_outcomes) gives the labels back. Each level of
-- the three personal characteristics gets a small integer too (age_code, gender_code,
-- education_code, in the order of the labels), for the questions that group by them.
levelled as (
    select
        *,
        coalesce(gender, 'unknown') as gender_level,
        coalesce(education, 'unknown') as education_level
    from dated
),
strata as (
    select
        age_band,
        gender_level,
        education_level,
        prior_sector,
        district,
        row_number() over (
            order by age_band, gender_level, education_level, prior_sector, district
        )::integer as stratum,
        dense_rank() over (order by age_band)::usmallint as age_code,
        dense_rank() over (order by gender_level)::usmallint as gender_code,
        dense_rank() over (order by education_level)::usmallint as education_code
    from (
        select distinct age_band, gender_level, education_level, prior_sector, district
        from levelled
    )
)
select
    enrollment_id,
    l.district,
    l.prior_sector,
    gender,
    education,
    l.age_band,
    prior_monthly_wage,
    program_type,
    program_name,
    provider,
    enrolled_on,
    exited_on,
    completed,
    cost,
    placed_on,
    placement_ended_on,
    placement_sector,
    placement_employer_type,
    placement_monthly_wage,
    l.gender_level,
    l.education_level,
    s.stratum,
    s.age_code,
    s.gender_code,
    s.education_code,
    -- The enrollment quarter (cohort) for the trends.
    date_trunc('quarter', enrolled_on)::date as enrolled_quarter,
    exited::utinyint as is_exited,
    (exited and completed is not null)::utinyint as is_completion_recorded,
    coalesce(exited and completed, false)::utinyint as is_completed,
    -- Placement within h days of exit: is_followed_<h>d is the denominator (followed h days after
    -- exit); is_placed_<h>d the numerator (followed, and placed within the h days), so that
    -- sum(is_placed_<h>d) counts successes directly. Other horizons use the day counts below.
    followed_90d::utinyint as is_followed_90d,
    followed_180d::utinyint as is_followed_180d,
    followed_365d::utinyint as is_followed_365d,
    (followed_90d and placed_within_90d)::utinyint as is_placed_90d,
    (followed_180d and placed_within_180d)::utinyint as is_placed_180d,
    (followed_365d and placed_within_365d)::utinyint as is_placed_365d,
    -- Days from exit to as_of (followed h days iff >= h) and from exit to the first placement
    -- (placed within h days iff <= h; negative when the job started during the course).
    (as_of - exited_on)::integer as days_exit_to_as_of,
    (placed_on - exited_on)::integer as days_exit_to_placement,
    -- Cost of the enrollments followed 180 days after exit (cost per placement).
    case when followed_180d then cost end as cost_followed_180d,
    placed_by_as_of::utinyint as is_placed_by_as_of,
    -- Retention of the first job: is_followed_<6m|12m> the denominator, is_retained_* the numerator.
    job_followed_6m::utinyint as is_followed_6m,
    job_followed_12m::utinyint as is_followed_12m,
    (job_followed_6m and job_lasted_6m)::utinyint as is_retained_6m,
    (job_followed_12m and job_lasted_12m)::utinyint as is_retained_12m,
    -- First-job wage and wage replacement (wage / prior_monthly_wage, prior wage > 0), only for
    -- first jobs started by as_of; null otherwise.
    case when placed_by_as_of then placement_monthly_wage end as monthly_wage_by_as_of,
    case
        when placed_by_as_of and prior_monthly_wage > 0
        then placement_monthly_wage / prior_monthly_wage
    end as wage_replacement_by_as_of,
    -- Kaplan-Meier from enrollment (enrollments on or before as_of; null after): days from
    -- enrolled_on to the first placement if it started by as_of (an event), else to as_of
    -- (censored).
    case
        when enrolled_on > as_of then null
        when placed_by_as_of then (placed_on - enrolled_on)::integer
        else (as_of - enrolled_on)::integer
    end as days_from_enrollment,
    -- Kaplan-Meier from exit (only enrollments exited by as_of; null otherwise): days from
    -- exited_on to the first placement if it started by as_of, a job started during the course
    -- counting as day 0 (an event), else to as_of (censored).
    case
        when not exited then null
        when placed_by_as_of then greatest(placed_on - exited_on, 0)::integer
        else (as_of - exited_on)::integer
    end as days_from_exit
from levelled as l
-- Not "using": a NULL prior_sector or district would match nothing and lose its row.
join strata as s
    on s.age_band is not distinct from l.age_band
   and s.gender_level is not distinct from l.gender_level
   and s.education_level is not distinct from l.education_level
   and s.prior_sector is not distinct from l.prior_sector
   and s.district is not distinct from l.district
