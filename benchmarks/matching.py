"""Matching quality on public data and matching speed at 10k / 100k achievements.

Quality (``../shared/data/csl-dev``, its README's protocol): the 738 corpus papers become achievements
(``external_id``, ``title``, ``abstract``, ``keywords`` only: no labels, no field), each of the 262
queries in each form (``title``; ``sentence``) becomes a technology demand ``{"title": text[:100],
"description": text}``, and its 10 best achievements are scored against the discipline labels: P@10,
MRR@10, nDCG@10, same-category P@10, and the share of matches whose first reason names a term found in
both texts. Three ways to reach the service:

* default: the app in-process (httpx over ASGI, a temporary SQLite database), through the contract's
  routes: ``POST /api/v1/achievements/import``, ``POST /api/v1/demands``,
  ``GET /api/v1/demands/{id}/matches`` (needs the achievements and demands routes of #13);
* ``--url URL --token TOKEN``: the same requests against a running server;
* ``--direct``: rows inserted through the ORM and ``matching.for_demand`` called (no HTTP).

Speed (in-process, the engine without the database; ``--skip-speed`` to leave out): synthetic
libraries of 10,000 and 100,000 achievements made by recombining the corpus's texts (each synthetic
document: a title and keywords from one paper, abstract sentences from three others, so vocabulary
and topics stay realistic while no two documents are equal), each size in a fresh subprocess: index
build time (wall and CPU: the machines are shared, and CPU is the figure a busy neighbour moves
least), incremental add of one achievement, query p50/p95 over 200 demands (the CSL queries; CPU
p95 beside), the process's RSS after the build, adds and queries (heap trimmed after the build, as
the engine does), then the p95 of the same queries with the reasons of their 10 matches.

    python -m benchmarks.matching [--quick] [--direct] [--skip-speed] [--url URL --token TOKEN]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import REPO_ROOT, percentile, render_table, run_async, targets_table

DATA = REPO_ROOT.parent / "shared" / "data" / "csl-dev"
BEST_BASELINE = {"title": 0.231, "sentence": 0.242}  # RRF of LSA and e5, the README's best row
FORMS = ("title", "sentence")
SIZES = (10_000, 100_000)
QUICK_SIZES = (2_000, 10_000)
SPEED_QUERIES = 200
SERVER_QUERIES = 50

Ask = Callable[[str], Awaitable[list[dict[str, Any]]]]


def load(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


# --- Quality ---------------------------------------------------------------------------------


def shares_a_term(reason: str, query: str, doc: str) -> bool:
    """Whether a reason names something both texts hold: one of its listed terms is in both."""
    _, _, listed = reason.partition("：") if "：" in reason else reason.partition(": ")
    terms = [t.strip() for t in re.split(r"[、,]", listed) if t.strip()]
    return any(t.casefold() in query.casefold() and t.casefold() in doc.casefold() for t in terms)


def score(queries: list[dict[str, Any]], answers: dict[str, list[list[dict[str, Any]]]], corpus: list[dict[str, Any]]):
    by_id = {d["external_id"]: d for d in corpus}
    per_discipline = Counter(d["discipline"] for d in corpus)
    table: dict[str, dict[str, Any]] = {}
    for form in FORMS:
        p10, mrr, ndcg, cat, named, reasons_ok, per_query = [], [], [], [], 0, 0, []
        for q, found in zip(queries, answers[form], strict=True):
            top = found[:10]
            rel = [by_id.get(m.get("external_id") or "", {}).get("discipline") == q["discipline"] for m in top]
            p = sum(rel) / 10
            p10.append(p)
            per_query.append(p)
            mrr.append(next((1 / (i + 1) for i, r in enumerate(rel) if r), 0.0))
            dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(rel) if r)
            ideal = sum(1 / math.log2(i + 2) for i in range(min(10, per_discipline[q["discipline"]])))
            ndcg.append(dcg / ideal if ideal else 0.0)
            cat.append(
                sum(by_id.get(m.get("external_id") or "", {}).get("category") == q["category"] for m in top) / 10
            )
            for m in top:
                doc = by_id.get(m.get("external_id") or "")
                reasons_ok += bool(m.get("reasons")) and all(m["reasons"])
                if doc and m.get("reasons"):
                    text = " ".join([doc["title"], " ".join(doc["keywords"]), doc["abstract"]])
                    named += shares_a_term(m["reasons"][0], q[form], text)
        n = len(queries)
        matches = sum(len(f[:10]) for f in answers[form])
        table[form] = {
            "p10": sum(p10) / n,
            "mrr": sum(mrr) / n,
            "ndcg": sum(ndcg) / n,
            "category_p10": sum(cat) / n,
            "matches": matches,
            "with_reasons": reasons_ok / max(matches, 1),
            "reason_names_shared_term": named / max(matches, 1),
            "per_query": per_query,
        }
    return table


async def run_queries(queries: list[dict[str, Any]], ask: Ask) -> dict[str, list[list[dict[str, Any]]]]:
    return {form: [await ask(q[form]) for q in queries] for form in FORMS}


async def quality_direct(corpus: list[dict[str, Any]], queries: list[dict[str, Any]]) -> dict[str, Any]:
    from events.db import close_db, init_db
    from events.models import Achievement, Demand, DemandKind
    from events.services import matching, organizations
    from events.settings import load_settings
    from wuchuang.migrate import upgrade_to_head

    with tempfile.TemporaryDirectory(prefix="bench-matching-") as folder:
        settings = load_settings(data_dir=Path(folder), database_url=f"sqlite://{folder}/bench.sqlite3")
        upgrade_to_head(settings)
        await init_db(settings)
        try:
            org = await organizations.default_organization_id()
            await Achievement.bulk_create(
                [
                    Achievement(
                        external_id=d["external_id"],
                        title=d["title"],
                        abstract=d["abstract"],
                        keywords=d["keywords"],
                        managed_by_id=org,
                        created_by="benchmark",
                    )
                    for d in corpus
                ]
            )

            async def ask(text: str) -> list[dict[str, Any]]:
                demand = await Demand.create(
                    kind=DemandKind.TECHNOLOGY,
                    title=text[:100],
                    description=text,
                    managed_by_id=org,
                    created_by="benchmark",
                )
                matching.note_saved("demand", [demand.id])
                found = await matching.for_demand(demand.id, limit=10)
                return [{"external_id": m.external_id, "reasons": m.reasons} for m in found]

            started = time.perf_counter()
            answers = await run_queries(queries, ask)
            return {"answers": answers, "seconds": time.perf_counter() - started}
        finally:
            await close_db()


async def quality_api(
    corpus: list[dict[str, Any]], queries: list[dict[str, Any]], http: httpx.AsyncClient
) -> dict[str, Any]:
    items = [{k: d[k] for k in ("external_id", "title", "abstract", "keywords")} for d in corpus]
    for lo in range(0, len(items), 200):
        r = await http.post("/api/v1/achievements/import", json={"items": items[lo : lo + 200]})
        r.raise_for_status()
        if r.json().get("errors"):
            raise RuntimeError(f"import errors: {r.json()['errors'][:3]}")

    async def ask(text: str) -> list[dict[str, Any]]:
        r = await http.post("/api/v1/demands", json={"kind": "technology", "title": text[:100], "description": text})
        r.raise_for_status()
        m = await http.get(f"/api/v1/demands/{r.json()['id']}/matches", params={"type": "achievement", "limit": 10})
        m.raise_for_status()
        return list(m.json()["items"])

    started = time.perf_counter()
    answers = await run_queries(queries, ask)
    return {"answers": answers, "seconds": time.perf_counter() - started}


async def quality_in_process(corpus: list[dict[str, Any]], queries: list[dict[str, Any]]) -> dict[str, Any]:
    from api.app import create_app
    from events.services import tokens
    from events.settings import load_settings
    from wuchuang.migrate import upgrade_to_head

    with tempfile.TemporaryDirectory(prefix="bench-matching-") as folder:
        settings = load_settings(data_dir=Path(folder), database_url=f"sqlite://{folder}/bench.sqlite3")
        upgrade_to_head(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            token = (await tokens.create_token(role="admin", name="benchmark")).plaintext
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers, timeout=60
            ) as http:
                return await quality_api(corpus, queries, http)


# --- Speed -----------------------------------------------------------------------------------


def synthetic_records(corpus: list[dict[str, Any]], n: int, rng: random.Random) -> list[tuple[str, list[str], str]]:
    """(title, keywords, abstract) of ``n`` documents recombined from the corpus (see the module's docstring)."""
    sentences = [[s for s in re.split(r"(?<=[。.；;])", d["abstract"]) if s.strip()] or [d["abstract"]] for d in corpus]
    out = []
    for _ in range(n):
        head = rng.randrange(len(corpus))
        parts = [rng.choice(sentences[rng.randrange(len(corpus))]) for _ in range(3)]
        parts.append(rng.choice(sentences[head]))
        out.append((corpus[head]["title"], list(corpus[head]["keywords"]), " ".join(parts)))
    return out


def synthetic(corpus: list[dict[str, Any]], n: int, rng: random.Random) -> list[tuple[str, str]]:
    """(title, text) of ``n`` documents: the text as the engine indexes it (title, keywords, abstract)."""
    return [(t, " ".join([t, " ".join(k), a])) for t, k, a in synthetic_records(corpus, n, rng)]


def _status_mb(field: str) -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def speed_worker(n: int) -> dict[str, Any]:
    """One size in this (fresh) process: build, add, query, RSS, then queries with their reasons."""
    import numpy as np

    from events.heap import trim as trim_heap
    from events.services.matching import explain, rank
    from events.services.matching.index import Doc, fit_and_build

    load_before = os.getloadavg()[0]
    corpus, queries = load("corpus.jsonl"), load("queries.jsonl")
    made = synthetic(corpus, n, random.Random(n))
    docs = [Doc(id=i + 1, text=text, title=title) for i, (title, text) in enumerate(made)]
    del made
    started, cpu = time.perf_counter(), time.process_time()
    collection = fit_and_build(docs)  # what the engine's build does, without the database
    space = collection.space
    build_s, build_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    del docs
    trim_heap()  # as the engine does after a build
    adds = []
    rng = random.Random(-n)
    for i in range(5):
        title, text = synthetic(corpus, 1, rng)[0]
        t = time.perf_counter()
        collection = collection.with_docs([Doc(id=n + 1 + i, text=text, title=title)])
        adds.append(time.perf_counter() - t)
    latencies, cpu_times = [], []
    min_trl = np.int8(0)
    asked = [q["title"][:100] + " " + q["title"] for q in queries[:SPEED_QUERIES]]
    for text in asked:
        t, cpu = time.perf_counter(), time.process_time()
        s = rank.scores(collection, rank.embed(collection, text))
        s = np.where((collection.trl >= min_trl) | (collection.trl < 0), s, -np.inf)
        rank.best(s, 10)
        latencies.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - cpu)
    rss_mb, peak_mb = _status_mb("VmRSS"), _status_mb("VmHWM")
    # The same queries with the reasons of their 10 matches (the texts made again: the server reads
    # its 10 from the database, and holding all of them here would have inflated the RSS above).
    texts = {i + 1: text for i, (_, text) in enumerate(synthetic(corpus, n, random.Random(n)))}
    with_reasons = []
    for text in asked:
        t = time.perf_counter()
        s = rank.scores(collection, rank.embed(collection, text))
        for row in rank.best(s, 10):
            explain.terms_reason(space, text, texts.get(int(collection.ids[row]), ""), "zh")
        with_reasons.append(time.perf_counter() - t)
    return {
        "n": n,
        "features": space.features,
        "dims": 0 if space.basis is None else int(space.basis.shape[1]),
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "add_ms": 1000 * statistics_median(adds),
        "p50_ms": 1000 * percentile(latencies, 50),
        "p95_ms": 1000 * percentile(latencies, 95),
        "cpu_p95_ms": 1000 * percentile(cpu_times, 95),
        "reasons_p95_ms": 1000 * percentile(with_reasons, 95),
        "rss_mb": rss_mb,
        "peak_mb": peak_mb,
        "load": load_before,
    }


def server_app() -> Any:
    """The app ``--server`` runs under uvicorn, configured from WUCHUANG_* variables."""
    from api.app import create_app
    from events.settings import load_settings

    return create_app(load_settings())


def _process_mb(pid: int, field: str) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field + ":"))
    return int(line.split()[1]) / 1024


async def server_measure(n: int) -> dict[str, Any]:
    """The whole service at ``n`` achievements: a SQLite database holding them (inserted through the
    ORM, no labels), the API served by uvicorn in its own process, and through HTTP the first match
    query (which builds the index from the database), then one query per demand; the server
    process's RSS and CPU from /proc."""
    from benchmarks._common import cpu_seconds, uvicorn_server
    from events.db import close_db, init_db
    from events.models import Achievement, Demand, DemandKind
    from events.services import organizations, tokens
    from events.settings import load_settings
    from wuchuang.migrate import upgrade_to_head

    corpus, queries = load("corpus.jsonl"), load("queries.jsonl")
    with tempfile.TemporaryDirectory(prefix="bench-matching-server-") as folder:
        settings = load_settings(data_dir=Path(folder), database_url=f"sqlite://{folder}/bench.sqlite3")
        upgrade_to_head(settings)
        await init_db(settings)
        try:
            org = await organizations.default_organization_id()
            made = synthetic_records(corpus, n, random.Random(n))
            for lo in range(0, n, 5_000):
                await Achievement.bulk_create(
                    [
                        Achievement(
                            external_id=f"syn-{lo + i}",
                            title=title,
                            keywords=keywords,
                            abstract=abstract,
                            managed_by_id=org,
                            created_by="benchmark",
                        )
                        for i, (title, keywords, abstract) in enumerate(made[lo : lo + 5_000])
                    ]
                )
            del made
            demands = [
                (
                    await Demand.create(
                        kind=DemandKind.TECHNOLOGY,
                        title=q["title"][:100],
                        description=q["title"],
                        managed_by_id=org,
                        created_by="benchmark",
                    )
                ).id
                for q in queries[:SERVER_QUERIES]
            ]
            token = (await tokens.create_token(role="admin", name="benchmark")).plaintext
        finally:
            await close_db()
        env = {"WUCHUANG_DATA_DIR": folder, "WUCHUANG_DATABASE_URL": settings.database_url or ""}
        log_path = Path(folder) / "server.log"
        async with uvicorn_server("benchmarks.matching:server_app", env=env, log_path=log_path) as server:
            idle_mb = _process_mb(server.pid, "VmRSS")
            headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
            async with httpx.AsyncClient(
                base_url=server.base_url, headers=headers, timeout=900, trust_env=False
            ) as http:

                async def ask(demand: int) -> None:
                    r = await http.get(f"/api/v1/demands/{demand}/matches", params={"type": "achievement", "limit": 10})
                    r.raise_for_status()
                    if not r.json()["items"] or not all(m["reasons"] for m in r.json()["items"]):
                        raise RuntimeError(f"no matches with reasons for demand {demand}: {r.text[:300]}")

                cpu, started = cpu_seconds(server.pid), time.perf_counter()
                await ask(demands[0])
                first_s, first_cpu_s = time.perf_counter() - started, cpu_seconds(server.pid) - cpu
                built_mb = _process_mb(server.pid, "VmRSS")
                latencies = []
                cpu = cpu_seconds(server.pid)
                for demand in demands:
                    started = time.perf_counter()
                    await ask(demand)
                    latencies.append(time.perf_counter() - started)
                cpu_per_query = (cpu_seconds(server.pid) - cpu) / len(demands)
                return {
                    "n": n,
                    "idle_mb": idle_mb,
                    "first_s": first_s,
                    "first_cpu_s": first_cpu_s,
                    "p50_ms": 1000 * percentile(latencies, 50),
                    "p95_ms": 1000 * percentile(latencies, 95),
                    "cpu_ms": 1000 * cpu_per_query,
                    "rss_mb": _process_mb(server.pid, "VmRSS"),
                    "built_mb": built_mb,
                    "peak_mb": _process_mb(server.pid, "VmHWM"),
                }


def statistics_median(values: Sequence[float]) -> float:
    return sorted(values)[len(values) // 2]


def speed(sizes: Sequence[int]) -> list[dict[str, Any]]:
    results = []
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.matching", "--speed-worker", str(n)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


# --- Report ----------------------------------------------------------------------------------


def report(
    quality: dict[str, Any] | None, mode: str, speeds: list[dict[str, Any]], served: dict[str, Any] | None = None
) -> str:
    parts = []
    rows: list[list[object]] = []
    if quality is not None:
        qrows = []
        for form in FORMS:
            f = quality[form]
            qrows.append(
                [
                    form,
                    f"{f['p10']:.3f}",
                    f"{f['mrr']:.3f}",
                    f"{f['ndcg']:.3f}",
                    f"{f['category_p10']:.3f}",
                    f"{f['with_reasons']:.0%}",
                    f"{f['reason_names_shared_term']:.0%}",
                ]
            )
            rows.append(
                [
                    f"P@10 ({form})",
                    f"csl-dev, {mode}",
                    f"{f['p10']:.3f}",
                    f"> {BEST_BASELINE[form]:.3f}",
                    "yes" if f["p10"] > BEST_BASELINE[form] else "no",
                ]
            )
            rows.append(
                [
                    f"matches whose reason names a shared term ({form})",
                    mode,
                    f"{f['reason_names_shared_term']:.0%}",
                    "≥ 50%",
                    "yes" if f["reason_names_shared_term"] >= 0.5 else "no",
                ]
            )
        parts.append(
            render_table(
                f"Quality on csl-dev ({mode}; discipline relevance)",
                (
                    "form",
                    "P@10",
                    "MRR@10",
                    "nDCG@10",
                    "P@10 same category",
                    "with reasons",
                    "first reason names a shared term",
                ),
                qrows,
            )
        )
    if speeds:
        parts.append(
            render_table(
                "Speed (engine in-process; synthetic libraries recombined from csl-dev texts; BLAS in one thread; "
                "load avg: the machine's 1-minute load when the size started, on 2 cores)",
                (
                    "achievements",
                    "features",
                    "dims",
                    "build s (CPU s)",
                    "add one ms",
                    "query p50 ms",
                    "query p95 ms (CPU)",
                    "p95 with reasons ms",
                    "RSS MB",
                    "peak MB",
                    "load avg",
                ),
                [
                    [
                        f"{s['n']:,}",
                        s["features"],
                        s["dims"],
                        f"{s['build_s']:.1f} ({s['build_cpu_s']:.1f})",
                        f"{s['add_ms']:.0f}",
                        f"{s['p50_ms']:.1f}",
                        f"{s['p95_ms']:.1f} ({s['cpu_p95_ms']:.1f})",
                        f"{s['reasons_p95_ms']:.1f}",
                        f"{s['rss_mb']:.0f}",
                        f"{s['peak_mb']:.0f}",
                        f"{s['load']:.1f}",
                    ]
                    for s in speeds
                ],
            )
        )
        big = speeds[-1]
        where = f"{big['n']:,} achievements"
        rows += [
            ["index build", where, f"{big['build_s']:.1f} s", "< 120 s", "yes" if big["build_s"] < 120 else "no"],
            ["incremental add", where, f"{big['add_ms']:.0f} ms", "< 1 s", "yes" if big["add_ms"] < 1000 else "no"],
            ["query p95", where, f"{big['p95_ms']:.1f} ms", "< 50 ms", "yes" if big["p95_ms"] < 50 else "no"],
            ["RSS", where, f"{big['rss_mb']:.0f} MB", "< 400 MB", "yes" if big["rss_mb"] < 400 else "no"],
        ]
    if served is not None:
        parts.append(
            render_table(
                "The service over HTTP (uvicorn process, SQLite; the first query builds the index from the database)",
                (
                    "achievements",
                    "first query s (server CPU s)",
                    "query p50 ms",
                    "query p95 ms",
                    "server CPU per query ms",
                    "RSS idle MB",
                    "RSS after build MB",
                    "RSS after queries MB",
                    "peak MB",
                ),
                [
                    [
                        f"{served['n']:,}",
                        f"{served['first_s']:.1f} ({served['first_cpu_s']:.1f})",
                        f"{served['p50_ms']:.1f}",
                        f"{served['p95_ms']:.1f}",
                        f"{served['cpu_ms']:.1f}",
                        f"{served['idle_mb']:.0f}",
                        f"{served['built_mb']:.0f}",
                        f"{served['rss_mb']:.0f}",
                        f"{served['peak_mb']:.0f}",
                    ]
                ],
            )
        )
        where = f"server, {served['n']:,} achievements"
        rows += [
            ["query p95 (HTTP, with reasons)", where, f"{served['p95_ms']:.1f} ms", "< 50 ms",
             "yes" if served["p95_ms"] < 50 else "no"],
            ["server RSS", where, f"{served['rss_mb']:.0f} MB", "< 400 MB", "yes" if served["rss_mb"] < 400 else "no"],
        ]  # fmt: skip
    parts.append(targets_table(rows))
    return "\n\n".join(parts)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="quality on every 4th query; speed at 2k and 10k")
    parser.add_argument("--direct", action="store_true", help="quality through the ORM and the service (no HTTP)")
    parser.add_argument("--url", help="a running server (loopback) to measure quality through")
    parser.add_argument("--token", help="an organizer or admin token for --url")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-server", action="store_true", help="leave out the service measured over HTTP")
    parser.add_argument("--json", metavar="FILE", help="also write the figures (with per-query P@10) to FILE")
    parser.add_argument("--speed-worker", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.speed_worker:
        print(json.dumps(speed_worker(args.speed_worker)))
        return 0
    corpus, queries = load("corpus.jsonl"), load("queries.jsonl")
    if args.quick:
        queries = queries[::4]
    quality = None
    mode = "direct (ORM + service)" if args.direct else ("API at " + args.url if args.url else "API in-process")
    if not args.skip_quality:
        if args.direct:
            result = run_async(lambda: quality_direct(corpus, queries))
        elif args.url:

            async def remote() -> dict[str, Any]:
                headers = {"Authorization": f"Bearer {args.token}", "Accept-Language": "zh-CN"}
                async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=60, trust_env=False) as http:
                    return await quality_api(corpus, queries, http)

            result = run_async(remote)
        else:
            result = run_async(lambda: quality_in_process(corpus, queries))
        quality = score(queries, result["answers"], corpus)
    sizes = QUICK_SIZES if args.quick else SIZES
    speeds = [] if args.skip_speed else speed(sizes)
    served = None if args.skip_speed or args.skip_server else run_async(lambda: server_measure(sizes[-1]))
    print(report(quality, mode, speeds, served))
    if args.json:
        figures = {"quality": quality, "speed": speeds, "server": served}
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
