#!/usr/bin/env python3
"""Writes the benchmark sentence sets sentences-short.jsonl and sentences-medium.jsonl.

Sentences are built from fixed word lists with a seeded generator and kept only when
the model's own tokenizer gives exactly the target length (including [CLS] and [SEP]):
14 tokens for short, 46 for medium. Equal lengths mean batching adds no padding, so
the Swift and PyTorch benchmarks do the same work per sentence.

Usage (in the reference venv): make_sentences.py [--model DIR] [--count N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]

SUBJECTS = [
    "The new library", "Our small team", "A curious student", "The night train", "My old neighbour",
    "The city council", "A quiet engineer", "The river museum", "Every morning bus", "The weather service",
    "A local bakery", "The hospital staff", "Her younger brother", "The mountain guide", "This research group",
    "The school choir", "A careful editor", "The harbour crane", "Their family doctor", "The football club",
]
VERBS = [
    "opened", "repaired", "painted", "described", "announced", "measured", "cleaned", "planned",
    "reviewed", "delivered", "tested", "shared", "rebuilt", "photographed", "translated", "counted",
]
OBJECTS = [
    "the wooden bridge", "a detailed report", "the garden fence", "three new exhibits", "the annual budget",
    "a short film", "the broken window", "several old maps", "the winter schedule", "a long letter",
    "the kitchen floor", "two empty rooms", "the village road", "a simple recipe", "the final results",
    "the spare tyres", "a warm blanket", "the concert hall", "some fresh bread", "the lighthouse lamp",
]
TAILS = [
    "before lunch", "after the storm", "on Tuesday", "near the station", "for the visitors",
    "with great care", "last summer", "in the evening", "without any help", "during the festival",
    "at the weekend", "despite the rain", "by the lake", "for the first time", "in record time",
]
LINKS = [
    "while", "because", "although", "and then", "so that", "after", "before", "since", "whereas", "until",
]
TARGETS = {"short": 14, "medium": 46}


def clause(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}"


def short_candidate(rng: random.Random) -> str:
    return clause(rng) + "."


def medium_candidate(rng: random.Random) -> str:
    parts = [clause(rng)]
    for _ in range(rng.choice([3, 4])):
        link, text = rng.choice(LINKS), clause(rng)
        parts.append(f"{link} {text[0].lower()}{text[1:]}")
    return ", ".join(parts) + "."


def build(tokenizer: Tokenizer, make, target: int, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    found: list[str] = []
    seen: set[str] = set()
    for _ in range(200_000):
        text = make(rng)
        if text in seen:
            continue
        seen.add(text)
        if len(tokenizer.encode(text).ids) == target:
            found.append(text)
            if len(found) == count:
                return found
    sys.exit(f"make_sentences: only {len(found)} sentences of {target} tokens found")


def main() -> int:
    default_model = Path(os.environ.get("SEALPIPE_MODEL_DIR", REPO_ROOT / "models" / "all-MiniLM-L6-v2"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=default_model, help="model folder (default: %(default)s)")
    parser.add_argument("--count", type=int, default=128, help="sentences per set (default: %(default)s)")
    args = parser.parse_args()

    tokenizer = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    # tokenizer.json truncates at 128 and pads to 128; neither may touch the count.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    makers = {"short": short_candidate, "medium": medium_candidate}
    for seed, (name, target) in enumerate(TARGETS.items(), start=1):
        sentences = build(tokenizer, makers[name], target, args.count, seed)
        path = HERE / f"sentences-{name}.jsonl"
        with path.open("w", encoding="utf-8") as sink:
            for text in sentences:
                sink.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        print(f"make_sentences: wrote {len(sentences)} sentences of {target} tokens to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
