from __future__ import annotations

from django.conf import settings
from django.db import models

POST_MAX = 5000


class Post(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    body = models.TextField(max_length=POST_MAX)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["author", "-created_at"])]

    def __str__(self) -> str:
        return self.body[:50]
