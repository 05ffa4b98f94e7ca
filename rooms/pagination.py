"""Cursor pagination for every list of the API: `{"next", "previous", "results"}`, where
`next` and `previous` are full URLs (null at either end) carrying an opaque `cursor`, and
`page_size` (1 to MAX_PAGE_SIZE) asks for more or fewer than PAGE_SIZE at a time. A cursor
stays valid while the list changes: rows come once each, in a stable order. A tampered cursor
is a 404 (`not_found`). A site may use it for its own API's lists (the reference site does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

PARAMETERS = [
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Opaque: from the `next` or `previous` link of a page.",
    ),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        OpenApiParameter.QUERY,
        description=f"How many per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE}).",
    ),
]


class _Pagination(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def __init__(self, ordering: Sequence[str]) -> None:
        self.ordering = tuple(ordering)


def page(
    request: Request,
    view: APIView,
    queryset: QuerySet[Any],
    *,
    ordering: Sequence[str],
    render: Callable[[list[Any]], Any],
) -> dict[str, Any]:
    """One page of `queryset` in `ordering` (its first field decides where a cursor points:
    unique, or nearly, and never changing), its rows rendered by `render`."""
    paginator = _Pagination(ordering)
    rows = paginator.paginate_queryset(queryset, request, view=view) or []
    return {
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        "results": render(list(rows)),
    }


def page_serializer(name: str, item: serializers.Serializer) -> type[serializers.Serializer]:
    """The schema of one page of `item`s, as a component called `name`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, or null."
            ),
            "results": item,
            "__module__": __name__,
        },
    )
