from __future__ import annotations

import pytest

from accounts.models import User
from config.errors import InvalidInput
from feed.models import POST_MAX, Post
from feed.services import post_create


def test_it_works(alice: User) -> None:
    post = post_create(author=alice, body="  Hello, friends!\n")
    assert post.body == "Hello, friends!"
    assert post.author == alice
    assert Post.objects.count() == 1


def test_it_accepts_the_longest_body(alice: User) -> None:
    assert len(post_create(author=alice, body="x" * POST_MAX + "   ").body) == POST_MAX


@pytest.mark.parametrize(
    ("body", "code"), [("", "post_empty"), (" \n\t ", "post_empty"), ("x" * 5001, "post_too_long")]
)
def test_it_refuses_bad_bodies(alice: User, body: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        post_create(author=alice, body=body)
    assert caught.value.code == code
    assert not Post.objects.exists()
