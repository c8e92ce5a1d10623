#!/usr/bin/python3
"""peer_pandas_read.py FILE - the peer reference for reading a fleet CSV.

Times pandas.read_csv(FILE, parse_dates=["timestamp"]) (compression by the
file's extension), best of 3, and prints one line "pandas_read_csv SECONDS".
Run it with Debian's /usr/bin/python3 (scripts/deps-peers installs pandas
there); exits 77 with a message when pandas is missing, 2 on bad usage.
"""
import sys
import time


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: /usr/bin/python3 scripts/peer_pandas_read.py FILE",
              file=sys.stderr if len(argv) != 2 else sys.stdout)
        return 2 if len(argv) != 2 else 0
    try:
        import pandas as pd
    except ImportError:
        print("peer_pandas_read: pandas is missing "
              "(hint: sudo scripts/deps-peers)", file=sys.stderr)
        return 77
    path = argv[1]
    best = None
    rows = 0
    for _ in range(3):
        t0 = time.perf_counter()
        df = pd.read_csv(path, parse_dates=["timestamp"])
        dt = time.perf_counter() - t0
        rows = len(df)
        del df
        best = dt if best is None or dt < best else best
    print("pandas_read_csv %.3f" % best)
    print("peer_pandas_read: %d rows, pandas %s" % (rows, pd.__version__),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError) as e:
        print("peer_pandas_read: %s" % e, file=sys.stderr)
        sys.exit(3)
