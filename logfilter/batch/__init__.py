"""`logfilter batch`: a sanitized mirror of files, folders and archives.

run.py drives it: plan.py walks the inputs into jobs through a store (store.py: the local
disk, or url_store.py: fsspec URLs), state.py skips what is up to date, an executor (local.py:
processes; cluster.py: Dask) runs tasks.py on each file, which rewrites it (rewrite.py) into
an output that appears only when complete, and report.py sums the outcomes.
"""
