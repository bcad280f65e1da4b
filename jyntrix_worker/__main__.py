"""`python -m jyntrix_worker` runs the dramatiq worker; `... dead-letters` shows the dead-letter queue.

Configuration comes from the environment, read by jyntrix_bootstrap.settings (the worker's own
variables are JYNTRIX_WORKER_* and JYNTRIX_SUMMARY_IDLE_S).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import msgspec

from jyntrix_adapters.dramatiq.task_queue import read_dead_letters, requeue_dead_letter
from jyntrix_bootstrap.settings import SettingsError
from jyntrix_bootstrap.worker import open_broker, worker_settings


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
        settings = worker_settings()
        settings.broker_url  # noqa: B018 - the worker needs REDIS_URL; say so before anything else
    except SettingsError as exc:
        print(f"jyntrix_worker: {exc}", file=sys.stderr)
        return 2
    queue = settings.dramatiq.queue
    if args.command == "ping":
        broker = open_broker(settings)
        try:
            broker.client.ping()
        except Exception as exc:
            print(f"jyntrix_worker: broker unavailable: {exc}", file=sys.stderr)
            return 1
        finally:
            broker.close()
        return 0
    if args.command == "dead-letters":
        broker = open_broker(settings)
        try:
            for message_id in args.requeue:
                found = requeue_dead_letter(broker, queue, message_id)
                print(f"{message_id}: {'requeued' if found else 'not in the dead-letter queue'}", file=sys.stderr)
            for letter in read_dead_letters(broker, queue, args.limit):
                sys.stdout.write(msgspec.json.encode(letter).decode() + "\n")
        finally:
            broker.close()
        return 0
    return run(settings.worker.processes, settings.worker.threads, queue)


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
