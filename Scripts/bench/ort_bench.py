#!/usr/bin/env python3
"""Benchmarks all-MiniLM-L6-v2 on ONNX Runtime, fp32 and int8: the anchors a user picking a CPU
embedding runtime would compare with (fastembed and Optimum run this way).

The model is exported from the local files (models/all-MiniLM-L6-v2) with torch.onnx, fused
with onnxruntime.transformers.optimizer (model_type bert), and, for the second anchor, quantized
with onnxruntime.quantization.quantize_dynamic (int8 weights per channel, activations quantized
per call).
Each session runs with --threads intra-op threads and one inter-op thread. Every timed call
does what sentence-transformers' encode does: tokenization (the model's tokenizer.json through
the `tokenizers` library, padded to the batch's longest sentence), the encoder, mean pooling
over the attention mask and L2 normalization. Same sentence sets, batch sizes, passes and
estimator as pytorch_bench.py (best of --repeats; medians reported too).

Before timing, each variant's embeddings are compared with the committed sentence-transformers
fixture (Tests/InferenceTests/Fixtures/minilm-reference.json): the worst cosine is reported, and
fp32 must reach 0.9999 (a broken export would otherwise be timed as if it were the model).

Usage (in the reference venv with Scripts/bench/ort-requirements.txt installed; see ort_bench.sh):
    ort_bench.py [--threads 2] [--json FILE] [--model DIR] [--work DIR]
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
FIXTURE = REPO_ROOT / "Tests" / "InferenceTests" / "Fixtures" / "minilm-reference.json"


def parse_args() -> argparse.Namespace:
    default_model = Path(os.environ.get("SEALPIPE_MODEL_DIR", REPO_ROOT / "models" / "all-MiniLM-L6-v2"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (default: %(default)s)")
    parser.add_argument("--json", type=Path, help="write the result here instead of standard output")
    parser.add_argument("--model", type=Path, default=default_model, help="model folder (default: %(default)s)")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / ".cache" / "onnx",
                        help="where the exported, fused and quantized models go (default: %(default)s)")
    parser.add_argument("--sentences", type=int, default=256,
                        help="sentences per timed throughput run (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per configuration (default: %(default)s)")
    parser.add_argument("--latency-runs", type=int, default=100,
                        help="single-sentence calls for latency, at least 50 (default: %(default)s)")
    args = parser.parse_args()
    if args.threads < 1 or args.sentences < 32 or args.repeats < 1 or args.latency_runs < 50:
        parser.error("need --threads >= 1, --sentences >= 32, --repeats >= 1, --latency-runs >= 50")
    return args


def export(model_dir: Path, work: Path) -> dict[str, Path]:
    """The fp32 fused and int8 models, made once per model folder (reused while the inputs match)."""
    import onnx
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel

    work.mkdir(parents=True, exist_ok=True)
    stamp = work / "stamp.json"
    weights = model_dir / "model.safetensors"
    identity = {"weights_bytes": weights.stat().st_size, "weights_mtime": weights.stat().st_mtime,
                "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
                "recipe": "eager attention, opset 17, bert fusion, int8 per-channel dynamic"}
    paths = {"raw": work / "model.onnx", "stats": work / "fused-operators.json", "fp32": work / "model-fused.onnx",
             "int8": work / "model-fused-int8.onnx"}
    if stamp.is_file() and json.loads(stamp.read_text()) == identity and all(p.is_file() for p in paths.values()):
        print(f"ort_bench: reusing the exported models in {work}", file=sys.stderr)
        return paths

    config = AutoConfig.from_pretrained(str(model_dir))
    # Eager attention exports the classic BERT attention subgraph, which the optimizer fuses into
    # its Attention operator (the SDPA export is left unfused).
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        """The BERT encoder's last hidden state: pooling happens outside, as in the other engines."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    dummy = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "sequence"}
    print("ort_bench: exporting with torch.onnx", file=sys.stderr)
    with torch.no_grad():
        torch.onnx.export(
            Encoder(model), (dummy, dummy, torch.zeros_like(dummy)), str(paths["raw"]),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "last_hidden_state": axes},
            opset_version=17, dynamo=False)
    print("ort_bench: fusing with onnxruntime.transformers.optimizer (bert)", file=sys.stderr)
    fused = optimize_model(str(paths["raw"]), model_type="bert", num_heads=config.num_attention_heads,
                           hidden_size=config.hidden_size)
    fused.save_model_to_file(str(paths["fp32"]))
    fused_counts = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
    print(f"ort_bench: fused operators {fused_counts}", file=sys.stderr)
    paths["stats"].write_text(json.dumps(fused_counts))
    print("ort_bench: int8 dynamic quantization", file=sys.stderr)
    # Per-channel int8 weights, as Optimum's AVX-512 configurations do: per-tensor scales lose too
    # much here (worst cosine to the fixture 0.85 against 0.98). Fused operators (com.microsoft
    # domain) defeat shape inference; their outputs are float.
    quantize_dynamic(str(paths["fp32"]), str(paths["int8"]), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    stamp.write_text(json.dumps(identity))
    return paths


def main() -> int:
    args = parse_args()
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"

    if not (args.model / "model.safetensors").is_file():
        print(f"ort_bench: error: no model.safetensors in {args.model}; run Scripts/fetch-model.sh", file=sys.stderr)
        return 1
    paths = export(args.model, args.work)

    import numpy as np
    import onnxruntime
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def session(path: Path) -> onnxruntime.InferenceSession:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def embed(run: onnxruntime.InferenceSession, texts: list[str]) -> np.ndarray:
        encodings = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = run.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def encode(run: onnxruntime.InferenceSession, texts: list[str], batch_size: int) -> None:
        for start in range(0, len(texts), batch_size):
            embed(run, texts[start:start + batch_size])

    cases = json.loads(FIXTURE.read_text())["cases"]
    load_before = os.getloadavg()[0]
    result: dict = {
        "engine": "onnxruntime",
        "onnxruntime_version": onnxruntime.__version__,
        "threads": args.threads,
        "sentences_per_run": args.sentences,
        "repeats": args.repeats,
        "estimator": "best of repeats",
        "fused_operators": json.loads((args.work / "fused-operators.json").read_text()),
        "variants": {},
    }
    for variant in ("fp32", "int8"):
        run = session(paths[variant])
        worst = 1.0
        for case in cases:
            got = embed(run, [case["text"]])[0]
            want = np.array(case["embedding"], dtype=np.float64)
            worst = min(worst, float(np.dot(got, want) / (np.linalg.norm(got) * np.linalg.norm(want))))
        print(f"ort_bench: {variant}: {len(cases)} fixture cases, worst cosine {worst:.6f}", file=sys.stderr)
        if variant == "fp32" and worst < 0.9999:
            print(f"ort_bench: error: the fp32 export's worst cosine to the fixture is {worst:.6f} (< 0.9999)",
                  file=sys.stderr)
            return 1
        figures: dict = {"worst_cosine_to_reference": round(worst, 6), "median": {}, "latency_ms": {}}
        for name in SETS:
            texts = load_sentences(name, "ort_bench")
            workload = [texts[i % len(texts)] for i in range(args.sentences)]
            rates: dict[str, float] = {}
            for batch_size in BATCH_SIZES:
                encode(run, workload[: max(2 * batch_size, 16)], batch_size)  # warm-up
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    encode(run, workload, batch_size)
                    times.append(time.perf_counter() - start)
                rates[str(batch_size)] = round(args.sentences / min(times), 1)
                figures["median"].setdefault(name, {})[str(batch_size)] = round(
                    args.sentences / statistics.median(times), 1)
                print(f"ort_bench: {variant} {name:<6} batch {batch_size:>2}: {rates[str(batch_size)]:8.1f} "
                      f"sentences/s (median {figures['median'][name][str(batch_size)]:.1f})", file=sys.stderr)
            figures[name] = rates
            for text in texts[:10]:
                embed(run, [text])  # warm-up
            samples = []
            for i in range(args.latency_runs):
                start = time.perf_counter()
                embed(run, [texts[i % len(texts)]])
                samples.append((time.perf_counter() - start) * 1000.0)
            figures["latency_ms"][name] = {"p50": round(statistics.median(samples), 3),
                                           "p90": round(percentile(samples, 0.9), 3), "runs": args.latency_runs}
        result["variants"][variant] = figures
    result["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}

    text = json.dumps(result, indent=2) + "\n"
    if args.json:
        args.json.write_text(text, encoding="utf-8")
        print(f"ort_bench: wrote {args.json}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
