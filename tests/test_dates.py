"""Dates and date ranges in the brief's language, with the months in full.

The expected strings are those of the Babel (CLDR) version requirements.lock pins: CLDR
46 puts thin spaces (U+2009) around an English range's dash and a narrow no-break space
(U+202F) before 'г.' and 'ж.'.
"""

from __future__ import annotations

import pytest

from policybrief.i18n import format_span
from policybrief.models import PartialDate


@pytest.mark.parametrize(("language", "start", "end", "expected"), [
    ("en-GB", "2017-01-23", "2017-01-24", "23\u2009–\u200924 January 2017"),
    ("en-GB", "2024-03-12", "2024-04-13", "12 March\u2009–\u200913 April 2024"),
    ("en-GB", "2024-12-30", "2025-01-02", "30 December 2024\u2009–\u20092 January 2025"),
    ("en", "2025-07-03", "2025-07-04", "July 3\u2009–\u20094, 2025"),
    ("ru", "2015-05-08", "2015-05-09", "8—9 мая 2015\u202fг."),
    ("ru", "2024-03-12", "2024-04-13", "12 марта — 13 апреля 2024\u202fг."),
    ("kk", "2025-07-03", "2025-07-04", "2025\u202fж. 3–4 шілде"),
    ("en-GB", "2017-01", "2017-02", "January 2017 – February 2017"),  # months only
    ("en-GB", "2017-01-23", "2017-01-23", "23 January 2017"),  # one day
])
def test_ranges_have_full_month_names(language: str, start: str, end: str,
                                      expected: str) -> None:
    assert format_span(PartialDate.parse(start), PartialDate.parse(end), language) == expected

