"""Shared state for building the demo data set, step by step, app by app."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from faker import Faker

T = TypeVar("T")

DEMO_PASSWORD = "retainer-demo"  # noqa: S105 - published on the demo's login page on purpose


@dataclass
class DemoContext:
    """What one demo step hands to the next: the random sources and the objects built."""

    scale: int
    today: dt.date
    faker: Faker
    rng: random.Random
    log: Callable[[str], None]
    objects: dict[str, Any] = field(default_factory=dict)


def make_context(
    *, scale: int, today: dt.date, seed: int, log: Callable[[str], None]
) -> DemoContext:
    from faker import Faker  # 14 MB: loaded by the demo builder only, never by a server

    faker = Faker("en_US")
    faker.seed_instance(seed)
    return DemoContext(scale=scale, today=today, faker=faker, rng=random.Random(seed), log=log)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
