#!/usr/bin/python3
"""The same measurement as cql_stream_reader, through the DataStax Python driver.

    python_stream_reader.py PORT [QUERY] [FETCH_SIZE] [EXPECT_ROWS]

Reads every row of QUERY with fetch_size FETCH_SIZE, touching the id, the name and the payload
as cql_stream_reader does, and prints one line in the same format (max_rss_kb included).
"""
import resource
import sys
import time

from cassandra.cluster import Cluster
from cassandra.query import SimpleStatement


def main(argv):
    port = int(argv[1])
    query = argv[2] if len(argv) > 2 else "SELECT id, name, payload FROM demo.rows"
    fetch_size = int(argv[3]) if len(argv) > 3 else 5000
    expect = int(argv[4]) if len(argv) > 4 else -1
    cluster = Cluster(["127.0.0.1"], port=port, protocol_version=4)
    session = cluster.connect()
    rows = 0
    size = 0
    id_sum = 0
    start = time.perf_counter()
    cpu_start = time.process_time()  # every thread of the process, user and system
    for row in session.execute(SimpleStatement(query, fetch_size=fetch_size)):
        id_sum += row[0]
        size += len(row[1]) + len(row[2])
        rows += 1
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    cluster.shutdown()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("rows=%d bytes=%d seconds=%.4f rows_per_s=%.0f mb_per_s=%.1f max_rss_kb=%d "
          "cpu_ns_per_row=%.1f"
          % (rows, size, seconds, rows / seconds, size / seconds / 1e6, rss,
             cpu * 1e9 / rows if rows else 0.0))
    if expect >= 0 and (rows != expect or id_sum != expect * (expect - 1) // 2):
        print("python_stream_reader: expected %d rows" % expect, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
