#!/usr/bin/env python3
"""A Sealpipe client in Python (pyzmq + PyNaCl), written from docs/protocol.md alone.

Reads JSON lines {"text": ...} (a file or standard input) and writes {"embedding": [...]}
per line, in order, like `sealpipe embed` and `sealpipe submit --input`. It fetches the
manifest from the key broker, checks the broker's signature against the pinned key and the
expiry, refuses a pipeline whose policy accepts simulated evidence for any role unless given
--allow-simulated, seals each job to the front key with a fresh reply key, and checks each
result's signature by the last stage before opening it.

  python3 Scripts/client.py --front tcp://127.0.0.1:5555 --kms tcp://127.0.0.1:5550 \
      --kms-key-file .sealpipe/minilm/kms-identity.pub --allow-simulated < lines.jsonl
"""
import argparse, json, os, struct, sys, time

import zmq
from nacl.exceptions import BadSignatureError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import VerifyKey

SUBMIT, RESULT, ERROR = 1, 2, 3
HEADER = struct.Struct("<BBHI16sQHH")  # version, type, code, epoch, job id, deadline, hop, reserved


def manifest_signed_bytes(m):
    out = bytearray(b"sealpipe-manifest-v2")
    u32 = lambda v: out.extend(struct.pack(">I", v))
    u64 = lambda v: out.extend(struct.pack(">Q", v))
    data = lambda b: (u32(len(b)), out.extend(b))
    text = lambda s: data(s.encode())
    out.append(m["version"]); text(m["pipelineID"]); text(m["frontRole"])
    u64(m["frontKey"]["epoch"]); data(bytes.fromhex(m["frontKey"]["key"]))
    previous = m.get("previousFrontKey")
    out.append(1 if previous else 0)
    u64(previous["epoch"] if previous else 0); data(bytes.fromhex(previous["key"]) if previous else b"")
    text(m["resultRole"]); data(bytes.fromhex(m["resultSigner"]))
    data(bytes(m["policyDigest"])); data(bytes(m["policyEntry"])); u64(m["policyEntryIndex"])
    head = m["treeHead"]
    u64(head["treeSize"]); data(bytes(head["rootHash"])); u64(head["timestamp"]); data(bytes(head["signature"]))
    u32(len(m["policyInclusionProof"]))
    for node in m["policyInclusionProof"]:
        data(bytes(node))
    u64(m["issuedAt"]); u64(m["expiresAt"]); u64(m["epochEndsAt"]); u64(m["graceMilliseconds"])
    u32(len(m["policySummary"]))
    for role in m["policySummary"]:
        text(role["role"]); u32(len(role["evidence"]))
        for evidence in role["evidence"]:
            text(evidence["kind"]); out.append(1 if evidence["allowDebug"] else 0)
            u32(len(evidence["measurements"]))
            for measurement in evidence["measurements"]:
                text(measurement)
    return bytes(out)


def fetch_manifest(context, endpoint, pinned_key, allow_simulated, verbose):
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(endpoint)
    socket.send_multipart([b"", b'{"manifest":{}}'])
    if not socket.poll(5000):
        sys.exit(f"client.py: the key broker at {endpoint} did not answer")
    reply = json.loads(socket.recv_multipart()[-1])
    socket.close()
    manifest = reply.get("manifest") or sys.exit(f"client.py: no manifest: {reply.get('status')}")
    if manifest.get("version") != 2:
        sys.exit(f"client.py: refusing: manifest version {manifest.get('version')}, expected 2")
    try:
        VerifyKey(pinned_key).verify(manifest_signed_bytes(manifest), bytes(manifest["signature"]))
    except BadSignatureError:
        sys.exit("client.py: refusing: the manifest is not signed by the pinned key broker")
    except (KeyError, TypeError, ValueError, struct.error) as error:  # fail closed on a malformed manifest
        sys.exit(f"client.py: refusing: malformed manifest ({error!r})")
    if not manifest["issuedAt"] <= time.time() * 1000 < manifest["expiresAt"]:
        sys.exit("client.py: refusing: the manifest has expired")
    if manifest["expiresAt"] > manifest["epochEndsAt"] + manifest["graceMilliseconds"]:
        sys.exit("client.py: refusing: the manifest outlives its key epoch plus grace")
    summary = manifest["policySummary"]
    for role in summary if verbose else []:
        kinds = "; ".join(f"{e['kind']} (debug {'ALLOWED' if e['allowDebug'] else 'refused'}, {len(e['measurements'])} "
                          f"measurement{'' if len(e['measurements']) == 1 else 's'})" for e in role["evidence"])
        print(f"client.py: {role['role']}: {kinds or 'no evidence accepted'}", file=sys.stderr)
    simulated = [r["role"] for r in summary if any(e["kind"] == "simulated" for e in r["evidence"])]
    if simulated and not allow_simulated:
        sys.exit(f"client.py: refusing: the policy accepts SIMULATED evidence for {', '.join(simulated)}; "
                 "pass --allow-simulated to use this pipeline anyway (development and tests only)")
    if simulated:
        print(f"client.py: WARNING: SIMULATED pipeline: {', '.join(simulated)} accept simulated evidence, "
              "so no hardware protects them (allowed by --allow-simulated)", file=sys.stderr)
    return manifest


def result_signed_bytes(role, header, ciphertext):
    _, _, _, epoch, job, deadline, _, _ = HEADER.unpack(header)
    names = b"".join(struct.pack("<H", len(n)) + n for n in (role.encode(), b"client"))
    return b"sealpipe/hop/v1" + names + job + struct.pack("<IQ", epoch, deadline) + ciphertext


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--front", default="tcp://127.0.0.1:5555")
    parser.add_argument("--kms", default="tcp://127.0.0.1:5550")
    parser.add_argument("--kms-key", help="the key broker's identity, 64 hex digits")
    parser.add_argument("--kms-key-file", default=".sealpipe/minilm/kms-identity.pub")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per job")
    parser.add_argument("--allow-simulated", action="store_true",
                        help="use a pipeline whose policy accepts simulated evidence (development and tests only)")
    parser.add_argument("--verbose", action="store_true", help="print the evidence kinds protecting each role")
    parser.add_argument("input", nargs="?", help="JSON lines file (default: standard input)")
    args = parser.parse_args()
    pinned = bytes.fromhex(args.kms_key or open(args.kms_key_file).read().strip())

    context = zmq.Context()
    manifest = fetch_manifest(context, args.kms, pinned, args.allow_simulated, args.verbose)
    front_key = PublicKey(bytes.fromhex(manifest["frontKey"]["key"]))
    epoch, signer = manifest["frontKey"]["epoch"], VerifyKey(bytes.fromhex(manifest["resultSigner"]))

    # Only "\n" ends a line: JSON may carry U+2028 and other characters splitlines() would cut at.
    lines = (open(args.input, encoding="utf-8") if args.input else sys.stdin).read().split("\n")
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(args.front)
    outputs, pending = {}, {}  # line number -> output; job id -> (line number, reply key)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
            assert isinstance(text, str)
        except Exception:
            outputs[number] = {"error": "not a JSON object with a string field \"text\"", "line": number}
            continue
        job, reply = os.urandom(16), PrivateKey.generate()
        body = text.encode()
        timeout_ms = int(args.timeout * 1000)
        expires_at = int(time.time() * 1000) + timeout_ms  # sealed: the front stage refuses it after this
        envelope = (bytes([2]) + job + struct.pack("<Q", expires_at) + bytes(reply.public_key)
                    + struct.pack("<I", len(body)) + body)
        header = HEADER.pack(1, SUBMIT, 0, epoch, job, timeout_ms, 0, 0)
        socket.send_multipart([header, SealedBox(front_key).encrypt(envelope)])
        pending[job] = (number, reply)

    deadline = time.time() + args.timeout + 1
    while pending and socket.poll(max(0, int((deadline - time.time()) * 1000))):
        frames = socket.recv_multipart()
        _, kind, code, _, job, _, _, _ = HEADER.unpack(frames[0])
        if job not in pending:
            continue
        number, reply = pending.pop(job)
        if kind == ERROR:
            message = f"{code}: {frames[1].decode(errors='replace')}"
            if len(frames) > 2 and frames[2]:  # a stage's detail, sealed to this job's reply key
                try:
                    message += f" (detail: {SealedBox(reply).decrypt(frames[2]).decode(errors='replace')})"
                except Exception:
                    pass
            outputs[number] = {"error": message, "line": number}
            continue
        try:
            signer.verify(result_signed_bytes(manifest["resultRole"], frames[0], frames[1]), frames[2])
            plain = SealedBox(reply).decrypt(frames[1])
        except Exception:
            outputs[number] = {"error": "the result failed its signature or could not be opened", "line": number}
            continue
        assert plain[0] == 1 and plain[1:17] == job, "the sealed result names another job"
        (length,) = struct.unpack("<I", plain[17:21])
        outputs[number] = {"embedding": list(struct.unpack(f"<{length // 4}f", plain[21:21 + length]))}
    for number, _ in pending.values():
        outputs[number] = {"error": "no answer before the timeout", "line": number}
    for number in sorted(outputs):
        print(json.dumps(outputs[number]))
    return 1 if any("error" in o for o in outputs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
