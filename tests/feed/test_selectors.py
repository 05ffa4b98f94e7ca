from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import User
from feed.models import Post
from feed.selectors import feed_posts


def make_post(author: User, body: str, minutes_ago: int) -> Post:
    post = Post.objects.create(author=author, body=body)
    Post.objects.filter(pk=post.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return post


def test_it_works(alice: User, bob: User, charlie: User, friends: None) -> None:
    make_post(alice, "alice old", 30)
    make_post(bob, "bob new", 1)
    make_post(charlie, "charlie", 2)
    make_post(alice, "alice new", 5)
    assert [p.body for p in feed_posts(user=alice)] == ["bob new", "alice new", "alice old"]
    assert [p.body for p in feed_posts(user=bob)] == ["bob new", "alice new", "alice old"]
    # Charlie never sees alice's or bob's posts.
    assert [p.body for p in feed_posts(user=charlie)] == ["charlie"]


def test_it_breaks_ties_by_id(alice: User) -> None:
    first, second = make_post(alice, "a", 1), make_post(alice, "b", 1)
    Post.objects.update(created_at=timezone.now())
    assert list(feed_posts(user=alice)) == [second, first]


def test_it_drops_former_friends(alice: User, bob: User, friends: None) -> None:
    make_post(bob, "bob", 1)
    accounts_services.user_block(blocker=bob, blocked=alice)
    assert list(feed_posts(user=alice)) == []


def test_it_is_one_query(
    alice: User, bob: User, friends: None, django_assert_num_queries: object
) -> None:
    make_post(bob, "bob", 1)
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert [p.author.name for p in feed_posts(user=alice)] == ["Bob"]
