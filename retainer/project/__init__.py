"""The project-level app: what needs every app at once and belongs to none of them.

Django finds management commands only inside installed apps, so the commands that
work across all apps (``build_demo``) live here. It has no models and no URLs, and no
app imports it.
"""
