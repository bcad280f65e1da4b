"""`python -m jyntrix_worker` runs the dramatiq worker; `... dead-letters` shows the dead-letter queue.

Configuration comes from the environment (jyntrix_worker.settings for the broker and the
worker, jyntrix_bootstrap.settings for the services).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import msgspec

from jyntrix_adapters.dramatiq.broker import make_broker
from jyntrix_adapters.dramatiq.task_queue import read_dead_letters, requeue_dead_letter
from jyntrix_worker.settings import WorkerSettingsError, load_worker_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jyntrix_worker", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="consume tasks (the default)")
    commands.add_parser("ping", help="exit 0 when the broker answers (container health check)")
    dead = commands.add_parser("dead-letters", help="list tasks that failed beyond the retry limit, as JSON lines")
    dead.add_argument("--limit", type=int, default=100)
    dead.add_argument("--requeue", metavar="MESSAGE_ID", action="append", default=[], help="send one back to its queue")
    args = parser.parse_args(argv)
    try:
        settings = load_worker_settings()
        url = settings.broker_url
    except WorkerSettingsError as exc:
        print(f"jyntrix_worker: {exc}", file=sys.stderr)
        return 2
    if args.command == "ping":
        broker = make_broker(url, namespace=settings.jyntrix_worker_namespace, asyncio_thread=False)
        try:
            broker.client.ping()
        except Exception as exc:
            print(f"jyntrix_worker: broker unavailable: {exc}", file=sys.stderr)
            return 1
        finally:
            broker.close()
        return 0
    if args.command == "dead-letters":
        broker = make_broker(url, namespace=settings.jyntrix_worker_namespace, asyncio_thread=False)
        try:
            for message_id in args.requeue:
                found = requeue_dead_letter(broker, settings.jyntrix_worker_queue, message_id)
                print(f"{message_id}: {'requeued' if found else 'not in the dead-letter queue'}", file=sys.stderr)
            for letter in read_dead_letters(broker, settings.jyntrix_worker_queue, args.limit):
                sys.stdout.write(msgspec.json.encode(letter).decode() + "\n")
        finally:
            broker.close()
        return 0
    return run(settings.jyntrix_worker_processes, settings.jyntrix_worker_threads, settings.jyntrix_worker_queue)


def run(processes: int, threads: int, queue: str) -> int:
    """The dramatiq CLI on jyntrix_worker.actors: forks `processes`, restarts crashed ones, stops on SIGTERM."""
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    options = make_argument_parser().parse_args(  # type: ignore[no-untyped-call]
        ["jyntrix_worker.actors", "--processes", str(processes), "--threads", str(threads), "--queues", queue]
    )
    return int(dramatiq_main(options) or 0)  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    sys.exit(main())
