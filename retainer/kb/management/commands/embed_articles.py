"""Compute the missing and stale article vectors: ``manage.py embed_articles``.

Vectors are normally written by a job after each publish or text change; this command
catches up after a bulk import, a restore, raw SQL edits or a change of model, and is
safe to run any time (current vectors are left alone). ``--queue`` hands the work to the
job worker instead of doing it here.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retainer.kb import embeddings, tasks
from retainer.kb.actions import do_embed_articles
from retainer.kb.models import Article


class Command(BaseCommand):
    help = "Compute the missing and stale article vectors for semantic search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue", action="store_true", help="Queue the work for the job worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["queue"]:
            tasks.embed_articles_task.enqueue()
            self.stdout.write("Queued: the job worker computes the missing vectors.")
            return
        if embeddings.get_encoder() is None:
            raise CommandError(
                f"The {embeddings.MODEL_NAME} model could not be loaded (see the log); "
                "search ranks by full text only."
            )
        started = time.monotonic()
        written = do_embed_articles()
        seconds = time.monotonic() - started
        total = Article.objects.count()
        rate = f", {written / seconds:.0f} articles/s" if written and seconds else ""
        self.stdout.write(
            f"{written} of {total} article vectors computed in {seconds:.1f} s{rate}; "
            "the others were current."
        )
