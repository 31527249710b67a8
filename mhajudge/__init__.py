"""mhajudge: a judge for machine-learning coding interviews.

The library API (what the CLI calls)::

    from mhajudge.judge import judge_file
    report = judge_file("solution.py", "sdpa")
    report.verdict, report.passed, report.total, report.to_json()
"""

__version__ = "0.1.0"
