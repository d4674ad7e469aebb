"""What every page of results says about its place among the pages: the names of
Flask-SQLAlchemy's Pagination, which the pages' pager macro reads."""

from __future__ import annotations

import math


class Paged:
    """Mixed into a page dataclass with `total`, `page` and `per_page` fields."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
