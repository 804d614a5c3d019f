"""Load test of ``grokassist serve`` on loopback: N concurrent clients x M questions.

    python bench/load.py                      # 50 clients x 20 questions, extractive backend
    python bench/load.py --clients 10 --questions 5 --json bench/load.json

It ingests a knowledge base (``examples/starlink/docs`` by default) into a
temporary data dir, starts the server in a subprocess on 127.0.0.1 (one API key
per client, so each client has its own rate-limit bucket), runs the clients
with ``httpx`` against ``POST /v1/ask``, then shows the rate limiter: a greedy
client that goes over its limit gets 429 with Retry-After while a polite client
is unaffected. Bounded in count and in time (``--time-limit``). Exits 1 when
the targets (no errors, p95 < ``--p95-ms``, a 429 for the greedy client only)
are not met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only

QUESTIONS = [
    "How do I factory reset the Gen 3 router?",
    "How do I fix obstructions in the field of view?",
    "How do I pause my service?",
    "What does the error code on my dish mean?",
    "What is in the box of the standard kit?",
    "How do I set up the mini kit?",
    "Does snow on the dish affect the connection?",
    "How do I move my service to a new address?",
    "Can I use the kit on a boat?",
    "How do I get a refund?",
    "Why is my internet slow in the evening?",
    "How do I turn on bypass mode?",
    "Does the Gen 2 router have an Ethernet port?",
    "How do I add a mesh Wi-Fi node?",
    "Which service plans are available?",
    "How do I check for an outage in my area?",
    "What does motors stuck mean?",
    "Where should I mount the dish?",
    "Can I use it while driving?",
    "How does roaming work when I travel?",
]

RATE_PER_MINUTE = 120.0
BURST = 30


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def serve(data_dir: Path, port: int, keys_file: Path, workers: int) -> None:
    """Server mode (run in the subprocess)."""
    from grokassist.config import load_settings
    from grokassist.server import ServerSettings, run

    keys = json.loads(keys_file.read_text())
    run(
        HOST,
        port,
        kb="bench",
        backend="extractive:",
        settings=load_settings(data_dir=data_dir, backend="extractive:"),
        server_settings=ServerSettings(
            api_keys=keys,
            allow_anonymous=False,
            rate_limit_per_minute=RATE_PER_MINUTE,
            rate_limit_burst=BURST,
            data_dir=data_dir / "server",
        ),
        log_level="warning",
        workers=workers,
    )


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its children, e.g. server workers
    (Linux; 0 elsewhere)."""
    children = [int(p.name) for p in Path("/proc").glob("[0-9]*") if (_stat(int(p.name))[1:2] == [str(pid)])]
    total = 0
    for each in (pid, *children):
        fields = _stat(each)
        if fields:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with code {proc.returncode}")
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not become ready")


async def one_client(
    client: httpx.AsyncClient, offset: int, count: int, out: list[tuple[float, int]]
) -> None:
    for i in range(count):
        question = QUESTIONS[(offset + i) % len(QUESTIONS)]
        start = time.perf_counter()
        try:
            r = await client.post("/v1/ask", json={"question": question})
            status = r.status_code
        except httpx.HTTPError:
            status = 0
        out.append((time.perf_counter() - start, status))


async def load_phase(url: str, keys: list[str], questions: int) -> dict[str, Any]:
    results: list[tuple[float, int]] = []
    # every client (its own connection and key) is created before the clock starts: creating
    # an httpx client loads a TLS context (~20 ms of CPU), which would block the event loop
    # and show up as server latency
    tls = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30, verify=tls)
        for key in keys
    ]
    try:
        start = time.perf_counter()
        await asyncio.gather(*(one_client(c, n, questions, results) for n, c in enumerate(clients)))
        wall = time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    latencies = [t * 1000 for t, _ in results]
    errors = [s for _, s in results if s != 200]
    return {
        "clients": len(keys),
        "questions_per_client": questions,
        "requests": len(results),
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(results) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
    }


async def rate_limit_phase(url: str, greedy_key: str, polite_key: str) -> dict[str, Any]:
    """A client over its limit gets 429 + Retry-After; another client at the same time does not."""

    async def greedy() -> list[tuple[int, str | None]]:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {greedy_key}"}) as c:
            out = []
            for _ in range(BURST + 15):
                r = await c.post("/v1/sessions")
                out.append((r.status_code, r.headers.get("retry-after")))
            return out

    async def polite() -> list[int]:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {polite_key}"}) as c:
            out = []
            for question in QUESTIONS[:5]:
                out.append((await c.post("/v1/ask", json={"question": question})).status_code)
                await asyncio.sleep(0.1)
            return out

    greedy_results, polite_results = await asyncio.gather(greedy(), polite())
    limited = [ra for status, ra in greedy_results if status == 429]
    return {
        "greedy_requests": len(greedy_results),
        "greedy_ok": sum(1 for s, _ in greedy_results if s == 201),
        "greedy_429": len(limited),
        "retry_after_s": sorted({int(ra) for ra in limited if ra}),
        "polite_requests": len(polite_results),
        "polite_ok": sum(1 for s in polite_results if s == 200),
    }


async def main_async(args: argparse.Namespace) -> int:
    from grokassist.config import load_settings
    from grokassist.knowledge import KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="grokassist-load-") as tmp:
        data_dir = Path(tmp) / "data"
        t0 = time.perf_counter()
        kb = KnowledgeBase("bench", settings=load_settings(data_dir=data_dir, backend="extractive:"))
        report = kb.ingest(args.docs)
        kb.close()
        print(f"ingested {report.added} documents from {args.docs} in {time.perf_counter() - t0:.1f} s")

        keys = [f"bench-key-{i:03d}-{os.urandom(8).hex()}" for i in range(args.clients + 2)]
        keys_file = Path(tmp) / "keys.json"
        keys_file.write_text(json.dumps(keys))
        port = free_port()
        url = f"http://{HOST}:{port}"
        cmd = [
            sys.executable,
            __file__,
            "--serve",
            str(data_dir),
            str(port),
            str(keys_file),
            str(args.workers),
        ]
        proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            await wait_ready(url, proc, timeout=120)
            # one warm-up request per route so first-call costs are not measured
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {keys[-1]}"}) as c:
                await c.post("/v1/ask", json={"question": QUESTIONS[0]})
            server_cpu, own_cpu = cpu_seconds(proc.pid), time.process_time()
            load = await asyncio.wait_for(
                load_phase(url, keys[: args.clients], args.questions), args.time_limit
            )
            load["server_cpu_ms_per_request"] = round(
                (cpu_seconds(proc.pid) - server_cpu) * 1000 / load["requests"], 2
            )
            load["client_cpu_ms_per_request"] = round(
                (time.process_time() - own_cpu) * 1000 / load["requests"], 2
            )
            load["cpus"] = os.cpu_count()
            load["load_average_1min"] = round(os.getloadavg()[0], 2)
            limits = await asyncio.wait_for(rate_limit_phase(url, keys[-2], keys[-1]), 60)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    ok_load = load["errors"] == 0 and load["p95_ms"] < args.p95_ms
    ok_limits = limits["greedy_429"] > 0 and limits["polite_ok"] == limits["polite_requests"]
    result = {"load": load, "rate_limit": limits, "targets_met": ok_load and ok_limits}
    print(
        f"\n{load['clients']} clients x {load['questions_per_client']} questions = {load['requests']} "
        "requests "
        f"in {load['wall_s']} s ({load['throughput_rps']} req/s)\n"
        f"errors: {load['errors']}  latency p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, "
        f"p99 {load['p99_ms']} ms, max {load['max_ms']} ms  (target: 0 errors, p95 < {args.p95_ms:g} ms)\n"
        f"CPU per request: server {load['server_cpu_ms_per_request']} ms, "
        f"load generator {load['client_cpu_ms_per_request']} ms "
        f"({load['cpus']} CPUs, load average {load['load_average_1min']} at the end)\n"
        f"rate limit ({BURST} burst, {RATE_PER_MINUTE:g}/min per key): "
        f"greedy client {limits['greedy_ok']} ok, "
        f"{limits['greedy_429']} x 429 (Retry-After {limits['retry_after_s']} s); "
        f"polite client at the same time {limits['polite_ok']}/{limits['polite_requests']} ok\n"
        f"targets met: {'yes' if result['targets_met'] else 'NO'}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["targets_met"] else 1


def main() -> int:
    if len(sys.argv) == 6 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--questions", type=int, default=20, help="questions per client")
    parser.add_argument("--docs", default=str(REPO / "examples" / "starlink" / "docs"))
    parser.add_argument("--time-limit", type=float, default=300, help="seconds for the load phase")
    parser.add_argument("--p95-ms", type=float, default=500)
    parser.add_argument(
        "--workers", type=int, default=1, help="server worker processes (they share the SQLite store)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.questions <= 100:
        parser.error("keep it bounded: 1-200 clients, 1-100 questions each")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
