#!/usr/bin/python3
"""Interop test: the DataStax Python driver (python3-cassandra 3.25) against scopekit-cql-server.

    python_driver_test.py <path to scopekit-cql-server>

Starts `scopekit-cql-server --port 0 --synthetic demo.rows=2500`, connects with the driver's default
options (only the contact point and port are set: protocol negotiation from the driver's highest
version, schema and token metadata on), then runs one scenario step by step: schema through DDL
and the driver's metadata, prepared and literal INSERTs, reads by primary key, paging, the synthetic
table, errors, LIMIT, USE and DROP. The first failing step is reported with what was expected and
what came back; the driver's own warnings (failed schema refreshes) go to stderr.

The cluster and the server are always shut down (the server with SIGTERM, which must exit 0), and
every wait has a timeout. Exit codes: 0 pass, 1 fail, 77 skip (the driver is not installed; ctest
SKIP_RETURN_CODE), but 1 when the environment variable CI is set, so that CI never skips silently.
"""

import contextlib
import datetime
import logging
import os
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
import uuid

SKIP = 77
SERVER_START_TIMEOUT = 10  # seconds for the "listening on" line
SERVER_STOP_TIMEOUT = 10  # seconds from SIGTERM to exit
REQUEST_TIMEOUT = 15  # seconds per driver request (the driver's default is 10)
CLUSTER_SHUTDOWN_TIMEOUT = 20

DEMO_ROWS = 2500
PREPARED_ROWS = 50  # ids 0..49, inserted through a prepared statement
LITERAL_IDS = (100, 101, 102)  # inserted with literal CQL (100, 101) and driver-inlined %s (102)
MIN_TOKEN = -2 ** 63
MAX_PAGES = 1000  # a paging loop that runs longer than this is a server that never ends a query

try:
    import cassandra
    from cassandra import InvalidRequest
    from cassandra.cluster import Cluster
    from cassandra.metadata import Murmur3Token
    from cassandra.protocol import SyntaxException
    from cassandra.query import SimpleStatement
except ImportError as error:
    if os.environ.get("CI"):
        print("=" * 78, file=sys.stderr)
        print("ERROR: the Python driver for Cassandra is not installed (%s)." % error,
              file=sys.stderr)
        print("CI is set, so this interop test must run: install python3-cassandra.",
              file=sys.stderr)
        print("=" * 78, file=sys.stderr)
        sys.exit(1)
    print("SKIP: the Python driver for Cassandra is not installed (%s); "
          "apt-get install python3-cassandra" % error)
    sys.exit(SKIP)


class Failure(Exception):
    """A check that did not hold; the message says what was expected and what came back."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def check_equal(actual, expected, what):
    if actual != expected:
        raise Failure("%s: expected %r, got %r" % (what, expected, actual))


def check_raises(exception_type, function, what):
    try:
        function()
    except exception_type as e:
        return e
    except Exception as e:  # the wrong kind of error is a failure, with its type in the message
        raise Failure("%s: expected %s, got %s: %s"
                      % (what, exception_type.__name__, type(e).__name__, e)) from e
    raise Failure("%s: expected %s, but it succeeded" % (what, exception_type.__name__))


# ---- The server ----------------------------------------------------------------------------------

class Server:
    """scopekit-cql-server as a child process: start() returns its port, stop() expects exit 0."""

    def __init__(self, executable, arguments):
        self.command = [executable] + arguments
        self.process = None
        self.lines = queue.Queue()  # stdout lines, then None at end of file
        self.stderr = tempfile.TemporaryFile(mode="w+")

    def start(self):
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        # A reader thread keeps the pipe drained, so the server never blocks on stdout, and lets
        # the first line be awaited with a timeout.
        threading.Thread(target=self._read_stdout, daemon=True).start()
        try:
            line = self.lines.get(timeout=SERVER_START_TIMEOUT)
        except queue.Empty:
            raise Failure("the server printed nothing within %d s"
                          % SERVER_START_TIMEOUT) from None
        if line is None:
            code = self._wait(SERVER_STOP_TIMEOUT)
            self.process = None  # reported here, not again by stop()
            raise Failure("the server exited (status %r) before printing its address; stderr:\n%s"
                          % (code, self.stderr_text()))
        prefix = "listening on 127.0.0.1:"
        check(line.startswith(prefix) and line[len(prefix):].strip().isdigit(),
              "first line of the server: expected %r<port>, got %r" % (prefix, line))
        return int(line[len(prefix):])

    def stop(self):
        """SIGTERM, then wait; a server that does not exit in time is killed and reported."""
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            if code not in (None, 0):
                raise Failure("the server had already exited with status %r; stderr:\n%s"
                              % (code, self.stderr_text()))
            return
        self.process.send_signal(signal.SIGTERM)
        code = self._wait(SERVER_STOP_TIMEOUT)
        if code is None:
            self.process.kill()
            self._wait(SERVER_STOP_TIMEOUT)
            raise Failure("the server did not exit within %d s of SIGTERM (killed)"
                          % SERVER_STOP_TIMEOUT)
        check(code == 0, "the server exited with status %r after SIGTERM, expected 0; stderr:\n%s"
              % (code, self.stderr_text()))

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def _wait(self, timeout):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _read_stdout(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)


# ---- The data ------------------------------------------------------------------------------------

COLUMNS = ["id", "name", "score", "big", "flag", "data", "tags", "items", "attrs", "at", "u",
           "addr"]
CQL_TYPES = {"id": "int", "name": "text", "score": "double", "big": "bigint", "flag": "boolean",
             "data": "blob", "tags": "set<text>", "items": "list<int>", "attrs": "map<text, int>",
             "at": "timestamp", "u": "uuid", "addr": "inet"}
CREATE_TABLE = ("CREATE TABLE interop.t (id int PRIMARY KEY, name text, score double, big bigint, "
                "flag boolean, data blob, tags set<text>, items list<int>, attrs map<text, int>, "
                "at timestamp, u uuid, addr inet)")
EPOCH = datetime.datetime(1970, 1, 1)


def expected_row(i):
    """The values of row i, as the driver returns them (collections as set/list/dict)."""
    if i == 7:  # every column but the key bound to null
        return dict({c: None for c in COLUMNS}, id=7)
    return {
        "id": i,
        "name": "name-%d" % i + (" é'\"" if i % 5 == 0 else ""),
        "score": i * 1.5 - 10.25,
        "big": (1 << 40) + i if i % 2 else -(1 << 62) - i,
        "flag": i % 3 == 0,
        "data": b"" if i == 0 else bytes((i * 7 + k) & 0xFF for k in range(1 + i % 9)),
        "tags": {"t%d" % (i % 3), "all"},
        "items": [i, -i, i * 1000],
        "attrs": {"a": i, "b": -i},
        "at": datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)
              + datetime.timedelta(days=i, seconds=i),
        "u": uuid.UUID(int=(0x123E4567E89B12D3A456426614174000 + i)),
        "addr": "2001:db8::%x" % i if i % 4 == 1 else "10.0.%d.%d" % (i // 256, i % 256),
    }


LITERAL_INSERTS = {
    100: "INSERT INTO interop.t (id, name, score, big, flag, data, tags, items, attrs, at, u, "
         "addr) VALUES (100, 'it''s literal', -2.5, -9007199254740993, true, 0xCAFEbabe, "
         "{'x', 'y'}, [3, 1, 2], {'k': 7, 'z': -1}, '2024-02-29 23:59:59.999+0000', "
         "123e4567-e89b-12d3-a456-426614174000, '192.168.1.1')",
    # Columns in another order, some left out (null), a timestamp as milliseconds since the epoch.
    101: "insert into interop.t (addr, id, at, big) values ('::1', 101, 1700000000123, 0)",
}
LITERAL_EXPECTED = {
    100: {"id": 100, "name": "it's literal", "score": -2.5, "big": -9007199254740993, "flag": True,
          "data": bytes.fromhex("cafebabe"), "tags": {"x", "y"}, "items": [3, 1, 2],
          "attrs": {"k": 7, "z": -1}, "at": datetime.datetime(2024, 2, 29, 23, 59, 59, 999000),
          "u": uuid.UUID("123e4567-e89b-12d3-a456-426614174000"), "addr": "192.168.1.1"},
    101: {"id": 101, "name": None, "score": None, "big": 0, "flag": None, "data": None,
          "tags": None, "items": None, "attrs": None,
          "at": EPOCH + datetime.timedelta(milliseconds=1700000000123), "u": None, "addr": "::1"},
    102: expected_row(102),  # inserted with the driver inlining the values (%s parameters)
}


def normalize(column, value):
    """Driver values in comparable form: SortedSet -> set, OrderedMapSerializedKey -> dict."""
    if value is None:
        return None
    if column == "tags":
        return set(value)
    if column == "items":
        return list(value)
    if column == "attrs":
        return dict(value)
    return value


def check_row(row, expected, what):
    check(row is not None, "%s: no row" % what)
    for column in COLUMNS:
        check(hasattr(row, column), "%s: column %r missing from the row %r" % (what, column, row))
        check_equal(normalize(column, getattr(row, column)), expected[column],
                    "%s, column %s" % (what, column))


def demo_payload(i):
    return bytes((i * 31 + k) & 0xFF for k in range(100))


def check_payload(i, payload):
    expected = demo_payload(i)
    if payload != expected:
        if not isinstance(payload, bytes) or len(payload) != len(expected):
            raise Failure("demo.rows payload of id %d: expected 100 bytes, got %r" % (i, payload))
        k = next(k for k in range(len(expected)) if payload[k] != expected[k])
        raise Failure("demo.rows payload of id %d: byte %d is 0x%02x, expected 0x%02x "
                      "((id * 31 + %d) & 0xFF)" % (i, k, payload[k], expected[k], k))


# ---- Helpers over the driver ---------------------------------------------------------------------

def execute(session, statement, parameters=None, **kwargs):
    return session.execute(statement, parameters, timeout=REQUEST_TIMEOUT, **kwargs)


def ddl(session, statement):
    """Runs a schema change; the driver refreshes its metadata before execute() returns."""
    result = execute(session, statement)
    check(result.response_future.is_schema_agreed,
          "%r: the driver's schema refresh after the SCHEMA_CHANGE result failed or saw no schema "
          "agreement (see the driver's log above)" % statement)
    return result


def keyspace_meta(cluster, name):
    keyspaces = cluster.metadata.keyspaces
    check(name in keyspaces, "cluster.metadata.keyspaces has no %r; it has %s"
          % (name, sorted(keyspaces)))
    meta = keyspaces[name]
    check(getattr(meta, "_exc_info", None) is None,
          "the driver could not parse the system_schema rows of keyspace %r: %r"
          % (name, getattr(meta, "_exc_info", None)))
    return meta


def table_meta(cluster, keyspace, table):
    tables = keyspace_meta(cluster, keyspace).tables
    check(table in tables, "cluster.metadata.keyspaces[%r].tables has no %r; it has %s"
          % (keyspace, table, sorted(tables)))
    meta = tables[table]
    check(getattr(meta, "_exc_info", None) is None,
          "the driver could not parse the system_schema rows of table %s.%s: %r"
          % (keyspace, table, getattr(meta, "_exc_info", None)))
    return meta


def check_table_meta(cluster, keyspace, table, types, partition_key):
    meta = table_meta(cluster, keyspace, table)
    what = "metadata of %s.%s" % (keyspace, table)
    check_equal([c.name for c in meta.partition_key], partition_key, what + ", partition key")
    check_equal([c.name for c in meta.clustering_key], [], what + ", clustering key")
    check(not meta.is_compact_storage,
          what + ": the driver sees a COMPACT STORAGE table (system_schema.tables.flags must be "
          "{'compound'} for a CQL table; empty or missing flags hide the regular columns)")
    # Type strings as Cassandra 3.11 writes them; spacing inside <...> is not significant.
    actual = {name: c.cql_type.replace(" ", "") for name, c in meta.columns.items()}
    check_equal(actual, {name: t.replace(" ", "") for name, t in types.items()},
                what + ", columns and their types")


@contextlib.contextmanager
def quiet_driver_log():
    """Silences the driver's log inside a with block, for errors the test provokes on purpose."""
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def check_page_count(pages, limit_pages, statement):
    if len(pages) >= limit_pages:
        sizes = [len(p) for p in pages]
        raise Failure("%r: still has_more_pages after %d pages and %d rows (first page sizes %s, "
                      "last %s): the server never ends the query"
                      % (statement.query_string, len(pages), sum(sizes), sizes[:5], sizes[-3:]))


def all_pages(session, statement, limit_pages=MAX_PAGES):
    """Fetches every page by sending the paging state back in a new request each time (the
    stateless way, as an application resuming a query would). Returns the list of pages."""
    result = execute(session, statement)
    pages = [list(result.current_rows)]
    while result.paging_state is not None:
        check_page_count(pages, limit_pages, statement)
        result = execute(session, statement, paging_state=result.paging_state)
        pages.append(list(result.current_rows))
    return pages


# ---- The scenario --------------------------------------------------------------------------------

def scenario(cluster, session):
    """Yields the name of each step before running it, so the caller can say where it failed."""

    yield "connect: the driver's view of the server"
    check(cluster.protocol_version >= 4,
          "negotiated protocol version %r, expected 4 or higher" % cluster.protocol_version)
    check_table_meta(cluster, "demo", "rows", {"id": "bigint", "name": "text", "payload": "blob"},
                     ["id"])

    yield "CREATE KEYSPACE interop"
    ddl(session, "CREATE KEYSPACE interop WITH replication = "
                 "{'class': 'SimpleStrategy', 'replication_factor': 1}")
    meta = keyspace_meta(cluster, "interop")
    strategy = meta.replication_strategy
    check(type(strategy).__name__ == "SimpleStrategy",
          "interop's replication strategy: expected SimpleStrategy, got %r" % (strategy,))
    check_equal(strategy.replication_factor, 1, "interop's replication factor")
    check_equal(meta.durable_writes, True, "interop's durable_writes")

    yield "CREATE TABLE interop.t"
    ddl(session, CREATE_TABLE)
    check_table_meta(cluster, "interop", "t", CQL_TYPES, ["id"])

    yield "INSERT through a prepared statement"
    insert = session.prepare("INSERT INTO interop.t (%s) VALUES (%s)"
                             % (", ".join(COLUMNS), ", ".join("?" * len(COLUMNS))))
    check_equal([c.name for c in insert.column_metadata], COLUMNS,
                "bind markers of the prepared INSERT")
    check_equal(insert.routing_key_indexes, [0],
                "routing key indexes of the prepared INSERT (pk indexes, or the driver's own "
                "from the table metadata)")
    for i in range(PREPARED_ROWS):
        row = expected_row(i)
        check_equal(execute(session, insert, [row[c] for c in COLUMNS]).current_rows, [],
                    "rows returned by the prepared INSERT of id %d" % i)

    yield "INSERT with literals"
    for i, statement in sorted(LITERAL_INSERTS.items()):
        check_equal(execute(session, statement).current_rows, [], "rows returned by %r" % statement)
    row = expected_row(102)
    execute(session, "INSERT INTO interop.t (%s) VALUES (%s)"
            % (", ".join(COLUMNS), ", ".join(["%s"] * len(COLUMNS))), [row[c] for c in COLUMNS])

    yield "SELECT by primary key, prepared"
    by_id = session.prepare("SELECT * FROM interop.t WHERE id = ?")
    check_equal(by_id.routing_key_indexes, [0], "routing key indexes of the prepared SELECT")
    for i in range(PREPARED_ROWS):
        check_row(execute(session, by_id, [i]).one(), expected_row(i),
                  "prepared SELECT of id %d" % i)
    for i, expected in sorted(LITERAL_EXPECTED.items()):
        check_row(execute(session, by_id, [i]).one(), expected, "prepared SELECT of id %d" % i)
    check_equal(execute(session, by_id, [999]).current_rows, [],
                "prepared SELECT of an id that was never inserted")

    yield "SELECT by primary key, literal"
    for i in (0, 7, 31):
        check_row(execute(session, "SELECT * FROM interop.t WHERE id = %d" % i).one(),
                  expected_row(i), "literal SELECT of id %d" % i)
    for i, expected in sorted(LITERAL_EXPECTED.items()):
        check_row(execute(session, "SELECT * FROM interop.t WHERE id = %d" % i).one(), expected,
                  "literal SELECT of id %d" % i)
    selected = execute(session, "SELECT big, name FROM interop.t WHERE id = 5")
    check_equal(selected.column_names, ["big", "name"], "columns of SELECT big, name")
    check_equal(tuple(selected.one()), (expected_row(5)["big"], expected_row(5)["name"]),
                "SELECT big, name of id 5")

    yield "paging through interop.t with fetch_size=7"
    all_ids = sorted(list(range(PREPARED_ROWS)) + list(LITERAL_IDS))
    statement = SimpleStatement("SELECT * FROM interop.t", fetch_size=7)
    first = execute(session, statement)
    check(first.has_more_pages and first.paging_state is not None,
          "the first page of %d rows with fetch_size=7 says it is the last (has_more_pages=%r)"
          % (len(all_ids), first.has_more_pages))
    # The driver's own paging: ResultSet.fetch_next_page() over the same ResultSet.
    pages = [list(first.current_rows)]
    while first.has_more_pages:
        check_page_count(pages, MAX_PAGES, statement)
        first.fetch_next_page()
        pages.append(list(first.current_rows))
    check_pages(pages, 7, all_ids, "fetch_next_page() over SELECT * FROM interop.t")
    rows = {r.id: r for page in pages for r in page}
    for i in range(PREPARED_ROWS):
        check_row(rows[i], expected_row(i), "paged SELECT *, id %d" % i)
    # Stateless paging: each page a new request carrying the previous paging state.
    check_pages(all_pages(session, statement), 7, all_ids, "paging_state over interop.t")

    yield "reading all of demo.rows with fetch_size=1000"
    pages = all_pages(session, SimpleStatement("SELECT * FROM demo.rows", fetch_size=1000))
    check_pages(pages, 1000, list(range(DEMO_ROWS)), "SELECT * FROM demo.rows")
    for page in pages:
        for r in page:
            check_equal(r.name, "row-%d" % r.id, "demo.rows name of id %d" % r.id)
            check_payload(r.id, r.payload)
    # And by iterating a ResultSet, the way most applications read.
    seen = [r.id for r in execute(session, SimpleStatement("SELECT id FROM demo.rows",
                                                           fetch_size=1000))]
    check_equal(sorted(seen), list(range(DEMO_ROWS)), "ids from iterating SELECT id FROM demo.rows")
    lookup = session.prepare("SELECT name, payload FROM demo.rows WHERE id = ?")
    for i in (0, 1234, DEMO_ROWS - 1):
        row = execute(session, lookup, [i]).one()
        check(row is not None, "prepared SELECT of demo.rows id %d: no row" % i)
        check_equal(row.name, "row-%d" % i, "prepared SELECT of demo.rows id %d, name" % i)
        check_payload(i, row.payload)
    check_equal(execute(session, lookup, [DEMO_ROWS]).current_rows, [],
                "demo.rows id %d (past the end)" % DEMO_ROWS)

    yield "errors: syntax error, unknown table and keyspace"
    check_raises(SyntaxException, lambda: execute(session, "SELEC * FROM interop.t"),
                 "SELEC * FROM interop.t")
    check_raises(InvalidRequest, lambda: execute(session, "SELECT * FROM interop.no_such_table"),
                 "SELECT from an unknown table")
    check_raises(InvalidRequest, lambda: execute(session, "SELECT * FROM no_such_keyspace.t"),
                 "SELECT from an unknown keyspace")
    with quiet_driver_log():  # Session.prepare() logs the expected error with its traceback
        check_raises(InvalidRequest, lambda: session.prepare("SELECT * FROM interop.no_such_table"),
                     "PREPARE of a SELECT from an unknown table")
    check_raises(InvalidRequest, lambda: execute(session, "SELECT * FROM t"),
                 "unqualified SELECT before any USE")
    # The connection still works after errors.
    check_row(execute(session, by_id, [3]).one(), expected_row(3), "prepared SELECT after errors")

    yield "LIMIT"
    check_equal(len(list(execute(session, "SELECT * FROM interop.t LIMIT 5"))), 5,
                "rows of SELECT * FROM interop.t LIMIT 5")
    check_equal(len(list(execute(session, "SELECT * FROM interop.t WHERE id = 3 LIMIT 1"))), 1,
                "rows of SELECT * FROM interop.t WHERE id = 3 LIMIT 1")
    # LIMIT across pages: the limit counts rows over the whole query, not per page.
    pages = all_pages(session, SimpleStatement("SELECT id FROM demo.rows LIMIT 1500",
                                               fetch_size=1000))
    check_equal(sum(len(p) for p in pages), 1500,
                "rows of SELECT id FROM demo.rows LIMIT 1500 with fetch_size=1000")
    check(len(pages) >= 2, "LIMIT 1500 with fetch_size=1000 came back in one page")

    yield "tokens: token(id) is the driver's Murmur3 token; token ranges read every row once"
    stored = [tuple(r) for r in execute(session, "SELECT token(id), id FROM interop.t")]
    check_equal(stored, sorted(stored), "SELECT token(id), id FROM interop.t in token order")
    for token, i in stored:
        check_equal(token, Murmur3Token.hash_fn(struct.pack(">i", i)), "token(id) of id %d" % i)
    ranged = session.prepare("SELECT token(id), id FROM demo.rows "
                             "WHERE token(id) > ? AND token(id) <= ?")
    check_equal([(c.name, c.type.typename) for c in ranged.column_metadata],
                [("partition key token", "bigint")] * 2, "the markers of a token range")
    ranged.fetch_size = 300
    bounds = [MIN_TOKEN, -2 ** 62, -1, 0, 123456789, 2 ** 62, MIN_TOKEN]  # ends at the ring's end
    seen = []
    for start, end in zip(bounds, bounds[1:]):
        result = execute(session, ranged, [start, end])
        previous = start
        while True:
            for token, i in result.current_rows:
                check(start < token and (end == MIN_TOKEN or token <= end) and token >= previous,
                      "row %d: token %d out of order or outside (%d, %d]" % (i, token, start, end))
                previous = token
                seen.append(i)
            if result.paging_state is None:
                break
            result = execute(session, ranged, [start, end], paging_state=result.paging_state)
    check_equal(sorted(seen), list(range(DEMO_ROWS)), "demo.rows read range by range")

    yield "USE interop, then unqualified statements"
    result = execute(session, "USE interop")
    check_equal(result.current_rows, [], "rows returned by USE")
    check_equal(session.keyspace, "interop", "session.keyspace after USE interop")
    check_row(execute(session, "SELECT * FROM t WHERE id = 1").one(), expected_row(1),
              "unqualified literal SELECT after USE")
    unqualified = session.prepare("SELECT * FROM t WHERE id = ?")
    check_row(execute(session, unqualified, [2]).one(), expected_row(2),
              "unqualified prepared SELECT after USE")
    pages = all_pages(session, SimpleStatement("SELECT id FROM t", fetch_size=20))
    check_pages(pages, 20, all_ids, "paged unqualified SELECT id FROM t")

    yield "DROP TABLE interop.t"
    ddl(session, "DROP TABLE interop.t")
    tables = keyspace_meta(cluster, "interop").tables
    check("t" not in tables, "table t still in the driver's metadata after DROP TABLE: %s"
          % sorted(tables))
    check_raises(InvalidRequest, lambda: execute(session, "SELECT * FROM interop.t"),
                 "SELECT from the dropped table")

    yield "DROP KEYSPACE interop"
    ddl(session, "DROP KEYSPACE interop")
    check("interop" not in cluster.metadata.keyspaces,
          "keyspace interop still in the driver's metadata after DROP KEYSPACE: %s"
          % sorted(cluster.metadata.keyspaces))


def check_pages(pages, fetch_size, expected_ids, what):
    check(len(pages) >= 2, "%s: one page only, expected several (fetch_size=%d, %d rows)"
          % (what, fetch_size, len(expected_ids)))
    too_big = [len(p) for p in pages if len(p) > fetch_size]
    check(not too_big, "%s: pages larger than fetch_size=%d: %s" % (what, fetch_size, too_big))
    ids = [r.id for page in pages for r in page]
    duplicates = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    check(not duplicates, "%s: ids seen more than once: %s" % (what, duplicates[:20]))
    missing = sorted(set(expected_ids) - set(ids))
    extra = sorted(set(ids) - set(expected_ids))
    check(not missing and not extra, "%s: %d ids missing (first %s), %d unexpected (first %s)"
          % (what, len(missing), missing[:10], len(extra), extra[:10]))


# ---- Main ----------------------------------------------------------------------------------------

def shutdown_cluster(cluster):
    """Cluster.shutdown() joins driver threads; give it a deadline. Returns True if it finished."""
    done = threading.Thread(target=cluster.shutdown, daemon=True)
    done.start()
    done.join(CLUSTER_SHUTDOWN_TIMEOUT)
    return not done.is_alive()


def main(argv):
    if len(argv) != 2:
        print("usage: %s <path to scopekit-cql-server>" % argv[0], file=sys.stderr)
        return 2
    executable = argv[1]
    if not os.access(executable, os.X_OK):
        print("FAIL: %r is not an executable file" % executable, file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING, format="driver %(levelname)s %(name)s: %(message)s")
    print("python driver %s" % cassandra.__version__)

    server = Server(executable, ["--port", "0", "--synthetic", "demo.rows=%d" % DEMO_ROWS])
    failures = []
    cluster = None
    cluster_stopped = True
    step = "starting the server"
    try:
        port = server.start()
        print("server listening on port %d" % port)
        step = "connect"
        cluster = Cluster(["127.0.0.1"], port=port)
        cluster_stopped = False
        session = cluster.connect()
        print("connected, protocol version %d" % cluster.protocol_version)
        for step in scenario(cluster, session):
            print("-- " + step)
        step = None
    except Exception as e:
        failures.append("FAIL at step '%s': %s: %s\n%s"
                        % (step, type(e).__name__, e, traceback.format_exc()))
    finally:
        if cluster is not None:
            cluster_stopped = shutdown_cluster(cluster)
            if not cluster_stopped:
                failures.append("FAIL: Cluster.shutdown() did not finish within %d s"
                                % CLUSTER_SHUTDOWN_TIMEOUT)
        try:
            server.stop()
        except Exception as e:
            failures.append("FAIL stopping the server: %s" % e)

    return report(failures, cluster_stopped)


def report(failures, drivers_stopped):
    """Prints the failures (or "ok") and returns the exit status; when the driver's threads did
    not stop, exits at once, since they would keep the interpreter alive."""
    for failure in failures:
        print(failure, file=sys.stderr)
    status = 1 if failures else 0
    if status == 0:
        print("ok")
    if not drivers_stopped:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
