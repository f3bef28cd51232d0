"""Support code shared by the tests: not tests themselves, so pytest never collects them.

A test module (``test_*.py``) is never imported by another file
(``tests/unit/test_test_layout.py`` checks it): what two tests share lives here or in a
``conftest.py``. The modules: ``waiting`` (the one polling helper), ``terminal`` (the one pty
driver), ``cli`` (the command line in a subprocess or in-process), ``app`` (the dashboard's
helpers), ``scripted`` (a hand-made event stream), ``run_files`` and ``idx_files`` (writers of
run-directory events and of IDX dataset files).
"""
