"""The dates a schedule's rule gives (`ledger.recurrence`): RFC 5545 rules, a month day the month
lacks falling on its last day, weekend moves, and a rule's errors naming the field. Pure
functions: no database, no clock."""

import datetime

import pytest

from ledger import recurrence
from ledger.recurrence import RuleError, dates, gives_dates, moved, normalise

D = datetime.date


def given(rule: dict, start: datetime.date, **bounds) -> list[datetime.date]:
    return list(dates(normalise(rule), start, **bounds))


def iso(days: list[datetime.date]) -> list[str]:
    return [d.isoformat() for d in days]


class TestMonthEnds:
    def test_a_monthly_rule_on_the_31st_falls_on_each_shorter_months_last_day(self):
        found = given({"freq": "monthly", "by_month_day": [31]}, D(2027, 1, 1), end=D(2027, 12, 31))
        assert iso(found) == [
            "2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30",
            "2027-07-31", "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31",
        ]  # fmt: skip

    def test_a_monthly_rule_without_a_day_started_on_the_31st_keeps_to_month_ends(self):
        found = given({"freq": "monthly"}, D(2027, 1, 31), count=13)
        assert len(found) == 13
        assert iso(found)[:5] == [
            "2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31",
        ]  # fmt: skip
        assert found[-1] == D(2028, 1, 31)  # not drifting to the 28th or 30th

    def test_the_15th_and_the_31st(self):
        found = given(
            {"freq": "monthly", "by_month_day": [15, 31]}, D(2027, 1, 1), end=D(2027, 4, 30)
        )
        assert iso(found) == [
            "2027-01-15", "2027-01-31", "2027-02-15", "2027-02-28",
            "2027-03-15", "2027-03-31", "2027-04-15", "2027-04-30",
        ]  # fmt: skip

    def test_minus_one_is_the_last_day(self):
        found = given({"freq": "monthly", "by_month_day": [-1]}, D(2028, 1, 1), count=4)
        assert iso(found) == ["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30"]

    def test_the_30th_in_february_of_a_common_and_a_leap_year(self):
        found = given({"freq": "monthly", "by_month_day": [30]}, D(2027, 1, 1), end=D(2028, 3, 31))
        assert D(2027, 2, 28) in found and D(2028, 2, 29) in found
        assert [d for d in found if d.month == 2] == [D(2027, 2, 28), D(2028, 2, 29)]
        assert len(found) == 15  # one in each month, none skipped, none doubled

    def test_the_29th_in_february_of_a_common_and_a_leap_year(self):
        found = given({"freq": "monthly", "by_month_day": [29]}, D(2027, 1, 1), end=D(2028, 3, 31))
        assert [d for d in found if d.month == 2] == [D(2027, 2, 28), D(2028, 2, 29)]
        assert all(d.day == 29 for d in found if d.month != 2)
        assert len(found) == 15

    def test_a_yearly_rule_with_a_day_repeats_once_a_year_in_the_start_month(self):
        """Without by_month, a yearly rule on the 15th is an annual bill: the start's month, once
        a year (RFC 5545 would give every month's 15th: a monthly rule in disguise)."""
        found = given({"freq": "yearly", "by_month_day": [15]}, D(2027, 3, 1), count=3)
        assert found == [D(2027, 3, 15), D(2028, 3, 15), D(2029, 3, 15)]

    def test_a_yearly_rule_on_the_31st_of_given_months(self):
        rule = {"freq": "yearly", "by_month": [1, 4], "by_month_day": [31]}
        found = given(rule, D(2027, 1, 1), end=D(2028, 12, 31))
        assert found == [D(2027, 1, 31), D(2027, 4, 30), D(2028, 1, 31), D(2028, 4, 30)]

    def test_a_yearly_rule_on_the_31st_of_every_month(self):
        rule = {"freq": "yearly", "by_month": list(range(1, 13)), "by_month_day": [31]}
        found = given(rule, D(2027, 1, 1), end=D(2027, 12, 31))
        assert len(found) == 12
        assert D(2027, 2, 28) in found and D(2027, 12, 31) in found

    def test_a_monthly_rule_started_on_the_30th_of_january(self):
        found = given({"freq": "monthly"}, D(2027, 1, 30), count=3)
        assert found == [D(2027, 1, 30), D(2027, 2, 28), D(2027, 3, 30)]


class TestLeapDays:
    def test_a_yearly_rule_from_february_29_falls_on_the_28th_in_common_years(self):
        found = given({"freq": "yearly"}, D(2024, 2, 29), end=D(2032, 12, 31))
        assert iso(found) == [
            "2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29",
            "2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29",
        ]  # fmt: skip

    def test_a_yearly_rule_from_an_ordinary_day_stays_on_it(self):
        found = given({"freq": "yearly"}, D(2027, 7, 14), count=3)
        assert found == [D(2027, 7, 14), D(2028, 7, 14), D(2029, 7, 14)]

    def test_every_four_years_from_a_leap_day(self):
        found = given({"freq": "yearly", "interval": 4}, D(2024, 2, 29), count=3)
        assert found == [D(2024, 2, 29), D(2028, 2, 29), D(2032, 2, 29)]


class TestWeekdays:
    def test_every_other_week_on_monday_and_thursday(self):
        found = given(
            {"freq": "weekly", "interval": 2, "by_weekday": ["MO", "TH"]}, D(2027, 1, 4), count=6
        )
        assert iso(found) == [
            "2027-01-04", "2027-01-07", "2027-01-18", "2027-01-21", "2027-02-01", "2027-02-04",
        ]  # fmt: skip

    def test_a_weekly_rule_started_midweek_begins_at_its_first_matching_day(self):
        found = given({"freq": "weekly", "by_weekday": ["MO"]}, D(2027, 1, 6), count=2)
        assert found == [D(2027, 1, 11), D(2027, 1, 18)]

    def test_a_weekly_rule_without_a_day_keeps_the_start_days_weekday(self):
        found = given({"freq": "weekly"}, D(2027, 1, 6), count=3)
        assert found == [D(2027, 1, 6), D(2027, 1, 13), D(2027, 1, 20)]

    def test_the_last_weekday_of_each_month(self):
        rule = {"freq": "monthly", "by_weekday": ["MO", "TU", "WE", "TH", "FR"], "by_set_pos": -1}
        found = given(rule, D(2027, 1, 1), count=6)
        # 2027-01-31 is a Sunday, 2027-02-28 a Sunday, 2027-10-31 a Sunday.
        assert iso(found) == [
            "2027-01-29", "2027-02-26", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30",
        ]  # fmt: skip
        assert all(d.weekday() < 5 for d in found)

    def test_the_last_friday_of_each_month(self):
        found = given({"freq": "monthly", "by_weekday": ["-1FR"]}, D(2027, 1, 1), count=3)
        assert found == [D(2027, 1, 29), D(2027, 2, 26), D(2027, 3, 26)]
        assert all(d.weekday() == 4 for d in found)

    def test_the_second_tuesday_of_each_month(self):
        found = given({"freq": "monthly", "by_weekday": ["2tu"]}, D(2027, 1, 1), count=3)
        assert found == [D(2027, 1, 12), D(2027, 2, 9), D(2027, 3, 9)]

    def test_numbered_weekdays_are_normalised_to_upper_case(self):
        assert normalise({"freq": "monthly", "by_weekday": " -1fr "})["by_weekday"] == ["-1FR"]


class TestBounds:
    RULE = {"freq": "monthly", "by_month_day": [31]}

    def test_count_counts_from_the_start(self):
        assert given(self.RULE, D(2027, 1, 1), count=3) == [
            D(2027, 1, 31),
            D(2027, 2, 28),
            D(2027, 3, 31),
        ]

    def test_end_date_is_included(self):
        found = given(self.RULE, D(2027, 1, 1), end=D(2027, 3, 31))
        assert found[-1] == D(2027, 3, 31)
        assert given(self.RULE, D(2027, 1, 1), end=D(2027, 3, 30))[-1] == D(2027, 2, 28)

    def test_after_gives_only_later_dates_and_keeps_counting_from_the_start(self):
        found = given(self.RULE, D(2027, 1, 1), count=4, after=D(2027, 2, 28))
        assert found == [D(2027, 3, 31), D(2027, 4, 30)]

    def test_after_and_until_bound_a_window(self):
        found = given(self.RULE, D(2027, 1, 1), after=D(2027, 3, 31), until=D(2027, 6, 30))
        assert found == [D(2027, 4, 30), D(2027, 5, 31), D(2027, 6, 30)]

    def test_a_start_after_the_end_gives_nothing(self):
        assert given(self.RULE, D(2027, 5, 1), end=D(2027, 4, 1)) == []

    def test_no_end_stops_at_the_horizon(self):
        found = given({"freq": "yearly"}, D(2027, 1, 1))
        assert found[0] == D(2027, 1, 1)
        assert found[-1] == D(2027 + recurrence.HORIZON_YEARS, 1, 1)

    def test_the_start_day_is_an_occurrence_when_the_rule_gives_it(self):
        assert given({"freq": "daily"}, D(2027, 1, 1), count=2) == [D(2027, 1, 1), D(2027, 1, 2)]


class TestWeekendMoves:
    @pytest.mark.parametrize(
        ("day", "weekend", "expected"),
        [
            (D(2027, 1, 9), "before", D(2027, 1, 8)),  # Saturday -> Friday
            (D(2027, 1, 10), "before", D(2027, 1, 8)),  # Sunday -> Friday
            (D(2027, 1, 9), "after", D(2027, 1, 11)),  # Saturday -> Monday
            (D(2027, 1, 10), "after", D(2027, 1, 11)),  # Sunday -> Monday
            (D(2027, 1, 9), "keep", D(2027, 1, 9)),
            (D(2027, 1, 10), "keep", D(2027, 1, 10)),
            # Across a year: Saturday 2027-01-02 before is Friday 2027-01-01.
            (D(2027, 1, 2), "before", D(2027, 1, 1)),
            (D(2027, 1, 3), "before", D(2027, 1, 1)),
            # Across a year the other way: Sunday 2028-12-31 after is Monday 2029-01-01.
            (D(2028, 12, 31), "after", D(2029, 1, 1)),
            # Across a month: Sunday 2027-01-31 after is Monday 2027-02-01, Saturday 2027-05-01
            # before is Friday 2027-04-30.
            (D(2027, 1, 31), "after", D(2027, 2, 1)),
            (D(2027, 5, 1), "before", D(2027, 4, 30)),
        ],
    )
    def test_a_weekend_day_moves(self, day, weekend, expected):
        assert moved(day, weekend) == expected
        assert expected.weekday() < 5 or weekend == "keep"

    @pytest.mark.parametrize("weekend", ["keep", "before", "after"])
    def test_a_weekday_never_moves(self, weekend):
        for offset in range(5):  # Monday 2027-01-04 to Friday 2027-01-08
            day = D(2027, 1, 4) + datetime.timedelta(days=offset)
            assert moved(day, weekend) == day


class TestNormalise:
    def test_the_stored_shape(self):
        assert normalise({"freq": "monthly"}) == {"freq": "monthly", "interval": 1}
        assert normalise({"freq": "weekly", "interval": 2, "by_weekday": "mo"}) == {
            "freq": "weekly",
            "interval": 2,
            "by_weekday": ["MO"],
        }
        assert normalise({"freq": "monthly", "by_month_day": 31}) == {
            "freq": "monthly",
            "interval": 1,
            "by_month_day": [31],
        }

    @pytest.mark.parametrize(
        ("rule", "field"),
        [
            ({"freq": "monthly", "interval": 0}, "interval"),
            ({"freq": "monthly", "interval": 1000}, "interval"),
            ({"freq": "monthly", "interval": "x"}, "interval"),
            ({"freq": "monthly", "interval": 1.5}, "interval"),
            ({"freq": "monthly", "interval": True}, "interval"),
            ({"freq": "hourly"}, "freq"),
            ({"interval": 1}, "freq"),
            ({"freq": "monthly", "by_monthday": [1]}, "rule"),
            ({"freq": "weekly", "by_weekday": ["XX"]}, "by_weekday"),
            ({"freq": "monthly", "by_weekday": ["0MO"]}, "by_weekday"),
            ({"freq": "monthly", "by_weekday": [1]}, "by_weekday"),
            ({"freq": "monthly", "by_month_day": [0]}, "by_month_day"),
            ({"freq": "monthly", "by_month_day": [32]}, "by_month_day"),
            ({"freq": "monthly", "by_month_day": [-32]}, "by_month_day"),
            ({"freq": "monthly", "by_month_day": []}, "by_month_day"),
            ({"freq": "monthly", "by_month_day": ["1"]}, "by_month_day"),
            ({"freq": "monthly", "by_set_pos": [-1]}, "by_set_pos"),
            ({"freq": "monthly", "by_weekday": ["MO"], "by_set_pos": [0]}, "by_set_pos"),
            ({"freq": "daily", "by_month_day": [1]}, "by_month_day"),
            ({"freq": "weekly", "by_month_day": [1]}, "by_month_day"),
            ({"freq": "monthly", "by_month": [1]}, "by_month"),
            ({"freq": "yearly", "by_month": [13]}, "by_month"),
            ({"freq": "weekly", "by_weekday": ["1MO"]}, "by_weekday"),
            ({"freq": "monthly", "by_weekday": ["6MO"]}, "by_weekday"),
            ({"freq": "daily", "by_weekday": ["MO"], "by_set_pos": [2]}, "by_set_pos"),
            ({"freq": "weekly", "by_weekday": ["MO", "TU"], "by_set_pos": [3]}, "by_set_pos"),
            ({"freq": "monthly", "by_month_day": [1], "by_set_pos": [32]}, "by_set_pos"),
        ],
    )
    def test_a_wrong_rule_names_its_field(self, rule, field):
        with pytest.raises(RuleError) as caught:
            normalise(rule)
        assert field in caught.value.errors, caught.value.errors

    def test_an_unknown_field_is_named_in_the_message(self):
        with pytest.raises(RuleError) as caught:
            normalise({"freq": "monthly", "by_monthday": [1], "hourly": True})
        assert caught.value.errors["rule"] == "Unknown fields: by_monthday, hourly."

    def test_every_wrong_field_is_named_at_once(self):
        with pytest.raises(RuleError) as caught:
            normalise({"freq": "hourly", "interval": 0, "by_month_day": [32]})
        assert set(caught.value.errors) == {"freq", "interval", "by_month_day"}

    def test_a_rule_that_is_no_object(self):
        with pytest.raises(RuleError) as caught:
            normalise("FREQ=MONTHLY")
        assert set(caught.value.errors) == {"rule"}


class TestRulesThatGiveNoDate:
    @pytest.mark.parametrize(
        "rule",
        [
            {"freq": "monthly", "by_weekday": ["MO"], "by_set_pos": [6]},
            {"freq": "monthly", "by_month_day": [1], "by_weekday": ["5FR"]},
            {"freq": "monthly", "by_month_day": [1], "by_set_pos": [2]},
            {"freq": "yearly", "by_month": [2], "by_month_day": [30], "by_set_pos": [1]},
        ],
    )
    def test_a_rule_that_never_matches_is_found_out_without_walking_the_calendar(self, rule):
        """dateutil would walk period by period to the year 9999 looking for a date; the probe
        walks from the same day of the calendar's last centuries, so it answers at once."""
        assert gives_dates(normalise(rule), D(2027, 1, 1)) is False

    def test_a_rule_that_matches_rarely_still_gives_dates(self):
        friday_13th = {"freq": "monthly", "by_month_day": [13], "by_weekday": ["FR"]}
        assert gives_dates(normalise(friday_13th), D(2027, 1, 1)) is True
        assert given(friday_13th, D(2027, 1, 1), count=2) == [D(2027, 8, 13), D(2028, 10, 13)]
