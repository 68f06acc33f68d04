#!/usr/bin/env python3
"""The soak test's attacker (test-only; never part of the product): runs each flood of issue 11
against a live pipeline for a bounded time, one after the other, and prints one JSON line per
flood with what it sent and what came back. It holds no key and uses only what any host on the
network can reach: the gateway's front and backend, the key broker, the metrics endpoints.

  python3 Scripts/soak/attacker.py --front tcp://127.0.0.1:5605 --backend tcp://127.0.0.1:5606 \
      --kms tcp://127.0.0.1:5600 --kms-key HEX --metrics 9500,9501 --seconds 20 [--long-front …]

Floods (in this order; --floods picks some):
  next-epoch     1,024 one-byte requests under the next key epoch, again and again
  nonces         ~100k nonce requests to the key broker, pipelined, from two source addresses
  roles          refused key requests with huge and newline-bearing role strings, and refused
                 attestations (untrusted evidence) that the broker logs
  front-frames   front messages of many legal frames (1,000 of 1 MB; 100,000 of one byte)
  backend-frame  a 300 MiB backend frame (over the hop limit) and 48 MiB ones (under it)
  refused-hops   sealed-looking garbage under the current epoch at a high rate (up to 4,000 a
                 second, open loop): the first stage refuses each; past its share, busy
  long-texts     1 MiB texts, sealed properly, to the pipeline given by --long-front (the model
                 pipeline when there is one: the tokenizer's window bounds its work)
  slow-metrics   slow clients on every metrics endpoint, sending a byte a second
"""
import argparse, hashlib, json, os, random, socket, struct, sys, threading, time

import zmq
from nacl.public import PrivateKey, PublicKey, SealedBox

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from client import HEADER, SUBMIT, ERROR, Broker, verify_manifest  # noqa: E402  (Scripts/client.py)


def fetch_manifest(context, endpoint, pinned, allow_simulated):
    """The pipeline's manifest, checked as Scripts/client.py checks it: the attacker seals its
    long texts to the real front key, as a real client would."""
    manifest = Broker(context, endpoint, pinned).manifest()
    checks, _ = verify_manifest(manifest, pinned, int(time.time() * 1000), allow_simulated)
    failed = [check["check"] for check in checks if check["outcome"] == "failed"]
    if failed:
        sys.exit(f"attacker: the manifest at {endpoint} fails {', '.join(failed)}")
    return manifest

FLOODS = ["next-epoch", "nonces", "roles", "front-frames", "backend-frame", "refused-hops", "long-texts",
          "slow-metrics"]
ERROR_NAMES = {1: "malformed", 2: "busy", 3: "deadline_exceeded", 4: "unknown_epoch", 5: "too_large",
               6: "unsupported_version", 7: "stage_failed", 8: "duplicate_job", 9: "shutting_down",
               10: "no_replica", 11: "could_not_open", 12: "bad_sender", 13: "replayed"}


def dealer(context, endpoint, source=None):
    s = context.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDHWM, 100_000)
    s.setsockopt(zmq.RCVHWM, 100_000)
    if source:  # libzmq's "source;destination" form: the peer sees another address
        host, port = endpoint.rsplit(":", 1)
        endpoint = f"tcp://{source}:0;{host.split('//')[1]}:{port}"
    s.connect(endpoint)
    return s


def drain_replies(s, tally, wait_ms=0):
    """Reads every reply ready now (or within wait_ms), counting gateway replies by code."""
    while s.poll(wait_ms):
        frames = s.recv_multipart()
        wait_ms = 0
        try:
            _, kind, code, *_ = HEADER.unpack(frames[0])
            key = "result" if kind != ERROR else ERROR_NAMES.get(code, f"code_{code}")
        except struct.error:
            key = "unreadable"
        tally[key] = tally.get(key, 0) + 1


def submit_header(epoch, deadline_ms):
    return HEADER.pack(1, SUBMIT, 0, epoch, os.urandom(16), deadline_ms, 0, 0)


class Attack:
    def __init__(self, args):
        self.args = args
        self.context = zmq.Context()
        pinned = bytes.fromhex(args.kms_key)
        self.manifest = fetch_manifest(self.context, args.kms, pinned, True)
        self.epoch = self.manifest["frontKey"]["epoch"]

    def until(self, seconds):
        end = time.monotonic() + seconds
        return lambda: time.monotonic() < end

    # 1,024 one-byte requests under the next epoch, held at most a short while on a quota of their own.
    def next_epoch(self, running):
        s, tally, sent = dealer(self.context, self.args.front), {}, 0
        while running():
            for _ in range(1024):
                s.send_multipart([submit_header(self.epoch + 1, 300_000), b"x"])
            sent += 1024
            drain_replies(s, tally, 200)
        drain_replies(s, tally, 500)
        s.close()
        return {"sent": sent, "replies": tally}

    # Nonce requests pipelined 200 at a time, from two addresses.
    def nonces(self, running):
        result = {"sent": 0, "replies": {}}
        lock = threading.Lock()

        def flood(source):
            s = dealer(self.context, self.args.kms, source)
            request = json.dumps({"nonce": {"role": "shard-0"}}).encode()
            sent, tally = 0, {}
            while running() and sent < 50_000:
                for _ in range(200):
                    s.send_multipart([b"", request])
                sent += 200
                for _ in range(200):
                    if not s.poll(1000):
                        break
                    status = json.loads(s.recv_multipart()[-1]).get("status", {})
                    key = "ok" if "ok" in status else f"error_{status.get('error', {}).get('code')}"
                    tally[key] = tally.get(key, 0) + 1
            s.close()
            with lock:
                result["sent"] += sent
                for k, v in tally.items():
                    result["replies"][k] = result["replies"].get(k, 0) + v

        threads = [threading.Thread(target=flood, args=(source,)) for source in ("127.0.0.2", "127.0.0.3")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return result

    # Refusals carrying attacker-chosen strings, and refused attestations the broker may log.
    def roles(self, running):
        s = dealer(self.context, self.args.kms, "127.0.0.4")
        key = bytes(PrivateKey.generate().public_key).hex()
        evidence = {"kind": "simulated", "report": "QUFBQQ==", "certificates": []}
        # The pipeline's own topology digest, so a refusal comes from the evidence check and is logged.
        digest = hashlib.sha256(open(self.args.topology, "rb").read()).hexdigest() if self.args.topology else None

        def attest(role, nonce):
            return json.dumps({"attest": {"_0": {"role": role, "nonce": list(nonce), "ephemeralPublicKey": key,
                                                 "evidence": evidence, "topologyDigest": digest}}}).encode()

        shapes = [
            json.dumps({"nonce": {"role": "r" * 200_000}}).encode(),
            json.dumps({"nonce": {"role": 'shard-0\n{"event":"keys released","role":"shard-0"}'}}).encode(),
            attest("x" * 500_000, bytes(32)),
            attest('shard-1\n{"event":"keys released"}', bytes(32)),
            attest("shard-1", os.urandom(32)),  # a nonce the broker never issued
        ]
        sent, tally, i = 0, {}, 0
        while running():
            if i % 6 == 5:  # a real nonce, then evidence no trusted platform key signed: refused and logged
                s.send_multipart([b"", json.dumps({"nonce": {"role": "shard-1"}}).encode()])
                nonce = bytes(32)
                if s.poll(1000):
                    grant = json.loads(s.recv_multipart()[-1]).get("nonce")
                    nonce = bytes(grant["nonce"]) if grant else nonce
                request = attest("shard-1", nonce)
            else:
                request = shapes[i % len(shapes)]
            s.send_multipart([b"", request])
            sent += 1
            i += 1
            if s.poll(1000):
                status = json.loads(s.recv_multipart()[-1]).get("status", {})
                name = next(iter(status), "none")
                detail = status.get(name, {}) if isinstance(status.get(name), dict) else {}
                label = f"{name}_{detail.get('check', detail.get('code', ''))}".rstrip("_")
                tally[label] = tally.get(label, 0) + 1
        s.close()
        return {"sent": sent, "replies": tally}

    # Front messages of many frames, each frame legal on its own: 1,000 of 1 MB (--front-frames), or
    # 100,000 of one byte.
    def front_frames(self, running):
        s, tally, sent = dealer(self.context, self.args.front), {}, 0
        shapes = [[bytes(1_000_000)] * self.args.front_frames, [b"x"] * 100_000]
        while running():
            s.send_multipart([submit_header(self.epoch, 30_000)] + shapes[sent % 2])
            sent += 1
            drain_replies(s, tally, 500)
        s.close()
        return {"sent_messages": sent, "replies": tally}

    # One frame over the backend's hop limit (dropped before it is read), and frames just under it.
    def backend_frame(self, running):
        sent, big = {"300MiB": 0, "48MiB": 0}, None
        while running():
            s = dealer(self.context, self.args.backend)
            s.setsockopt(zmq.LINGER, 2000)
            if sent["300MiB"] <= sent["48MiB"] // 4:
                big = big or bytes(300 << 20)
                s.send(big, copy=False)
                sent["300MiB"] += 1
            else:
                s.send(bytes(48 << 20), copy=False)
                sent["48MiB"] += 1
            time.sleep(0.5)
            s.close()
        return {"sent": sent}

    # Garbage where a sealed request goes, under the current epoch: the first stage refuses each.
    # Open loop at 4,000 a second from one connection, however many are unanswered: the gateway's
    # per-client share of maxInFlight (256 of 1,024) answers the rest `busy`, so real clients keep
    # their room (docs/security.md).
    def refused_hops(self, running):
        s, tally, sent = dealer(self.context, self.args.front), {}, 0
        while running():
            started = time.monotonic()
            for _ in range(400):
                s.send_multipart([submit_header(self.epoch, 30_000), os.urandom(120)])
                sent += 1
            drain_replies(s, tally, 20)
            time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
        drain_replies(s, tally, 1000)
        s.close()
        return {"sent": sent, "replies": tally}

    # 1 MiB texts, sealed to the (model) pipeline's front key as a real client would.
    def long_texts(self, running):
        args = self.args
        if not args.long_front:
            return {"skipped": "no model pipeline"}
        manifest = fetch_manifest(self.context, args.long_kms, bytes.fromhex(args.long_kms_key), True)
        front_key = PublicKey(bytes.fromhex(manifest["frontKey"]["key"]))
        epoch = manifest["frontKey"]["epoch"]
        s, tally, sent = dealer(self.context, args.long_front), {}, 0
        words = "the quick brown fox jumps over the lazy dog and keeps running ".split()
        text = " ".join(random.choice(words) for _ in range(200_000))[: (1 << 20) - 200].encode()
        while running():
            job, reply = os.urandom(16), PrivateKey.generate()
            expires = int(time.time() * 1000) + 60_000
            envelope = (bytes([2]) + job + struct.pack("<Q", expires) + bytes(reply.public_key)
                        + struct.pack("<I", len(text)) + text)
            header = HEADER.pack(1, SUBMIT, 0, epoch, job, 60_000, 0, 0)
            s.send_multipart([header, SealedBox(front_key).encrypt(envelope)])
            sent += 1
            drain_replies(s, tally, 250)
        drain_replies(s, tally, 5000)
        s.close()
        return {"sent": sent, "text_bytes": len(text), "replies": tally}

    # Slow clients: a request head trickled a byte a second on every metrics endpoint.
    def slow_metrics(self, running):
        ports = [int(p) for p in self.args.metrics.split(",") if p]
        opened, closed_by_server = 0, 0
        request = b"GET /metrics HTTP/1.1\r\nHost: soak\r\n\r\n"
        clients = []
        while running():
            while len(clients) < 4 * len(ports):
                c = socket.create_connection(("127.0.0.1", ports[len(clients) % len(ports)]), timeout=5)
                c.setblocking(False)
                clients.append([c, 0])
                opened += 1
            for entry in list(clients):
                c, offset = entry
                try:
                    c.send(request[offset % (len(request) - 1):][:1])
                    entry[1] += 1
                    if c.recv(1) == b"":
                        raise ConnectionError
                except BlockingIOError:
                    pass
                except OSError:
                    closed_by_server += 1
                    c.close()
                    clients.remove(entry)
            time.sleep(1)
        for c, _ in clients:
            c.close()
        return {"connections": opened, "closed_by_server": closed_by_server, "ports": len(ports)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--front", required=True)
    parser.add_argument("--backend", required=True)
    parser.add_argument("--kms", required=True)
    parser.add_argument("--kms-key", required=True)
    parser.add_argument("--topology", help="the topology file the nodes run (its digest goes in attestations)")
    parser.add_argument("--metrics", default="", help="metrics ports, comma-separated")
    parser.add_argument("--long-front", help="front of the pipeline to send 1 MiB texts to")
    parser.add_argument("--long-kms")
    parser.add_argument("--long-kms-key")
    parser.add_argument("--front-frames", type=int, default=1000, help="1 MB frames in one front message")
    parser.add_argument("--seconds", type=float, default=20, help="seconds per flood")
    parser.add_argument("--floods", default=",".join(FLOODS))
    args = parser.parse_args()
    attack = Attack(args)
    for name in args.floods.split(","):
        started = time.time()
        print(json.dumps({"flood": name, "event": "start", "time": started}), flush=True)
        outcome = getattr(attack, name.replace("-", "_"))(attack.until(args.seconds))
        print(json.dumps({"flood": name, "event": "end", "time": time.time(),
                          "seconds": round(time.time() - started, 1), **outcome}), flush=True)


if __name__ == "__main__":
    main()
