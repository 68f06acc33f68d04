#!/usr/bin/env python3
"""Writes a copy of a topology with its ports moved into a given range (and, optionally, every
stage's replica count set), so a benchmark can launch it without touching the ports of the
shipped file, which tests and other people's runs use.

usage: move_topology.py SOURCE DEST --ports 5600 --metrics 9500 [--replicas N] [--name NAME]

Every `tcp://HOST:PORT` endpoint moves by the same offset, so that the lowest lands on --ports;
`metrics.basePort` becomes --metrics. A service with an explicit metrics address is refused
(its port would not move). The result is checked to lie inside [--ports, --ports + 100) and
[--metrics, --metrics + 100) given the number of services.
"""
import argparse
import re
import sys

import yaml

ENDPOINT = re.compile(r"^(tcp://[^:]+):(\d+)$")

parser = argparse.ArgumentParser()
parser.add_argument("source")
parser.add_argument("dest")
parser.add_argument("--ports", type=int, required=True)
parser.add_argument("--metrics", type=int, required=True)
parser.add_argument("--replicas", type=int)
parser.add_argument("--name")
args = parser.parse_args()

with open(args.source) as source:
    topology = yaml.safe_load(source)


def endpoints(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from endpoints(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from endpoints(value, f"{path}[{index}]")
    elif isinstance(node, str) and ENDPOINT.match(node):
        yield path, node


found = list(endpoints(topology))
if not found:
    sys.exit(f"move_topology: no tcp:// endpoints in {args.source}")
lowest = min(int(ENDPOINT.match(value).group(2)) for _, value in found)


def move(node):
    if isinstance(node, dict):
        return {key: move(value) for key, value in node.items()}
    if isinstance(node, list):
        return [move(value) for value in node]
    if isinstance(node, str) and (match := ENDPOINT.match(node)):
        return f"{match.group(1)}:{int(match.group(2)) - lowest + args.ports}"
    return node


topology = move(topology)
topology.setdefault("metrics", {})["basePort"] = args.metrics
services = 2  # the broker and the gateway
for index, stage in enumerate(topology.get("stages", [])):
    if "metrics" in stage:
        sys.exit(f"move_topology: stages[{index}] has its own metrics address, which this script does not move")
    if args.replicas is not None:
        stage["replicas"] = args.replicas
    services += stage.get("replicas", 1)
for name in ("kms", "gateway"):
    if isinstance(topology.get(name), dict) and "metrics" in topology[name]:
        sys.exit(f"move_topology: {name} has its own metrics address, which this script does not move")
highest = max(int(ENDPOINT.match(value).group(2)) for _, value in endpoints(topology))
if highest >= args.ports + 100 or services > 100:
    sys.exit(f"move_topology: the moved topology does not fit in {args.ports}-{args.ports + 99} "
             f"and {args.metrics}-{args.metrics + 99}")
if args.name:
    topology["name"] = args.name
with open(args.dest, "w") as dest:
    dest.write(f"# {args.source} with ports moved to {args.ports}+ and metrics to {args.metrics}+ "
               "(Scripts/bench/move_topology.py)\n")
    yaml.safe_dump(topology, dest, sort_keys=False, default_flow_style=None)
