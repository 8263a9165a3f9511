"""Semantic ranking: the stored article vectors, compared with the query's by cosine, and
reciprocal-rank fusion with the full-text ranking.

- **On by default.** ``RETAINER_KB_SEMANTIC=false`` turns it off: search is then full-text
  only and nothing here loads.
- **Per-process copy of the vectors.** All current vectors (one float32 matrix, 1.5 kB
  per article) are kept per process (``lib.snapshots``), reloaded when any vector is
  written or deleted (generation triggers on ``kb_articleembedding``). An empty table
  loads nothing: NumPy and the model are imported only once a vector exists.
- **Access first.** ``rank_by_meaning`` ranks only the articles the caller says the user
  may read; the others are not even compared.
- **Brute force.** Each search multiplies the candidates' vectors by the query's: about
  a millisecond per thousand articles, fine up to about 10,000 articles; beyond that a
  vector index would be needed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from retainer.kb.embeddings import DIMENSIONS, MODEL_NAME, get_encoder
from retainer.kb.models import ArticleEmbedding
from retainer.lib.snapshots import Snapshot

log = logging.getLogger(__name__)

#: Reciprocal-rank fusion constant: an article's fused score is Σ 1 / (k + rank).
RRF_K = 60
#: Below this cosine an article is not a semantic match at all. Measured on the demo
#: knowledge base: nonsense and greetings score 0.07–0.13 against every article, while
#: a loosely worded question scores 0.19–0.3 against its answer, a close one over 0.5.
MIN_SIMILARITY = 0.15


def semantic_enabled() -> bool:
    """``settings.RETAINER_KB_SEMANTIC`` (the environment variable, true by default)."""
    return bool(settings.RETAINER_KB_SEMANTIC)


@dataclass(frozen=True)
class VectorTable:
    """Every current vector: ``ids`` ascending (int64) and ``matrix`` row by row;
    both ``None`` when there is no vector yet."""

    ids: Any
    matrix: Any

    @property
    def empty(self) -> bool:
        return self.ids is None


def _load() -> VectorTable:
    rows = list(
        ArticleEmbedding.objects.filter(model=MODEL_NAME)
        .order_by("article_id")
        .values_list("article_id", "vector")
    )
    if not rows:
        return VectorTable(None, None)
    import numpy as np

    ids = np.fromiter((pk for pk, _ in rows), dtype=np.int64, count=len(rows))
    data = b"".join(bytes(vector) for _, vector in rows)
    matrix = np.frombuffer(data, dtype=np.float32).reshape(len(rows), DIMENSIONS)
    return VectorTable(ids, matrix)


_vectors: Snapshot[VectorTable] = Snapshot("kb_vectors", _load)


def vectors() -> VectorTable:
    """The process's copy of the vectors (one token read when it is current)."""
    return _vectors.get()


def rank_by_meaning(
    query: str, candidate_ids: Iterable[int], *, depth: int, table: VectorTable | None = None
) -> list[tuple[int, float]]:
    """Up to ``depth`` of ``candidate_ids`` (articles the caller checked the user may read)
    with a vector, by cosine similarity to ``query``, best first, as ``(id, cosine)``;
    only those at ``MIN_SIMILARITY`` or more. Empty when no candidate has a vector or the
    model cannot be loaded."""
    table = table if table is not None else vectors()
    if table.empty:
        return []
    import numpy as np

    wanted = np.fromiter(candidate_ids, dtype=np.int64)
    positions = np.searchsorted(table.ids, wanted).clip(0, len(table.ids) - 1)
    positions = positions[table.ids[positions] == wanted]
    if not positions.size:
        return []
    encoder = get_encoder()
    if encoder is None:
        return []
    query_vector = encoder.encode([query])[0]
    # One product over every vector is cheaper than gathering the readable rows first
    # (a 15 MB copy at 10,000 articles); only the readable ones' scores are read on.
    scores = (table.matrix @ query_vector)[positions]
    keep = np.flatnonzero(scores >= MIN_SIMILARITY)
    if keep.size > depth:
        keep = keep[np.argpartition(-scores[keep], depth - 1)[:depth]]
    best = keep[np.argsort(-scores[keep], kind="stable")]
    return [(int(table.ids[positions[i]]), float(scores[i])) for i in best]


def reciprocal_rank_fusion(*rankings: Sequence[int], k: int = RRF_K) -> list[tuple[int, float]]:
    """Ids of several rankings (best first) fused by Σ 1 / (k + rank), rank from 1;
    ties keep the order of first appearance (the full-text ranking comes first)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, pk in enumerate(ranking, start=1):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])
