-- Size and span of the extract, for the header, the About page and the Data page.
-- Grain: one row.
-- Key: none (one row).
-- Parameters: none.
select
    (select count(*) from enrollments) as enrollment_count,
    (select count(distinct person_id) from enrollments) as person_count,
    (select count(*) from placements) as placement_count,
    (select min(enrolled_on) from enrollments) as first_enrolled_on,
    (select max(enrolled_on) from enrollments) as last_enrolled_on,
    (select max(started_on) from placements) as last_started_on
