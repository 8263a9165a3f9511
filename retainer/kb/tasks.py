"""Background jobs of the knowledge base."""

from __future__ import annotations

from django_tasks import task


@task()
def embed_article_task(article_id: int) -> int:
    """Compute the vector of article ``article_id`` unless it is current (idempotent);
    returns 1 when one was written, else 0."""
    from retainer.kb.actions import do_embed_articles

    return do_embed_articles([article_id])


@task()
def embed_articles_task() -> int:
    """Compute every missing or stale article vector (idempotent); returns how many."""
    from retainer.kb.actions import do_embed_articles

    return do_embed_articles()
