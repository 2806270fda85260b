# The small suite the install and package tests run under an installed guardian:
# 2 passed, 1 failed (pytest exits 1).
def test_one():
    assert 1 + 1 == 2


def test_two():
    assert "guardian"


def test_broken():
    assert 1 == 2
