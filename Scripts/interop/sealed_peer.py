#!/usr/bin/env python3
"""Interop peer for Sealpipe's tests: pyzmq + PyNaCl, implementations nobody here wrote.

Connects a DEALER to the endpoint given, then:
  1. receives the Swift side's X25519 public key;
  2. sends a message sealed (PyNaCl SealedBox) to that key, plus its own public key;
  3. receives a message the Swift side sealed to its key, opens it, and sends back its
     BLAKE2b-256 digest as proof, so the Swift side can check the plaintext arrived intact.
Exit status 0 on success; any failure raises (non-zero).
"""
import sys

import nacl.hash
import nacl.encoding
import zmq
from nacl.public import PrivateKey, PublicKey, SealedBox


def main() -> int:
    endpoint = sys.argv[1]
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVTIMEO, 10000)
    socket.connect(endpoint)
    socket.send_multipart([b"hello"])

    [swift_public] = socket.recv_multipart()
    mine = PrivateKey.generate()
    message = b"sealed by PyNaCl for Swift: \xe2\x9c\x93 " + bytes(range(256))
    sealed = SealedBox(PublicKey(swift_public)).encrypt(message)
    socket.send_multipart([sealed, bytes(mine.public_key), nacl.hash.blake2b(message, digest_size=32, encoder=nacl.encoding.RawEncoder)])

    [from_swift] = socket.recv_multipart()
    opened = SealedBox(mine).decrypt(from_swift)
    socket.send_multipart([nacl.hash.blake2b(opened, digest_size=32, encoder=nacl.encoding.RawEncoder)])
    socket.close()
    context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
