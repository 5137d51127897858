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
        ) as placement,
        -- Holding any job (not only the first) on some day of the 2nd quarter after exit (days
        -- 91-182) and of the 4th (days 274-365): the status measures of the field (WIOA).
        coalesce(bool_or(
            p.started_on <= e.exited_on + 182
            and (p.ended_on is null or p.ended_on >= e.exited_on + 91)
        ), false) as employed_q2_after_exit,
        coalesce(bool_or(
            p.started_on <= e.exited_on + 365
            and (p.ended_on is null or p.ended_on >= e.exited_on + 274)
        ), false) as employed_q4_after_exit
    from placements as p
    join enrollments as e
        on e.enrollment_id = p.enrollment_id
       and p.started_on >= e.enrolled_on
    group by p.enrollment_id
)
,
-- The unit is the enrollment, not the person: a person's second and later enrollments (by
-- enrolled_on) are repeats, and some begin while a job from an earlier enrollment is held.
-- Counted (headline_by_program) so the About page and summary can say how many there are.
earlier_jobs as (
    select
        e.enrollment_id,
        bool_or(
            p.started_on <= e.enrolled_on
            and (p.ended_on is null or p.ended_on >= e.enrolled_on)
        ) as held_a_job
    from enrollments as e
    join enrollments as earlier
        on earlier.person_id = e.person_id
       and (earlier.enrolled_on < e.enrolled_on
            or (earlier.enrolled_on = e.enrolled_on and earlier.enrollment_id < e.enrollment_id))
    join placements as p
        on p.enrollment_id = earlier.enrollment_id
    group by e.enrollment_id
),
repeats as (
    select
        e.enrollment_id,
        row_number() over (
            partition by e.person_id order by e.enrolled_on, e.enrollment_id
        ) > 1 as is_repeat_enrollment,
        coalesce(j.held_a_job, false) as is_enrolled_while_employed
    from enrollments as e
    left join earlier_jobs as j
        on j.enrollment_id = e.enrollment_id
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
    f.placement.monthly_wage as placement_monthly_wage,
    coalesce(f.employed_q2_after_exit, false) as employed_q2_after_exit,
    coalesce(f.employed_q4_after_exit, false) as employed_q4_after_exit,
    r.is_repeat_enrollment,
    r.is_enrolled_while_employed
from enrollments as e
left join first_placements as f
    on f.enrollment_id = e.enrollment_id
left join repeats as r
    on r.enrollment_id = e.enrollment_id
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
        coalesce(b.exited_on + 90 <= a.as_of, false) as exit_followed_90d,
        coalesce(b.exited_on + 180 <= a.as_of, false) as exit_followed_180d,
        coalesce(b.exited_on + 182 <= a.as_of, false) as exit_followed_182d,
        coalesce(b.exited_on + 365 <= a.as_of, false) as exit_followed_365d,
        -- No exit recorded a year after enrolling (courses last up to six months): a missing
        -- record, left out of the exit-based rates, rather than someone still in training.
        b.exited_on is null and b.enrolled_on + 365 < a.as_of as is_exit_unrecorded,
        b.enrolled_on + 180 <= a.as_of as enrollment_followed_180d,
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
-- Exit-based rates count only enrollment months that are fully observed for the horizon: every
-- enrollment in them (but those with an unrecorded exit) has been followed h days after exit.
-- Counting people from a month that is not would count only those who left early (dropouts,
-- short courses), so recent months would flatter the programme with the shortest courses.
-- Months are judged over all programmes together, so programmes are compared over the same
-- months, and each month on its own: one late exit keeps its own month out, not the later ones.
-- observed_before_<h>d is the first month not fully observed for h days (the meeting pack's
-- default period ends before the 180-day one; summary prints all three).
month_observed as (
    select
        date_trunc('month', enrolled_on)::date as enrolled_month,
        bool_and(exit_followed_90d or is_exit_unrecorded) as observed_90d,
        bool_and(exit_followed_180d or is_exit_unrecorded) as observed_180d,
        bool_and(exit_followed_182d or is_exit_unrecorded) as observed_182d,
        bool_and(exit_followed_365d or is_exit_unrecorded) as observed_365d
    from dated
    group by all
),
first_open as (
    select
        coalesce(min(enrolled_month) filter (where not observed_180d), date '9999-12-01')
            as observed_before_180d,
        coalesce(min(enrolled_month) filter (where not observed_182d), date '9999-12-01')
            as observed_before_182d,
        coalesce(min(enrolled_month) filter (where not observed_365d), date '9999-12-01')
            as observed_before_365d
    from month_observed
),
observed as (
    select
        d.*,
        exit_followed_90d and m.observed_90d as followed_90d,
        exit_followed_180d and m.observed_180d as followed_180d,
        exit_followed_182d and m.observed_182d as followed_q2_after_exit,
        exit_followed_365d and m.observed_365d as followed_365d,
        o.observed_before_180d,
        o.observed_before_182d,
        o.observed_before_365d
    from dated as d
    join month_observed as m
        on m.enrolled_month = date_trunc('month', d.enrolled_on)::date
    cross join first_open as o
),
-- Who enrolled, as the strata of the adjusted comparison: a missing gender or education is its
-- own level 'unknown' (age_band is already 'unknown' without a birth year). Each combination
-- present gets a small integer, so the strata question groups by one integer instead of five
-- texts; outcome_strata (db.build_outcomes) gives the labels back. Each level of
-- the three personal characteristics gets a small integer too (age_code, gender_code,
-- education_code, in the order of the labels), for the questions that group by them.
levelled as (
    select
        *,
        coalesce(gender, 'unknown') as gender_level,
        coalesce(education, 'unknown') as education_level
    from observed
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
    -- Placement within 180 days of enrollment, whatever the course length: followed when
    -- enrolled_on + 180 <= as_of; placed when the first job started by enrolled_on + 180.
    enrollment_followed_180d::utinyint as is_followed_180d_from_enrollment,
    coalesce(enrollment_followed_180d and placed_on <= enrolled_on + 180, false)::utinyint
        as is_placed_180d_from_enrollment,
    -- Employed in the 2nd quarter after exit (any job on a day of days 91-182) among exits
    -- followed 182 days, and in the 4th quarter (days 274-365) among exits followed 365 days,
    -- in fully observed enrollment months as above.
    followed_q2_after_exit::utinyint as is_followed_q2_after_exit,
    (followed_q2_after_exit and employed_q2_after_exit)::utinyint as is_employed_q2_after_exit,
    followed_365d::utinyint as is_followed_q4_after_exit,
    (followed_365d and employed_q4_after_exit)::utinyint as is_employed_q4_after_exit,
    -- Counted, not used in the rates: see repeats and is_exit_unrecorded above.
    coalesce(is_repeat_enrollment, false)::utinyint as is_repeat_enrollment,
    coalesce(is_enrolled_while_employed, false)::utinyint as is_enrolled_while_employed,
    is_exit_unrecorded::utinyint as is_exit_unrecorded,
    -- Exited and followed 180 days, but in an enrollment month not yet fully observed: left out
    -- of the exit-based rates.
    (exit_followed_180d and not followed_180d)::utinyint as is_followed_180d_not_counted,
    observed_before_180d,
    observed_before_182d,
    observed_before_365d,
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
