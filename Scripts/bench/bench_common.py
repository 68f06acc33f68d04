"""What the Python reference benchmarks (pytorch_bench.py, ort_bench.py) share: the sentence sets
and the percentile estimator, so their figures are computed the same way."""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def load_sentences(name: str, program: str) -> list[str]:
    """The benchmark's `sentences-NAME.jsonl`: at least 64 distinct texts, or `program` exits."""
    path = HERE / f"sentences-{name}.jsonl"
    with path.open(encoding="utf-8") as source:
        texts = [json.loads(line)["text"] for line in source if line.strip()]
    if len(texts) < 64 or len(set(texts)) != len(texts):
        sys.exit(f"{program}: {path} needs at least 64 distinct sentences")
    return texts
