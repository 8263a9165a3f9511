"""The WSGI application, loaded once in gunicorn's master (``--preload``) before it forks
its workers, so the workers share one copy of the code and of what loading creates."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retainer.settings")
application = get_wsgi_application()


def _load_before_fork() -> None:
    """Do now, once, what each worker would otherwise do on its first requests: import
    every view (the URLconf does), build the URL resolver's reverse index and compile
    the product's templates. Then freeze what exists, so the collector never walks those
    objects again and the pages the workers share are not copied by its touching them."""
    from pathlib import Path

    from django.conf import settings
    from django.template import engines
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - importing the URLconf is the point
    resolver.reverse_dict  # noqa: B018 - so is building the reverse index
    for engine in engines.all():
        for folder in engine.template_dirs:
            if not Path(folder).is_relative_to(settings.BASE_DIR / "retainer"):
                continue  # the product's own templates; a library's may need other apps
            for path in Path(folder).rglob("*.html"):
                engine.get_template(path.relative_to(folder).as_posix())
    gc.freeze()


_load_before_fork()
