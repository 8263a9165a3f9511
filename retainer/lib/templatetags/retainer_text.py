"""Template filters for user text: ``{% load retainer_text %}`` then ``{{ body|markdown }}``."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from retainer.lib.sanitize import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(value: object) -> SafeString:
    """Renders untrusted Markdown through the sanitizer; ``None`` renders as nothing."""
    return render_markdown("" if value is None else str(value))
