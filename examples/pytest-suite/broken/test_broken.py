import this_module_does_not_exist  # noqa: F401  a collection error on purpose


def test_never_runs():
    pass
