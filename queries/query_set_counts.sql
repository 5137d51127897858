-- Disclosure control for user-defined views (issue 13, data/README.md "Threat model"): how many
-- people each view, each cell of a breakdown and every view it could be subtracted from hold, so
-- reemploy.disclosure can withhold a view or cell that differs from another by a small group.
-- Not filtered: each filter becomes a grouping column holding the selected value an enrollment
-- matches, NULL when it matches none (or the filter is not set); the period is a flag.
-- Grain: one row per program_type x cell ($by: district, prior_sector or none) x selected
-- district x selected sector x selected gender x selected age band x selected education x in
-- period present.
-- Key: program_type, cell, selected_district, selected_sector, selected_gender, selected_age_band, selected_education, in_period.
-- Parameters: the fields of $filters (each filter is a dimension here, so a new filter is a new
-- column of this disclosure count too); $by, the breakdown dimension ('' for none); $scope, the
-- signed-in user's districts (NULL = open access): only rows inside it are counted, so the
-- views compared are those the user can open and no count crosses the scope.
-- The programme filter is not a dimension here: every figure is per programme already.
select
    program_type,
    case $by
        when 'district' then district
        when 'prior_sector' then prior_sector
    end as cell,
    case when list_contains(($filters).districts, district) then district end as selected_district,
    case when list_contains(($filters).sectors, prior_sector) then prior_sector end as selected_sector,
    case when list_contains(($filters).genders, gender) then gender end as selected_gender,
    case when list_contains(($filters).age_bands, age_band) then age_band end as selected_age_band,
    case when list_contains(($filters).educations, education) then education end as selected_education,
    coalesce((($filters).date_from is null or enrolled_on >= ($filters).date_from)
             and (($filters).date_to is null or enrolled_on <= ($filters).date_to), false) as in_period,
    count(*) as enrolled_count,
    sum(is_exited)::bigint as exited_count,
    sum(is_followed_90d)::bigint as followed_90d_count,
    sum(is_followed_180d)::bigint as followed_180d_count,
    sum(is_followed_365d)::bigint as followed_365d_count,
    sum(is_placed_by_as_of)::bigint as placed_by_as_of_count
from enrollment_outcomes
where $scope is null or list_contains($scope, district)
group by 1, 2, 3, 4, 5, 6, 7, 8
order by 1, 2, 3, 4, 5, 6, 7, 8
