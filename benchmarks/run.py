"""The README's benchmark table. Runs the measurements asked for, then prints every result found in
build/benchmarks/ as Markdown. Not a test: nothing here asserts a time.

    .venv/bin/python benchmarks/run.py                      print the table from the last results
    .venv/bin/python benchmarks/run.py images overhead growth   measure those first (minutes; engine lock held)

images.py: product image vs its floor, cold vs config-only rebuild. overhead.py: preview / no-change up vs a bare
pulumi-kubernetes program with the same objects, cluster life, a paced load during a pod kill and a rollout.
growth.py: evaluation and preview for 1, 10, 50 profiles (and benchmarks/growth.png). entry.py: TLS handshake +
first byte through the edge vs a node port, the paced load through the edge during a pod kill and a keystore
rollout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from benchmarks.stats import Repeats, ratio  # noqa: E402

RESULTS = PROJECT_DIR / "build/benchmarks"
PARTS = ("images", "overhead", "growth", "entry")


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def load_row(name: str, load_: dict[str, Any], rate: float, idle_p99: float) -> tuple[str, str]:
    event = f"; event ended at {load_['event_ended_s']:.0f} s" if load_.get("event_ended_s") else ""
    return (f"{name}: {load_['requests']} requests at {rate:.0f}/s",
            f"{load_['failed']} failed; p50 {load_['p50_ms']:.0f} ms, p99 {load_['p99_ms']:.0f} ms "
            f"({load_['p99_ms'] / idle_p99:.2f}× idle p99){event}")


def entry_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    node, edge = r["first byte node port"], r["first byte edge"]
    rows = [("machine (entry)", r["machine"]),
            (f"TLS handshake + first byte, fresh connection ({edge['count']} each): through the edge / straight "
             "to the node port", f"p50 {edge['p50_ms']:.0f} ms / {node['p50_ms']:.0f} ms = "
             f"**{edge['p50_ms'] / node['p50_ms']:.2f}×**; p90 {edge['p90_ms']:.0f} / {node['p90_ms']:.0f} ms"),
            ("moving the stack to the edge (`pulumi up`: edge image built and pushed, Service to ClusterIP)",
             f"{r['up to the edge s']:.1f} s")]
    idle = r["edge load idle"]["p99_ms"]
    for case in ("edge load idle", "edge load pod kill (sticky client)", "edge load keystore rollout"):
        rows.append(load_row(case, r[case], r["rate_rps"], idle))
    rows += [(what, f"{r[what]:.1f} s") for what in ("pod kill → member back (2 ready) s",
                                                     "keystore rollout → all new members serving s") if what in r]
    return rows


def overhead_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("machine", r["machine"]), ("Kubernetes objects (both programs)", str(r["objects"]))]
    for what in ("preview", "up (no change)"):
        ours, bare = Repeats(tuple(r["ours"][what])), Repeats(tuple(r["bare"][what]))
        rows.append((f"`pulumi {what}`: wso2-kubernetes / bare pulumi-kubernetes",
                     f"{ours.text()} / {bare.text()} = **{ratio(ours, bare):.2f}×**"))
    rows += [(f"cluster life: {k}", f"{v:.1f} s") for k, v in r["life"].items()]
    idle = r["load idle"]["p99_ms"]
    for case in ("load idle", "load pod kill", "load rollout"):
        rows.append(load_row(case, r[case], r["rate_rps"], idle))
    return rows


def images_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    cold, rebuild = Repeats(tuple(r["product build cold s"])), Repeats(tuple(r["config-only rebuild s"]))
    return [
        ("base image build, cold", f"{r['base build cold s']:.1f} s"),
        ("product image build, cold", cold.text()),
        ("product image rebuild after a config-only change", f"{rebuild.text()} = **{r['rebuild / cold']:.2f}× cold**"),
        (f"product image size vs floor (runtime {r['runtime image MB']:.0f} MB + unpacked pack "
         f"{r['pack unpacked MB']:.0f} MB)", f"{r['product image MB']:.0f} MB / {r['floor MB']:.0f} MB = "
         f"**{r['size / floor']:.3f}×**"),
    ]


def growth_rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(f"{row['profiles']} profiles ({row['resources']} resources)",
             f"evaluation {row['evaluation cold s']:.1f} s cold / {row['evaluation warm s']:.1f} s unchanged; "
             f"preview {row['preview s']:.1f} s") for row in r["rows"]]
    per = ", ".join(f"{s:.2f}" for s in r["preview s per extra profile"])
    rows.append(("growth (preview s per extra profile, 1→10, 10→50)",
                 f"{per}: {'linear or better' if r['preview linear or better'] else 'worse than linear'}"))
    return rows


def main(argv: list[str]) -> int:
    unknown = [a for a in argv if a not in PARTS]
    if unknown:
        print(f"unknown part(s) {unknown}; choose from {PARTS}", file=sys.stderr)
        return 2
    for part in argv:
        subprocess.run([sys.executable, str(PROJECT_DIR / "benchmarks" / f"{part}.py")], check=True)
    print("| what | measured |\n|---|---|")
    for name, rows in (("images", images_rows), ("overhead", overhead_rows), ("growth", growth_rows),
                       ("entry", entry_rows)):
        result = load(name)
        if result is None:
            print(f"| {name} | not measured yet (`benchmarks/run.py {name}`) |")
            continue
        for what, value in rows(result):
            print(f"| {what} | {value} |")
    timings = PROJECT_DIR / "build/engine-timings.json"  # written by the last run of tests/engine/test_stack.py
    if timings.is_file():
        for what, seconds in json.loads(timings.read_text()).items():
            print(f"| engine test: {what} | {seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
