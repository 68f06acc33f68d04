#!/usr/bin/env python3
"""Reads `process_cpu_seconds_total` from every service of a launched topology.

usage: cpu_seconds.py SEALPIPE_BINARY TOPOLOGY [--by-service]
Prints the total in seconds, or with --by-service a JSON object of seconds per service.
The services and their metrics addresses come from `sealpipe topology check`, so they follow
the file. Every service must answer.
"""
import json
import re
import subprocess
import sys
import urllib.request

binary, topology = sys.argv[1], sys.argv[2]
summary = subprocess.run([binary, "topology", "check", topology], capture_output=True, text=True, check=True).stdout
services = re.findall(r"^\s+(\S+)\s+metrics (http://\S+/metrics)$", summary, re.MULTILINE)
if not services:
    sys.exit(f"no metrics addresses in the summary of {topology}")
seconds = {}
for name, url in services:
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    match = re.search(r"^process_cpu_seconds_total (\S+)$", text, re.MULTILINE)
    if not match:
        sys.exit(f"{url} reports no process_cpu_seconds_total")
    seconds[name] = float(match.group(1))
print(json.dumps(seconds) if "--by-service" in sys.argv[3:] else f"{sum(seconds.values()):.3f}")
