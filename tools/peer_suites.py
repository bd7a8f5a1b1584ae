"""Run a peer's public test suite against minigrad through thin name adapters and count
the outcomes (issue 15: >= 90 % of the non-complex tests, 0 wrong answers).

    python tools/peer_suites.py autograd PATH   # HIPS autograd sdist (.tar.gz) or its tests/
    python tools/peer_suites.py tinygrad PATH   # tinygrad's test/test_ops.py
    python tools/peer_suites.py tinygrad PATH --discover   # log every failing helper call

The peers' files are not part of minigrad (their licences, and "write your own tests"):
they are copied into a temporary directory next to the adapters (tools/peer_adapters: a
fake ``autograd`` whose numpy functions go through numpy's own dispatch to minigrad, each
value checked against real numpy, gradients checked by central differences to order 2; a
fake ``tinygrad`` whose Tensor is minigrad's with tinygrad's names), then pytest runs in one
process. Every failure is classed from its message:

- wrong: a value or gradient that differs (the adapters' WrongAnswer/WrongGradient, or
  tinygrad's "forward pass"/"backward pass" comparison against PyTorch)
- missing: a name minigrad does not have (AttributeError, numpy function not dispatched)
- refused: minigrad raised a clear error (an argument form it does not take, or another
  exception class than the peer expects)
- complex: tests of complex numbers (not counted in the rate)
Not part of ``make test``: ``make peers AUTOGRAD=... TINYGRAD=...``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ADAPTERS = Path(__file__).resolve().parent / "peer_adapters"
ROOT = Path(__file__).resolve().parent.parent
OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S+)(?: - (.*))?$")
COMPLEX_FILES = ("test_complex.py", "test_fft.py")


def _autograd_tests(source: Path, work: Path) -> Path:
    """autograd's tests/ folder copied into ``work`` (from the sdist or a folder)."""
    target = work / "tests"
    if source.is_file():
        with tarfile.open(source) as archive:
            members = [m for m in archive.getmembers() if "/tests/" in m.name and m.isfile()]
            for member in members:
                member.name = member.name.split("/tests/", 1)[1]
                archive.extract(member, target, filter="data")
    else:
        shutil.copytree(source / "tests" if (source / "tests").is_dir() else source, target)
    return target


def _tinygrad_tests(source: Path, work: Path, discover: bool) -> Path:
    target = work / "tests"
    target.mkdir()
    shutil.copy(source, target / "test_ops.py")
    if discover:
        shutil.copy(ADAPTERS / "discover_conftest.py", target / "conftest.py")
    return target


def classify(name: str, message: str) -> str:
    """The class of one failing test, from its name and pytest's one-line message."""
    if "complex" in name.lower() or name.split("::", maxsplit=1)[0] in COMPLEX_FILES:
        return "complex"
    if re.search(r"WrongAnswer|WrongGradient|forward pass failed|backward pass tensor",
                 message):
        return "wrong"
    if message.startswith(("AttributeError", "ModuleNotFoundError", "ImportError")) or \
            "is not supported on minigrad tensors" in message:
        return "missing"
    return "refused"


def run(suite: str, source: Path, discover: bool, failures: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix=f"peer-{suite}-") as tmp:
        work = Path(tmp)
        tests = (_autograd_tests(source, work) if suite == "autograd"
                 else _tinygrad_tests(source, work, discover))
        log = work / "discover.jsonl"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ADAPTERS), str(ROOT)]),
               "COLUMNS": "1000", "PEER_DISCOVER_LOG": str(log)}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p",
                   "no:cacheprovider", "--continue-on-collection-errors", "--tb=no", "-rA",
                   "-W", "ignore", str(tests)]
        result = subprocess.run(command, cwd=tests, env=env, capture_output=True, text=True,
                                check=False)
        report(result.stdout, failures)
        if discover:
            report_discovery(log)
    return 0


def _subtest_failures(output: str) -> dict[str, str]:
    """Tests with a failing subtest (``SUBFAILED(i=1) name - message``; pytest reports the
    test itself as PASSED) and the first such message."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"^SUBFAILED(?:\(.*?\))? (\S+)(?: - (.*))?$", line)
        if match:
            found.setdefault(match.group(1), f"subtest: {match.group(2) or ''}")
    return found


def report(output: str, failures: bool = False) -> None:
    """Print the counts per class, each wrong answer, and with ``failures`` every test
    that did not pass, one line each: class, name, message."""
    counts: collections.Counter[str] = collections.Counter()
    wrong = []
    failed = []
    subfailed = _subtest_failures(output)
    for line in output.splitlines():
        skipped = re.match(r"^SKIPPED \[(\d+)\]", line)
        if skipped:
            counts["skipped"] += int(skipped.group(1))
            continue
        match = OUTCOME.match(line)
        if not match:
            continue
        status, name, message = match.group(1), match.group(2), match.group(3) or ""
        if status == "PASSED" and name in subfailed:  # a subtest of it failed
            status, message = "FAILED", subfailed[name]
        kind = ("complex" if classify(name, "") == "complex" and status != "SKIPPED"
                else status.lower() if status in ("PASSED", "SKIPPED")
                else "missing" if status == "ERROR"  # a test file importing the peer's
                else classify(name, message))        # internals (autograd.core, ...)
        counts[kind] += 1
        if kind == "wrong":
            wrong.append(f"  {name}: {message[:200]}")
        if kind in ("wrong", "missing", "refused"):
            failed.append(f"{kind:8} {name}: {message[:300]}")
    ran = sum(counts[k] for k in ("passed", "wrong", "missing", "refused"))
    rate = 100.0 * counts["passed"] / ran if ran else 0.0
    print(f"non-complex tests run: {ran}  passed: {counts['passed']} ({rate:.1f} %)  "
          f"wrong: {counts['wrong']}  missing: {counts['missing']}  "
          f"refused: {counts['refused']}  skipped: {counts['skipped']}  "
          f"complex (not counted): {counts['complex']}")
    print("\n".join(wrong))
    if failures:
        print("\n".join(sorted(failed)))


def report_discovery(log: Path) -> None:
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    mismatches = [r for r in rows if r["msg"].startswith(("forward pass", "backward pass"))]
    print(f"discovery: {len(rows)} failing helper calls, {len(mismatches)} value mismatches")
    for row in mismatches:
        print(f"  {row['test']} line {row['line']}: {row['msg'][:200]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", choices=("autograd", "tinygrad"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--discover", action="store_true",
                        help="tinygrad: log every failing helper call instead of stopping")
    parser.add_argument("--failures", action="store_true",
                        help="list every test that did not pass, with its class and message")
    args = parser.parse_args()
    return run(args.suite, args.path, args.discover, args.failures)


if __name__ == "__main__":
    raise SystemExit(main())
