"""The figures every consumer shows, one module per question area: each public function takes
`(con, extract, filters, min_cell, ...)` and returns a suppressed DataFrame, kept in the one
result cache (reemploy.cache). A function named like a file of queries/ answers that question;
pages, the CLI, downloads and the pack call these functions, so suppression and the metric
definitions (data/README.md, Metrics) are applied once, the same way everywhere.

    headline      headline_by_program, enrollment_count_by_program, program_differences
    compare       curves, placement by horizon, employer mix, raw and adjusted differences
    districts     outcomes_by_district, placement_gap_by_district
    sectors       placement_rate_by_prior_sector, placement_flows_by_sector
    trends        placement_rate_by_cohort, placement_rate_changes
    who_benefits  outcomes_by_characteristic and the gaps within each group
    catalogue     filter_values, extract_profile (whatever the filters)
    common        what they share: asking a query, rates, Kaplan-Meier, suppression of breakdowns
"""

from reemploy.figures import (  # noqa: E402,F401
    catalogue,
    common,
    compare,
    districts,
    headline,
    sectors,
    trends,
    who_benefits,
)


def questions() -> list:
    """Every figure a page can ask for: the public cached functions of the area modules that take
    `(con, extract, filters, min_cell, ...)`, in module order."""
    import inspect

    found = []
    for module in (headline, compare, districts, sectors, trends, who_benefits):
        for name, function in vars(module).items():
            if (not name.startswith("_") and hasattr(function, "uncached")
                    and function.__module__ == module.__name__
                    and "min_cell" in inspect.signature(function).parameters):
                found.append(function)
    return found
