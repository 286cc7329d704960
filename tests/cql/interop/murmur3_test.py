#!/usr/bin/python3
"""Interop test: scopekit's Murmur3 tokens against the DataStax Python driver's.

    murmur3_test.py <path to murmur3_tokens>

Sends random keys (seeded, so a failure repeats) of every length from 0 to 64 bytes, and keys
whose tail bytes are all 0x80-0xFF (Cassandra's sign-extension quirk), to murmur3_tokens, and
compares each line with cassandra.murmur3.murmur3 (the raw hash) and
cassandra.metadata.Murmur3Token.hash_fn (the token: MIN_LONG moved to MAX_LONG). The empty key's
token is Cassandra's minimum token (Murmur3Partitioner.getToken), which the driver never asks for.

Exit codes: 0 pass, 1 fail, 77 skip (the driver is not installed; ctest SKIP_RETURN_CODE), but 1
when the environment variable CI is set, so that CI never skips silently.
"""

import os
import random
import subprocess
import sys

SKIP = 77
KEYS_PER_LENGTH = 200
MAX_LENGTH = 64
MIN_LONG = -(2 ** 63)

try:
    from cassandra.murmur3 import murmur3
    from cassandra.metadata import Murmur3Token
except ImportError as error:
    if os.environ.get("CI"):
        print("ERROR: the Python driver for Cassandra is not installed (%s); CI is set, so this "
              "test must run: install python3-cassandra." % error, file=sys.stderr)
        sys.exit(1)
    print("SKIP: the Python driver for Cassandra (cassandra.murmur3) is not installed (%s); "
          "apt-get install python3-cassandra" % error)
    sys.exit(SKIP)


def keys():
    rng = random.Random(20261207)
    for length in range(MAX_LENGTH + 1):
        for _ in range(KEYS_PER_LENGTH):
            yield bytes(rng.randrange(256) for _ in range(length))
        yield bytes(rng.randrange(0x80, 0x100) for _ in range(length))
        yield b"\xff" * length


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    inputs = list(keys())
    result = subprocess.run([sys.argv[1]], input="".join(k.hex() + "\n" for k in inputs),
                            capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        print("FAIL: murmur3_tokens exited %d: %s" % (result.returncode, result.stderr))
        return 1
    lines = result.stdout.splitlines()
    if len(lines) != len(inputs):
        print("FAIL: %d keys sent, %d lines back" % (len(inputs), len(lines)))
        return 1
    failures = 0
    for key, line in zip(inputs, lines):
        hash_value, token = (int(field) for field in line.split())
        expected_hash = murmur3(key)
        expected_token = MIN_LONG if not key else Murmur3Token.hash_fn(key)
        if (hash_value, token) != (expected_hash, expected_token):
            failures += 1
            if failures <= 10:
                print("FAIL: key %s (%d bytes): scopekit hash %d token %d, driver hash %d token %d"
                      % (key.hex(), len(key), hash_value, token, expected_hash, expected_token))
    if failures:
        print("FAIL: %d of %d keys differ" % (failures, len(inputs)))
        return 1
    print("PASS: %d keys of 0 to %d bytes give the Python driver's murmur3 hash and token"
          % (len(inputs), MAX_LENGTH))
    return 0


if __name__ == "__main__":
    sys.exit(main())
