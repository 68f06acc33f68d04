#!/usr/bin/env python3
"""A Sealpipe client in Python (pyzmq + PyNaCl), written from docs/protocol.md alone.

Reads JSON lines {"text": ...} (a file or standard input) and writes {"embedding": [...]} per
line, in order, like `sealpipe submit --input`. Before it seals anything it fetches the manifest
from the key broker and runs every check of docs/protocol.md §5.2 against the pinned broker key
(signature, expiry, epoch bound, tree head, policy entry and digest, policy summary, inclusion
proof, model version, simulated evidence), failing closed. Each job is sealed to the front key
with a fresh job id and reply key; each result's signature by the last stage is checked before it
is opened. A job refused as unknown_epoch is sealed again, once, under a fresh manifest (§9.3).

  python3 Scripts/client.py --front tcp://127.0.0.1:5555 --kms tcp://127.0.0.1:5550 \\
      --kms-key-file .sealpipe/minilm/kms-identity.pub --allow-simulated < lines.jsonl

--receipts DIR asks every stage for a signed receipt (§11), writes DIR/JOBID.receipt.json per job
and verifies each chain against the broker's log; --verify-report FILE.json writes every check
made, with its outcome and the values compared. --self-test checks this file's encoders against
the worked examples in docs/protocol.md (Appendix A) and exits.
"""
import argparse, datetime, hashlib, json, os, pathlib, random, re, struct, sys, time

SUBMIT, RESULT, ERROR = 1, 2, 3
UNKNOWN_EPOCH = 4
HEADER = struct.Struct("<BBHI16sQHH")  # version, type, code, epoch, job id, deadline, hop, reserved
POLICY_MAGIC = b"sealpipe-policy-v3\n"
RECEIPTS_OPTION = 0x01


class Malformed(ValueError):
    """Bytes that do not decode: always a refusal, never a default (§1, fail closed)."""


# --- byte layouts (§1) -------------------------------------------------------------------------

class Writer:
    """Integers in one byte order; data() = u32 length + bytes, short() = u16 length + UTF-8."""

    def __init__(self, order, prefix=b""):
        self.out, self.order = bytearray(prefix), order

    def int(self, value, size):
        self.out += int(value).to_bytes(size, self.order)
        return self

    def raw(self, data):
        self.out += bytes(data)
        return self

    def data(self, data):
        return self.int(len(data), 4).raw(data)

    def string(self, text):
        return self.data(text.encode())

    def short(self, text):
        encoded = text.encode()
        return self.int(len(encoded), 2).raw(encoded)

    def bytes(self):
        return bytes(self.out)


class Reader:
    """Reads what Writer writes; every read is bounds-checked and names its field."""

    def __init__(self, data, order, what):
        self.buffer, self.at, self.order, self.what = bytes(data), 0, order, what

    def take(self, count, field):
        if count < 0 or self.at + count > len(self.buffer):
            raise Malformed(f"{self.what}: {field} is truncated")
        self.at += count
        return self.buffer[self.at - count:self.at]

    def int(self, size, field):
        return int.from_bytes(self.take(size, field), self.order)

    def data(self, field, limit=1 << 26):
        count = self.int(4, field)
        if count > limit:
            raise Malformed(f"{self.what}: {field} is {count} bytes (at most {limit})")
        return self.take(count, field)

    def string(self, field):
        try:
            return self.data(field, limit=1 << 16).decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(f"{self.what}: {field} is not UTF-8") from None

    def short(self, field):
        try:
            return self.take(self.int(2, field), field).decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(f"{self.what}: {field} is not UTF-8") from None

    def flag(self, field):
        value = self.int(1, field)
        if value > 1:
            raise Malformed(f"{self.what}: {field} is {value}, not 0 or 1")
        return value == 1

    def end(self):
        if self.at != len(self.buffer):
            raise Malformed(f"{self.what}: {len(self.buffer) - self.at} trailing bytes")


def sha256(data):
    return hashlib.sha256(data).digest()


def keyed_digest(data, reply_public_key):
    """BLAKE2b-256 keyed with the job's reply public key (crypto_generichash, §11.2)."""
    return hashlib.blake2b(data, digest_size=32, key=reply_public_key).digest()


# --- the transparency log (§6) and the policy (§7) ---------------------------------------------

def decode_log_entry(data):
    """A log entry's canonical bytes (§6.1), versions 1 and 2, as a dict."""
    if len(data) > 1 << 20:
        raise Malformed("log entry: longer than 1 MiB")
    r = Reader(data, "big", "log entry")
    version = r.int(1, "version")
    if version not in (1, 2):
        raise Malformed(f"log entry: unsupported version {version}")
    kind = r.int(1, "type")
    entry = {"version": version, "time": r.int(8, "time")}
    if kind == 1:
        entry.update(type="policy-change", pipelineID=r.string("pipelineID"), policy=r.data("policy"),
                     previousPolicyDigest=r.data("previousPolicyDigest"))
    elif kind == 2:
        entry.update(type="key-release", role=r.string("role"), epoch=r.int(8, "epoch"),
                     evidenceKind=r.string("evidenceKind"), measurement=r.string("measurement"),
                     ephemeralKeyFingerprint=r.data("ephemeralKeyFingerprint"),
                     includesWeightKey=r.flag("includesWeightKey"), policyIndex=None, modelDigest=b"", signingKeys={})
        if version == 2:
            entry["policyIndex"] = r.int(8, "policyIndex")
            entry["modelDigest"] = r.data("modelDigest")
            last = None
            for _ in range(r.int(4, "signingKeys")):
                epoch = r.int(8, "signingKeys.epoch")
                if last is not None and epoch <= last:
                    raise Malformed("log entry: signingKeys are not in ascending epoch order")
                entry["signingKeys"][epoch], last = r.data("signingKeys.key"), epoch
    elif kind == 3:
        entry.update(type="refusal", role=r.string("role"), check=r.string("check"),
                     evidenceKind=r.string("evidenceKind"), ephemeralKeyFingerprint=r.data("ephemeralKeyFingerprint"),
                     reason=r.string("reason"))
    elif kind == 4:
        entry.update(type="epoch-rotation", epoch=r.int(8, "epoch"), startsAt=r.int(8, "startsAt"),
                     endsAt=r.int(8, "endsAt"))
        entry["boxKeyFingerprints"] = {r.string("role"): r.data("fingerprint")
                                       for _ in range(r.int(4, "boxKeyFingerprints"))}
    elif kind == 5:
        entry.update(type="weight-key-registration", role=r.string("role"), keyID=r.data("keyID"))
    else:
        raise Malformed(f"log entry: unknown type {kind}")
    r.end()
    return entry


def decode_policy(data):
    """The policy's canonical bytes (§7.1): the magic line, then one JSON object of the schema."""
    if not data.startswith(POLICY_MAGIC):
        raise Malformed("policy: does not start with the line sealpipe-policy-v3")
    try:
        policy = json.loads(data[len(POLICY_MAGIC):].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Malformed(f"policy: not JSON ({error})") from None
    roles = policy.get("roles") if isinstance(policy, dict) else None
    if not isinstance(roles, dict):
        raise Malformed("policy: no roles object")
    for name, role in roles.items():
        if not isinstance(role, dict) or not isinstance(role.get("evidence"), dict):
            raise Malformed(f"policy: role {name} has no evidence object")
        if not isinstance(role.get("shardDigest", ""), str):
            raise Malformed(f"policy: role {name}: shardDigest is not a string")
        for kind, evidence in role["evidence"].items():
            if (not isinstance(evidence, dict) or not isinstance(evidence.get("allowDebug"), bool)
                    or not isinstance(evidence.get("measurements"), list)
                    or not all(isinstance(m, str) for m in evidence["measurements"])):
                raise Malformed(f"policy: role {name}, kind {kind}: allowDebug or measurements malformed")
    path = policy.get("path", [])
    if not isinstance(path, list) or not all(isinstance(r, str) for r in path):
        raise Malformed("policy: path is not a list of role names")
    return policy


def policy_summary(policy, with_shard_digests):
    """§7.2: per role (sorted), per kind (sorted), measurements lower-cased, unique, sorted."""
    summary = []
    for role in sorted(policy["roles"]):
        evidence = [{"kind": kind, "allowDebug": e["allowDebug"],
                     "measurements": sorted({m.lower() for m in e["measurements"]})}
                    for kind, e in sorted(policy["roles"][role]["evidence"].items())]
        entry = {"role": role, "evidence": evidence}
        if with_shard_digests:
            entry["shardDigest"] = policy["roles"][role].get("shardDigest", "").lower()
        summary.append(entry)
    return summary


def model_version(summary):
    """§5.1: lower-case hex SHA-256 of the domain and each (role, shard digest) with a digest."""
    w = Writer("big", b"sealpipe-model-version-v1")
    for entry in summary:
        if entry.get("shardDigest"):
            w.string(entry["role"]).raw(bytes.fromhex(entry["shardDigest"]))
    return hashlib.sha256(w.bytes()).hexdigest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def tree_root(leaf_hashes):
    """RFC 9162 §2.1.1: the root over leaf hashes (split at the largest power of two below n)."""
    if not leaf_hashes:
        return sha256(b"")
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    split = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    return node_hash(tree_root(leaf_hashes[:split]), tree_root(leaf_hashes[split:]))


def inclusion_root(leaf, index, size, proof):
    """§6.4: the root that `proof` puts `leaf` at `index` of `size` under; raises if it cannot."""
    if not 0 <= index < size:
        raise Malformed(f"inclusion proof: index {index} is not below tree size {size}")
    if len(leaf) != 32 or any(len(node) != 32 for node in proof):
        raise Malformed("inclusion proof: a hash is not 32 bytes")
    inner = (index ^ (size - 1)).bit_length()
    expected = inner + bin(index >> inner).count("1")
    if len(proof) != expected:
        raise Malformed(f"inclusion proof: {len(proof)} hashes, expected {expected}")
    fn, sn, r = index, size - 1, leaf
    for node in proof:
        if sn == 0:
            raise Malformed("inclusion proof: too long")
        if fn & 1 or fn == sn:
            r = node_hash(node, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, node)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Malformed("inclusion proof: too short")
    return r


def tree_head_signed_bytes(head):
    return (Writer("big", b"sealpipe-tree-head-v1").int(head["treeSize"], 8).int(head["timestamp"], 8)
            .raw(bytes(head["rootHash"])).bytes())


def tree_head_valid(head, pinned_key):
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
    if len(bytes(head["rootHash"])) != 32:
        return False
    try:
        VerifyKey(pinned_key).verify(tree_head_signed_bytes(head), bytes(head["signature"]))
        return True
    except BadSignatureError:
        return False


# --- the manifest (§5) -------------------------------------------------------------------------

def manifest_signed_bytes(m):
    """§5.1, for manifest versions 2 and 3 (3 adds shard digests and the model version)."""
    version = m["version"]
    if version not in (2, 3):
        raise Malformed(f"manifest: unsupported version {version}")
    w = Writer("big", f"sealpipe-manifest-v{version}".encode())
    w.int(version, 1).string(m["pipelineID"]).string(m["frontRole"])
    w.int(m["frontKey"]["epoch"], 8).data(bytes.fromhex(m["frontKey"]["key"]))
    previous = m.get("previousFrontKey")
    w.int(1 if previous else 0, 1).int(previous["epoch"] if previous else 0, 8)
    w.data(bytes.fromhex(previous["key"]) if previous else b"")
    w.string(m["resultRole"]).data(bytes.fromhex(m["resultSigner"]))
    w.data(bytes(m["policyDigest"])).data(bytes(m["policyEntry"])).int(m["policyEntryIndex"], 8)
    head = m["treeHead"]
    w.int(head["treeSize"], 8).data(bytes(head["rootHash"])).int(head["timestamp"], 8).data(bytes(head["signature"]))
    w.int(len(m["policyInclusionProof"]), 4)
    for node in m["policyInclusionProof"]:
        w.data(bytes(node))
    w.int(m["issuedAt"], 8).int(m["expiresAt"], 8).int(m["epochEndsAt"], 8).int(m["graceMilliseconds"], 8)
    w.int(len(m["policySummary"]), 4)
    for role in m["policySummary"]:
        w.string(role["role"])
        if version >= 3:
            w.string(role["shardDigest"])
        w.int(len(role["evidence"]), 4)
        for evidence in role["evidence"]:
            w.string(evidence["kind"]).int(1 if evidence["allowDebug"] else 0, 1).int(len(evidence["measurements"]), 4)
            for measurement in evidence["measurements"]:
                w.string(measurement)
    if version >= 3:
        w.string(m["modelVersion"])
    return w.bytes()


def check(checks, name, test, compared=None):
    """Runs one check; any exception (a missing field, a malformed value) is a failure."""
    try:
        passed, detail = test()
    except Exception as error:  # fail closed: whatever cannot be checked has failed
        passed, detail = False, f"could not be checked: {error!r}"
    outcome = {True: "passed", False: "failed", None: "skipped"}[passed]
    checks.append({"check": name, "outcome": outcome, "detail": detail, "compared": compared or {}})
    return passed


def verify_manifest(m, pinned_key, now_ms, allow_simulated, pinned_policy_digest=None, expected_measurements=None):
    """Every check of §5.2, each reported; the manifest is usable only if none failed."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
    checks, state = [], {}
    g = lambda *path: _get(m, path)
    check(checks, "version", lambda: (g("version") in (2, 3), f"manifest version {g('version')} (2 or 3 understood)"),
          {"version": m.get("version")})

    def signature():
        try:
            VerifyKey(pinned_key).verify(manifest_signed_bytes(m), bytes(g("signature")))
            return True, "signed by the pinned broker key"
        except BadSignatureError:
            return False, "the manifest is not signed by the pinned key broker"
    check(checks, "signature", signature, {"pinnedBrokerKey": pinned_key.hex()})
    check(checks, "expiry", lambda: (g("issuedAt") <= g("expiresAt") and now_ms < g("expiresAt")
                                     and g("issuedAt") <= now_ms + 60_000,
                                     f"now {now_ms} ms, issued {g('issuedAt')}, expires {g('expiresAt')}"),
          {"now": now_ms, "issuedAt": m.get("issuedAt"), "expiresAt": m.get("expiresAt")})
    check(checks, "epoch-bound", lambda: (g("expiresAt") <= g("epochEndsAt") + g("graceMilliseconds"),
                                          f"expires {g('expiresAt')}, key held until "
                                          f"{g('epochEndsAt') + g('graceMilliseconds')}" + (
                                              "" if g("expiresAt") <= g("epochEndsAt") + g("graceMilliseconds")
                                              else ": the manifest outlives its key epoch plus grace")),
          {"expiresAt": m.get("expiresAt"), "epochEndsAt": m.get("epochEndsAt"),
           "graceMilliseconds": m.get("graceMilliseconds")})
    check(checks, "tree-head-signature",
          lambda: (tree_head_valid(g("treeHead"), pinned_key), f"tree head of size {g('treeHead', 'treeSize')}"),
          {"treeSize": _try(lambda: g("treeHead", "treeSize"))})

    def policy_entry():
        entry = decode_log_entry(bytes(g("policyEntry")))
        if entry["type"] != "policy-change":
            return False, f"the policy entry is a {entry['type']} entry"
        digest = sha256(entry["policy"])
        state["policy"] = decode_policy(entry["policy"])
        same = digest == bytes(g("policyDigest")) and entry["pipelineID"] == g("pipelineID")
        return same, (f"SHA-256 of the logged policy {digest.hex()}, manifest policyDigest "
                      f"{bytes(g('policyDigest')).hex()}; entry pipeline {entry['pipelineID']}, "
                      f"manifest {g('pipelineID')}")
    check(checks, "policy-entry", policy_entry, {"policyDigest": _try(lambda: bytes(g("policyDigest")).hex())})

    def summary():
        if "policy" not in state:
            return False, "no decoded policy to compare the summary with"
        expected = policy_summary(state["policy"], with_shard_digests=g("version") >= 3)
        return expected == g("policySummary"), f"{len(expected)} roles in the logged policy"
    check(checks, "policy-summary", summary)

    if m.get("version") == 3:
        check(checks, "model-version", lambda: (model_version(g("policySummary")) == g("modelVersion"),
                                                f"manifest {g('modelVersion')}, recomputed "
                                                f"{model_version(g('policySummary'))}"),
              {"modelVersion": m.get("modelVersion")})
    def inclusion():
        root = inclusion_root(leaf_hash(bytes(g("policyEntry"))), g("policyEntryIndex"), g("treeHead", "treeSize"),
                              [bytes(n) for n in g("policyInclusionProof")])
        return root == bytes(g("treeHead", "rootHash")), (f"proof of entry {g('policyEntryIndex')} recomputes "
                                                          f"{root.hex()}, tree head root "
                                                          f"{bytes(g('treeHead', 'rootHash')).hex()}")
    check(checks, "inclusion-proof", inclusion, {"index": m.get("policyEntryIndex")})
    if pinned_policy_digest is None:
        check(checks, "policy-digest", lambda: (None, "no pinned policy digest"))
    else:
        check(checks, "policy-digest", lambda: (bytes(g("policyDigest")) == pinned_policy_digest,
                                                f"manifest {bytes(g('policyDigest')).hex()}, pinned "
                                                f"{pinned_policy_digest.hex()}"))

    def measurements():
        """For each role the user named: the policy allows only measurements the user listed, and one at least."""
        if not expected_measurements:
            return None, "no expected measurements given"
        if "policy" not in state:
            return False, "no decoded policy to compare the measurements with"
        summary = {r["role"]: r for r in policy_summary(state["policy"], False)}
        problems = []
        for role, allowed in sorted(expected_measurements.items()):
            if role not in summary:
                problems.append(f"{role}: not in the policy")
                continue
            listed = {m for e in summary[role]["evidence"] for m in e["measurements"]}
            if listed - allowed:
                problems.append(f"{role}: unexpected measurement {','.join(sorted(listed - allowed))}")
            if not listed:
                problems.append(f"{role}: the policy names no measurement")
        return not problems, "; ".join(problems) or "the policy allows only the expected measurements"
    check(checks, "measurements", measurements,
          {role: sorted(values) for role, values in (expected_measurements or {}).items()})

    def simulated():
        roles = [r["role"] for r in g("policySummary") if any(e["kind"] == "simulated" for e in r["evidence"])]
        if not roles:
            return True, "no role accepts simulated evidence"
        if allow_simulated:
            return True, f"SIMULATED evidence accepted for {', '.join(roles)}: allowed by --allow-simulated"
        return False, (f"the policy accepts SIMULATED evidence for {', '.join(roles)}; pass --allow-simulated to use "
                       "this pipeline anyway (development and tests only)")
    check(checks, "simulated-evidence", simulated)
    return checks, state.get("policy")


def _get(value, path):
    for key in path:
        value = value[key]
    return value


def _try(function):
    try:
        return function()
    except Exception:
        return None


# --- jobs (§8–§11) -----------------------------------------------------------------------------

def request_envelope(job, expires_at, reply_public_key, body, receipts):
    """§9.1 and §11.1: version 3, whose options byte asks for receipts (0x01) or nothing."""
    return (Writer("little").int(3, 1).raw(job).int(expires_at, 8).raw(reply_public_key)
            .int(RECEIPTS_OPTION if receipts else 0, 1).data(body).bytes())


def result_signed_bytes(role, header, sealed_result):
    """§10.1: what the last stage signs for the client."""
    _, _, _, epoch, job, deadline, _, _ = HEADER.unpack(header)
    return (Writer("little", b"sealpipe/hop/v1").short(role).short("client").raw(job).int(epoch, 4).int(deadline, 8)
            .raw(sealed_result).bytes())


def decode_result(plain, job):
    """§10.1 and §11.1: (body, receipt chain bytes or None); the job id must be this job's."""
    r = Reader(plain, "little", "job result")
    version = r.int(1, "version")
    if version not in (1, 2):
        raise Malformed(f"job result: unsupported version {version}")
    if r.take(16, "job id") != job:
        raise Malformed("job result: the sealed result names another job")
    body = r.data("body")
    chain = r.data("receipts") if version == 2 else None
    r.end()
    return body, chain


def decode_receipts(chain):
    """§11.1: u8 count, then each receipt; returns [(fields dict, encoded bytes)]."""
    r = Reader(chain, "little", "receipt chain")
    receipts = []
    for _ in range(r.int(1, "count")):
        start = r.at
        version = r.int(1, "version")
        if version != 1:
            raise Malformed(f"receipt: unsupported version {version}")
        fields = {"role": r.short("role"), "replica": r.int(2, "replica"), "epoch": r.int(4, "epoch"),
                  "releaseIndex": r.int(8, "releaseIndex")}
        shard = r.int(1, "shard digest length")
        if shard not in (0, 32):
            raise Malformed(f"receipt: a shard digest of {shard} bytes")
        fields.update(shardDigest=r.take(shard, "shard digest"), inputDigest=r.take(32, "input digest"),
                      outputDigest=r.take(32, "output digest"), time=r.int(8, "time"))
        fields["signedFields"] = r.buffer[start:r.at]
        fields["signature"] = r.take(64, "signature")
        receipts.append((fields, r.buffer[start:r.at]))
    r.end()
    return receipts


def receipt_signed_bytes(pipeline_id, job, fields):
    return Writer("little", b"sealpipe/receipt/v1").short(pipeline_id).raw(job).raw(fields["signedFields"]).bytes()


class Broker:
    """The key broker over a DEALER: ["", JSON] out, ["", JSON] back (§3)."""

    def __init__(self, context, endpoint, pinned_key):
        import zmq
        self.zmq, self.context, self.endpoint, self.pinned, self.entries = zmq, context, endpoint, pinned_key, {}

    def request(self, body):
        socket = self.context.socket(self.zmq.DEALER)
        socket.setsockopt(self.zmq.LINGER, 0)
        socket.connect(self.endpoint)
        delay = 0.1
        try:
            for _ in range(20):
                socket.send_multipart([b"", json.dumps(body).encode()])
                if not socket.poll(5000):
                    raise RuntimeError(f"the key broker at {self.endpoint} did not answer")
                reply = json.loads(socket.recv_multipart()[-1])
                error = reply.get("status", {}).get("error")
                if not error or error.get("code") != 3:  # only busy is retried (§4)
                    return reply
                time.sleep(random.uniform(delay / 2, delay))
                delay = min(delay * 2, 5.0)
            return reply
        finally:
            socket.close()

    def manifest(self):
        reply = self.request({"manifest": {}})
        if "manifest" not in reply:
            raise RuntimeError(f"no manifest: {reply.get('status')}")
        return reply["manifest"]

    def entry(self, index):
        """The log entry at `index`, proven in a tree head signed by the pinned key (§11.4)."""
        if index not in self.entries:
            reply = self.request({"entry": {"index": index}})
            if "entry" not in reply:
                raise RuntimeError(f"entry {index}: {reply.get('status')}")
            entry, head = bytes(reply["entry"]), reply["treeHead"]
            if not tree_head_valid(head, self.pinned):
                raise RuntimeError(f"entry {index}: the tree head is not signed by the pinned broker key")
            root = inclusion_root(leaf_hash(entry), index, head["treeSize"], [bytes(n) for n in reply["proof"]])
            if root != bytes(head["rootHash"]):
                raise RuntimeError(f"entry {index} is not in the signed tree of size {head['treeSize']}")
            self.entries[index] = entry
        return self.entries[index]


def verify_receipts(receipt_file, fetch_entry):
    """Every check of §11.4 on one receipt file, each reported by name."""
    checks, job = [], bytes.fromhex(receipt_file["jobID"])
    try:
        if receipt_file.get("format") != "sealpipe-receipt-v1":
            raise Malformed(f"format {receipt_file.get('format')}, expected sealpipe-receipt-v1")
        receipts = [decode_receipts(b"\x01" + bytes.fromhex(r))[0][0] for r in receipt_file["receipts"]]
        check(checks, "format", lambda: (bool(receipts), f"{len(receipts)} receipts decode"))
    except Exception as error:
        check(checks, "format", lambda: (False, f"the receipts do not decode: {error}"))
        return checks
    releases, policies, problems, unsound = {}, {}, [], []
    for hop, receipt in enumerate(receipts):
        index = receipt["releaseIndex"]
        if index in releases:
            continue
        try:
            release = decode_log_entry(fetch_entry(index))
        except RuntimeError as error:
            unsound.append(str(error))
            problems.append(f"hop {hop} ({receipt['role']}): release {index}: {error}")
            continue
        except Malformed as error:
            problems.append(f"hop {hop} ({receipt['role']}): release {index}: {error}")
            continue
        if release["type"] != "key-release":
            problems.append(f"hop {hop} ({receipt['role']}): entry {index} is a {release['type']} entry")
            continue
        releases[index] = release
        if release["policyIndex"] is None or release["policyIndex"] in policies:
            continue
        try:
            change = decode_log_entry(fetch_entry(release["policyIndex"]))
            if change["type"] != "policy-change":
                problems.append(f"release {index} cites {release['policyIndex']}, not a policy change")
                continue
            policies[release["policyIndex"]] = (change["pipelineID"], decode_policy(change["policy"]))
        except (RuntimeError, Malformed) as error:
            problems.append(f"policy {release['policyIndex']} of release {index}: {error}")
    for hop, receipt in enumerate(receipts):
        release = releases.get(receipt["releaseIndex"])
        if release and release["role"] != receipt["role"]:
            problems.append(f"hop {hop}: release {receipt['releaseIndex']} is of {release['role']}, "
                            f"not {receipt['role']}")
    check(checks, "ledger", lambda: (not unsound, "; ".join(unsound) or
                                     "every cited entry is in a tree head signed by the pinned broker key"))
    wrong = [f"policy {i} is of pipeline {p[0]}" for i, p in sorted(policies.items())
             if p[0] != receipt_file["pipelineID"]]
    check(checks, "pipeline", lambda: (bool(policies) and not wrong,
                                       "; ".join(wrong) or (f"every cited policy is of {receipt_file['pipelineID']}"
                                                            if policies else "no cited policy could be read")))
    roles = [r["role"] for r in receipts]
    paths = {tuple(p[1].get("path", [])) for p in policies.values()}
    check(checks, "path", lambda: (len(paths) == 1 and list(next(iter(paths))) == roles and bool(roles),
                                   f"receipts' roles {roles}, the policy's path {[list(p) for p in paths]}"),
          {"roles": roles, "paths": [list(p) for p in paths]})
    check(checks, "job-epoch", lambda: (all(r["epoch"] == receipt_file["epoch"] for r in receipts),
                                        f"job epoch {receipt_file['epoch']}, "
                                        f"receipts {[r['epoch'] for r in receipts]}"))
    check(checks, "release-entry", lambda: (not problems, "; ".join(sorted(set(problems))) or
                                            "every release index is a key release of its role"))
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey
    epoch_problems, signature_problems, shard_problems = [], [], []
    for hop, receipt in enumerate(receipts):
        release = releases.get(receipt["releaseIndex"])
        if not release or release["role"] != receipt["role"]:
            signature_problems.append(f"hop {hop}: no release to check against")
            shard_problems.append(f"hop {hop}: no release to check against")
            continue
        key = release["signingKeys"].get(receipt["epoch"])
        if key is None:
            epoch_problems.append(f"hop {hop} ({receipt['role']}): release {receipt['releaseIndex']} has no "
                                  f"signing key for epoch {receipt['epoch']}")
            signature_problems.append(f"hop {hop}: no released key for its epoch")
        else:
            try:
                VerifyKey(key).verify(receipt_signed_bytes(receipt_file["pipelineID"], job, receipt),
                                      receipt["signature"])
            except (BadSignatureError, ValueError):
                signature_problems.append(f"hop {hop} ({receipt['role']}): not signed by the key released at "
                                          f"{receipt['releaseIndex']}")
        policy = policies.get(release["policyIndex"])
        listed = policy[1]["roles"].get(receipt["role"], {}).get("shardDigest", "").lower() if policy else None
        named, logged = receipt["shardDigest"].hex(), release["modelDigest"].hex()
        if named != logged or named != listed:
            shard_problems.append(f"hop {hop} ({receipt['role']}): receipt {named or 'none'}, "
                                  f"release {logged or 'none'}, "
                                  f"policy {listed if listed is not None else 'unreadable'}")
    check(checks, "release-epoch", lambda: (not epoch_problems, "; ".join(epoch_problems) or
                                            "every release carried its receipt's epoch key"))
    check(checks, "signature", lambda: (not signature_problems, "; ".join(signature_problems) or
                                        "every receipt is signed by its role's released key"))
    check(checks, "shard-digest", lambda: (not shard_problems, "; ".join(shard_problems) or
                                           "every shard digest is the logged and listed one"))
    breaks = [f"hop {i} ({a['role']}) output is not hop {i + 1} ({b['role']}) input"
              for i, (a, b) in enumerate(zip(receipts, receipts[1:])) if a["outputDigest"] != b["inputDigest"]]
    check(checks, "digest-chain", lambda: (not breaks, "; ".join(breaks) or "each stage's output is the next's input"))
    check(checks, "request-digest", lambda: (receipts[0]["inputDigest"].hex() == receipt_file["requestDigest"],
                                             f"front stage input {receipts[0]['inputDigest'].hex()}, request "
                                             f"{receipt_file['requestDigest']}"))
    check(checks, "result-digest", lambda: (receipts[-1]["outputDigest"].hex() == receipt_file["resultDigest"],
                                            f"last stage output {receipts[-1]['outputDigest'].hex()}, result "
                                            f"{receipt_file['resultDigest']}"))
    return checks


def show_summary(summary):
    for role in summary:
        kinds = "; ".join(f"{e['kind']} (debug {'ALLOWED' if e['allowDebug'] else 'refused'}, {len(e['measurements'])} "
                          f"measurement{'' if len(e['measurements']) == 1 else 's'})" for e in role["evidence"])
        print(f"client.py: {role['role']}: {kinds or 'no evidence accepted'}", file=sys.stderr)


def checked_manifest(broker, args, report, first=True):
    """Fetches the manifest; refuses it unless every check passed: the first one by exiting (nothing
    was sealed yet), a later one (a refresh, §9.3) by returning None, so no other job is lost."""
    try:
        manifest = broker.manifest()
    except RuntimeError as error:
        if first:
            sys.exit(f"client.py: {error}")
        return None
    expected = {}
    for pin in args.measurement:
        role, _, value = pin.partition("=")
        expected.setdefault(role, set()).add(value.lower())
    checks, _ = verify_manifest(manifest, broker.pinned, int(time.time() * 1000), args.allow_simulated,
                                bytes.fromhex(args.policy_digest) if args.policy_digest else None, expected)
    report["manifest"] = {key: _try(lambda: value(manifest)) for key, value in REPORTED_MANIFEST_VALUES.items()}
    report["manifest"]["pinnedBrokerKey"] = broker.pinned.hex()
    report["manifestChecks"] = checks
    failed = [c for c in checks if c["outcome"] == "failed"]
    if failed:
        for failure in failed:
            print(f"client.py: refusing: {failure['detail']} ({failure['check']})", file=sys.stderr)
        if not first:
            return None
        write_report(args, report)
        sys.exit(1)
    if args.verbose and first:
        show_summary(manifest["policySummary"])
    simulated = [r["role"] for r in manifest["policySummary"] if any(e["kind"] == "simulated" for e in r["evidence"])]
    if simulated and first:
        print(f"client.py: WARNING: SIMULATED pipeline: {', '.join(simulated)} accept simulated evidence, "
              "so no hardware protects them (allowed by --allow-simulated)", file=sys.stderr)
    return manifest


REPORTED_MANIFEST_VALUES = {
    "pipelineID": lambda m: m["pipelineID"], "version": lambda m: m["version"],
    "issuedAt": lambda m: m["issuedAt"], "expiresAt": lambda m: m["expiresAt"],
    "policyDigest": lambda m: bytes(m["policyDigest"]).hex(), "policyEntryIndex": lambda m: m["policyEntryIndex"],
    "treeSize": lambda m: m["treeHead"]["treeSize"], "rootHash": lambda m: bytes(m["treeHead"]["rootHash"]).hex(),
    "modelVersion": lambda m: m.get("modelVersion", ""), "frontKeyEpoch": lambda m: m["frontKey"]["epoch"],
    "resultSigner": lambda m: f"{m['resultRole']} {m['resultSigner']}",
}


def write_report(args, report):
    if args.verify_report:
        with open(args.verify_report, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2, sort_keys=True)


def run(args):
    import zmq
    from nacl.public import PrivateKey, PublicKey, SealedBox
    from nacl.signing import VerifyKey
    pinned = bytes.fromhex(args.kms_key or open(args.kms_key_file).read().strip())
    if len(pinned) != 32:
        sys.exit("client.py: the key broker's identity must be 64 hex digits")
    context = zmq.Context()
    broker = Broker(context, args.kms, pinned)
    report = {"format": "sealpipe-verification-report-v1",
              "checkedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(), "jobs": []}
    manifest = checked_manifest(broker, args, report)
    if args.receipts:
        os.makedirs(args.receipts, exist_ok=True)

    # Only "\n" ends a line: JSON may carry U+2028 and other characters splitlines() would cut at.
    lines = (open(args.input, encoding="utf-8") if args.input else sys.stdin).read().split("\n")
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(args.front)
    timeout_ms = int(args.timeout * 1000)
    outputs, pending, checks_by_line = {}, {}, {}

    def send(number, body, resent):
        """Seals and sends one job with a fresh job id and reply key under the current manifest."""
        job, reply = os.urandom(16), PrivateKey.generate()
        expires_at = int(time.time() * 1000) + timeout_ms  # sealed: the front stage refuses it after this
        envelope = request_envelope(job, expires_at, bytes(reply.public_key), body, bool(args.receipts))
        header = HEADER.pack(1, SUBMIT, 0, manifest["frontKey"]["epoch"], job, timeout_ms, 0, 0)
        front_key = PublicKey(bytes.fromhex(manifest["frontKey"]["key"]))
        socket.send_multipart([header, SealedBox(front_key).encrypt(envelope)])
        pending[job] = {"line": number, "reply": reply, "body": body, "resent": resent, "manifest": manifest}

    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
            assert isinstance(text, str)
        except Exception:
            outputs[number] = {"error": "not a JSON object with a string field \"text\"", "line": number}
            continue
        send(number, text.encode(), False)

    deadline, last_refresh = time.time() + args.timeout + 1, 0.0
    while pending and socket.poll(max(0, int((deadline - time.time()) * 1000))):
        frames = socket.recv_multipart()
        try:
            _, kind, code, epoch, job, _, _, _ = HEADER.unpack(frames[0])
        except struct.error:
            continue
        if job not in pending:
            continue
        sent = pending.pop(job)
        number, reply = sent["line"], sent["reply"]
        job_checks = checks_by_line.setdefault(number, [])
        if kind == ERROR:
            if code == UNKNOWN_EPOCH and not sent["resent"] and manifest:  # §9.3: fresh manifest and job, once
                if time.time() - last_refresh >= 1:
                    manifest, last_refresh = checked_manifest(broker, args, report, first=False), time.time()
                if manifest:
                    send(number, sent["body"], True)
                    deadline = max(deadline, time.time() + args.timeout + 1)
                    continue
            message = f"{code}: {frames[1].decode(errors='replace') if len(frames) > 1 else ''}"
            if len(frames) > 2 and frames[2]:  # a stage's detail, sealed to this job's reply key (unsigned: a hint)
                try:
                    message += f" (detail: {SealedBox(reply).decrypt(frames[2]).decode(errors='replace')})"
                except Exception:
                    pass
            outputs[number] = {"error": message, "line": number}
            job_checks.append({"check": "result", "outcome": "failed", "detail": message, "compared": {}})
            continue
        signer = sent["manifest"]
        try:
            VerifyKey(bytes.fromhex(signer["resultSigner"])).verify(
                result_signed_bytes(signer["resultRole"], frames[0], frames[1]), frames[2])
        except Exception:
            outputs[number] = {"error": "the result's signature does not verify", "line": number}
            job_checks.append({"check": "result-signature", "outcome": "failed", "compared": {},
                               "detail": f"not signed by {signer['resultRole']} {signer['resultSigner']}"})
            continue
        job_checks.append({"check": "result-signature", "outcome": "passed", "compared": {},
                           "detail": f"signed by {signer['resultRole']} {signer['resultSigner']}"})
        try:
            body, chain = decode_result(SealedBox(reply).decrypt(frames[1]), job)
            if len(body) % 4:
                raise Malformed(f"an embedding of {len(body)} bytes")
            if args.receipts and chain is None:
                raise Malformed("receipts were asked for and the result carries none")
        except Exception as error:
            outputs[number] = {"error": f"the result could not be opened: {error}", "line": number}
            job_checks.append({"check": "result", "outcome": "failed", "detail": str(error), "compared": {}})
            continue
        outputs[number] = {"embedding": list(struct.unpack(f"<{len(body) // 4}f", body))}
        report["jobs"].append({"index": number, "jobID": job.hex(), "checks": job_checks, "receiptFile": None})
        if args.receipts:
            reply_public = bytes(reply.public_key)
            receipt_file = {"format": "sealpipe-receipt-v1", "pipelineID": signer["pipelineID"], "jobID": job.hex(),
                            "epoch": epoch, "requestDigest": keyed_digest(sent["body"], reply_public).hex(),
                            "resultDigest": keyed_digest(body, reply_public).hex(),
                            "receipts": [encoded.hex() for _, encoded in decode_receipts(chain)]}
            path = os.path.join(args.receipts, f"{job.hex()}.receipt.json")
            with open(path, "w", encoding="utf-8") as file:
                json.dump(receipt_file, file, indent=2, sort_keys=True)
            receipt_checks = verify_receipts(receipt_file, broker.entry)
            job_checks += [dict(c, check="receipt-" + c["check"]) for c in receipt_checks]
            report["jobs"][-1]["receiptFile"] = path
            failed = [c["check"] for c in receipt_checks if c["outcome"] == "failed"]
            if failed:
                outputs[number] = {"error": f"the receipts fail {', '.join(failed)}", "line": number}
    for sent in pending.values():
        outputs[sent["line"]] = {"error": "no answer before the timeout", "line": sent["line"]}
    for number in sorted(outputs):
        print(json.dumps(outputs[number]))
    for number, job_checks in checks_by_line.items():
        if not any(j["index"] == number for j in report["jobs"]):
            report["jobs"].append({"index": number, "jobID": None, "checks": job_checks, "receiptFile": None})
    report["jobs"].sort(key=lambda j: j["index"])
    write_report(args, report)
    return 1 if any("error" in o for o in outputs.values()) else 0


# --- --self-test: the worked examples of docs/protocol.md Appendix A ---------------------------

def read_examples(text):
    """json example-input blocks (inputs) and hex example blocks (bytes; '#' starts a comment)."""
    inputs, examples = {}, {}
    for kind, name, body in re.findall(r"^```(json example-input|hex example)=(\S+)\n(.*?)^```$", text, re.M | re.S):
        if kind == "hex example":
            examples[name] = bytes.fromhex("".join(line.split("#")[0].strip() for line in body.split("\n")))
        else:
            inputs[name] = json.loads(body)
    return inputs, examples


def self_test():
    from nacl.public import PrivateKey
    from nacl.signing import SigningKey
    spec = pathlib.Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
    inputs, ex = read_examples(spec.read_text(encoding="utf-8"))
    failures = []

    def expect(name, condition, detail=""):
        if not condition:
            failures.append(f"{name}: {detail or 'differs from docs/protocol.md'}")

    seeds = {k: bytes.fromhex(v) for k, v in inputs["keys"].items()}
    broker = SigningKey(seeds["brokerIdentitySeed"])
    signer = SigningKey(seeds["postprocessorSigningSeed"])
    boxes = [PrivateKey.from_seed(seeds[k]).public_key for k in
             ("frontBoxSeed", "previousFrontBoxSeed", "replyBoxSeed", "nodeEphemeralBoxSeed")]
    shard, previous_shard = SigningKey(seeds["shard0SigningSeed"]), SigningKey(seeds["shard0PreviousSigningSeed"])
    expect("public-keys", ex["public-keys"] == bytes(broker.verify_key) + bytes(signer.verify_key)
           + b"".join(bytes(b) for b in boxes) + bytes(shard.verify_key) + bytes(previous_shard.verify_key))
    front, previous_front, reply = (bytes(b) for b in boxes[:3])

    h = inputs["header"]
    header = lambda h: HEADER.pack(1, h["type"], h["code"], h["epoch"], bytes.fromhex(h["jobID"]), h["deadline"],
                                   h["hop"], 0)
    expect("header", ex["header"] == header(h))
    e = inputs["request-envelope"]
    expect("request-envelope", ex["request-envelope"] == request_envelope(
        bytes.fromhex(e["jobID"]), e["expiresAt"], reply, e["body"].encode(), receipts=e["options"] == 1))
    r = inputs["result"]
    job = bytes.fromhex(r["jobID"])
    expect("result-plaintext", decode_result(ex["result-plaintext"], job) == (bytes.fromhex(r["body"]), None))
    signed = result_signed_bytes(r["role"], header(r["header"]), bytes.fromhex(r["sealedResult"]))
    expect("result-signed-bytes", ex["result-signed-bytes"] == signed)
    expect("result-signature", ex["result-signature"] == signer.sign(signed).signature)

    canonical = ex["policy-canonical-bytes"]
    expect("policy-digest", ex["policy-digest"] == sha256(canonical))
    policy = decode_policy(canonical)
    expect("policy-canonical-bytes", policy_summary(policy, True) == policy_summary(inputs["policy"]["policy"], True),
           "decodes to another policy than the input")
    entries = inputs["log-entries"]
    change = decode_log_entry(ex["log-entry-policy-change"])
    expect("log-entry-policy-change", change["type"] == "policy-change" and change["policy"] == canonical
           and change["time"] == entries["policyChange"]["time"]
           and change["pipelineID"] == entries["policyChange"]["pipelineID"]
           and change["previousPolicyDigest"].hex() == entries["policyChange"]["previousPolicyDigest"])
    release = decode_log_entry(ex["log-entry-key-release"])
    expected = dict(entries["keyRelease"])
    expect("log-entry-key-release", release["type"] == "key-release" and release["version"] == 2 and all(
        (release[k].hex() if isinstance(release[k], bytes) else release[k]) == v for k, v in expected.items())
        and release["signingKeys"] == {6: bytes(previous_shard.verify_key), 7: bytes(shard.verify_key)})

    leaves = [f"leaf {i}".encode() for i in range(5)] + [ex["log-entry-policy-change"], ex["log-entry-key-release"]]
    root = tree_root([leaf_hash(leaf) for leaf in leaves])
    for index in (5, 6):
        name = f"inclusion-proof-{index}-of-7"
        hashes = [ex[name][i:i + 32] for i in range(0, len(ex[name]), 32)]
        expect(name, hashes[0] == leaf_hash(leaves[index]) and hashes[-1] == root
               and inclusion_root(hashes[0], index, 7, hashes[1:-1]) == root)
        try:  # a proof with one hash changed must not verify
            bad = inclusion_root(hashes[0], index, 7, [bytes(32)] + hashes[2:-1]) != root
        except Malformed:
            bad = True
        expect(name, bad, "a tampered proof still verifies")
    head = {"treeSize": 7, "rootHash": list(root), "timestamp": inputs["log"]["timestamp"]}
    expect("tree-head-signed-bytes", ex["tree-head-signed-bytes"] == tree_head_signed_bytes(head))
    head["signature"] = list(ex["tree-head-signature"])
    expect("tree-head-signature", tree_head_valid(head, bytes(broker.verify_key)))

    m = inputs["manifest"]
    manifest = {"version": 3, "pipelineID": entries["policyChange"]["pipelineID"], "frontRole": m["frontRole"],
                "frontKey": {"epoch": m["frontEpoch"], "key": front.hex()},
                "previousFrontKey": {"epoch": m["previousFrontEpoch"], "key": previous_front.hex()},
                "resultRole": m["resultRole"], "resultSigner": bytes(signer.verify_key).hex(),
                "policyDigest": list(sha256(canonical)), "policyEntry": list(leaves[5]), "policyEntryIndex": 5,
                "treeHead": head,
                "policyInclusionProof": [list(ex["inclusion-proof-5-of-7"][i:i + 32]) for i in range(32, 128, 32)],
                **{k: m[k] for k in ("issuedAt", "expiresAt", "epochEndsAt", "graceMilliseconds")},
                "policySummary": policy_summary(policy, True)}
    manifest["modelVersion"] = model_version(manifest["policySummary"])
    expect("model-version", ex["model-version"].hex() == manifest["modelVersion"])
    expect("manifest-signed-bytes", ex["manifest-signed-bytes"] == manifest_signed_bytes(manifest))
    manifest["signature"] = list(broker.sign(manifest_signed_bytes(manifest)).signature)
    expect("manifest-signature", ex["manifest-signature"] == bytes(manifest["signature"]))
    pinned, now = bytes(broker.verify_key), m["issuedAt"] + 1000
    checks, _ = verify_manifest(manifest, pinned, now, allow_simulated=True)
    expect("manifest checks", all(c["outcome"] != "failed" for c in checks),
           "; ".join(f"{c['check']}: {c['detail']}" for c in checks if c["outcome"] == "failed"))
    # Each check refuses what it must: simulated evidence unless allowed, and any altered field.
    refusals = {"simulated-evidence": (manifest, pinned, now, False)}
    for name, alter in (("signature", lambda c: c.update(pipelineID="other")),
                        ("expiry", lambda c: None), ("policy-entry", lambda c: c.update(policyDigest=[0] * 32)),
                        ("policy-summary", lambda c: c["policySummary"].pop()),
                        ("inclusion-proof", lambda c: c.update(policyEntryIndex=4)),
                        ("tree-head-signature", lambda c: c["treeHead"].update(timestamp=1)),
                        ("model-version", lambda c: c.update(modelVersion="0" * 64))):
        copy = json.loads(json.dumps(manifest))
        alter(copy)
        refusals[name] = (copy, pinned, m["expiresAt"] if name == "expiry" else now, True)
    only_a = {"preprocessor": {"aa" * 48}}
    refusals["measurements"] = (manifest, pinned, now, True, None, only_a)
    refusals["policy-digest"] = (manifest, pinned, now, True, bytes(32))
    both = dict(only_a, preprocessor={"aa" * 48, "bb" * 48, "cc" * 48})
    pinned_checks = verify_manifest(manifest, pinned, now, True, sha256(canonical), both)[0]
    expect("manifest pins", all(c["outcome"] == "passed" for c in pinned_checks),
           "; ".join(f"{c['check']}: {c['detail']}" for c in pinned_checks if c["outcome"] != "passed"))
    for name, arguments in refusals.items():
        failed = [c["check"] for c in verify_manifest(*arguments)[0] if c["outcome"] == "failed"]
        expect(f"manifest check {name}", name in failed, f"not refused (failed: {failed})")

    self_test_receipts(inputs, ex, expect, shard, reply, {5: leaves[5], 6: leaves[6]})

    for failure in failures:
        print(f"client.py --self-test: {failure}", file=sys.stderr)
    print(f"client.py --self-test: {len(ex)} examples read, {len(failures)} failures", file=sys.stderr)
    return 1 if failures else 0


def self_test_receipts(inputs, ex, expect, shard, reply, log):
    """§11: the receipt's digests, signed bytes, encoding and result chain, then every check of
    §11.4 on a receipt file of this one receipt against the example log (entries 5 and 6)."""
    ri, pipeline = inputs["receipt"], inputs["log-entries"]["policyChange"]["pipelineID"]
    job = bytes.fromhex(ri["jobID"])
    input_digest, output_digest = (keyed_digest(bytes.fromhex(ri[k]), reply) for k in ("input", "output"))
    expect("receipt-input-digest", ex["receipt-input-digest"] == input_digest)
    expect("receipt-output-digest", ex["receipt-output-digest"] == output_digest)
    [(fields, encoded)] = decode_receipts(b"\x01" + ex["receipt"])
    expect("receipt", encoded == ex["receipt"] and fields["role"] == ri["role"] and fields["replica"] == ri["replica"]
           and fields["epoch"] == ri["epoch"] and fields["releaseIndex"] == ri["releaseIndex"]
           and fields["shardDigest"].hex() == ri["shardDigest"] and fields["inputDigest"] == input_digest
           and fields["outputDigest"] == output_digest and fields["time"] == ri["time"])
    expect("receipt-signed-bytes", ex["receipt-signed-bytes"] == receipt_signed_bytes(pipeline, job, fields))
    expect("receipt", shard.sign(ex["receipt-signed-bytes"]).signature == fields["signature"], "signature differs")
    body, chain = decode_result(ex["result-plaintext-v2"], job)
    expect("result-plaintext-v2", body == bytes.fromhex(inputs["result"]["body"])
           and [e for _, e in decode_receipts(chain)] == [ex["receipt"]])

    receipt_file = {"format": "sealpipe-receipt-v1", "pipelineID": pipeline, "jobID": ri["jobID"],
                    "epoch": ri["epoch"], "requestDigest": input_digest.hex(), "resultDigest": output_digest.hex(),
                    "receipts": [ex["receipt"].hex()]}

    def fetch(index):
        if index not in log:
            raise RuntimeError(f"no entry {index} in the example log")
        return log[index]

    def failed(file):
        return sorted(c["check"] for c in verify_receipts(file, fetch) if c["outcome"] == "failed")
    # One receipt is not the policy's path (preprocessor, shard-0, postprocessor): only `path` fails.
    expect("receipt checks", failed(receipt_file) == ["path"], f"failed: {failed(receipt_file)}")
    tampered = {
        "signature": dict(receipt_file, jobID="ff" * 16),
        "job-epoch": dict(receipt_file, epoch=6),
        "request-digest": dict(receipt_file, requestDigest="00" * 32),
        "result-digest": dict(receipt_file, resultDigest="00" * 32),
        "pipeline": dict(receipt_file, pipelineID="other"),
        # Release index 6 (u64 little-endian) cited as 5: the policy change, not a key release.
        "release-entry": dict(receipt_file, receipts=[
            ex["receipt"].replace(bytes([6]) + bytes(7), bytes([5]) + bytes(7)).hex()]),
        "format": dict(receipt_file, receipts=[ex["receipt"][:-1].hex()]),
        "format ": dict(receipt_file, format="sealpipe-receipt-v0"),
    }
    for name, file in tampered.items():
        expect(f"receipt check {name}", name.strip() in failed(file), f"not refused (failed: {failed(file)})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--front", default="tcp://127.0.0.1:5555")
    parser.add_argument("--kms", default="tcp://127.0.0.1:5550")
    parser.add_argument("--kms-key", help="the key broker's identity, 64 hex digits")
    parser.add_argument("--kms-key-file", default=".sealpipe/minilm/kms-identity.pub")
    parser.add_argument("--policy-digest", help="refuse a manifest whose policy digest is not this (64 hex digits)")
    parser.add_argument("--measurement", action="append", default=[], metavar="ROLE=HEX",
                        help="refuse a policy that allows ROLE any measurement not given this way (repeatable)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds per job (at most the gateway's maxDeadline)")
    parser.add_argument("--allow-simulated", action="store_true",
                        help="use a pipeline whose policy accepts simulated evidence (development and tests only)")
    parser.add_argument("--verbose", action="store_true", help="print the evidence kinds protecting each role")
    parser.add_argument("--receipts", metavar="DIR", help="ask for receipts; write and verify DIR/JOBID.receipt.json")
    parser.add_argument("--verify-report", metavar="FILE", help="write every check made, as JSON, to FILE")
    parser.add_argument("--self-test", action="store_true", help="check the encoders against docs/protocol.md")
    parser.add_argument("input", nargs="?", help="JSON lines file (default: standard input)")
    args = parser.parse_args()
    return self_test() if args.self_test else run(args)


if __name__ == "__main__":
    sys.exit(main())
