"""Peers of Triton's event log on the same PostgreSQL, in the same run (called by ops/bench-peers.sh).

Measures, for each peer, what `triton bench figures` measures for Triton:
  * appends: W writers (processes), each appending one event at a time to its own stream, for S seconds;
  * global read + decode: the whole log read in global order, each event decoded to a domain event;
  * fold: streams of 100 events read and folded into their aggregate, one after another.
Peers: Python eventsourcing (its PostgreSQL application recorder and Application, from PyPI) and
message-db (its SQL functions, created from its published schema at run time: MESSAGE_DB_SOURCE names a
checkout of github.com/message-db/message-db; without one the peer is skipped and the reason printed).
Prints a table with Triton's ratio to each peer and writes a PNG plot of events/s by writer count.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import uuid

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent


def conninfo_parts(url: str) -> dict[str, str]:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return {k: str(v) for k, v in info.items()}


def payload(size: int) -> dict:
    base = {"pod": "checkout-x7k2p", "phase": "Running", "restarts": 0, "batch": 3, "note": ""}
    base["note"] = "x" * max(0, size - len(json.dumps(base)))
    return base


def rate_by_writers(writers: list[int], seconds: float, worker, args: tuple) -> list[dict]:
    """Runs `worker(index, writers, deadline, *args)` in `writers` processes; events/s per writer count."""
    rates = []
    ctx = mp.get_context("fork")
    for count in writers:
        deadline = time.time() + 1.0 + seconds  # a second for the processes to connect, off the clock
        with ctx.Pool(count) as pool:
            results = pool.starmap(worker, [(i, count, deadline, seconds) + args for i in range(count)])
        rates.append({"writers": count, "eventsPerSecond": sum(n for n, _ in results) / max(e for _, e in results)})
        print(f"    {count} writer(s): {rates[-1]['eventsPerSecond']:.0f} events/s", file=sys.stderr, flush=True)
    return rates


# --- Python eventsourcing -------------------------------------------------------------------------

def es_env(url: str, schema: str) -> dict[str, str]:
    parts = conninfo_parts(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.get("dbname", "postgres"),
        "POSTGRES_HOST": parts.get("host", "127.0.0.1"),
        "POSTGRES_PORT": parts.get("port", "5432"),
        "POSTGRES_USER": parts.get("user", "postgres"),
        "POSTGRES_PASSWORD": parts.get("password", ""),
        "POSTGRES_SCHEMA": schema,
    }


def es_app(url: str, schema: str, create_table: bool = True) -> Application:
    return Application(env=dict(es_env(url, schema), CREATE_TABLE="true" if create_table else "false"))


class Flow(Aggregate):
    """The fold's aggregate: a flow's pods by name, as Triton's fold keeps them."""

    def __init__(self, name: str):
        self.name = name
        self.pods: dict[str, tuple[str, int]] = {}

    @event("PodObserved")
    def observe(self, pod: str, phase: str, restarts: int, batch: int, note: str):
        self.pods[pod] = (phase, restarts)


def es_append_worker(index: int, writers: int, deadline: float, seconds: float, url: str, schema: str, size: int):
    app = es_app(url, schema, create_table=False)  # created once before the writers start
    recorder = app.recorder
    state = json.dumps(payload(size)).encode()
    originator = uuid.uuid4()
    topic = "bench_peers:PodObserved"
    version = 1
    while time.time() < deadline - seconds:
        time.sleep(0.01)
    started = time.time()
    count = 0
    while time.time() < deadline:
        recorder.insert_events([StoredEvent(originator_id=originator, originator_version=version, topic=topic, state=state)])
        version += 1
        count += 1
    elapsed = time.time() - started
    app.close()
    return count, elapsed


def es_measure(url: str, writers: list[int], seconds: float, streams: int, per_stream: int, size: int) -> dict:
    schema = "peer_eventsourcing"
    drop_schema(url, schema)
    create_schema(url, schema)
    es_app(url, schema).close()  # creates the tables, before the writers' processes start
    print("  eventsourcing: appends", file=sys.stderr, flush=True)
    appends = rate_by_writers(writers, seconds, es_append_worker, (url, schema, size))
    app = es_app(url, schema)

    print(f"  eventsourcing: writing {streams} aggregates of {per_stream} events", file=sys.stderr, flush=True)
    body = payload(size)
    ids = []
    for n in range(streams):
        flow = Flow(f"app-{n}")
        for i in range(per_stream - 1):
            flow.observe(pod=f"app-{n}-pod-{i % 10}", phase="Running", restarts=i, batch=body["batch"], note=body["note"])
        app.save(flow)
        ids.append(flow.id)

    print("  eventsourcing: global read + decode", file=sys.stderr, flush=True)
    started = time.time()
    read = 0
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=5000)
        if not page:
            break
        for notification in page:
            if notification.topic.startswith("bench_peers:"):
                continue  # the append cases' raw events: not this app's domain events
            app.mapper.to_domain_event(notification)
            read += 1
        start = page[-1].id + 1
    read_rate = read / (time.time() - started)

    print("  eventsourcing: fold", file=sys.stderr, flush=True)
    started = time.time()
    folded = 0
    for flow_id in ids:
        flow = app.repository.get(flow_id)
        folded += flow.version
    fold_rate = folded / (time.time() - started)
    app.close()
    drop_schema(url, schema)
    return {"system": "eventsourcing", "appends": appends, "globalReadEventsPerSecond": read_rate, "foldEventsPerSecond": fold_rate}


# --- message-db -----------------------------------------------------------------------------------

MESSAGE_DB_DATABASE = "message_store_bench"


def mdb_url(url: str) -> str:
    parts = conninfo_parts(url)
    parts["dbname"] = MESSAGE_DB_DATABASE
    parts["options"] = "-c search_path=message_store,public"
    return psycopg.conninfo.make_conninfo(**parts)


def mdb_install(url: str, source: str) -> None:
    """Creates message-db's role, database, schema, table, functions and indexes with its own install script."""
    script = os.path.join(source, "database", "install.sh")
    if not os.path.exists(script):
        raise SystemExit(f"MESSAGE_DB_SOURCE: {script} does not exist (give a checkout of github.com/message-db/message-db)")
    parts = conninfo_parts(url)
    env = dict(os.environ, DATABASE_NAME=MESSAGE_DB_DATABASE, PGHOST=parts.get("host", ""), PGPORT=parts.get("port", ""),
               PGUSER=parts.get("user", "postgres"))
    subprocess.run(["dropdb", "--if-exists", MESSAGE_DB_DATABASE], env=env, check=True)
    subprocess.run(["psql", "postgres", "-q", "-c", "DROP ROLE IF EXISTS message_store"], env=env, check=False)
    subprocess.run(["bash", script], env=env, check=True, stdout=subprocess.DEVNULL)


def mdb_append_worker(index: int, writers: int, deadline: float, seconds: float, url: str, size: int):
    body = json.dumps(payload(size))
    stream = f"flow-{uuid.uuid4().hex}"
    with psycopg.connect(mdb_url(url), autocommit=True) as conn:
        while time.time() < deadline - seconds:
            time.sleep(0.01)
        started = time.time()
        count = 0
        while time.time() < deadline:
            conn.execute("SELECT write_message(%s, %s, 'PodObserved', %s::jsonb, '{}'::jsonb, %s)",
                         (str(uuid.uuid4()), stream, body, count - 1), prepare=True)
            count += 1
        return count, time.time() - started


def mdb_measure(url: str, writers: list[int], seconds: float, streams: int, per_stream: int, size: int) -> dict:
    print("  message-db: appends", file=sys.stderr, flush=True)
    appends = rate_by_writers(writers, seconds, mdb_append_worker, (url, size))
    body = payload(size)
    print(f"  message-db: writing {streams} streams of {per_stream} messages", file=sys.stderr, flush=True)
    with psycopg.connect(mdb_url(url), autocommit=True) as conn:
        names = []
        for n in range(streams):
            stream = f"fold-{n}"
            with conn.transaction():
                for i in range(per_stream):
                    data = dict(body, pod=f"app-{n}-pod-{i % 10}", restarts=i)
                    conn.execute("SELECT write_message(%s, %s, 'PodObserved', %s::jsonb, '{}'::jsonb)",
                                 (str(uuid.uuid4()), stream, json.dumps(data)), prepare=True)
            names.append(stream)
        print("  message-db: category read + decode", file=sys.stderr, flush=True)
        started = time.time()
        read, position = 0, 1
        while True:
            rows = conn.execute("SELECT global_position, data FROM get_category_messages('fold', %s, 5000)", (position,)).fetchall()
            if not rows:
                break
            for global_position, data in rows:
                json.loads(data)
                read += 1
            position = rows[-1][0] + 1
        read_rate = read / (time.time() - started)
        print("  message-db: fold", file=sys.stderr, flush=True)
        started = time.time()
        folded = 0
        for stream in names:
            pods = {}
            for data, in conn.execute("SELECT data FROM get_stream_messages(%s)", (stream,)).fetchall():
                value = json.loads(data)
                pods[value["pod"]] = (value["phase"], value["restarts"])
                folded += 1
        fold_rate = folded / (time.time() - started)
    return {"system": "message-db", "appends": appends, "globalReadEventsPerSecond": read_rate, "foldEventsPerSecond": fold_rate}


# --- shared ---------------------------------------------------------------------------------------

def create_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def at(rates: list[dict], writers: int) -> float | None:
    return next((r["eventsPerSecond"] for r in rates if r["writers"] == writers), None)


def report(triton: dict, peers: list[dict], skipped: list[str], writers: list[int], goal: float) -> tuple[str, bool]:
    top = max(writers)
    lines = [f"peers on the same PostgreSQL (synchronous_commit={triton.get('synchronousCommit', '?')}), one run", ""]
    header = f"{'':32}" + "".join(f"{s['system']:>16}" for s in [triton] + peers)
    lines.append(header)
    for w in writers:
        lines.append(f"{f'append, {w} writer(s) (events/s)':32}" + "".join(f"{at(s['appends'], w) or 0:16.0f}" for s in [triton] + peers))
    lines.append(f"{'global read + decode (events/s)':32}" + "".join(f"{s['globalReadEventsPerSecond']:16.0f}" for s in [triton] + peers))
    lines.append(f"{'fold (events/s)':32}" + "".join(f"{s['foldEventsPerSecond']:16.0f}" for s in [triton] + peers))
    lines.append("")
    met = True
    for peer in peers:
        ratio = (at(triton["appends"], top) or 0) / max(1e-9, at(peer["appends"], top) or 0)
        ok = ratio >= goal
        met = met and ok
        lines.append(
            f"triton / {peer['system']}: append at {top} writers {ratio:.1f}× (goal ≥ {goal:.0f}×: {'met' if ok else 'NOT met'}), "
            f"read {triton['globalReadEventsPerSecond'] / peer['globalReadEventsPerSecond']:.1f}×, "
            f"fold {triton['foldEventsPerSecond'] / peer['foldEventsPerSecond']:.1f}×"
        )
    for reason in skipped:
        lines.append(reason)
    return "\n".join(lines), met


def plot(triton: dict, peers: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for series, style in zip([triton] + peers, ["o-", "s--", "^-."]):
        xs = [r["writers"] for r in series["appends"]]
        ax.plot(xs, [r["eventsPerSecond"] for r in series["appends"]], style, label=series["system"])
    ax.set_xlabel("writers (one event per append, each on its own stream)")
    ax.set_ylabel("events appended per second")
    ax.set_xticks(sorted({r["writers"] for r in triton["appends"]}))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Appends on the same PostgreSQL, one run")
    fig.tight_layout()
    fig.savefig(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="libpq connection string of the server (a throwaway one)")
    parser.add_argument("--triton", required=True, help="`triton bench figures --output json` of the same run")
    parser.add_argument("--out", required=True, help="directory for peers.json and peers.png")
    parser.add_argument("--writers", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--events-per-stream", type=int, default=100)
    parser.add_argument("--goal", type=float, default=5, help="Triton's append rate over each peer's, at the most writers")
    args = parser.parse_args()
    try:
        writers = [int(w) for w in args.writers.split(",")]
        assert writers and all(0 < w <= 64 for w in writers)
    except (ValueError, AssertionError):
        parser.error(f"--writers: give numbers from 1 to 64, comma-separated (got '{args.writers}')")
    with open(args.triton) as f:
        triton = json.load(f)
    size = int(triton.get("payloadBytes", 600))

    peers, skipped = [], []
    peers.append(es_measure(args.url, writers, args.seconds, args.streams, args.events_per_stream, size))
    source = os.environ.get("MESSAGE_DB_SOURCE", "")
    if source:
        mdb_install(args.url, source)
        peers.append(mdb_measure(args.url, writers, args.seconds, args.streams, args.events_per_stream, size))
    else:
        skipped.append(
            "message-db: skipped — its published schema (github.com/message-db/message-db, npm @eventide/message-db) "
            "is not reachable from this machine; set MESSAGE_DB_SOURCE to a checkout to include it"
        )

    text, met = report(triton, peers, skipped, writers, args.goal)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "peers.json"), "w") as f:
        json.dump({"triton": triton, "peers": peers, "skipped": skipped, "goalMet": met}, f, indent=2)
    plot(triton, peers, os.path.join(args.out, "peers.png"))
    print(f"plot: {os.path.join(args.out, 'peers.png')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
