"""Runs the model tooling's tests (every tests/test_*.py) and ends with the suite's summary.

    PYTHONPATH=tools python -m tests [--summary FILE] [--suite NAME]

Output is unittest's verbose one, then one line, "python: N passed, F failed, S skipped", and
below it, indented, each failed test and each skipped test with its reason; --summary also writes
that to FILE (`make test-python` writes build/test-summary/python.txt). Under GLIMPSE_REQUIRE_ALL=1
(`make test`, which installs every prerequisite) a skipped test fails the suite: these tests have
no optional part, so a skip means something they need is missing.
"""
import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def summary(suite, result, require_all):
    failed = [t for t, _ in result.failures + result.errors] + list(result.unexpectedSuccesses)
    skipped = result.skipped
    passed = result.testsRun - len(failed) - len(skipped) - len(result.expectedFailures)
    head = f"{suite}: {passed} passed, {len(failed)} failed, {len(skipped)} skipped"
    if result.expectedFailures:
        head += f", {len(result.expectedFailures)} expected failures"
    if require_all and skipped:
        head += " (GLIMPSE_REQUIRE_ALL=1: a skip fails the suite)"
    lines = [head]
    lines += [f"  FAIL {t.id()}" for t in failed]
    lines += [f"  skipped {t.id()}: {reason or 'no reason given'}" for t, reason in skipped]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", help="also write the summary to this file")
    ap.add_argument("--suite", default="python", help="the suite's name, the summary's first word")
    args = ap.parse_args(argv)
    require_all = os.environ.get("GLIMPSE_REQUIRE_ALL") == "1"
    tests = unittest.defaultTestLoader.discover(HERE, top_level_dir=os.path.dirname(HERE))
    result = unittest.TextTestRunner(verbosity=2).run(tests)
    text = summary(args.suite, result, require_all)
    print("\n" + text, end="", flush=True)
    if args.summary:
        os.makedirs(os.path.dirname(os.path.abspath(args.summary)), exist_ok=True)
        with open(args.summary + ".tmp", "w") as f:
            f.write(text)
        os.replace(args.summary + ".tmp", args.summary)
    ok = result.wasSuccessful() and not (require_all and result.skipped) and result.testsRun > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
