#!/usr/bin/env python3
"""The table of `make bench` (bench/bench.sh): reads the JSON object each
benchmark wrote (DIR/<name>.json) and prints one table, figure by figure,
with its target and whether it is met; writes everything as one JSON file.

    bench/report.py DIR OUT.json NAME...

A benchmark's file is read generically: nested objects are flattened to
dotted keys ("backlog.bc_calls_per_order"). Each row of FIGURES below names
the benchmark it comes from and the keys that may hold it (shell patterns,
matched case-insensitively; among several matches the shortest key wins,
then the first in the file). A row whose benchmark wrote nothing, or no
matching key, shows n/a. Every numeric key that no row took is listed after
the table ("other figures"), so nothing a benchmark reports is lost.
DIR/durations holds "NAME SECONDS STATUS" lines (bench/bench.sh writes it).
"""
import fnmatch
import json
import os
import platform
import sys
import time

# (label, benchmark, key patterns, unit, target): target is (op, value) or
# None; units: "x" plain number, "ms", "s" (a key ending in _ms is
# converted), "%" (a value up to 1.5 is taken as a fraction), "/s", "MB" (from
# kB), "sum" (every matching key added up: a plain number).
FIGURES = [
    ("BigCommerce calls per order, backlog", "orders",
     ["backlog_bc_calls_per_order"], "x", ("<=", 1.05)),
    ("BigCommerce calls per order, webhooks", "orders",
     ["webhooks_bc_calls_per_order"], "x", ("<=", 1.3)),
    ("AIS calls per document, backlog", "orders",
     ["backlog_ais_calls_per_document"], "x", None),
    ("AIS calls per document, webhooks", "orders",
     ["webhooks_ais_calls_per_document"], "x", None),
    ("Backlog throughput, % of the quota-bound rate", "orders",
     ["backlog_quota_bound_pct"], "%", None),
    ("Backlog orders/s", "orders", ["backlog_orders_per_s"], "x", None),
    ("Time to the first document, backlog", "orders",
     ["backlog_first_document_s"], "s", ("<=", 5)),
    ("429 responses (all runs)", "orders", ["*_429"], "sum", ("==", 0)),
    ("Webhook accepts/s, closed loop (capacity)", "webhooks",
     ["webhook_accepts_per_s"], "/s", (">=", 5000)),
    ("Webhook p50 latency, closed loop", "webhooks", ["webhook_p50_ms"], "ms", None),
    ("Webhook p99 latency, closed loop", "webhooks", ["webhook_p99_ms"], "ms", None),
    ("Webhook accepts/s at 5,000/s offered", "webhooks",
     ["webhook_rate_achieved"], "/s", None),
    ("Webhook p99 latency at 5,000/s offered", "webhooks",
     ["webhook_rate_p99_ms"], "ms", ("<", 10)),
    ("Webhook retries (duplicates) accepts/s", "webhooks",
     ["webhook_dup_accepts_per_s"], "/s", None),
    ("Accepted webhooks missing after SIGKILL", "webhooks",
     ["webhook_stored_missing_after_kill"], "x", ("==", 0)),
    ("RSS idle", "footprint", ["rss_idle_kb"], "MB", ("<", 20)),
    ("RSS with a 100k-job backlog", "footprint", ["rss_backlog_kb"], "MB", ("<", 64)),
    ("Start-up to /readyz, empty store (median)", "footprint",
     ["startup_empty_ms"], "ms", None),
    ("Start-up to /readyz, 100k backlog (median)", "footprint",
     ["startup_backlog_ms"], "ms", None),
    ("Shared budget, 4 processes: % of the quota-bound rate", "budget",
     ["shared_quota_bound_pct"], "%", (">=", 95)),
    ("Shared budget, 4 processes: 429 responses", "budget", ["shared_429"], "x", ("==", 0)),
    ("Shared budget: record updates per call (writing)", "budget",
     ["shared_writes_per_call"], "x", None),
    ("Shared budget: one writing update on SQLite, p50", "budget",
     ["update_write_p50_us"], "x", None),
]

OPS = {"<=": lambda a, b: a <= b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
       ">": lambda a, b: a > b, "==": lambda a, b: a == b}


def flatten(obj, prefix=""):
    """Numeric (or null) leaves of a JSON object, as (dotted key, value)."""
    out = []
    for k, v in obj.items():
        key = prefix + str(k)
        if isinstance(v, dict):
            out.extend(flatten(v, key + "."))
        elif isinstance(v, bool):
            continue
        elif v is None or isinstance(v, (int, float)):
            out.append((key, v))
    return out


def load(dirname, name):
    path = os.path.join(dirname, name + ".json")
    try:
        with open(path) as f:
            obj = json.load(f)
        return flatten(obj) if isinstance(obj, dict) else []
    except (OSError, ValueError):
        return None


def pick(leaves, patterns, taken, unit):
    """(keys, value) of a row: the first pattern with a match decides."""
    for pat in patterns:
        hits = [(k, v) for k, v in leaves
                if k not in taken and fnmatch.fnmatch(k.lower(), pat.lower())]
        if not hits:
            continue
        if unit == "sum":
            vals = [v for _, v in hits if v is not None]
            return [k for k, _ in hits], sum(vals) if vals else None
        key, value = min(hits, key=lambda kv: len(kv[0]))
        if value is not None and unit == "s" and key.lower().endswith("_ms"):
            value = value / 1000.0
        if value is not None and unit == "%" and value <= 1.5:
            value = value * 100.0
        return [key], value
    return [], None


def shown(value, unit):
    if value is None:
        return "n/a"
    if unit == "MB":
        return "%.1f MB" % (value / 1024.0)
    if unit == "ms":
        return "%.1f ms" % value if value < 1000 else "%.0f ms" % value
    if unit == "s":
        return "%.1f s" % value
    if unit == "%":
        return "%.0f %%" % value
    if unit == "/s":
        return "%.0f/s" % value
    if isinstance(value, float):
        return ("%.3f" % value).rstrip("0").rstrip(".")
    return str(value)


def target_text(target, unit):
    if target is None:
        return "-"
    op, val = target
    suffix = {"MB": " MB", "ms": " ms", "s": " s", "%": " %", "/s": "/s"}.get(unit, "")
    return "%s %s%s" % (op.replace("==", "="), ("{:,}".format(val)), suffix)


def verdict(value, unit, target):
    if target is None:
        return "-"
    if value is None:
        return "n/a"
    v = value / 1024.0 if unit == "MB" else value
    return "met" if OPS[target[0]](v, target[1]) else "not met"


def durations(dirname):
    out = {}
    try:
        for line in open(os.path.join(dirname, "durations")):
            parts = line.split()
            if len(parts) == 3:
                out[parts[0]] = {"seconds": float(parts[1]), "status": int(parts[2])}
    except OSError:
        pass
    return out


def table(leaves):
    """The rows of FIGURES, and the figures no row took."""
    taken = {n: set() for n in leaves}
    rows, others = [], []
    for label, bench, patterns, unit, target in FIGURES:
        keys, value = pick(leaves.get(bench) or [], patterns, taken.get(bench, set()), unit)
        taken.setdefault(bench, set()).update(keys)
        rows.append({"figure": label, "benchmark": bench, "keys": keys, "value": value,
                     "unit": unit, "shown": shown(value, unit),
                     "target": target_text(target, unit),
                     "verdict": verdict(value, unit, target)})
    for n, figs in leaves.items():
        for k, v in figs or []:
            if k not in taken[n]:
                others.append({"benchmark": n, "key": k, "value": v})
    return rows, others


def show(rows, others, missing):
    print("%-46s %14s  %-12s %s" % ("figure", "value", "target", "verdict"))
    print("-" * 84)
    for r in rows:
        print("%-46s %14s  %-12s %s" % (r["figure"], r["shown"], r["target"], r["verdict"]))
    if others:
        print("\nother figures (no target)")
        for o in others:
            print("  %-56s %s" % ("%s: %s" % (o["benchmark"], o["key"]),
                                  "n/a" if o["value"] is None else o["value"]))
    if missing:
        print("\nno figures from: %s (see their logs)" % ", ".join(missing))


def main():
    dirname, out_path, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    leaves = {n: load(dirname, n) for n in names}
    runs = durations(dirname)
    rows, others = table(leaves)
    result = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "kernel": platform.release(),
                    "machine": platform.machine()},
        "seconds": round(sum(r["seconds"] for r in runs.values()), 1),
        "benchmarks": {n: dict(runs.get(n, {}),
                               figures=None if leaves[n] is None else dict(leaves[n]))
                       for n in names},
        "table": rows,
        "other": others,
    }
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    show(rows, others, [n for n in names if leaves[n] is None])


if __name__ == "__main__":
    main()
