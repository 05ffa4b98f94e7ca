"""Writes for the feed. Every function runs in one transaction; errors are DomainErrors."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from config.errors import InvalidInput
from feed.models import POST_MAX, Post


@transaction.atomic
def post_create(*, author: User, body: str) -> Post:
    """Publish a post. Surrounding whitespace is dropped; 1..POST_MAX characters remain."""
    body = body.strip()
    if not body:
        raise InvalidInput("post_empty", "Write something before posting.")
    if len(body) > POST_MAX:
        raise InvalidInput("post_too_long", f"A post may be at most {POST_MAX} characters.")
    return Post.objects.create(author=author, body=body)
