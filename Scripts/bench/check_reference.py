#!/usr/bin/env python3
"""Checks a sealpipe binary against the committed sentence-transformers fixture, in the
environment it is run in (so a benchmark can prove the BLAS kernel it measures computes the
right thing): token ids equal for every case, cosine similarity >= 0.9999 for every embedding.

usage: check_reference.py SEALPIPE_BINARY [FIXTURE]   (exit status 1 on any mismatch)
"""
import json
import math
import subprocess
import sys

binary = sys.argv[1]
fixture_path = sys.argv[2] if len(sys.argv) > 2 else "Tests/InferenceTests/Fixtures/minilm-reference.json"
cases = json.load(open(fixture_path))["cases"]
stdin = "".join(json.dumps({"text": case["text"]}) + "\n" for case in cases)
run = subprocess.run([binary, "embed", "--tokens"], input=stdin, capture_output=True, text=True, check=True)
outputs = [json.loads(line) for line in run.stdout.splitlines()]
if len(outputs) != len(cases):
    sys.exit(f"expected {len(cases)} embeddings, got {len(outputs)}")

worst, bad = 1.0, []
for case, out in zip(cases, outputs):
    a, b = case["embedding"], out["embedding"]
    cosine = sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))
    worst = min(worst, cosine)
    if out["input_ids"] != case["input_ids"]:
        bad.append(f"{case['name']} (token ids)")
    if cosine < 0.9999:
        bad.append(f"{case['name']} (cosine {cosine:.7f})")
print(f"reference check: {len(cases)} cases, {len(bad)} mismatches, worst cosine {worst:.7f}")
if bad:
    sys.exit(f"mismatch in: {', '.join(bad)}")
