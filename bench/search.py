"""Knowledge-base search: full-text vs hybrid (full-text + MiniLM by reciprocal rank) on
N articles, the embedding rate, and the relevance set's MRR@10.

    python bench/search.py                       # SQLite, 1,000 articles
    python bench/search.py --articles 10000
    python bench/search.py --db postgres --articles 1000

The database is created for the run (``targets.py``). It holds the demo's people,
products and knowledge base (whose 63 articles are embedded for real: the embedding
rate), plus generated articles up to ``--articles``: the demo topics written for
other, made-up products, so the relevance set's answers compete with look-alikes.
``--embed`` of the generated articles (at least one per topic) are embedded for real
too; the others reuse the vector of an embedded article of the same topic (the cosine step costs the same
whatever the values; ``--embed 0`` means all, slow: about 20 articles/s per core).

Each query of the relevance set (32 customer questions) is run ``--rounds`` times as an
agent (who may read every published article: the largest candidate set) through
``search_articles`` with semantic ranking off, then on, and as the bare FTS query
(SQLite ``MATCH`` + ``bm25``, PostgreSQL ``@@`` + ``ts_rank_cd``, top 10, no access
rule, no snippets) for reference in the same run. Prints, last, one line:
    search db=… articles=… raw_p50_ms=… fts_p50_ms=… fts_p99_ms=… hybrid_p50_ms=…
    hybrid_p99_ms=… ratio=… embed_per_s=… mrr_fts=… mrr_hybrid=…
where ``ratio`` is hybrid p50 / raw p50.

Case search (``--cases N``; docs/performance.md, "Case search"):

    python bench/search.py --cases 100000
    python bench/search.py --cases 1000000 --articles 100000
    python bench/search.py --db postgres --cases 100000

adds N generated cases (subject, description, two messages each, every fifth message an
internal note) over the demo's organizations, written with ``bulk_create`` (no intake),
the full-text index kept by its triggers (SQLite) or generated columns (PostgreSQL) as
they are inserted; the index build time printed is that insert plus a rebuild of the
index from scratch. The words are drawn from a made-up vocabulary of 20,000 words with
Zipf frequencies, so a word's rank sets how many cases hold it: common (in nearly every
case), mid (a few percent), rare (a few in 100,000), and a prefix query (four letters, as
typed). Each query runs ``--rounds`` times through ``cases.search.search_cases`` as an
agent (every case a candidate: the largest set), beside the raw full-text query on the
same database (the best 20 of the case table and of the message table, bare: no access
rule, no snippets, no merging). ``suggest`` is the portal's suggestion query while a
contact types (``kb.checks.suggestion_query`` → ``search_articles``, at most 5, hybrid
when semantic ranking is on) over the relevance set's questions. Prints, last:
    search db=… cases=… articles=… case_p50_ms=… raw_p50_ms=… ratio=… case_p95_ms=…
    suggest_p95_ms=…
where ``ratio`` is case p50 / raw p50. Budget: ratio ≤ 2, case p95 ≤ 300 ms at 1M cases,
suggest p95 ≤ 150 ms at 100,000 articles.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from targets import ROOT, Target

NAMES = ["Orbit", "Nimbus", "Harbor", "Quill", "Beacon", "Summit", "Cobalt", "Mosaic", "Pylon",
         "Tandem", "Vertex", "Juniper", "Keystone", "Lumen", "Meridian", "Nova", "Onyx",
         "Prism", "Radius", "Sable"]  # fmt: skip
KINDS = ["Server", "Cloud", "Suite", "Hub", "Desk", "Engine", "Vault", "Relay"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(articles: int, embed: int, seed: int) -> float:
    """The demo's people, products and knowledge base, then generated articles up to
    ``articles``; returns the embedding rate (articles/s) measured on real texts."""
    from django.db import transaction
    from django.utils import timezone

    from retainer.accounts import demo as accounts_demo
    from retainer.catalog import demo as catalog_demo
    from retainer.kb import actions, embeddings
    from retainer.kb import demo as kb_demo
    from retainer.kb.models import Article, ArticleEmbedding, Category
    from retainer.lib.demo import make_context

    ctx = make_context(scale=1, today=timezone.localdate(), seed=seed, log=lambda _: None)
    for step in (accounts_demo, catalog_demo):
        with transaction.atomic():
            step.build(ctx)
    started = time.perf_counter()
    with transaction.atomic():
        kb_demo.build(ctx)  # writes the 63 demo articles, then embeds them
    author = Article.objects.order_by("pk").first().author  # type: ignore[union-attr]
    categories = {c.name: c for c in Category.objects.all()}
    rng = random.Random(seed)
    rows, topic_of = [], []
    now = timezone.now()
    for n in range(max(0, articles - Article.objects.count())):
        name = f"{rng.choice(NAMES)} {rng.choice(KINDS)} {n}"
        code = name.split()[0].lower()
        topic = n % len(kb_demo.TOPICS)
        category, _, _, title, summary, body = kb_demo.TOPICS[topic]
        names = {"p": name, "v": f"{rng.randint(1, 9)}.{rng.randint(0, 9)}", "c": code}
        rows.append(Article(
            slug=f"generated-{n}", title=title.format(**names), summary=summary.format(**names),
            body=body.format(**names), category=categories[category], visibility="public",
            status="published", author=author, published_at=now,
        ))  # fmt: skip
        topic_of.append(topic)
    Article.objects.bulk_create(rows, batch_size=2000)
    demo_seconds = time.perf_counter() - started
    generated = list(Article.objects.filter(slug__startswith="generated-").order_by("pk"))
    # At least the first article of each topic, whose vector the topic's others reuse.
    sample = generated if embed == 0 else generated[: max(embed, len(kb_demo.TOPICS))]
    started = time.perf_counter()
    embedded = actions.do_embed_articles([a.pk for a in sample])
    seconds = time.perf_counter() - started
    vectors = dict(
        ArticleEmbedding.objects.filter(article__in=sample).values_list("article_id", "vector")
    )
    by_topic = {topic_of[i]: vectors[a.pk] for i, a in enumerate(sample) if a.pk in vectors}
    ArticleEmbedding.objects.bulk_create(
        [
            ArticleEmbedding(
                article=a,
                vector=by_topic[topic_of[i]],
                model=embeddings.MODEL_NAME,
                text_hash=embeddings.text_hash(embeddings.article_text(a.title, a.summary, a.body)),
            )
            for i, a in enumerate(generated)
            if a.pk not in vectors
        ],
        batch_size=2000,
    )
    print(f"built {Article.objects.count()} articles (demo step with its 63 vectors in "
          f"{demo_seconds:.1f} s); embedded {embedded} generated articles in {seconds:.1f} s")  # fmt: skip
    return embedded / seconds if seconds and embedded else 0.0


def raw_query(text: str) -> None:
    from django.db import connection

    from retainer.kb.search import parse_query

    parsed = parse_query(text)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT id FROM kb_article, to_tsquery('english', %s) q WHERE search @@ q "
                "ORDER BY ts_rank_cd(search, q) DESC LIMIT 10",
                [parsed.tsquery()],
            )
        else:
            cursor.execute(
                "SELECT rowid FROM kb_article_fts WHERE kb_article_fts MATCH %s "
                "ORDER BY bm25(kb_article_fts, 2.0, 1.5, 1.0, 1.0) LIMIT 10",
                [parsed.fts5()],
            )
        cursor.fetchall()


def measure(rounds: int) -> dict[str, float]:
    from django.conf import settings

    from retainer.accounts.models import User
    from retainer.kb.search import search_articles
    from retainer.kb.tests.relevance import QUESTIONS, mean_reciprocal_rank

    agent = User.objects.get(email="agent@northwind.example")
    questions = [q for q, _ in QUESTIONS]

    def timed(run: Callable[[str], object]) -> list[float]:
        for q in questions[:3]:
            run(q)  # warm: the vectors' copy, the model, the page cache
        out = []
        for _ in range(rounds):
            for q in questions:
                started = time.perf_counter()
                run(q)
                out.append((time.perf_counter() - started) * 1000)
        return out

    def ranked(q: str) -> list[str]:
        return [hit.article.slug for hit in search_articles(agent, q, limit=10)]

    figures: dict[str, float] = {}
    raw = timed(raw_query)
    settings.RETAINER_KB_SEMANTIC = False
    fts = timed(lambda q: search_articles(agent, q))
    figures["mrr_fts"] = mean_reciprocal_rank(ranked)
    settings.RETAINER_KB_SEMANTIC = True
    hybrid = timed(lambda q: search_articles(agent, q))
    figures["mrr_hybrid"] = mean_reciprocal_rank(ranked)
    for name, values in (("raw", raw), ("fts", fts), ("hybrid", hybrid)):
        figures[f"{name}_p50_ms"] = statistics.median(values)
        figures[f"{name}_p99_ms"] = percentile(values, 0.99)
        print(f"{name:>7}: p50 {figures[f'{name}_p50_ms']:.1f} ms, "
              f"p99 {figures[f'{name}_p99_ms']:.1f} ms over {len(values)} queries")  # fmt: skip
    return figures


# --- Case search -------------------------------------------------------------------------------

VOCABULARY = 20_000
CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"
TERMS = {"common": (0, 5), "mid": (40, 45), "rare": (15_000, 15_005)}


def vocabulary() -> list[str]:
    """20,000 distinct made-up words of five letters (no English stop word among them)."""
    words = [
        a + v + b + w + c
        for a in CONSONANTS for v in VOWELS for b in CONSONANTS for w in VOWELS for c in CONSONANTS
    ]  # fmt: skip
    random.Random(1).shuffle(words)
    return words[:VOCABULARY]


def build_cases(count: int, seed: int) -> tuple[float, float]:
    """``count`` cases with two messages each, in bulk; returns the insert seconds (the
    index kept as rows arrive) and the seconds of rebuilding the index from scratch."""
    from django.db import connection, transaction

    from retainer.accounts.models import Contact, User
    from retainer.cases.models import Case, CaseMessage
    from retainer.catalog.models import Product

    rng = random.Random(seed)
    words = vocabulary()
    cumulative = list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))
    contacts = list(Contact.objects.filter(organization__is_active=True).order_by("pk"))
    products = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    agent = User.objects.get(email="agent@northwind.example")

    def text(n: int) -> str:
        return " ".join(rng.choices(words, cum_weights=cumulative, k=n))

    started = time.perf_counter()
    batch = 5000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        with transaction.atomic():
            rows = []
            for _ in range(size):
                contact = rng.choice(contacts)
                rows.append(Case(
                    organization_id=contact.organization_id, contact=contact,
                    product_id=rng.choice(products), channel="web", subject=text(6),
                    description=text(20), status=rng.choice(["new", "open", "closed"]),
                ))  # fmt: skip
            cases = Case.objects.bulk_create(rows)
            CaseMessage.objects.bulk_create(
                CaseMessage(case=case, author=agent, body=text(15), is_internal=(i + j) % 5 == 0)
                for i, case in enumerate(cases)
                for j in range(2)
            )
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("REINDEX INDEX cases_case_search_gin")
            cursor.execute("REINDEX INDEX cases_casemessage_search_gin")
        else:
            for table in ("cases_case_fts", "cases_casemessage_fts", "cases_organization_fts"):
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")  # noqa: S608
            cursor.execute("ANALYZE")
    rebuilt = time.perf_counter() - started
    print(f"built {count} cases and {2 * count} messages in {inserted:.1f} s "
          f"(index kept while inserting); index rebuilt from scratch in {rebuilt:.1f} s")  # fmt: skip
    return inserted, rebuilt


def raw_case_query(text: str) -> None:
    from django.db import connection

    from retainer.lib.fulltext import parse_query

    parsed = parse_query(text)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("cases_case", "cases_casemessage"):
                cursor.execute(
                    f"SELECT id FROM {table}, to_tsquery('english', %s) q WHERE search @@ q "  # noqa: S608
                    "ORDER BY ts_rank_cd(search, q) DESC LIMIT 20",
                    [parsed.tsquery()],
                )
                cursor.fetchall()
        else:
            for table in ("cases_case_fts", "cases_casemessage_fts"):
                cursor.execute(
                    f"SELECT rowid FROM {table} WHERE {table} MATCH %s "  # noqa: S608
                    f"ORDER BY bm25({table}) LIMIT 20",
                    [parsed.fts5()],
                )
                cursor.fetchall()


def case_queries() -> dict[str, list[str]]:
    words = vocabulary()
    queries = {kind: words[a:b] for kind, (a, b) in TERMS.items()}
    queries["prefix"] = [word[:4] for word in words[40:45]]
    return queries


def measure_cases(rounds: int) -> dict[str, float]:
    from django.conf import settings

    from retainer.accounts.models import Contact, User
    from retainer.cases.search import search_cases
    from retainer.kb.checks import SUGGESTION_LIMIT, suggestion_query
    from retainer.kb.search import search_articles
    from retainer.kb.tests.relevance import QUESTIONS

    agent = User.objects.get(email="agent@northwind.example")
    contact = Contact.objects.filter(user__isnull=False, is_active=True).order_by("pk").first()
    assert contact is not None and contact.user is not None
    figures: dict[str, float] = {}
    every: dict[str, list[float]] = {"case": [], "raw": []}

    def timed(run: Callable[[str], object], queries: list[str]) -> list[float]:
        run(queries[0])  # warm the page cache
        out = []
        for _ in range(rounds):
            for q in queries:
                started = time.perf_counter()
                run(q)
                out.append((time.perf_counter() - started) * 1000)
        return out

    for kind, queries in case_queries().items():
        case = timed(lambda q: search_cases(agent, q, limit=20), queries)
        raw = timed(raw_case_query, queries)
        every["case"] += case
        every["raw"] += raw
        hits = len(search_cases(agent, queries[0], limit=20))
        print(f"{kind:>7}: case p50 {statistics.median(case):.1f} ms, "
              f"p95 {percentile(case, 0.95):.1f} ms; raw p50 {statistics.median(raw):.1f} ms, "
              f"p95 {percentile(raw, 0.95):.1f} ms ({hits} hits for {queries[0]!r})")  # fmt: skip
    settings.RETAINER_KB_SEMANTIC = os.environ.get("RETAINER_KB_SEMANTIC", "true") == "true"
    suggest = timed(
        lambda q: search_articles(contact.user, suggestion_query(q, ""), limit=SUGGESTION_LIMIT),
        [q for q, _ in QUESTIONS],
    )
    figures["case_p50_ms"] = statistics.median(every["case"])
    figures["case_p95_ms"] = percentile(every["case"], 0.95)
    figures["raw_p50_ms"] = statistics.median(every["raw"])
    figures["suggest_p95_ms"] = percentile(suggest, 0.95)
    print(f"suggest: p50 {statistics.median(suggest):.1f} ms, "
          f"p95 {figures['suggest_p95_ms']:.1f} ms over {len(suggest)} queries")  # fmt: skip
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL server to create the database on.")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument(
        "--embed", type=int, default=100, help="generated articles embedded for real (0: all)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of the relevance set per mode")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cases", type=int, default=0, help="generated cases: measure case search (0: off)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="retainer-search-") as tmp:
        target = Target(args.db, args.database_url, Path(tmp), purpose="search")
        try:
            for key, value in target.env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            os.environ["DJANGO_SETTINGS_MODULE"] = "retainer.settings"
            os.environ["RETAINER_KB_SEMANTIC"] = "true"
            subprocess.run(
                [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True, cwd=ROOT
            )
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            embed_rate = build(args.articles, args.embed, args.seed)
            from retainer.kb.models import Article

            if args.cases:
                build_cases(args.cases, args.seed)
                figures = measure_cases(args.rounds)
                from retainer.cases.models import Case

                ratio = figures["case_p50_ms"] / max(figures["raw_p50_ms"], 1e-6)
                print(
                    f"search db={args.db} cases={Case.objects.count()} "
                    f"articles={Article.objects.count()} "
                    f"case_p50_ms={figures['case_p50_ms']:.1f} "
                    f"raw_p50_ms={figures['raw_p50_ms']:.1f} ratio={ratio:.2f} "
                    f"case_p95_ms={figures['case_p95_ms']:.1f} "
                    f"suggest_p95_ms={figures['suggest_p95_ms']:.1f}"
                )
                return 0
            figures = measure(args.rounds)

            ratio = figures["hybrid_p50_ms"] / max(figures["raw_p50_ms"], 1e-6)
            print(
                f"search db={args.db} articles={Article.objects.count()} "
                f"raw_p50_ms={figures['raw_p50_ms']:.1f} fts_p50_ms={figures['fts_p50_ms']:.1f} "
                f"fts_p99_ms={figures['fts_p99_ms']:.1f} hybrid_p50_ms={figures['hybrid_p50_ms']:.1f} "
                f"hybrid_p99_ms={figures['hybrid_p99_ms']:.1f} ratio={ratio:.1f} "
                f"embed_per_s={embed_rate:.1f} mrr_fts={figures['mrr_fts']:.3f} "
                f"mrr_hybrid={figures['mrr_hybrid']:.3f}"
            )
        finally:
            from django.db import connections

            connections.close_all()
            target.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
