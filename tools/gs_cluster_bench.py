#!/usr/bin/env python3
"""Times GraphSense's clustering (graphsense-clustering, PyPI) on input lists written by
bench/src/bin/cluster_bench.rs.

    gs_cluster_bench.py WORKDIR MAX_ID

WORKDIR holds offsets.u64 (little-endian u64, one more than the lists) and values.u32
(little-endian u32 address ids, 1-based: GraphSense keeps id 0 as a placeholder). The lists
become a pyarrow ListArray without copying (not timed); then process_transactions_arrow and
get_mapping are timed. Prints `seconds=S clusters=C lists=N`, C counting the distinct
cluster ids among address ids 1..=MAX_ID.
"""
import pathlib
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
from gs_clustering import Clustering


def main():
    work = pathlib.Path(sys.argv[1])
    max_id = int(sys.argv[2])
    off = pa.py_buffer((work / "offsets.u64").read_bytes())
    val = pa.py_buffer((work / "values.u32").read_bytes())
    n = len(off) // 8 - 1
    offsets = pa.Array.from_buffers(pa.int64(), n + 1, [None, off])
    values = pa.Array.from_buffers(pa.uint32(), len(val) // 4, [None, val])
    lists = pa.LargeListArray.from_arrays(offsets, values)
    try:
        lists = lists.cast(pa.list_(pa.uint32()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass

    t = time.perf_counter()
    c = Clustering(max_address_id=max_id)
    c.process_transactions_arrow(lists)
    mapping = c.get_mapping()
    secs = time.perf_counter() - t

    ids = mapping.column(mapping.schema.get_field_index("address_id"))
    cl = mapping.column(mapping.schema.get_field_index("cluster_id"))
    mask = pc.and_(pc.greater_equal(ids, 1), pc.less_equal(ids, max_id))
    clusters = len(pc.unique(pc.filter(cl, mask)))
    print(f"seconds={secs:.6f} clusters={clusters} lists={n}")


if __name__ == "__main__":
    main()
