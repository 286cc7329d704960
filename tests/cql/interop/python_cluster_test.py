#!/usr/bin/python3
"""Interop test: the DataStax Python driver (python3-cassandra 3.25) against a 3-node cluster.

    python_cluster_test.py <path to scopekit-cql-server>

Starts `scopekit-cql-server --port 0 --nodes 3 --auth cassandra:<password> --synthetic ...` and
checks what a driver needs from a cluster:

- a wrong password is refused (ERROR 0x0100), the right one accepted;
- the driver discovers all three nodes (system.peers) and builds the token map from their tokens;
- through TokenAwarePolicy, every read by partition key lands on the node that owns the key's
  token: the owner is computed here independently (the driver's own Murmur3 of the serialized
  key, the nodes' tokens read from system.local), and each node's counters
  (system_views.node_statistics) must have grown by exactly the reads it owns;
- a synthetic table read range by range (each range of the ring sent to the node that owns it,
  paged) gives every row exactly once, each row inside its range.

Exit codes as python_driver_test.py: 0 pass, 1 fail, 77 skip (the driver is missing, unless CI
is set).
"""

import bisect
import os
import struct
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import python_driver_test as common  # noqa: E402  (skips or fails when the driver is missing)
from python_driver_test import Failure, check, check_equal  # noqa: E402

from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import (EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile,  # noqa: E402
                               NoHostAvailable)
from cassandra.murmur3 import murmur3  # noqa: E402
from cassandra.policies import RoundRobinPolicy, TokenAwarePolicy  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

NODES = 3
USER = "cassandra"
PASSWORD = "scopekit-interop-password"
SYNTHETIC_ROWS = 20000
KEYS = 300  # rows of the stored table, all read by key
MIN_TOKEN = -2**63
MAX_TOKEN = 2**63 - 1
POOL_TIMEOUT = 15  # seconds for the driver to open a pool to every node


def connect(port, password):
    profile = ExecutionProfile(load_balancing_policy=TokenAwarePolicy(RoundRobinPolicy()))
    cluster = Cluster(["127.0.0.1"], port=port,
                      auth_provider=PlainTextAuthProvider(USER, password),
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile}, protocol_version=4)
    return cluster, cluster.connect()


def statements_served(session, host):
    """The node's statement counter, not counting the query that reads it."""
    row = session.execute("SELECT statements FROM system_views.node_statistics", host=host).one()
    return row.statements - 1


def node_tokens(session, host):
    row = session.execute("SELECT tokens FROM system.local", host=host).one()
    return sorted(int(t) for t in row.tokens)


def scenario(port, hosts_out):
    yield "a wrong password is refused with Cassandra's error"
    bad, _ = None, None
    try:
        with common.quiet_driver_log():
            bad, _ = connect(port, "not-the-password")
        raise Failure("a wrong password was accepted")
    except NoHostAvailable as e:
        text = str(e)
        check("code=0100" in text and "Provided username cassandra and/or password are incorrect"
              in text, "wrong password: expected ERROR 0x0100 in Cassandra's words, got %s" % text)
        check(PASSWORD not in text, "the error names the password")
    finally:
        if bad is not None:
            common.shutdown_cluster(bad)

    yield "the right password: the driver discovers every node"
    cluster, session = connect(port, PASSWORD)
    hosts_out.append(cluster)
    hosts = sorted(cluster.metadata.all_hosts(), key=lambda h: h.address)
    check_equal([h.address for h in hosts], ["127.0.0.%d" % (i + 1) for i in range(NODES)],
                "hosts the driver discovered")
    for h in hosts:
        check(h.is_up, "host %s is not up in the driver" % h.address)
    # connect() returns once the contact point's pool is open; the others' open in the
    # background, and a request sent to a host before its pool exists fails.
    deadline = time.monotonic() + POOL_TIMEOUT
    while len(session.get_pool_state()) < NODES and time.monotonic() < deadline:
        time.sleep(0.05)
    check_equal(len(session.get_pool_state()), NODES, "connection pools open")
    token_map = cluster.metadata.token_map
    check(token_map is not None, "the driver built no token map")

    yield "each node's tokens, from its own system.local, are the driver's token map"
    owners = []  # (token, host), the whole ring
    for h in hosts:
        for t in node_tokens(session, h):
            owners.append((t, h))
    owners.sort(key=lambda pair: pair[0])
    ring = [t for t, _ in owners]
    check_equal(len(set(ring)), len(ring), "distinct tokens on the ring")
    check_equal(sorted(t.value for t in token_map.ring), ring, "the driver's ring")

    yield "a table written through a prepared statement"
    session.execute("CREATE KEYSPACE routed WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.execute("CREATE TABLE routed.kv (id int PRIMARY KEY, v text)")
    check(cluster.control_connection.wait_for_schema_agreement(wait_time=10),
          "no schema agreement")
    insert = session.prepare("INSERT INTO routed.kv (id, v) VALUES (?, ?)")
    for i in range(KEYS):
        session.execute(insert, (i, "value-%d" % i))

    yield "token-aware reads land on the node that owns each key's token"
    select = session.prepare("SELECT v FROM routed.kv WHERE id = ?")
    before = {h.address: statements_served(session, h) for h in hosts}
    expected = {h.address: 0 for h in hosts}
    for i in range(KEYS):
        token = murmur3(struct.pack(">i", i))
        owner = owners[bisect.bisect_left(ring, token) % len(ring)][1]
        expected[owner.address] += 1
        row = session.execute(select, (i,)).one()
        check_equal(row.v if row else None, "value-%d" % i, "row %d" % i)
    after = {h.address: statements_served(session, h) for h in hosts}
    # Each statements_served() read is itself one statement on its node, counted in `after`.
    served = {a: after[a] - before[a] - 1 for a in after}
    check_equal(served, expected, "reads served per node (owner computed from Murmur3 tokens)")
    check(all(n > 0 for n in expected.values()), "some node owns none of %d keys: %s"
          % (KEYS, expected))

    yield "every row of a synthetic table, read range by range from each range's owner"
    seen = {}
    ranges = [(MIN_TOKEN, ring[0])] + list(zip(ring, ring[1:])) + [(ring[-1], MAX_TOKEN)]
    query = SimpleStatement("SELECT token(id), id FROM demo.rows "
                            "WHERE token(id) > %s AND token(id) <= %s", fetch_size=700)
    for start, end in ranges:
        owner = owners[bisect.bisect_left(ring, end) % len(ring)][1]
        result = session.execute(query, (start, end), host=owner)
        pages = 0
        previous = start
        while True:
            for row in result.current_rows:
                token = row[0]
                check(start < token <= end, "row %d has token %d outside (%d, %d]"
                      % (row.id, token, start, end))
                check(token >= previous, "range (%d, %d]: tokens out of order" % (start, end))
                previous = token
                check(row.id not in seen, "row %d read twice: in (%d, %d] and %s"
                      % (row.id, start, end, seen.get(row.id)))
                seen[row.id] = (start, end)
            if result.paging_state is None:
                break
            pages += 1
            check(pages < 1000, "range (%d, %d] never ends" % (start, end))
            result = session.execute(query, (start, end), host=owner,
                                     paging_state=result.paging_state)
    missing = SYNTHETIC_ROWS - len(seen)
    check(missing == 0 and set(seen) == set(range(SYNTHETIC_ROWS)),
          "%d ranges gave %d distinct rows of %d" % (len(ranges), len(seen), SYNTHETIC_ROWS))


def main(argv):
    if len(argv) != 2:
        print("usage: %s <path to scopekit-cql-server>" % argv[0], file=sys.stderr)
        return 2
    server = common.Server(argv[1], ["--port", "0", "--nodes", str(NODES), "--num-tokens", "4",
                                     "--auth", "%s:%s" % (USER, PASSWORD),
                                     "--synthetic", "demo.rows=%d" % SYNTHETIC_ROWS])
    failures = []
    clusters = []
    step = "start the server"
    try:
        port = server.start()
        for node in range(2, NODES + 1):
            line = server.lines.get(timeout=common.SERVER_START_TIMEOUT)
            check_equal(line, "listening on 127.0.0.%d:%d" % (node, port), "line of node %d" % node)
        print("cluster listening on port %d" % port)
        for step in scenario(port, clusters):
            print("-- " + step)
        step = None
    except Exception as e:
        failures.append("FAIL at step '%s': %s: %s\n%s"
                        % (step, type(e).__name__, e, traceback.format_exc()))
    finally:
        stopped = all(common.shutdown_cluster(c) for c in clusters)
        if not stopped:
            failures.append("FAIL: Cluster.shutdown() did not finish within %d s"
                            % common.CLUSTER_SHUTDOWN_TIMEOUT)
        try:
            server.stop()
        except Exception as e:
            failures.append("FAIL stopping the server: %s" % e)
    if PASSWORD in server.stderr_text():
        failures.append("FAIL: the server printed the password on stderr")
    return common.report(failures, stopped)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
