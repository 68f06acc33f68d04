#!/usr/bin/env python3
"""Writes the reference fixture that the Swift tokenizer and encoder are tested against.

Runs sentence-transformers (CPU PyTorch) on the local all-MiniLM-L6-v2 folder over a
varied set of sentences and records, per case, the token ids the model really saw and
the normalized 384-float embedding. Installs nothing: run it through make_reference.sh,
which prepares the venv from requirements.txt.

Usage: make_reference.py [--model DIR] [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# Set before importing the Hugging Face libraries: the model comes from disk only.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers import AutoModel  # noqa: E402
from transformers.utils import logging as transformers_logging  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MAX_SEQ_LENGTH = 256  # sentence_bert_config.json; tokenizer.json's 128 must not apply.
DIMENSION = 384

_LONG_ENGLISH = (
    "Confidential inference keeps a model's inputs and outputs sealed while they move "
    "between the services of a pipeline, so that no single hop, log or operator can read "
    "them. Each stage proves what code it runs before a key broker hands it any key, and "
    "every message is a sealed box addressed to the next stage alone. "
)
_LONG_CHINESE = "机密推理让模型的输入和输出在管道的各个服务之间传递时始终保持加密，任何单一环节都无法读取。"
_LONG_MIXED = (
    "Release notes v2.3.1 (2026-11-22): fixed #1234 \u2014 see https://example.org/a/b?c=d "
    "or mail ops@example.net \U0001f680\U0001f525; caf\u00e9 na\u00efve \u6771\u4eac "
    "\ud55c\uad6d\uc5b4 [SEP] 3.14159 \u2192 done!!! "
)

# (name, text). Escapes keep invisible and control characters visible in this source.
CASES: list[tuple[str, str]] = [
    ("short_plain", "The quick brown fox jumps over the lazy dog."),
    ("single_word", "hello"),
    ("empty", ""),
    ("whitespace_only", "   \t\n  \r\n "),
    ("mixed_case", "ThE QuIcK BrOwN FoX, iPhone, McDonald's and NASA's JPL in ALL CAPS."),
    ("contractions_hyphens", "Don't stop: it's a state-of-the-art, well-known U.S.A. e.g. approach."),
    ("accents_precomposed",
     "The caf\u00e9 served a na\u00efve cr\u00e8me br\u00fbl\u00e9e; \u00c5ngstr\u00f6m measured the fa\u00e7ade r\u00e9sum\u00e9."),
    ("accents_combining", "cafe\u0301 nai\u0308ve A\u030angstro\u0308m e\u0301le\u0300ve"),
    ("latin_extended",
     "Stra\u00dfe, \u00c6r\u00f8sk\u00f8bing, \u0141\u00f3d\u017a, \u0130stanbul, \u01c5emal, \ufb01nance, \u1e9e."),
    ("greek_cyrillic",
     "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u03ba\u03b1\u03b9 \u0440\u0443\u0441\u0441\u043a\u0438\u0439 "
     "\u044f\u0437\u044b\u043a: \u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!"),
    ("chinese", "我们今天去北京大学参观，天气很好。"),
    ("japanese", "東京でラーメンを食べました。ひらがなとカタカナ、そして漢字。"),
    ("korean", "안녕하세요, 저는 학생입니다. 한국어 문장입니다."),
    ("cjk_mixed_latin", "iPhone 15の価格は¥124,800です。AI技术发展很快 and 한국 K-pop."),
    ("rtl_and_indic",
     "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 "
     "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd "
     "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a "
     "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e"),
    ("emoji",
     "I love pizza \U0001f355\U0001f355 and cats \U0001f431! \U0001f44d\U0001f3fd family: "
     "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 flag \U0001f1eb\U0001f1f7 heart \u2764\ufe0f"),
    ("numbers",
     "In 2023, revenue grew 12.5% to $3,456,789.01; \u03c0 \u2248 3.14159, 1e-10, -42, 0x1F, "
     "\u00bd, x\u00b2, \u2460, \uff11\uff12\uff13, 1,000,000."),
    ("url", "Visit https://www.example.com/path/to/page?query=value&other=123#section for details."),
    ("email", "Contact john.doe+filter@example.co.uk or support@sub.example.org today."),
    ("punctuation_runs", "Wait!!! What??? ...really...; --- *** ((nested)) [brackets] {braces} <<>> @#$%^&* \u201cquoted\u201d \u2014 \u00bfs\u00ed?"),
    ("code", "def f(x): return x**2 + 1  # square\nif (a && b) { c->d(); } // done"),
    ("controls", "tabs\there\tand\nnewlines\r\nand\x00null\x07bell\x1bescape\x7fdel\x85nel end"),
    ("invisible",
     "zero\u200bwidth\u200cnon\u200djoiner\u2060word\ufeffbom soft\u00adhyphen "
     "rtl\u200fmark\u202aembed\u202c and\ufe0fselector tag\U000e0067\U000e0062chars"),
    ("unicode_spaces", "non\u00a0breaking\u2003em\u3000ideographic\u2028line\u2029para\u202fnarrow space"),
    ("rare_symbols",
     "Symbols like \u2603 \u269b \u222e and \U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522 letters, "
     "\U00010348 gothic, \u2126hm."),
    ("word_100_chars", "The word " + ("abcdefghij" * 10) + " has exactly one hundred letters."),
    ("word_101_chars", "The word " + ("abcdefghij" * 10) + "k is one letter too long."),
    ("word_over_100_chars",
     "Consider " + "pneumonoultramicroscopicsilicovolcanoconiosis" * 3 + " as a single word."),
    ("special_tokens_literal",
     "Use [SEP] to separate and [CLS] to classify; [MASK] is hidden, [UNK] and [PAD] too."),
    ("special_tokens_adjacent", "a[SEP]b [CLS][MASK]c [sep] [Cls] [ MASK ] [SEP"),
    ("boundary_254_words", " ".join(["hello"] * 254)),
    ("boundary_255_words", " ".join(["hello"] * 255)),
    ("long_english", _LONG_ENGLISH * 6),
    ("long_chinese", _LONG_CHINESE * 8),
    ("long_mixed", _LONG_MIXED * 12),
]


def format_float(value: float) -> str:
    """Eight significant digits keep the fixture compact; cosine checks need far fewer."""
    text = f"{value:.8g}"
    return "0" if text in ("-0", "0") else text


def json_string(text: str) -> str:
    """JSON string with every non-printable character escaped, so the fixture shows them."""
    out = []
    for char in json.dumps(text, ensure_ascii=False)[1:-1]:
        if char.isprintable():
            out.append(char)
            continue
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return '"' + "".join(out) + '"'


def encode_case(name: str, text: str, ids: list[int], embedding: np.ndarray) -> str:
    numbers = ",".join(format_float(float(x)) for x in embedding)
    return (
        "    {\n"
        f"      \"name\": {json.dumps(name)},\n"
        f"      \"text\": {json_string(text)},\n"
        f"      \"input_ids\": [{','.join(str(i) for i in ids)}],\n"
        f"      \"embedding\": [{numbers}]\n"
        "    }"
    )


def main() -> int:
    default_model = Path(os.environ.get("SEALPIPE_MODEL_DIR", REPO_ROOT / "models" / "all-MiniLM-L6-v2"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=default_model, help="model folder (default: %(default)s)")
    parser.add_argument("--output", type=Path,
                        default=REPO_ROOT / "Tests" / "InferenceTests" / "Fixtures" / "minilm-reference.json",
                        help="fixture to write (default: %(default)s)")
    args = parser.parse_args()

    if not (args.model / "model.safetensors").is_file():
        print(f"make_reference: error: no model.safetensors in {args.model}; run Scripts/fetch-model.sh",
              file=sys.stderr)
        return 1
    names = [name for name, _ in CASES]
    if len(set(names)) != len(names):
        print("make_reference: error: duplicate case names", file=sys.stderr)
        return 1

    transformers_logging.disable_progress_bar()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = SentenceTransformer(str(args.model), device="cpu")
    model.max_seq_length = MAX_SEQ_LENGTH
    if model.max_seq_length != MAX_SEQ_LENGTH:
        print(f"make_reference: error: max_seq_length is {model.max_seq_length}, wanted {MAX_SEQ_LENGTH}",
              file=sys.stderr)
        return 1
    model.eval()

    # An independent forward pass on the same ids: proves the embedding saw exactly
    # these (up to 256) tokens and that pooling is a plain mean over real tokens.
    bert = AutoModel.from_pretrained(str(args.model), local_files_only=True).eval()

    cases_json: list[str] = []
    lengths: list[int] = []
    for name, text in CASES:
        # The same preprocessing encode() applies, so these are the ids the model saw.
        features = model.preprocess([text])
        mask = features["attention_mask"][0]
        if int(mask.sum()) != mask.numel():
            print(f"make_reference: error: case {name}: single-text tokenization was padded", file=sys.stderr)
            return 1
        ids = [int(i) for i in features["input_ids"][0]]
        if len(ids) > MAX_SEQ_LENGTH or ids[0] != 101 or ids[-1] != 102:
            print(f"make_reference: error: case {name}: unexpected ids framing or length {len(ids)}",
                  file=sys.stderr)
            return 1
        # One text per call: no padding from other texts touches the reference.
        embedding = model.encode([text], batch_size=1, convert_to_numpy=True,
                                 normalize_embeddings=False)[0].astype(np.float64)
        if embedding.shape != (DIMENSION,) or abs(np.linalg.norm(embedding) - 1.0) > 1e-5:
            print(f"make_reference: error: case {name}: embedding is not a unit vector of {DIMENSION}",
                  file=sys.stderr)
            return 1
        with torch.no_grad():
            hidden = bert(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                          token_type_ids=torch.zeros(1, len(ids), dtype=torch.long)).last_hidden_state[0]
        check = hidden.mean(dim=0).double().numpy()
        check /= np.linalg.norm(check)
        cosine = float(check @ embedding)
        if cosine < 0.999999:
            print(f"make_reference: error: case {name}: independent forward pass disagrees (cosine {cosine})",
                  file=sys.stderr)
            return 1
        lengths.append(len(ids))
        cases_json.append(encode_case(name, text, ids, embedding))
        print(f"make_reference: {name:<26} {len(ids):>3} tokens", file=sys.stderr)

    truncated = sum(1 for n in lengths if n == MAX_SEQ_LENGTH)
    if truncated < 3:
        print(f"make_reference: error: only {truncated} cases reach {MAX_SEQ_LENGTH} tokens", file=sys.stderr)
        return 1

    header = {
        "model": MODEL_NAME,
        "sentence_transformers_version": sentence_transformers.__version__,
        "torch_version": torch.__version__,
        "max_seq_length": MAX_SEQ_LENGTH,
    }
    body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in header.items())
    document = "{\n" + body + ",\n  \"cases\": [\n" + ",\n".join(cases_json) + "\n  ]\n}\n"
    # Refuse to write anything that does not parse back to exactly these cases.
    parsed = json.loads(document)
    if [(c["name"], c["text"]) for c in parsed["cases"]] != CASES:
        print("make_reference: error: fixture does not round-trip the case texts", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(document, encoding="utf-8")
    print(f"make_reference: wrote {len(CASES)} cases ({truncated} truncated at {MAX_SEQ_LENGTH}) to {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
