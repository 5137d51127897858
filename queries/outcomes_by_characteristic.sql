-- Who benefits: placement within 180 days of exit, retention at 12 months and the median wage of
-- the first job, per programme and level of each personal characteristic (age band, gender,
-- education), with the same definitions as headline_by_program.sql. Grouping sets (one set per
-- characteristic) count each enrollment once per characteristic, so the levels of one
-- characteristic add up to the programme's total.
-- A missing gender or education is its own level 'unknown' (gender_level, education_level in
-- views/enrollment_outcomes.sql; age_band is already 'unknown' without a birth year).
-- The median wage comes with a distribution-free 95% interval: the order statistics at ranks
-- n/2 -/+ 1.96 * sqrt(n) / 2 of the sorted wages (Conover, Practical Nonparametric Statistics),
-- taken here so that no person-level wage leaves DuckDB. The order statistics are read from the
-- count of each distinct wage and its running total instead of a sorted list of every wage: the
-- same values, but wages repeat (a few thousand distinct amounts), so this groups instead of
-- sorting millions of values.
-- The levels are grouped by their small integer codes (age_code, gender_code, education_code,
-- numbered in views/enrollment_outcomes.sql) and named from outcome_strata at the end: integers
-- hash faster than texts. Codes are never NULL, so in a grouping set the one code grouped is
-- coalesce(age_code, gender_code, education_code).
-- The outcome flags and the wage of first jobs started by as_of are defined in
-- views/enrollment_outcomes.sql.
-- Grain: one row per program_type x characteristic x level present under the filters.
-- Key: program_type, characteristic, level.
-- Parameters: $filters.
with outcomes as (
    select
        program_type,
        age_code,
        gender_code,
        education_code,
        is_followed_180d,
        is_placed_180d,
        is_followed_12m,
        is_retained_12m,
        monthly_wage_by_as_of as monthly_wage
    from filtered_outcomes($filters)
),
-- One row per programme x age band x gender x education x wage (a NULL wage: no first job by
-- as_of): one pass over the enrollments, the grouping sets below then work on this small table.
fine as (
    select
        program_type,
        age_code,
        gender_code,
        education_code,
        monthly_wage,
        count(*) as enrolled_count,
        sum(is_followed_180d)::bigint as placement_rate_180d_n,
        sum(is_placed_180d)::bigint as placed_180d_count,
        sum(is_followed_12m)::bigint as retention_12m_n,
        sum(is_retained_12m)::bigint as retained_12m_count
    from outcomes
    group by program_type, age_code, gender_code, education_code, monthly_wage
),
-- One row per programme x characteristic x level x wage; characteristic 1 is the age band, 2
-- gender, 3 education.
cells as (
    select
        program_type,
        case
            when grouping(age_code) = 0 then 1
            when grouping(gender_code) = 0 then 2
            else 3
        end as characteristic_code,
        coalesce(age_code, gender_code, education_code) as level_code,
        monthly_wage,
        sum(enrolled_count)::bigint as enrolled_count,
        sum(placement_rate_180d_n)::bigint as placement_rate_180d_n,
        sum(placed_180d_count)::bigint as placed_180d_count,
        sum(retention_12m_n)::bigint as retention_12m_n,
        sum(retained_12m_count)::bigint as retained_12m_count
    from fine
    group by grouping sets (
        (program_type, age_code, monthly_wage),
        (program_type, gender_code, monthly_wage),
        (program_type, education_code, monthly_wage)
    )
),
levels as (
    select
        program_type,
        characteristic_code,
        level_code,
        sum(enrolled_count)::bigint as enrolled_count,
        sum(placement_rate_180d_n)::bigint as placement_rate_180d_n,
        sum(placed_180d_count)::bigint as placed_180d_count,
        sum(retention_12m_n)::bigint as retention_12m_n,
        sum(retained_12m_count)::bigint as retained_12m_count,
        coalesce(sum(enrolled_count) filter (where monthly_wage is not null), 0)::bigint
            as median_monthly_wage_n
    from cells
    group by program_type, characteristic_code, level_code
),
-- The ranks wanted in each level's sorted wages: the two middle ones (equal when n is odd) and
-- the interval's two order statistics. Divided by 2.0, not 2: engines that divide integers as
-- integers (DataFusion, docs/scaling.md) would otherwise read other ranks.
ranks as (
    select
        *,
        floor((median_monthly_wage_n + 1) / 2.0)::bigint as middle_low,
        ceil((median_monthly_wage_n + 1) / 2.0)::bigint as middle_high,
        greatest(1, floor(median_monthly_wage_n / 2.0 - 0.98 * sqrt(median_monthly_wage_n)))::bigint
            as interval_low,
        least(
            median_monthly_wage_n,
            ceil(1 + median_monthly_wage_n / 2.0 + 0.98 * sqrt(median_monthly_wage_n))
        )::bigint as interval_high
    from levels
),
-- Each distinct wage with the rank of its last copy: the wage at rank k is the smallest wage
-- whose running count reaches k.
running as (
    select
        program_type,
        characteristic_code,
        level_code,
        monthly_wage,
        sum(enrolled_count) over (
            partition by program_type, characteristic_code, level_code
            order by monthly_wage
            rows between unbounded preceding and current row
        ) as through_rank
    from cells
    where monthly_wage is not null
),
order_statistics as (
    select
        r.program_type,
        r.characteristic_code,
        r.level_code,
        (min(w.monthly_wage) filter (where w.through_rank >= r.middle_low)
         + min(w.monthly_wage) filter (where w.through_rank >= r.middle_high)) / 2.0
            as median_monthly_wage,
        min(w.monthly_wage) filter (where w.through_rank >= r.interval_low)
            as median_monthly_wage_low,
        min(w.monthly_wage) filter (where w.through_rank >= r.interval_high)
            as median_monthly_wage_high
    from ranks as r
    join running as w
        on w.program_type = r.program_type
       and w.characteristic_code = r.characteristic_code
       and w.level_code = r.level_code
    group by r.program_type, r.characteristic_code, r.level_code
),
-- The name of each characteristic and level, from the stratum labels.
level_labels as (
    select distinct
        c.characteristic_code,
        c.characteristic,
        case c.characteristic_code
            when 1 then s.age_code
            when 2 then s.gender_code
            else s.education_code
        end as level_code,
        case c.characteristic_code
            when 1 then s.age_band
            when 2 then s.gender_level
            else s.education_level
        end as level
    from outcome_strata as s
    cross join (
        values (1, 'age_band'), (2, 'gender'), (3, 'education')
    ) as c (characteristic_code, characteristic)
)
select
    r.program_type,
    l.characteristic,
    l.level,
    r.enrolled_count,
    r.placement_rate_180d_n,
    r.placed_180d_count,
    r.retention_12m_n,
    r.retained_12m_count,
    r.median_monthly_wage_n,
    o.median_monthly_wage,
    o.median_monthly_wage_low,
    o.median_monthly_wage_high
from ranks as r
join level_labels as l
    on l.characteristic_code = r.characteristic_code
   and l.level_code = r.level_code
left join order_statistics as o
    on o.program_type = r.program_type
   and o.characteristic_code = r.characteristic_code
   and o.level_code = r.level_code
order by r.program_type, l.characteristic, l.level
