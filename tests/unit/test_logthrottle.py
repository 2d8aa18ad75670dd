"""LogThrottle: one line per kind and interval, and how many were left out in between."""

from nuage.logthrottle import LogThrottle


def test_one_line_per_kind_and_interval_with_the_count_left_out() -> None:
    throttle = LogThrottle(3600.0)
    assert throttle.admit("431") == 0          # the first of its kind is logged
    assert throttle.admit("431") is None       # then left out within the interval
    assert throttle.admit("431") is None
    assert throttle.admit("408") == 0          # kinds are counted apart
    throttle.every = 0.0                       # the interval is over
    assert throttle.admit("431") == 2          # logged, saying how many were left out
    assert throttle.admit("431") == 0
