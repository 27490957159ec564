"""Load test of the lab on loopback: 20 clients × 60 s of mixed requests, a third of them hostile.

Run:  python benchmarks/bench_lab_load.py [--clients 20] [--seconds 60] [--seed 0]

The server runs in its own process (``calcml.lab.serve`` on a free port of 127.0.0.1, one uvicorn worker, and
calcml.symbolic's worker processes under it), so the clients do not share its interpreter. Each client
(httpx, asyncio, one keep-alive connection) sends one request after another until the time is up, drawn at
random from three groups:

    health   GET /api/health (15%): the figure that says whether the server stays responsive
    normal   what the page sends (55%): derivatives, integrals, surfaces, races, backprop steps, training,
             some with fresh expressions so that the lab's caches do not answer everything
    hostile  (30%): injection strings, coefficient bombs, slow integrals (new bounds every time, so each is a
             real SymPy run up to the lab's time limit), undefined functions, results over 4,300 digits,
             NaN/inf/out-of-range numbers, malformed JSON, wrong content types, oversized bodies, POSTs from
             another origin, bad weights, runaway races

Counted: responses by status, and **errors** — a 5xx, a dropped connection or a timeout, or an answer that
is not JSON with an ``error`` message when it is not a 2xx. A deliberate 4xx is not an error (a slow integral
that runs out of time is a 200 with a numeric value, a busy training cap a 409). Also reported: normal
requests that did not get their 2xx (a symbolic call that waited too long for a busy worker is a 422
"timeout"), health p50/p95/max (target p95 < 0.5 s), peak RSS of the server and its workers, and whether
the injection strings ran (a marker file). Bounded: each request times out after 30 s, the run after
``seconds`` + 60 s. Exits with status 1 on any error or a health p95 ≥ 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from calcml.lab.server import bind_loopback

REQUEST_TIMEOUT, GRACE = 30.0, 60.0
HEALTH_P95_TARGET = 0.5
MARKER = Path(tempfile.gettempdir()) / f"calcml-lab-load-{os.getpid()}-injected"


@dataclass
class Request:
    group: str  # "health", "normal" or "hostile"
    name: str
    method: str
    path: str
    body: dict | None = None
    content: bytes | None = None  # sent as is (malformed JSON, wrong types, oversized bodies)
    headers: dict = field(default_factory=dict)
    expected: tuple[int, ...] = (200,)


def health(rng: random.Random) -> Request:
    return Request("health", "health", "GET", "/api/health")


def normal(rng: random.Random) -> Request:
    k, b = rng.randint(1, 40), rng.choice([1, 2, 3])  # 40 × 3 fresh integrals, 40 fresh derivatives
    choices = [
        Request("normal", "derivative", "POST", "/api/derivative", {"expr": "sin(x^2) * exp(-x/3)", "points": 401}),
        Request("normal", "derivative (new)", "POST", "/api/derivative", {"expr": f"tanh({k}*x) * x^{k % 5 + 1}"}),
        Request("normal", "integral", "POST", "/api/integral", {"expr": "x^2 * exp(-x)", "a": 0, "b": 3, "n": 20}),
        Request("normal", "integral (new)", "POST", "/api/integral",
                {"expr": f"x^{k % 6} * cos({k}*x)", "a": 0, "b": b}),
        Request("normal", "surface", "POST", "/api/surface", {"name": "rosenbrock", "points": 90}),
        Request("normal", "race", "POST", "/api/race", {"name": "himmelblau", "start": [0, 0], "steps": 100,
                                                       "runs": [{"optimizer": "gd", "lr": 0.01},
                                                                {"optimizer": "adam", "lr": 0.1}]}),
        Request("normal", "backprop", "POST", "/api/backprop", {"lr": 0.5, "seed": k}),
        Request("normal", "surfaces", "GET", "/api/surfaces"),
        Request("normal", "train", "POST", "/api/train", {"epochs": 1, "hidden": 16}, expected=(202, 409)),
    ]
    return rng.choice(choices)


INJECTIONS = [f"__import__('os').system('touch {MARKER}')", "x.__class__.__bases__", "exec('import os')",
              "lambda: 0", "eval('1')", "getattr(x, 'y')", "x; import os", "open('/etc/passwd')"]
BOMBS = ["(((3x)^1000)^1000)^100", "9^9^9", "((3x)^1000)^10", "10^4400*x", "x^(10^100)", "1e999999*x",
         "x" + "^x" * 100, "0.1^1000000"]
UNDEFINED = ["log(0)", "cot(0)", "tan(pi/2)", "log(x, 1)", "x + 1/0"]
SLOW = ["tan(x)^13*exp(x)", "sin(x)^7*exp(x)*log(x)"]
JSON = {"content-type": "application/json"}
REFUSED = (400, 403, 404, 409, 413, 415, 422)


def hostile(rng: random.Random) -> Request:
    path = rng.choice(["/api/derivative", "/api/integral"])
    b = round(rng.uniform(1.01, 1.5), 6)  # a new interval every time: no cache can answer
    choices = [
        Request("hostile", "injection", "POST", path, {"expr": rng.choice(INJECTIONS)}, expected=(422,)),
        Request("hostile", "coefficient bomb", "POST", path, {"expr": rng.choice(BOMBS)}, expected=(422,)),
        Request("hostile", "undefined", "POST", path, {"expr": rng.choice(UNDEFINED)}, expected=(422,)),
        Request("hostile", "slow integral", "POST", "/api/integral", {"expr": rng.choice(SLOW), "a": 0.1, "b": b},
                expected=(200, 422)),
        Request("hostile", "over 4,300 digits", "POST", "/api/integral",
                {"expr": "x^1000", "a": 0, "b": rng.choice([1e6, 9e5, 8e5])}),
        Request("hostile", "bad number", "POST", "/api/derivative", headers=JSON, expected=(422,),
                content=rng.choice([b'{"expr": "x", "x_min": NaN}', b'{"expr": "x", "x_max": 1e400}',
                                    b'{"expr": "x", "points": -5}', b'{"expr": "x", "x_min": "Infinity"}'])),
        Request("hostile", "bad weights", "POST", "/api/backprop", expected=(422,),
                body={"weights": {"W1": [[1e300] * 3] * 2, "b1": [0, 0, 0], "W2": [[1], [1], [1]], "b2": [0]}}),
        Request("hostile", "malformed JSON", "POST", "/api/integral", content=b'{"expr": "x^2",', headers=JSON,
                expected=(400,)),
        Request("hostile", "not JSON", "POST", "/api/derivative", content=b"expr=x", expected=(415,),
                headers={"content-type": "application/x-www-form-urlencoded"}),
        Request("hostile", "oversized body", "POST", "/api/derivative", headers=JSON, expected=(413,),
                content=json.dumps({"expr": "x" + "+x" * 40_000}).encode()),
        Request("hostile", "other origin", "POST", "/api/train", {"epochs": 1},
                headers={"origin": "http://127.0.0.1:1", "sec-fetch-site": "same-site"}, expected=(403,)),
        Request("hostile", "runaway race", "POST", "/api/race", expected=(200,),
                body={"expr": "x^4 - 100*x*y + exp(y)", "start": [1, 1], "steps": 1000,
                      "runs": [{"optimizer": rng.choice(["newton", "gd", "adam"]), "lr": 100}] * 8}),
        Request("hostile", "unknown run", "POST", "/api/train/run1/stop", {}, expected=(404,)),
    ]
    return rng.choice(choices)


def draw(rng: random.Random) -> Request:
    group = rng.choices([health, normal, hostile], weights=[15, 55, 30])[0]
    return group(rng)


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


class TreeMemory:
    """Peak resident memory of a process and its descendants (the symbolic workers), sampled twice a second."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.workers_peak = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            tree = descendants(self.pid)
            total = sum(rss(pid) for pid in [self.pid, *tree])
            self.peak = max(self.peak, total)
            self.workers_peak = max(self.workers_peak, len(tree))


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Tally:
    statuses: collections.Counter = field(default_factory=collections.Counter)
    by_name: dict = field(default_factory=lambda: collections.defaultdict(collections.Counter))
    latencies: dict = field(default_factory=lambda: collections.defaultdict(list))
    errors: list = field(default_factory=list)
    unexpected: collections.Counter = field(default_factory=collections.Counter)


async def load(url: str, clients: int, seconds: float, seed: int) -> tuple[Tally, float]:
    tally = Tally()
    end = time.monotonic() + seconds

    async def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT) as http:
            while time.monotonic() < end:
                request = draw(rng)
                key = f"{request.group}: {request.name}"
                started = time.perf_counter()
                try:
                    response = await http.request(request.method, request.path, json=request.body,
                                                  content=request.content, headers=request.headers)
                except httpx.HTTPError as error:
                    tally.statuses["connection error"] += 1
                    tally.errors.append(f"{key}: {type(error).__name__} {error}")
                    continue
                tally.latencies[key].append(time.perf_counter() - started)
                status = response.status_code
                tally.statuses[status] += 1
                tally.by_name[key][status] += 1
                if status >= 500 or (status >= 400 and not has_message(response)):
                    tally.errors.append(f"{key}: {status} {response.text[:200]}")
                elif status not in request.expected:
                    tally.unexpected[f"{key} → {status} {kind_of(response)}"] += 1

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(clients))), seconds + GRACE)
    return tally, time.perf_counter() - started


def has_message(response: httpx.Response) -> bool:
    try:
        return bool(response.json().get("error"))
    except ValueError:
        return False


def kind_of(response: httpx.Response) -> str:
    try:
        return response.json().get("kind", "")
    except (ValueError, AttributeError):
        return ""


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (1 <= args.clients <= 100 and 1 <= args.seconds <= 600):
        parser.error("--clients must be in 1..100 and --seconds in 1..600")
    process, url = start_server()
    try:
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT) as http:  # warm-up: imports and the workers
            http.post("/api/derivative", json={"expr": "sin(x^2)"}).raise_for_status()
            http.post("/api/integral", json={"expr": "x*cos(x)"}).raise_for_status()
        with TreeMemory(process.pid) as memory:
            tally, seconds = asyncio.run(load(url, args.clients, args.seconds, args.seed))
        alive = httpx.get(url + "/api/health", timeout=5).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    total = sum(tally.statuses.values())
    health_times = tally.latencies["health: health"]
    health_p95 = percentile(health_times, 95) if health_times else float("inf")
    print(f"calcml lab load test: {args.clients} clients × {args.seconds:g} s of mixed requests (15% health, "
          f"55% normal, 30% hostile), loopback, server in its own process (1 uvicorn worker)")
    print(f"{total} requests in {seconds:.1f} s ({total / seconds:.0f}/s); errors {len(tally.errors)} "
          f"(5xx, dropped connections, timeouts, answers without a JSON message)")
    print("by status: " + ", ".join(f"{status}: {count}" for status, count in sorted(tally.statuses.items(),
                                                                                   key=lambda item: str(item[0]))))
    print(f"health: p50 {1e3 * statistics.median(health_times):.0f} ms, p95 {1e3 * health_p95:.0f} ms, "
          f"max {1e3 * max(health_times):.0f} ms over {len(health_times)} (target p95 < {HEALTH_P95_TARGET} s)")
    print(f"peak RSS of the server and its {memory.workers_peak} child processes: {memory.peak / 2**20:.0f} MiB; "
          f"server answering after the run: {alive}; injection ran: {MARKER.exists()}")
    print(f"\n{'request':34s} {'count':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}  statuses")
    for key in sorted(tally.latencies):
        values = tally.latencies[key]
        statuses = " ".join(f"{s}×{n}" for s, n in sorted(tally.by_name[key].items()))
        print(f"{key:34s} {len(values):6d} {1e3 * statistics.median(values):8.0f} {1e3 * percentile(values, 95):8.0f} "
              f"{1e3 * max(values):8.0f}  {statuses}")
    if tally.unexpected:
        print("\nanswered with another deliberate status than usual (not errors):")
        for what, count in tally.unexpected.most_common():
            print(f"  {count:5d}  {what}")
    for error in tally.errors[:10]:
        print("error:", error)
    failed = tally.errors or health_p95 >= HEALTH_P95_TARGET or MARKER.exists() or not alive
    MARKER.unlink(missing_ok=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
