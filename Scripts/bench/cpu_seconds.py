#!/usr/bin/env python3
"""Sums `process_cpu_seconds_total` over the services of a launched topology.

usage: cpu_seconds.py SEALPIPE_BINARY TOPOLOGY   (prints seconds; every service must answer)
The metrics addresses come from `sealpipe topology check`, so they follow the file.
"""
import re
import subprocess
import sys
import urllib.request

binary, topology = sys.argv[1], sys.argv[2]
summary = subprocess.run([binary, "topology", "check", topology], capture_output=True, text=True, check=True).stdout
urls = re.findall(r"metrics (http://\S+/metrics)", summary)
if not urls:
    sys.exit(f"no metrics addresses in the summary of {topology}")
total = 0.0
for url in urls:
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    match = re.search(r"^process_cpu_seconds_total (\S+)$", text, re.MULTILINE)
    if not match:
        sys.exit(f"{url} reports no process_cpu_seconds_total")
    total += float(match.group(1))
print(f"{total:.3f}")
