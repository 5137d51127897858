-- What each stratum number of views/enrollment_outcomes.sql stands for: age band, gender,
-- education (a missing one is 'unknown'), prior sector and district. Read from outcome_strata,
-- written beside the materialised outcomes by db.build_outcomes, so it belongs to one extract
-- version and takes no filters.
-- Grain: one row per stratum.
-- Key: stratum.
-- Parameters: none.
select
    stratum,
    age_band,
    gender_level as gender,
    education_level as education,
    prior_sector,
    district
from outcome_strata
order by stratum
