#!/usr/bin/env python3
"""Benchmarks all-MiniLM-L6-v2 in sentence-transformers on CPU PyTorch: the baseline the
Swift encoder is compared with in docs/benchmarks.md.

For each sentence set (short: 14 tokens, medium: 46 tokens, both with [CLS]/[SEP]) and
batch size 1, 8 and 32 it reports sentences per second for a fixed number of sentences
after a warm-up: the best of --repeats timed runs (the least disturbed by other work on
a shared machine; the medians are reported too, under "median"), and the single-sentence
latency (batch 1) as median and 90th percentile over --latency-runs calls. Each timed
call is model.encode on raw text: tokenization, the encoder, mean pooling and L2
normalization, as a user of sentence-transformers gets them.

Usage (in the reference venv, see Scripts/reference/setup-venv.sh):
    pytorch_bench.py [--threads 2] [--json FILE] [--model DIR]
Writes JSON to standard output, or to FILE with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from bench_common import load_sentences, percentile

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SETS = ("short", "medium")
BATCH_SIZES = (1, 8, 32)


def parse_args() -> argparse.Namespace:
    default_model = Path(os.environ.get("SEALPIPE_MODEL_DIR", REPO_ROOT / "models" / "all-MiniLM-L6-v2"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="write the result here instead of standard output")
    parser.add_argument("--model", type=Path, default=default_model, help="model folder (default: %(default)s)")
    parser.add_argument("--sentences", type=int, default=256,
                        help="sentences per timed throughput run (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per configuration (default: %(default)s)")
    parser.add_argument("--latency-runs", type=int, default=100,
                        help="single-sentence calls for latency, at least 50 (default: %(default)s)")
    args = parser.parse_args()
    if args.threads < 1 or args.sentences < 32 or args.repeats < 1 or args.latency_runs < 50:
        parser.error("need --threads >= 1, --sentences >= 32, --repeats >= 1, --latency-runs >= 50")
    return args


def main() -> int:
    args = parse_args()
    # Fixed before torch loads, so that OpenMP and MKL start with this many threads.
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"

    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    if not (args.model / "model.safetensors").is_file():
        print(f"pytorch_bench: error: no model.safetensors in {args.model}; run Scripts/fetch-model.sh",
              file=sys.stderr)
        return 1
    transformers_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    model = SentenceTransformer(str(args.model), device="cpu")
    model.max_seq_length = 256
    model.eval()

    def encode(texts: list[str], batch_size: int) -> None:
        model.encode(texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)

    load_before = os.getloadavg()[0]
    result: dict = {
        "engine": "sentence-transformers",
        "torch_version": torch.__version__,
        "sentence_transformers_version": sentence_transformers.__version__,
        "threads": torch.get_num_threads(),
        "sentences_per_run": args.sentences,
        "repeats": args.repeats,
        "tokens_mean": {},
        "estimator": "best of repeats",
    }
    medians: dict[str, dict[str, float]] = {}
    for name in SETS:
        texts = load_sentences(name, "pytorch_bench")
        lengths = [int(model.preprocess([t])["attention_mask"].sum()) for t in texts]
        result["tokens_mean"][name] = round(statistics.fmean(lengths), 2)
        workload = [texts[i % len(texts)] for i in range(args.sentences)]
        rates: dict[str, float] = {}
        for batch_size in BATCH_SIZES:
            encode(workload[: max(2 * batch_size, 16)], batch_size)  # warm-up
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                encode(workload, batch_size)
                times.append(time.perf_counter() - start)
            rates[str(batch_size)] = round(args.sentences / min(times), 1)
            medians.setdefault(name, {})[str(batch_size)] = round(args.sentences / statistics.median(times), 1)
            print(f"pytorch_bench: {name:<6} batch {batch_size:>2}: {rates[str(batch_size)]:8.1f} sentences/s "
                  f"(median {medians[name][str(batch_size)]:.1f})", file=sys.stderr)
        result[name] = rates
    result["median"] = medians

    result["latency_ms"] = {}
    for name in SETS:
        texts = load_sentences(name, "pytorch_bench")
        for text in texts[:10]:
            encode([text], 1)  # warm-up
        samples = []
        for i in range(args.latency_runs):
            text = [texts[i % len(texts)]]
            start = time.perf_counter()
            encode(text, 1)
            samples.append((time.perf_counter() - start) * 1000.0)
        result["latency_ms"][name] = {
            "p50": round(statistics.median(samples), 3),
            "p90": round(percentile(samples, 0.9), 3),
            "runs": args.latency_runs,
        }
        print(f"pytorch_bench: {name:<6} latency p50 {result['latency_ms'][name]['p50']:.3f} ms, "
              f"p90 {result['latency_ms'][name]['p90']:.3f} ms", file=sys.stderr)
    # Other work on the machine skews the numbers; the load average shows how much.
    result["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}

    text = json.dumps(result, indent=2) + "\n"
    if args.json:
        args.json.write_text(text, encoding="utf-8")
        print(f"pytorch_bench: wrote {args.json}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
