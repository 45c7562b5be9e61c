"""Folds a finished gunicorn worker's metric files into one file per type, as it exits.

In multiprocess mode every worker process writes its counters and histograms to files named
by its pid, and a scrape reads every file. Workers are recycled every few thousand requests
(max_requests), so without this the directory would grow by a few files a minute and every
scrape would read them all. gunicorn.conf.py's child_exit calls fold() in the master, the only
writer of the ``*_archive.db`` files. The sums a scrape sees stay the same, but for a scrape
landing in the moment between adding a worker's values and removing its files, which counts
that worker twice (Prometheus then reads the next, lower value as a counter reset).

Only prometheus_client's file format here, no metric objects: the master must not count.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict

# The types whose values add up across processes; live gauges are mark_process_dead's.
SUMMED = ("counter", "histogram")


def fold(directory: str | Path, pid: int) -> None:
    """Add the values of worker ``pid`` into each type's archive file, then drop its files."""
    for kind in SUMMED:
        finished = Path(directory) / f"{kind}_{pid}.db"
        if not finished.exists():
            continue
        values = MmapedDict.read_all_values_from_file(str(finished))
        archive = MmapedDict(str(Path(directory) / f"{kind}_archive.db"))
        try:
            for key, value, timestamp, _ in values:
                total, _ = archive.read_value(key)
                archive.write_value(key, total + value, timestamp)
        finally:
            archive.close()
        finished.unlink()
