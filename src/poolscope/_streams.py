"""Read a worker's raw record stream into task rows and item spans: the reader of the
WorkerLog records whose format is the table in ``_log.py`` (ThreadLog records are read
by ``_log.read_thread``).

Two readers give the same result. :func:`read` parses a whole stream with numpy,
without a Python step per task (2,000,000 tasks in well under a second), and hands
whatever it does not expect (a stream still being written, a group that never closed,
a hand-written oddity) to :func:`_records`, the record-by-record reader, from the
last point where the two agree. tests/core/test_streams.py compares them on random
streams.

    >>> import numpy as np
    >>> from poolscope._log import GROUP_END
    >>> # task (5, 0) timed 10 -> 20 ns; then a group of items 1 and 2 closed at 40 ns
    >>> p = read(np.array([5, 0, 1, 10, 20, ~1, ~2, GROUP_END, 40]), {}, now=50)
    >>> p.i.tolist(), p.start.tolist(), p.end.tolist(), p.measured.tolist()
    ([0, 1, 2], [10, 20, 30], [20, 30, 40], [True, False, False])

How a stream is read (the format is ``_log.py``'s): every position is given the
position of the record after it, *as if* a record began there (a group member, a
``job, ~i`` pair, ``GROUP_END, stamp``, or a task header plus as many stamps as
its items need, counted with one running sum); the records are then the positions
reached from 0, found by pointer doubling (about 20 vectorised steps for a million
records) over the positions that are not group members; runs of members are filled
in after it (see :func:`_orbit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._log import GROUP_END, INPUT_ERROR, TASK_HEADER

Submitted = Callable[[int], "int | None"]  # job -> when it was submitted (ns), if known
_BIG = 1 << 32  # larger item counts are not read by the vectorised reader


@dataclass
class Parsed:
    """Tasks a worker started, in stream order, and the spans of their items.

    Task ``r`` ran items ``0 .. n[r]-1``; the first ``nspans[r]`` of them have spans
    ``start/end/measured[offset[r] + k]``. ``complete`` is False for the task the
    worker is in when the stream ends.
    """

    job: Any
    i: Any
    n: Any
    t0: Any
    complete: Any
    nspans: Any
    offset: Any
    start: Any
    end: Any
    measured: Any

    def __len__(self) -> int:
        return len(self.job)


def read(records: Any, failures: dict, now: int,
         submitted: Submitted = lambda job: None) -> Parsed:
    """The tasks of one worker's stream; ``failures`` maps (job, i) to the worker's
    failure record (see ``WorkerLog.failures``)."""
    import numpy as np

    r = np.asarray(records, dtype=np.int64)
    if not len(r):
        return _from_rows([], [])
    fast = _vectorised(r, failures, submitted)
    if fast is None:  # something the vectorised reader does not handle: all by record
        rows, spans = _rows(_records(r.tolist(), failures, now, submitted))
        return _from_rows(rows, spans)
    parsed, last, job, cut = fast
    if cut >= len(r):
        return parsed
    rows, spans = _rows(_records(r.tolist(), failures, now, submitted, cut, last, job))
    return _concat(parsed, _from_rows(rows, spans))


# -- the record-by-record reader (exact for any stream; used for what is left) ---------

def _records(records, failures, now: int, submitted: Submitted = lambda job: None,
             pos: int = 0, last: int = 0, job: int = -1) -> Iterator:
    """Yield (job, i, n, t0, spans, complete) for each task a worker started, from
    ``pos`` on (``last``: the worker's last stamp before it; ``job``: the last job read).

    ``spans`` has (start, finish, measured) per item run so far: a lone stamp ends one
    timed item; ``-count, stamp`` ends a group of fast items, whose span is shared.
    Short records ``job, ~i`` or ``~i`` (same job as the task before) form a group
    of fast one-item tasks closed by ``GROUP_END, stamp`` (see _log.GROUP_END). In a
    group still open at ``now``, every task but the last has finished: the worker took
    the next one only after it. No task of a group starts before ``submitted(job)``.
    """
    size = len(records)
    pending: list[tuple[int, int]] = []
    while pos < size:
        head = records[pos]
        if head < 0 and head != GROUP_END:
            pending.append((job, ~head))
            pos += 1
            continue
        if head == GROUP_END:
            if pos + 1 >= size:
                break
            stamp = records[pos + 1]
            pos += 2
            yield from group(pending, last, stamp, True, submitted)
            pending, last = [], stamp
            continue
        if pos + 1 < size and records[pos + 1] < 0:
            job = head
            pending.append((job, ~records[pos + 1]))
            pos += 2
            continue
        if pos + TASK_HEADER > size:
            break
        job, i, n, t0 = records[pos:pos + TASK_HEADER]
        pos += TASK_HEADER
        fail = failures.get((job, i))
        want = 1 if n == INPUT_ERROR else (n if fail is None else fail[2] + 1)
        spans: list[tuple[int, int, bool]] = []
        prev = t0
        while len(spans) < want and pos < size:
            value = records[pos]
            if value >= 0:
                spans.append((prev, value, True))
                prev, pos = value, pos + 1
            elif pos + 1 < size:
                count, stamp = -value, records[pos + 1]
                spans.extend((prev + (stamp - prev) * k // count,
                              prev + (stamp - prev) * (k + 1) // count, False)
                             for k in range(count))
                prev, pos = stamp, pos + 2
            else:
                break
        last = prev
        yield job, i, n, t0, spans, len(spans) == want
    if pending:
        yield from group(pending, last, max(now, last), False, submitted)


def group(tasks: list[tuple[int, int]], start: int, end: int, closed: bool,
          submitted: Submitted) -> Iterator:
    """The records of a group of fast one-item tasks sharing ``start``-``end``: an
    even split, task k from ``start + span * k // count``; a task submitted later
    than its share begins starts at its submission, and the tasks from it on split
    what is left. If the group is still open, its last task is running.

    >>> [s for *_, s, _ in group([(1, 0), (1, 1)], 0, 10, True, lambda job: None)]
    [[(0, 5, False)], [(5, 10, False)]]
    """
    count = len(tasks)
    base, first = start, 0  # the tasks from ``first`` on split base -> end evenly
    for k, (job, i) in enumerate(tasks):
        span = max(end - base, 0)
        a = base + span * (k - first) // (count - first)
        sub = submitted(job)
        if sub is not None and sub > a:  # a task never starts before it was submitted
            base, first, a = sub, k, sub
            span = max(end - base, 0)
        b = base + span * (k + 1 - first) // (count - first)
        if closed or k < count - 1:
            yield job, i, 1, a, [(a, b, False)], True
        else:
            yield job, i, 1, a, [], False


def _rows(tasks: Iterator) -> tuple[list, list]:
    rows, spans = [], []
    for job, i, n, t0, s, complete in tasks:
        rows.append((job, i, n, t0, complete, len(s), len(spans)))
        spans.extend(s)
    return rows, spans


def _from_rows(rows: list, spans: list) -> Parsed:
    import numpy as np

    cols = list(zip(*rows)) if rows else [()] * 7
    scols = list(zip(*spans)) if spans else [()] * 3
    ints = [np.array(c, dtype=np.int64) for c in cols]
    return Parsed(ints[0], ints[1], ints[2], ints[3], np.array(cols[4], dtype=bool),
                  ints[5], ints[6], np.array(scols[0], dtype=np.int64),
                  np.array(scols[1], dtype=np.int64), np.array(scols[2], dtype=bool))


def _concat(a: Parsed, b: Parsed) -> Parsed:
    import numpy as np

    cat = np.concatenate
    return Parsed(cat([a.job, b.job]), cat([a.i, b.i]), cat([a.n, b.n]), cat([a.t0, b.t0]),
                  cat([a.complete, b.complete]), cat([a.nspans, b.nspans]),
                  cat([a.offset, b.offset + len(a.start)]), cat([a.start, b.start]),
                  cat([a.end, b.end]), cat([a.measured, b.measured]))


# -- the vectorised reader ---------------------------------------------------------------

_FULL, _MEMBER, _JOB_MEMBER, _END = range(4)


def _vectorised(r: Any, failures: dict, submitted: Submitted):
    """(Parsed of the stream up to ``cut``, last stamp, last job, cut), or None."""
    import numpy as np

    size = len(r)
    pad = np.concatenate([r, np.zeros(5, dtype=np.int64)])  # reads past the end: 0
    found = _successors(r, pad, failures)
    if found is None:
        return None
    kind, nxt, bad_full = found
    heads = _orbit(np.minimum(nxt, size), size, kind == _MEMBER)
    hk = kind[heads]
    bad = bad_full[heads]
    bad |= (hk == _END) & (heads + 1 >= size)
    # A group member must be followed, after its fellow members, by GROUP_END.
    member = (hk == _MEMBER) | (hk == _JOB_MEMBER)
    idx = np.arange(len(heads))
    later = np.where(member, len(heads), idx)  # next non-member head at or after
    later = np.minimum.accumulate(later[::-1])[::-1]
    closer = np.append(hk, _FULL)[later]
    bad |= member & ((closer != _END) | np.append(bad, True)[later])
    cut_at = int(np.argmax(bad)) if bad.any() else len(heads)
    cut = int(heads[cut_at]) if cut_at < len(heads) else size
    return _assemble(pad, heads[:cut_at], hk[:cut_at], nxt, submitted) + (cut,)


def _successors(r: Any, pad: Any, failures: dict):
    """(kind, next, bad) of every position, as if a record began there: its kind, where
    the next record would begin, and whether _records would read it differently (a
    task header cut short, or stamps that do not add up); None if failures cannot be
    matched with whole arrays."""
    import numpy as np

    size = len(r)
    neg = pad < 0
    end_mark = pad == GROUP_END
    kind = np.full(size, _FULL, dtype=np.int8)
    kind[neg[1:size + 1] & ~neg[:size]] = _JOB_MEMBER  # pad[size] is 0: not negative
    kind[neg[:size]] = _MEMBER
    kind[end_mark[:size]] = _END
    # Where the next record would begin (_FULL: set below); positions fit in int32.
    itype = np.int32 if size < 2**31 - 8 else np.int64
    nxt = np.arange(size, dtype=itype) + np.array([0, 1, 2, 2], dtype=itype)[kind]
    full = np.flatnonzero(kind == _FULL)
    head_ok = full + 4 <= size
    whole = full[head_ok]
    n = pad[whole + 2]
    want = _want(pad, whole, n, failures)
    if want is None:
        return None
    good = (want >= 1) & (want < _BIG) & ((n >= 1) | (n == INPUT_ERROR)) & (pad[whole + 3] >= 0)
    # One item and one lone stamp (most timed tasks): the record is 5 words.
    after = np.where(good & (want == 1) & (pad[whole + 4] >= 0) & (whole + 4 < size),
                     whole + 5, -1)
    hard = np.flatnonzero(good & (after < 0))
    if len(hard):
        after[hard] = _stamps_end(r, neg, end_mark, whole[hard], want[hard])
    good &= after > 0
    nxt[whole] = np.where(good, after, size)
    nxt[full[~head_ok]] = size
    bad = np.zeros(size, dtype=bool)
    bad[whole[~good]] = True
    bad[full[~head_ok]] = True
    return kind, nxt, bad


def _want(pad: Any, whole: Any, n: Any, failures: dict) -> Any:
    """How many stamps the task header at each of ``whole`` needs: its items, or up to
    its failing item (see WorkerLog.failures); None if a failure's key is too large
    to match as one int64."""
    import numpy as np

    want = np.where(n == INPUT_ERROR, 1, n)
    if not failures:
        return want
    if any(not (0 <= job < 2**31 and 0 <= i < 2**32) for job, i in failures):
        return None
    fkeys = np.array([job << 32 | i for job, i in failures], dtype=np.int64)
    jobs, items = pad[whole], pad[whole + 1]
    fit = (jobs >= 0) & (jobs < 2**31) & (items >= 0) & (items < 2**32)
    hits = np.flatnonzero(fit & np.isin(np.where(fit, jobs << 32 | items, -1), fkeys))
    for h in hits.tolist():
        if n[h] != INPUT_ERROR:
            want[h] = failures[(int(jobs[h]), int(items[h]))][2] + 1
    return want


def _stamps_end(r: Any, neg: Any, end_mark: Any, heads: Any, want: Any) -> Any:
    """Where the stamps of the task headers at ``heads`` end, counting ``want`` items
    each (-1: they do not, or not as _records would read them)."""
    import numpy as np

    size = len(r)
    # Items each position would count if it were a stamp of a task header: a lone stamp
    # counts 1; ``-count, stamp`` counts ``count`` at the negative word, 0 at the stamp.
    weight = np.where(neg[:size], np.minimum(-np.maximum(r, -_BIG), _BIG), 1)
    weight[end_mark[:size]] = 0
    weight[1:][neg[:size - 1] & ~neg[1:size]] = 0
    total = np.cumsum(weight)
    # GROUP_END, or a count too large to sum, among a task's stamps: left to _records.
    # A pair's stamp must not be negative either: two negative words in a row.
    poison = np.cumsum(end_mark[:size] | (r < -_BIG)
                       | (neg[:size] & np.concatenate([[False], neg[:size - 1]])))
    base = total[heads + 3]
    last = np.searchsorted(total, base + want, side="left")
    inside = last < size
    lastc = np.minimum(last, size - 1)
    pair = inside & neg[lastc]
    after = lastc + 1 + pair
    ok = inside & (after <= size) & (total[lastc] - base == want)
    ok &= poison[np.minimum(after, size) - 1] == poison[heads + 3]
    return np.where(ok, after, -1)


def _assemble(pad: Any, heads: Any, hk: Any, nxt: Any, submitted: Submitted):
    """(Parsed, last stamp, last job) of the records at ``heads``, all regular."""
    import numpy as np

    idx = np.arange(len(heads))
    is_full, is_end = hk == _FULL, hk == _END
    is_member = (hk == _MEMBER) | (hk == _JOB_MEMBER)
    fh = heads[is_full]
    after = nxt[fh]
    # The worker's last stamp and job after each record (what _records calls last, job).
    last_val = np.zeros(len(heads), dtype=np.int64)
    last_val[is_full] = pad[after - 1]
    last_val[is_end] = pad[heads[is_end] + 1]
    sets_job = is_full | (hk == _JOB_MEMBER)
    li = np.maximum.accumulate(np.where(is_full | is_end, idx, -1)) if len(idx) else idx
    ji = np.maximum.accumulate(np.where(sets_job, idx, -1)) if len(idx) else idx
    last_after = np.where(li >= 0, last_val[li], 0)
    job_after = np.where(ji >= 0, pad[heads][ji], -1)
    state = (int(last_after[-1]), int(job_after[-1])) if len(heads) else (0, -1)

    f_start, f_end, f_meas, f_count = _full_spans(pad, fh, after)
    m_job, m_item, m_a, m_b = _members(pad, heads, hk, is_member, is_end, last_after,
                                       job_after, submitted)
    is_task = is_full | is_member
    t = int(is_task.sum())
    at_full = np.flatnonzero(is_full[is_task])
    at_member = np.flatnonzero(is_member[is_task])
    job, i, n, t0, nspans, offset = (np.zeros(t, dtype=np.int64) for _ in range(6))
    job[at_full], i[at_full], n[at_full], t0[at_full] = (pad[fh + k] for k in range(4))
    nspans[at_full] = f_count
    offset[at_full] = np.cumsum(f_count) - f_count
    job[at_member], i[at_member], n[at_member], t0[at_member] = m_job, m_item, 1, m_a
    nspans[at_member] = 1
    offset[at_member] = len(f_start) + np.arange(len(m_job))
    parsed = Parsed(job, i, n, t0, np.ones(t, dtype=bool), nspans, offset,
                    np.concatenate([f_start, m_a]), np.concatenate([f_end, m_b]),
                    np.concatenate([f_meas, np.zeros(len(m_a), dtype=bool)]))
    return (parsed,) + state


def _full_spans(pad: Any, fh: Any, after: Any):
    """Spans of the items of the task headers at ``fh`` (stamps from fh + 4 to
    ``after``): (start, end, measured) per item, and the items of each task."""
    import numpy as np

    f = len(fh)
    length = after - (fh + 4)
    owner = np.repeat(np.arange(f), length)
    first = np.cumsum(length) - length
    q = fh[owner] + 4 + (np.arange(len(owner)) - first[owner])
    value = pad[q]
    paired = (q > fh[owner] + 4) & (pad[q - 1] < 0)  # the stamp of ``-count, stamp``
    stamp = value >= 0
    s_owner, s_val = owner[stamp], value[stamp]
    s_count = np.where(paired[stamp], -pad[q[stamp] - 1], 1)
    s_meas = ~paired[stamp]
    t0 = pad[fh + 3]
    prev = np.empty(len(s_val), dtype=np.int64)
    if len(s_val):
        prev[1:] = s_val[:-1]
        new = np.ones(len(s_val), dtype=bool)
        new[1:] = s_owner[1:] != s_owner[:-1]
        prev[new] = t0[s_owner[new]]
    rep = np.repeat(np.arange(len(s_val)), s_count)
    k = np.arange(len(rep)) - (np.cumsum(s_count) - s_count)[rep]
    p0, d, c = prev[rep], (s_val - prev)[rep], s_count[rep]
    count = np.bincount(s_owner, weights=s_count, minlength=f).astype(np.int64)
    return p0 + d * k // c, p0 + d * (k + 1) // c, s_meas[rep], count


def _members(pad, heads, hk, is_member, is_end, last_after, job_after, submitted):
    """(job, item, start, end) of each group member: the group's span split evenly,
    or by :func:`group` where a task was submitted after its share would begin."""
    import numpy as np

    mh = heads[is_member]
    item = ~pad[mh + (hk[is_member] == _JOB_MEMBER)]
    job = job_after[is_member]
    gid = np.cumsum(is_end)[is_member]  # closed by the gid-th GROUP_END
    ends = pad[heads[is_end] + 1]
    start, end = last_after[is_member], ends[gid] if len(ends) else np.zeros(0, np.int64)
    count = np.bincount(gid, minlength=len(ends))[gid]
    first = np.flatnonzero(np.concatenate([[True], gid[1:] != gid[:-1]])) if len(gid) else gid
    k = np.arange(len(gid)) - np.repeat(first, np.diff(np.append(first, len(gid))))
    span = np.maximum(end - start, 0)
    a = start + span * k // count
    # Item k ends where item k + 1 of its group begins; the group's last item at its end.
    b = np.empty_like(a)
    b[:-1] = a[1:]
    last = np.flatnonzero(k == count - 1)
    b[last] = start[last] + span[last]
    if len(job) and job.min() == job.max():  # one job (an imap): one lookup
        late = a < _submitted_many(submitted, job[:1])[0]
    else:
        late = _submitted_many(submitted, job) > a
    for g in np.unique(gid[late]).tolist():  # recompute those groups one task at a time
        rows = np.flatnonzero(gid == g)
        tasks = list(zip(job[rows].tolist(), item[rows].tolist()))
        got = group(tasks, int(start[rows[0]]), int(end[rows[0]]), True, submitted)
        spans = [s[0] for *_, s, _ in got]
        a[rows] = [s[0] for s in spans]
        b[rows] = [s[1] for s in spans]
    return job, item, a, b


def _submitted_many(submitted: Submitted, jobs: Any) -> Any:
    """``submitted`` of each job (-2**62 where unknown), vectorised if it can be."""
    import numpy as np

    many = getattr(submitted, "many", None)
    if many is not None:
        return many(jobs)
    if not len(jobs):
        return np.zeros(0, dtype=np.int64)
    distinct = np.sort(jobs)
    distinct = distinct[np.concatenate([[True], distinct[1:] != distinct[:-1]])]
    subs = [submitted(j) for j in distinct.tolist()]
    subs = np.array([-(2**62) if s is None else s for s in subs], dtype=np.int64)
    return subs[np.searchsorted(distinct, jobs)]


def _orbit(nxt: Any, size: int, member: Any = None) -> Any:
    """The positions reached from 0 by following ``nxt`` (each > its position), in
    order. ``member`` marks positions whose successor is the next position (group
    members, most of a stream of fast tasks): runs of them are left out of the pointer
    doubling (:func:`_double`), which then works on a third of the positions, and
    filled in after it: a run entered anywhere is followed to its end.

    >>> import numpy as np
    >>> nxt = np.array([2, 2, 3, 4, 9, 6, 7, 8, 9])  # 0 -> 2 -> 3 -> 4 -> 9
    >>> _orbit(nxt, 9, np.array([0, 0, 1, 1, 0, 1, 1, 1, 0], dtype=bool)).tolist()
    [0, 2, 3, 4]
    """
    import numpy as np

    if member is None or not member.any():
        return _double(nxt, size)
    kept = ~member
    keep = np.flatnonzero(kept)  # the positions that are not members, in order
    if not len(keep):
        return np.arange(size, dtype=np.int64)
    # below[t]: how many kept positions come before position t (the index in ``keep``
    # of the first kept position at or after t); a lookup, not a search.
    below = np.zeros(size + 1, dtype=np.int32 if size < 2**31 - 1 else np.int64)
    np.cumsum(kept, out=below[1:])
    target = nxt[keep]
    reached_at = _double(below[target], len(keep))  # indices in keep reached from keep[0]
    reached = keep[reached_at]
    # The member runs: from 0 up to keep[0], and after each kept position reached,
    # from its target up to the next kept one (each a range, disjoint from the others).
    ends = np.append(keep, size)
    after = target[reached_at]
    starts = np.append(0, after)
    stops = np.append(keep[0], ends[below[after]])
    runs = starts < stops
    edge = np.zeros(size + 1, dtype=np.int8)
    edge[starts[runs]] = 1
    edge[stops[runs]] = -1
    inside = np.cumsum(edge[:size], dtype=np.int8) > 0
    inside[reached] = True
    return np.flatnonzero(inside)


def _double(nxt: Any, size: int) -> Any:
    """The positions reached from 0 by following ``nxt`` (each > its position), in
    order: pointer doubling, log2(records) vectorised steps."""
    import numpy as np

    dtype = np.int32 if size < 2**31 - 1 else np.int64  # half the memory to gather
    jump = np.append(nxt, size).astype(dtype)
    heads = np.zeros(1, dtype=dtype)
    while True:
        more = jump[heads]
        more = more[more < size]
        if not len(more):
            return heads.astype(np.int64)
        heads = np.concatenate([heads, more])
        jump = jump[jump]
