import time

import pytest


def test_passes():
    assert 1 + 1 == 2


def test_slow_passes():
    time.sleep(0.3)


def test_fails():
    assert 2 + 2 == 5, "arithmetic is broken"


@pytest.fixture
def broken_fixture():
    raise RuntimeError("fixture setup exploded")


def test_errors(broken_fixture):
    pass


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.parametrize("n", range(12))
def test_many_failures(n):
    assert n < 0, f"failure number {n}"
