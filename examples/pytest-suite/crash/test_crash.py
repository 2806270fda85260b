import os


def test_passes_before_crash():
    pass


def test_crashes_interpreter():
    os.abort()
