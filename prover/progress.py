"""Writing a run's theorem records to its database as the workers finish
them, with a progress bar (on stderr) that counts the theorems proved."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from search.db import SearchDB, TheoremRecord


def write_records(
    db: SearchDB,
    run_id: int,
    records: Iterable[TheoremRecord],
    *,
    total: int,
    done: int,
    label: str | None = None,
    quiet: bool = False,
) -> None:
    """Commit each record as it comes; ``done`` of ``total`` were committed
    by an earlier process (a resumed run)."""
    from tqdm import tqdm  # only commands that search pay for it

    proved = db.summary(run_id)["proved"]
    with tqdm(total=total, initial=done, disable=quiet, desc=label, unit="thm",
              file=sys.stderr, dynamic_ncols=True) as bar:  # fmt: skip
        for record in records:
            db.write(run_id, record)
            proved += record.status == "proved"
            bar.set_postfix(proved=proved, refresh=False)
            bar.update(1)
