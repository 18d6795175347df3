"""Work split over forked processes (the decoders' dynamic programs are Python loops: threads
would wait on the GIL)."""

from __future__ import annotations


def in_processes(fn, items: list) -> list:
    """[fn(item) for item in items], the first in this process and each other in a forked
    child (results pickled back); in this process alone where fork is not available (then
    the items run one after another)."""
    import multiprocessing as mp

    if len(items) < 2 or "fork" not in mp.get_all_start_methods() or mp.current_process().daemon:
        return [fn(item) for item in items]  # (a daemonic process may not have children)
    from genet5.memory import release_free_memory

    release_free_memory()  # a forked child counts the parent's resident pages as its own: free ones too
    ctx = mp.get_context("fork")
    children = []
    for item in items[1:]:
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(fn, item, send))
        proc.start()
        send.close()
        children.append((proc, recv))
    out = [fn(items[0])]
    for proc, recv in children:
        try:
            ok, value = recv.recv()
        except EOFError:
            ok, value = False, "the worker process ended without a result"
        proc.join()
        recv.close()
        if not ok:
            raise RuntimeError(f"decoding worker failed: {value}")
        out.append(value)
    return out


def _child(fn, item, send) -> None:
    try:
        result = (True, fn(item))
    except BaseException:  # reported to the parent, which raises
        import traceback

        result = (False, traceback.format_exc())
    send.send(result)
    send.close()
