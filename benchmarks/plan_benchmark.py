"""How long `homelab plan` takes and how deep its dependency graph is, against the import floor.

    .venv/bin/python -m benchmarks.plan_benchmark [--runs N] [--workers N] [--control-planes N] [--json]

(or `./dev bench`). Runs, as child processes on this machine, interleaved, `--runs` times each:

- the floor: a bare `python -c "from ... import ..."` of what the program's resources and
  invokes come from (`benchmarks/floor.py`);
- `python -m cli.main plan --stack dev --out DIR`: the example stack, exactly what a user runs;
- the same for a generated stack (default 3 control planes with a VIP and 60 workers).

One untimed warm-up run of each comes first; bytecode is cached in a temporary directory,
as it is on a user's machine. Reports the median wall time and peak memory (max RSS of
the child) of each, the longest dependency chain of both plans (from their
`resources.json`, with `plan.graph.longest_chain`) and three targets. Exit 1 when a
target fails. A benchmark, not a test: the graph property is also checked by
`tests/plan/test_critical_path.py`, timings are not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.floor import floor_code
from benchmarks.stacks import REPO, scaled_stack, write_stack
from plan.graph import longest_chain
from plan.monitor import Registration

EXAMPLE_OVER_FLOOR = 1.5
SCALED_OVER_EXAMPLE = 2.0


@dataclass
class Case:
    key: str
    label: str
    command: list[str]
    out: Path | None = None
    seconds: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_peak_mib(self) -> float:
        return statistics.median(self.peak_kib) / 1024


def child_environment(pycache: Path) -> dict[str, str]:
    """The caller's environment, with Python free to cache bytecode (in `pycache`, not in the checkout).

    A user's machine keeps compiled bytecode between runs; PYTHONDONTWRITEBYTECODE (set
    in some sandboxes and CI images) would make every run compile the project anew.
    """
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(pycache)
    return environment


def _run_child(command: list[str], environment: dict[str, str]) -> tuple[float, int]:
    """Wall time and max RSS (KiB) of one child process; fails on a non-zero exit."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=REPO, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            stderr.seek(0)
            message = stderr.read().decode(errors="replace")
            raise SystemExit(f"{' '.join(command)} exited {child.returncode}:\n{message}")
    # Linux reports ru_maxrss in KiB.
    return elapsed, usage.ru_maxrss


def _registrations(resources_json: Path) -> list[Registration]:
    return [
        Registration(
            urn=item["urn"],
            type=item["type"],
            name=item["name"],
            parent=item["parent"],
            provider=item["provider"],
            custom=item["custom"],
            dependencies=item["dependencies"],
            inputs=item["inputs"],
            secret_inputs=item["secretInputs"],
        )
        for item in json.loads(resources_json.read_text(encoding="utf-8"))
    ]


def _graph(case: Case) -> dict[str, Any]:
    assert case.out is not None
    registrations = _registrations(case.out / "resources.json")
    by_urn = {r.urn: r for r in registrations}
    chain = longest_chain(registrations)
    return {
        "resources": len(registrations),
        "longestChain": len(chain),
        "chain": [f"{by_urn[urn].type} {by_urn[urn].name}" for urn in chain],
    }


def measure(runs: int, workers: int, control_planes: int, work: Path) -> dict[str, Any]:
    python = sys.executable
    stack_file = write_stack(scaled_stack(workers, control_planes), work, f"bench-{control_planes}-{workers}")
    nodes = control_planes + workers
    cases = [
        Case("floor", "import floor (SDK modules)", [python, "-c", floor_code()]),
        Case(
            "example",
            "plan: example stack (dev)",
            [python, "-m", "cli.main", "plan", "--stack", "dev", "--out", str(work / "example")],
            work / "example",
        ),
        Case(
            "scaled",
            f"plan: {control_planes} cp + {workers} workers",
            [python, "-m", "cli.main", "plan", "--config-file", str(stack_file), "--out", str(work / "scaled")],
            work / "scaled",
        ),
    ]
    environment = child_environment(work / "pycache")
    for case in cases:  # warm-up (bytecode cache, page cache): not counted
        _run_child(case.command, environment)
    for _ in range(runs):  # interleaved, so drift on the machine hits every case alike
        for case in cases:
            seconds, peak = _run_child(case.command, environment)
            case.seconds.append(seconds)
            case.peak_kib.append(peak)

    floor, example, scaled = cases
    graphs = {case.key: _graph(case) for case in (example, scaled)}
    example_ratio = example.median_seconds / floor.median_seconds
    scaled_ratio = scaled.median_seconds / example.median_seconds
    chains = (graphs["example"]["longestChain"], graphs["scaled"]["longestChain"])
    return {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "runs": runs,
        "scaledStack": {"controlPlanes": control_planes, "workers": workers, "nodes": nodes},
        "cases": {
            case.key: {
                "label": case.label,
                "command": case.command,
                "medianSeconds": round(case.median_seconds, 4),
                "seconds": [round(s, 4) for s in case.seconds],
                "medianPeakMiB": round(case.median_peak_mib, 1),
                **graphs.get(case.key, {}),
            }
            for case in cases
        },
        "targets": [
            {
                "name": f"example plan <= {EXAMPLE_OVER_FLOOR}x the import floor",
                "value": round(example_ratio, 3),
                "limit": EXAMPLE_OVER_FLOOR,
                "passed": example_ratio <= EXAMPLE_OVER_FLOOR,
            },
            {
                "name": f"{nodes}-node plan <= {SCALED_OVER_EXAMPLE}x the example plan",
                "value": round(scaled_ratio, 3),
                "limit": SCALED_OVER_EXAMPLE,
                "passed": scaled_ratio <= SCALED_OVER_EXAMPLE,
            },
            {
                "name": f"longest chain of the {nodes}-node plan == the example's",
                "value": chains[1],
                "limit": chains[0],
                "passed": chains[1] == chains[0],
            },
        ],
    }


def render(report: dict[str, Any]) -> str:
    machine, cases = report["machine"], report["cases"]
    floor = cases["floor"]["medianSeconds"]
    lines = [
        f"homelab plan benchmark: median of {report['runs']} runs, Python {machine['python']}, {machine['cpus']} CPUs",
        "",
        f"{'case':<32} {'wall s':>7} {'x floor':>8} {'peak MiB':>9} {'resources':>10} {'chain':>6}",
    ]
    for case in cases.values():
        lines.append(
            f"{case['label']:<32} {case['medianSeconds']:>7.3f} {case['medianSeconds'] / floor:>8.2f} "
            f"{case['medianPeakMiB']:>9.1f} {case.get('resources', '-'):>10} {case.get('longestChain', '-'):>6}"
        )
    lines += ["", "Targets:"]
    for target in report["targets"]:
        verdict = "PASS" if target["passed"] else "FAIL"
        lines.append(f"  {verdict}  {target['name']}: {target['value']} (limit {target['limit']})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.plan_benchmark", description="Time `homelab plan` against the SDK import floor."
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each case (default: 5); median reported")
    parser.add_argument("--workers", type=int, default=60, help="workers of the generated stack (default: 60)")
    parser.add_argument("--control-planes", type=int, default=3, help="its control planes (default: 3)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="homelab-bench-") as work:
        report = measure(args.runs, args.workers, args.control_planes, Path(work))
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else render(report))
    return 0 if all(target["passed"] for target in report["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
