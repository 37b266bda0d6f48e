"""Wrapping articles in the chrome of a scraped news page: a clock line, "Listen Live", a
section label and a photo credit at the top; "Community standards", "Discussion" and "Comment
via Facebook" at the foot."""

from __future__ import annotations

import random
from typing import Any

PHOTOGRAPHERS = ["Ana Ruiz", "Tom Beck", "Lee Park", "Mo Diaz"]


def wrap(article: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    clock = f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} {rng.choice(['AM', 'PM'])} EST"
    top = [
        clock,
        "Listen Live",
        (article.get("section") or "News").upper(),
        f"Photo: {rng.choice(PHOTOGRAPHERS)} / Northport Daily",
    ]
    foot = ["Community standards", "Discussion", "Comment via Facebook"]
    return {**article, "body": "\n".join([*top, article.get("body", ""), *foot])}
