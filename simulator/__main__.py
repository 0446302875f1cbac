"""``python -m simulator --port N --seed-number N``: serve every seeded portal until interrupted.

Prints the base URL (alone on the first line of stdout) once it is listening, then a one-line
summary on stderr.
"""

from __future__ import annotations

import argparse
import sys

from simulator.server import serve_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--seed-number", type=int, default=2015, help="fixes every generated catalog")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay every response")
    parser.add_argument("--min-datasets", type=int, default=150, help="smallest portal catalog")
    parser.add_argument("--max-datasets", type=int, default=350, help="largest portal catalog")
    args = parser.parse_args(argv)

    def announce(url: str) -> None:
        print(url, flush=True)
        print(
            f"portal simulator serving at {url} (seed number {args.seed_number}); Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )

    serve_forever(
        seed_number=args.seed_number,
        host=args.host,
        port=args.port,
        datasets_per_portal=(args.min_datasets, args.max_datasets),
        latency_ms=args.latency_ms,
        announce=announce,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
