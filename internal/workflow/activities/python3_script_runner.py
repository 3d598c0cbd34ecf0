# grantflow's runner for python3.script activities (python3_script.go),
# passed to `python3 -I -B -X utf8 -c`. It reads the job (JSON) from stdin,
# limits the process, runs the workflow's script as __main__ in a fresh
# module, and then writes the module variables the activity queries as
# JSON to fd 3, so that nothing the script prints mixes with them.
import builtins
import datetime
import json
import linecache
import os
import sys
import traceback
import types


def _plain(v, depth=0):
    """v as JSON can hold it: containers walked, dates in ISO form, the
    rest as str()."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else str(v)
    if depth > 64:
        return str(v)
    if isinstance(v, dict):
        return {str(k): _plain(e, depth + 1) for k, e in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(e, depth + 1) for e in v]
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


def _limit(job):
    try:
        import resource
    except ImportError:
        return
    for name, lim in (("RLIMIT_AS", job.get("memory")), ("RLIMIT_FSIZE", job.get("file_size")), ("RLIMIT_CORE", 0)):
        r = getattr(resource, name, None)
        if r is None or lim is None:
            continue
        _, hard = resource.getrlimit(r)
        if hard != resource.RLIM_INFINITY:
            lim = min(lim, hard)
        resource.setrlimit(r, (lim, lim))


def _main():
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.set_inheritable(3, False)
    # Go passes on whatever grantflow inherited without close-on-exec
    # (a supervisor's pipe): nothing but stdio and fd 3 stays open.
    os.closerange(4, 1 << 16)
    results = os.fdopen(3, "w", encoding="utf-8")
    _limit(job)

    name = "script.py"
    src = job["script"]
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    mod = types.ModuleType("__main__")
    mod.__file__ = name
    mod.__builtins__ = builtins
    sys.modules["__main__"] = mod
    sys.argv = [name] + list(job.get("argv") or [])

    status = 0
    try:
        exec(compile(src, name, "exec"), mod.__dict__)
    except SystemExit as e:
        if e.code is None:
            status = 0
        elif isinstance(e.code, int):
            status = e.code
        else:
            print(e.code, file=sys.stderr)
            status = 1
    except BaseException:
        t, v, tb = sys.exc_info()
        # Leave out this runner's frame; a SyntaxError has no other.
        traceback.print_exception(t, v, tb.tb_next if tb is not None else None)
        status = 1
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            pass

    values, missing = {}, []
    for q in job.get("queries") or []:
        if q in mod.__dict__:
            try:
                values[q] = _plain(mod.__dict__[q])
            except Exception:
                values[q] = repr(mod.__dict__[q])
        else:
            missing.append(q)
    json.dump({"exit": status, "values": values, "missing": missing}, results)
    results.close()
    sys.exit(status)


_main()
