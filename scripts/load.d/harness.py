"""Small helpers of scripts/load, standard library only.

  harness.py cpu PID                   CPU seconds used so far by a process
                                       and its reaped children
  harness.py cluster-cpu POSTMASTER    the same for a Postgres cluster
  harness.py sql reset|check|requeue|pending
                                       the SQL of the commands below, for psql
  harness.py rss PID                   peak RSS (MiB) since the last reset
  harness.py sqlite-reset DB           drop every booking (the seeded state)
  harness.py sqlite-check DB           the counts of CHECK, space-separated
  harness.py sqlite-requeue DB         REQUEUE on a SQLite file
  harness.py sqlite-pending DB         the outbox messages not delivered yet
  harness.py merge-wrk OUT A B         one LOAD line for two wrk runs side by side
  harness.py mail-count LOG...         log mailer lines and distinct emails
  harness.py record-drain FILE STORE BACKLOG LEFT SECONDS EMAILS DISTINCT
                                       one result line from an outbox drain
  harness.py pgbench-latency DIR       p50/p99 (µs) of pgbench's -l logs
  harness.py record FILE JSON WRK_OUT  one result line from wrk's LOAD line
  harness.py record-pgbench FILE CONNS BOOKED PG0 PG1 DIR
                                       one result line from a pgbench run
  harness.py annotate FILE KEY VALUE   adds KEY to the last result line
  harness.py table FILE                the table of every result
"""

import glob
import json
import os
import re
import sqlite3
import sys

# The invariant counts, the same query for both stores: slots with more
# confirmed students than seats, slots whose booked_count is not their
# number of confirmed bookings, bookings without an audit entry; then the
# confirmed bookings and the outbox messages not delivered yet.
CHECK = """
SELECT
  (SELECT COUNT(*) FROM slots s WHERE
     (SELECT COUNT(*) FROM bookings b WHERE b.slot_id = s.id AND b.status = 'confirmed') > s.capacity),
  (SELECT COUNT(*) FROM slots s WHERE
     (SELECT COUNT(*) FROM bookings b WHERE b.slot_id = s.id AND b.status = 'confirmed') <> s.booked_count),
  (SELECT COUNT(*) FROM bookings b WHERE
     NOT EXISTS (SELECT 1 FROM booking_audit a WHERE a.booking_id = b.id)),
  (SELECT COUNT(*) FROM bookings WHERE status = 'confirmed'),
  (SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL)
"""

# Back to the seeded state, for both stores: no booking and what hangs off
# one (children first), every seat free. The outbox goes too, so that no
# backlog of an earlier run is delivered during the next one.
RESET = """
DELETE FROM reminders WHERE booking_id IS NOT NULL;
DELETE FROM reviews;
DELETE FROM lesson_reports;
DELETE FROM credits;
DELETE FROM booking_audit;
DELETE FROM outbox;
DELETE FROM bookings;
UPDATE slots SET booked_count = 0 WHERE booked_count <> 0;
"""

# The outbox as a worker finds it after an outage: every message of the
# last booking run undelivered again, due since it was written, never
# attempted, and the reminders it planned gone, so that the handlers do
# all of their work again (the drain measurement of scripts/load).
REQUEUE = """
DELETE FROM reminders;
UPDATE outbox SET delivered_at = NULL, failed_at = NULL, last_error = NULL, attempts = 0,
  available_at = occurred_at;
"""

PENDING = "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL"

# The log mailer's idempotency key of an outbox email: the message and the
# recipient. The same key twice is the same email sent twice.
MAIL_KEY = re.compile(r"key=(outbox-[0-9a-f-]{73})")


def cpu(pids):
    """utime+stime+cutime+cstime of each process, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Fields 14-17 of proc(5); the split above starts at field 3.
        total += sum(int(x) for x in fields[11:15])
    return total / tick


def children(pid):
    """The live children of pid (a postmaster's backends)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            found.append(stat.split("/")[2])
    return found


def sqlite_reset(db):
    conn = sqlite3.connect(db, timeout=60)
    conn.executescript("BEGIN;" + RESET + "COMMIT;")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def sqlite_check(db):
    conn = sqlite3.connect(db, timeout=60)
    row = conn.execute(CHECK).fetchone()
    conn.close()
    return " ".join(str(n) for n in row)


def sqlite_requeue(db):
    conn = sqlite3.connect(db, timeout=60)
    conn.executescript("BEGIN;" + REQUEUE + "COMMIT;")
    conn.close()


def sqlite_pending(db):
    conn = sqlite3.connect(db, timeout=60)
    (n,) = conn.execute(PENDING).fetchone()
    conn.close()
    return n


def merge_wrk(out, *runs):
    """Two wrk runs against two instances as one LOAD line: counts summed,
    the longer duration, the larger of the two p50s and p99s (percentiles
    do not add up; the larger is the pessimistic one)."""
    results = []
    for path in runs:
        line = next(l for l in open(path) if l.startswith("LOAD "))
        results.append(json.loads(line[5:]))
    merged = {k: sum(r[k] for r in results) for k in ("requests", "ok", "refused", "failed", "socket_errors")}
    for k in ("duration_us", "p50_us", "p99_us", "max_us"):
        merged[k] = max(r[k] for r in results)
    with open(out, "w") as f:
        f.write("LOAD " + json.dumps(merged) + "\n")


def mail_count(logs):
    """Outbox emails the log mailer wrote, and how many were different."""
    keys = []
    for path in logs:
        with open(path, errors="replace") as f:
            for line in f:
                keys.extend(MAIL_KEY.findall(line))
    return len(keys), len(set(keys))


def record_drain(path, store, backlog, left, seconds, emails, distinct):
    backlog, left, seconds = int(backlog), int(left), float(seconds)
    row = {
        "store": store,
        "what": "outbox drain",
        "conns": None,
        "duration_us": int(seconds * 1e6),
        "requests": backlog,
        "ok": backlog - left,
        "refused": 0,
        "failed": 0,
        "socket_errors": 0,
        "outbox_left": left,
        "emails": int(emails),
        "duplicates": int(emails) - int(distinct),
    }
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(
        f"  outbox drain: {backlog - left} of {backlog} messages in {seconds:.2f} s "
        f"({(backlog - left) / max(seconds, 1e-6):,.0f}/s), {left} left; {emails} emails, "
        f"{int(emails) - int(distinct)} sent twice"
    )


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def pgbench_latency(directory):
    # pgbench -l: client, transaction, latency (µs), script, epoch, µs.
    latencies = []
    for path in glob.glob(f"{directory}/pgbench_log.*"):
        with open(path) as f:
            latencies.extend(int(line.split()[2]) for line in f if line.strip())
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_us": percentile(latencies, 50),
        "p99_us": percentile(latencies, 99),
    }


def record(path, extra, wrk_out):
    line = next(l for l in open(wrk_out) if l.startswith("LOAD "))
    result = json.loads(line[5:])
    result.update(json.loads(extra))
    with open(path, "a") as f:
        f.write(json.dumps(result) + "\n")
    r = result
    print(
        f"  {r['what']} @{r['conns']}: {r['requests']} requests, {r['ok']} ok, {r['refused']} refused, "
        f"{r['failed'] + r['socket_errors']} errors, p50 {r['p50_us']} µs, p99 {r['p99_us']} µs"
    )


def record_pgbench(path, conns, booked, pg0, pg1, directory):
    lat = pgbench_latency(directory)
    # pgbench's own rate, without the connections' set-up time.
    with open(f"{directory}/out") as f:
        tps = float(re.search(r"tps = ([0-9.]+)", f.read()).group(1))
    booked = int(booked)
    row = {
        "store": "postgres",
        "what": "SQL ceiling",
        "conns": int(conns),
        "duration_us": int(lat["requests"] / tps * 1e6),
        "requests": lat["requests"],
        "ok": booked,
        "refused": lat["requests"] - booked,
        "failed": 0,
        "socket_errors": 0,
        "p50_us": lat["p50_us"],
        "p99_us": lat["p99_us"],
        "service_cpu": None,
        "pg_cpu": None if pg0 == "null" else round(float(pg1) - float(pg0), 2),
        "rss_mib": None,
    }
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(
        f"  SQL ceiling @{conns}: {row['requests']} transactions, {booked} bookings, "
        f"p50 {row['p50_us']} µs, p99 {row['p99_us']} µs"
    )


def annotate(path, key, value):
    """Adds key=value to the last result."""
    with open(path) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    rows[-1][key] = json.loads(value)
    with open(path, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows))


def ms(us):
    if us is None:
        return "-"
    return f"{us / 1000:.2f}" if us < 10_000 else f"{us / 1000:.0f}"


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    head = (
        "store", "what", "conns", "req/s", "ok/s", "p50 ms", "p99 ms",
        "409", "errors", "filled %", "outbox left", "emails 2x", "svc CPU ms/ok", "pg CPU ms/ok", "RSS MiB",
    )
    lines = [head]
    for r in rows:
        secs = r["duration_us"] / 1e6
        ok = max(r["ok"], 1)
        lines.append((
            r["store"],
            r["what"],
            str(r["conns"]) if r.get("conns") is not None else "-",
            f"{r['requests'] / secs:,.0f}",
            f"{r['ok'] / secs:,.0f}",
            ms(r.get("p50_us")),
            ms(r.get("p99_us")),
            str(r["refused"]),
            str(r["failed"] + r["socket_errors"]),
            str(r["filled_pct"]) if "filled_pct" in r else "-",
            str(r["outbox_left"]) if r.get("outbox_left") is not None else "-",
            str(r["duplicates"]) if r.get("duplicates") is not None else "-",
            f"{1000 * r['service_cpu'] / ok:.2f}" if r.get("service_cpu") is not None else "-",
            f"{1000 * r['pg_cpu'] / ok:.2f}" if r.get("pg_cpu") is not None else "-",
            str(r["rss_mib"]) if r.get("rss_mib") is not None else "-",
        ))
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    out = []
    for n, l in enumerate(lines):
        out.append("| " + " | ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(l, widths))) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "cpu":
        print(f"{cpu(args):.2f}")
    elif cmd == "cluster-cpu":
        print(f"{cpu([args[0]] + children(args[0])):.2f}")
    elif cmd == "sql":
        print({"reset": RESET, "check": CHECK, "requeue": REQUEUE, "pending": PENDING}[args[0]])
    elif cmd == "rss":
        with open(f"/proc/{args[0]}/status") as f:
            peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))
        print(peak // 1024)
    elif cmd == "sqlite-reset":
        sqlite_reset(args[0])
    elif cmd == "sqlite-check":
        print(sqlite_check(args[0]))
    elif cmd == "sqlite-requeue":
        sqlite_requeue(args[0])
    elif cmd == "sqlite-pending":
        print(sqlite_pending(args[0]))
    elif cmd == "merge-wrk":
        merge_wrk(*args)
    elif cmd == "mail-count":
        print(*mail_count(args))
    elif cmd == "record-drain":
        record_drain(*args)
    elif cmd == "pgbench-latency":
        print(json.dumps(pgbench_latency(args[0])))
    elif cmd == "record":
        record(*args)
    elif cmd == "record-pgbench":
        record_pgbench(*args)
    elif cmd == "annotate":
        annotate(*args)
    elif cmd == "table":
        table(args[0])
    else:
        sys.exit(f"harness.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
