"""Sorting and page size of a table, as query parameters (``?sort=&order=&per_page=``).

Everything is done on the server, so a header is a plain link and the page
size a GET form: no JavaScript. Unknown values fall back to the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gitreg.ui.html import Safe, join, link, render, url

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Listing:
    sort: str
    order: str  # "asc" or "desc"
    per_page: int

    @classmethod
    def parse(
        cls, param: Callable[[str], str | None], columns: tuple[str, ...], default: str, default_order: str
    ) -> Listing:
        sort = param("sort") or default
        order = param("order") or ""
        try:
            per_page = int(param("per_page") or DEFAULT_PAGE_SIZE)
        except ValueError:
            per_page = DEFAULT_PAGE_SIZE
        return cls(
            sort if sort in columns else default,
            order if order in ("asc", "desc") else default_order,
            per_page if per_page in PAGE_SIZES else DEFAULT_PAGE_SIZE,
        )

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    def query(self, **extra: object) -> dict[str, object]:
        return {"sort": self.sort, "order": self.order, "per_page": self.per_page, **extra}


def sort_header(label: str, key: str, listing: Listing, path: tuple[object, ...], **keep: object) -> Safe:
    """A column header linking to the table sorted by ``key`` (again: the other way)."""
    active = listing.sort == key
    order = ("asc" if listing.descending else "desc") if active else ("desc" if key != "name" else "asc")
    arrow = ("▼" if listing.descending else "▲") if active else ""
    href = url(*path, **{**keep, "sort": key, "order": order, "per_page": listing.per_page})
    return render(
        '<a class="sort$cls" href="$h" aria-sort="$s">$l $a</a>',
        cls=" active" if active else "",
        h=href,
        s=("descending" if listing.descending else "ascending") if active else "none",
        l=label,
        a=arrow,
    )


def page_size_form(listing: Listing, path: tuple[object, ...], **keep: object) -> Safe:
    """A GET form choosing how many rows a page shows, keeping the sort and ``keep``."""
    options = join(
        render('<option value="$n"$sel>$n</option>', n=n, sel=Safe(" selected" if n == listing.per_page else ""))
        for n in PAGE_SIZES
    )
    hidden = join(
        render('<input type="hidden" name="$k" value="$v">', k=k, v=v)
        for k, v in {**keep, "sort": listing.sort, "order": listing.order}.items()
        if v not in (None, "")
    )
    return render(
        '<form method="get" action="$a" class="inline page-size"><label>Per page '
        '<select name="per_page">$o</select></label>$h<button type="submit" class="secondary small">Apply</button>'
        "</form>",
        a=url(*path) if path else "/",
        o=options,
        h=hidden,
    )


def pager(page_no: int, pages: int, path: tuple[object, ...], listing: Listing, **keep: object) -> Safe:
    if pages <= 1:
        return Safe("")
    q = listing.query(**keep)
    prev = link(url(*path, **{**q, "page": page_no - 1}), "← Previous") if page_no > 1 else Safe("")
    nxt = link(url(*path, **{**q, "page": page_no + 1}), "Next →") if page_no < pages else Safe("")
    return render('<nav class="pager">$p<span>Page $n of $t</span>$x</nav>', p=prev, n=page_no, t=pages, x=nxt)
