#!/usr/bin/env python3
"""Checks that the arrows between Sealpipe's modules point one way.

Each project module may import only the modules listed for it below: C modules only from their
one wrapper, domain libraries never from services, the topology model from no service, a stage
node never from the key broker's store, the gateway from nothing that can open a sealed box, and
nothing from the command. Both the `import` lines in Sources/ and the dependencies declared in
Package.swift are checked, so neither can drift. Exit 1 names every broken arrow.

Usage: Scripts/check-architecture.py [SOURCES_DIR]   (SOURCES_DIR is for the script's own test)
"""
import json
import pathlib
import re
import subprocess
import sys

# module -> the project modules it may import (its layer and below). Third-party products
# (Logging, Yams, GRDB, Crypto, ...) are not project modules and are not constrained here.
ALLOWED = {
    "CZeroMQ": set(), "CSodium": set(), "COpenBLAS": set(), "CDNNL": set(),
    "TimeUnits": set(),
    "Wire": set(),
    "Observability": set(),
    "ZeroMQ": {"CZeroMQ", "TimeUnits"},
    "Sodium": {"CSodium"},
    "Inference": {"COpenBLAS", "CDNNL"},
    "Attestation": {"Sodium", "Wire"},
    "Trust": {"Sodium", "Wire", "Attestation"},
    # Pure: Sodium only for the file's digest and hex, no service and no I/O beyond reading the file.
    "Topology": {"Sodium", "Attestation"},
    "BrokerClient": {"Sodium", "ZeroMQ", "Attestation", "Trust"},
    "KeyBroker": {"Sodium", "ZeroMQ", "Wire", "Attestation", "Trust", "Observability", "TimeUnits"},
    # The gateway never holds a key: nothing that can open a sealed box.
    "Gateway": {"ZeroMQ", "Wire", "Observability", "TimeUnits"},
    "StageRuntime": {"Sodium", "ZeroMQ", "Wire", "Observability", "TimeUnits"},
    "Workloads": {"Sodium", "Wire", "Inference", "Trust", "Topology", "StageRuntime"},
    # A stage node links the broker's client, never its store.
    "Node": {"Sodium", "ZeroMQ", "Attestation", "Trust", "Inference", "Topology", "BrokerClient", "StageRuntime",
             "Workloads", "TimeUnits"},
    "Launcher": {"Sodium", "Attestation", "Trust", "Inference", "KeyBroker", "Topology", "Workloads", "TimeUnits"},
    # Deployment manifests from a topology: pure, knows no service.
    "Deploy": {"Topology", "Attestation", "Sodium"},
    "SealpipeClient": {"Sodium", "ZeroMQ", "Wire", "Trust", "Observability", "BrokerClient", "TimeUnits"},
}
# Modules that may only be imported by the modules named here (beyond ALLOWED's own rules).
COMMAND = "sealpipe"


def imports_in(directory: pathlib.Path) -> dict[str, set[str]]:
    pattern = re.compile(r"^\s*(?:@testable\s+)?(?:(?:public|package|internal|private|fileprivate)\s+)?import\s+(\w+)",
                         re.M)
    found: dict[str, set[str]] = {}
    for source in directory.rglob("*.swift"):
        for name in pattern.findall(source.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(source))
    return found


def dependency_list_problems(root: pathlib.Path, dump: dict) -> list[str]:
    """Package.swift's lists against the imports: every target (tests too) declares exactly the
    project modules and package products its sources import, no more and no fewer."""
    targets = {t["name"]: t for t in dump["targets"]}
    products = {d["product"][0] for t in dump["targets"] for d in t["dependencies"] if "product" in d}
    known = (set(targets) - {n for n, t in targets.items() if t["type"] == "system"}) | products
    problems = []
    for name, target in sorted(targets.items()):
        if target["type"] == "system":
            continue
        path = root / (target.get("path") or ("Tests/" if target["type"] == "test" else "Sources/") + name)
        imported = {i for i in imports_in(path) if i in known and i != name}
        declared = set()
        for dependency in target["dependencies"]:
            for key in ("byName", "target", "product"):
                if key in dependency:
                    declared.add(dependency[key][0])
        declared -= {n for n, t in targets.items() if t["type"] == "system"}
        for missing in sorted(imported - declared):
            problems.append(f"Package.swift: {name} imports {missing} without declaring it")
        for unused in sorted(declared - imported):
            problems.append(f"Package.swift: {name} declares {unused} but imports it nowhere")
    return problems


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    sources = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "Sources"
    project = set(ALLOWED) | {COMMAND}
    problems: list[str] = []

    for directory in sorted(p for p in sources.iterdir() if p.is_dir()):
        module = directory.name
        if module == COMMAND:
            continue
        if module not in ALLOWED:
            problems.append(f"{module}: a module this check does not know; add it to ALLOWED with its layer")
            continue
        for imported, files in sorted(imports_in(directory).items()):
            if imported in project and imported != module and imported not in ALLOWED[module]:
                where = sorted(files)[0]
                problems.append(f"{module} imports {imported} ({where}): not allowed; {module} may import "
                                f"{', '.join(sorted(ALLOWED[module])) or 'no project module'}")

    if len(sys.argv) == 1:
        dump = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True,
                                         capture_output=True, text=True).stdout)
        for target in dump["targets"]:
            name = target["name"]
            if target["type"] == "test" or name not in ALLOWED:
                continue
            for dependency in target["dependencies"]:
                if "byName" in dependency:
                    declared = dependency["byName"][0]
                elif "target" in dependency:
                    declared = dependency["target"][0]
                else:
                    continue
                if declared in project and declared not in ALLOWED[name]:
                    problems.append(f"Package.swift: {name} depends on {declared}, which it may not import")

        problems += dependency_list_problems(root, dump)

    for problem in problems:
        print(f"[architecture] {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"[architecture] {len(ALLOWED)} modules, every arrow points one way")
    return 0


if __name__ == "__main__":
    sys.exit(main())
