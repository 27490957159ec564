"""Load test of the lab's JSON API on loopback: 2,000 requests from 20 concurrent clients (httpx, asyncio).

Run:  python benchmarks/bench_lab_load.py [--requests 2000] [--clients 20]

The server runs in its own process (``calcml.lab.serve`` on a free port of 127.0.0.1, one uvicorn worker),
so the clients do not share its interpreter. The requests cycle through a fixed mix of every computing
endpoint with small, realistic bodies (what the page sends). Bounded: each request times out after 30 s
and the whole run after 300 s. Prints the throughput, the p50/p95 latency per endpoint and the number of
errors (any answer other than 200, or a timeout); exits with status 1 if there was one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time

import httpx

from calcml.lab.server import bind_loopback

MIX = [
    ("GET /api/health", "GET", "/api/health", None),
    ("GET /api/surfaces", "GET", "/api/surfaces", None),
    ("POST /api/derivative", "POST", "/api/derivative", {"expr": "sin(x^2) * exp(-x/3)", "points": 401}),
    ("POST /api/integral", "POST", "/api/integral", {"expr": "x^2 * exp(-x)", "a": 0, "b": 3, "n": 20}),
    ("POST /api/surface", "POST", "/api/surface", {"name": "rosenbrock", "points": 90}),
    ("POST /api/race", "POST", "/api/race", {"name": "himmelblau", "start": [0, 0], "steps": 100,
                                             "runs": [{"optimizer": "gd", "lr": 0.01},
                                                      {"optimizer": "adam", "lr": 0.1}]}),
    ("POST /api/backprop", "POST", "/api/backprop", {"lr": 0.5}),
]
REQUEST_TIMEOUT, RUN_TIMEOUT = 30.0, 300.0


def start_server() -> tuple[subprocess.Popen, str]:
    sock = bind_loopback(0)
    port = sock.getsockname()[1]
    sock.close()
    code = f"from calcml.lab import serve; serve(port={port}, open_browser=False)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the lab server did not start within 60 s")


async def load(url: str, total: int, clients: int) -> tuple[dict[str, list[float]], list[str], float]:
    latencies: dict[str, list[float]] = {name: [] for name, *_ in MIX}
    errors: list[str] = []
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(MIX[i % len(MIX)])

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            while not queue.empty():
                name, method, path, body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await http.request(method, path, json=body)
                    ok = response.status_code == 200
                    if not ok:
                        errors.append(f"{name}: {response.status_code} {response.text[:200]}")
                except httpx.HTTPError as error:
                    ok = False
                    errors.append(f"{name}: {type(error).__name__} {error}")
                if ok:
                    latencies[name].append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(clients))), RUN_TIMEOUT)
    return latencies, errors, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    process, url = start_server()
    try:
        for _, method, path, body in MIX:  # warm-up: imports, SymPy caches, the first JIT of each path
            httpx.request(method, url + path, json=body, timeout=REQUEST_TIMEOUT).raise_for_status()
        latencies, errors, seconds = asyncio.run(load(url, args.requests, args.clients))
    finally:
        process.terminate()
        process.wait(timeout=10)
    done = sum(len(v) for v in latencies.values())
    print(f"calcml lab load test: {args.requests} requests, {args.clients} concurrent clients, loopback, "
          f"server in its own process (1 uvicorn worker)")
    print(f"total {seconds:.2f} s, throughput {done / seconds:.0f} requests/s, errors {len(errors)}")
    print(f"{'endpoint':24s} {'count':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for name, values in latencies.items():
        if values:
            print(f"{name:24s} {len(values):6d} {1e3 * statistics.median(values):8.1f} "
                  f"{1e3 * percentile(values, 95):8.1f} {1e3 * max(values):8.1f}")
    every = [v for values in latencies.values() for v in values]
    print(f"{'all':24s} {len(every):6d} {1e3 * statistics.median(every):8.1f} {1e3 * percentile(every, 95):8.1f} "
          f"{1e3 * max(every):8.1f}")
    for error in errors[:10]:
        print("error:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
