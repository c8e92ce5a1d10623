#!/usr/bin/python3
"""peer_holtwinters.py GRID OUT.csv [--steps 1,12] [--jobs N] - the
Holt-Winters peer of the forecast benchmark (scripts/bench-forecast).

GRID is the prefix given to `eval-forecast --dump-grid GRID UTIL.shd`: the
series on shd's grid (GRID.csv) and, per series, its length n, the end of
the MASE scale part n_scale and the start of the test part n_test
(GRID-meta.csv). For every series this fits statsmodels'
ExponentialSmoothing on x[0:n_test] (the first 80%, what shd-train sees):

    additive damped trend, additive seasonality of one day (288 steps at
    5 minutes), initial states estimated, parameters by statsmodels' default
    optimizer (with its brute-force start)

and forecasts every test origin t >= n_test, steps 1..max(--steps), WITHOUT
refitting: one fit per series (DESIGN.md: ~4 s per 8,064-point fit here,
so a refit per origin is out of the question), then the same filter, with
the fitted parameters and initial states, is run over the whole series
(statsmodels' own recursion, initialization_method="known",
optimized=False), so that the state at t holds the data up to t only, and
the forecast from t is level + (phi + ... + phi^h) trend + season(t+h-288),
statsmodels' own formula (checked against results.forecast() at the last
training origin, see check_formula).

Missing slots (Bitbrains timestamps jitter, so a strict grid has holes)
are carried forward for the filter (no look-ahead); leading ones take the
first value. A series whose fit fails gets no forecast (NaN: the scorer
uses the last value there and says how often).

Writes OUT.csv ("series,origin,step,pred", origin = index on the grid) for
eval-forecast -p, and prints the MASE computed here, by the same definition
as eval-forecast (see mase below), of hw and of the last value, so that the
two implementations can be compared (lines "mase STEP SERIES METHOD VALUE"
and "mean STEP METHOD VALUE").

Run with Debian's /usr/bin/python3 (python3-statsmodels, python3-pandas);
exits 77 with a message when they are missing, 2 on bad usage.
"""
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


# ---------------------------------------------- shared with the LSTM peer

def load_grid(prefix):
    """The series of eval-forecast --dump-grid PREFIX: a list of dicts with
    name, x (float array, NaN missing), n, n_scale, n_test, day, scale."""
    import numpy as np
    import pandas as pd
    meta = pd.read_csv(prefix + "-meta.csv", keep_default_na=False,
                       dtype={"series": str})
    g = pd.read_csv(prefix + ".csv", dtype={"series": str},
                    keep_default_na=False, na_values=[""])
    out = []
    groups = {k: v for k, v in g.groupby("series", sort=False)}
    for row in meta.itertuples(index=False):
        part = groups[row.series]
        x = np.full(int(row.n), np.nan)
        x[part["i"].to_numpy()] = part["value"].to_numpy(dtype=float)
        s = dict(name=row.series, x=x, n=int(row.n),
                 n_scale=int(row.n_scale), n_test=int(row.n_test),
                 day=int(row.day), t0=int(row.t0_ms),
                 step=int(row.step_ms), scale_c=float(row.scale))
        s["scale"] = mase_scale(x, s["n_scale"], s["day"])
        if not (abs(s["scale"] - s["scale_c"])
                <= 1e-12 * max(abs(s["scale_c"]), 1e-300)
                or (np.isnan(s["scale"]) and np.isnan(s["scale_c"]))):
            print("warning: %s: MASE scale %r here, %r in C"
                  % (s["name"], s["scale"], s["scale_c"]), file=sys.stderr)
        out.append(s)
    return out


def mase_scale(x, n_scale, day):
    """mean |x[i] - x[i-day]| over i in [day, n_scale) where both are known
    (eval-forecast.c: mase_scale)."""
    import numpy as np
    if n_scale <= day:
        return float("nan")
    d = np.abs(x[day:n_scale] - x[:n_scale - day])
    d = d[~np.isnan(d)]
    return float(d.sum() / d.size) if d.size else float("nan")


def last_values(x):
    """last[t] = the latest known value at or before t (NaN before any)."""
    import numpy as np
    idx = np.where(np.isnan(x), 0, np.arange(x.size))
    np.maximum.accumulate(idx, out=idx)
    last = x[idx]
    return last


def mase(s, pred, h):
    """MASE of PRED (array by origin t, NaN = no forecast) at step H over
    the test part of series S, as eval-forecast.c (score) does: the points
    t in [n_test, n-h) with x[t+h] known and a last value at t; a missing
    forecast takes the last value. Returns (mase, points, fallbacks)."""
    import numpy as np
    x, n, nt = s["x"], s["n"], s["n_test"]
    last = s.get("last")
    if last is None:
        last = s["last"] = last_values(x)
    t = np.arange(nt, n - h)
    if t.size == 0:
        return float("nan"), 0, 0
    act, lv, f = x[t + h], last[t], pred[t].copy()
    ok = ~np.isnan(act) & ~np.isnan(lv)
    fall = ok & np.isnan(f)
    f[fall] = lv[fall]
    err = np.abs(act[ok] - f[ok])
    sc = s["scale"]
    if not err.size or not (sc > 0):
        return float("nan"), int(ok.sum()), int(fall.sum())
    return float(err.sum() / err.size / sc), int(err.size), int(fall.sum())


def report_mase(series, preds, steps, name, out=sys.stdout):
    """Prints "mase STEP SERIES METHOD VALUE" for NAME (preds[k][h] arrays)
    and for the last value, then the means over series."""
    import numpy as np
    for h in steps:
        acc = {name: [], "last": []}
        for k, s in enumerate(series):
            lv = s.get("last")
            if lv is None:
                lv = s["last"] = last_values(s["x"])
            for meth, p in ((name, preds[k][h]), ("last", lv)):
                m, _, _ = mase(s, p, h)
                print("mase %d %s %s %.17g" % (h, s["name"], meth, m),
                      file=out)
                acc[meth].append(m)
        for meth, v in acc.items():
            v = np.array(v)
            v = v[~np.isnan(v)]
            print("mean %d %s %.17g" % (h, meth, v.mean() if v.size
                                        else float("nan")), file=out)


def write_forecasts(path, series, preds, steps):
    """OUT.csv for eval-forecast -p: series,origin,step,pred (%.17g)."""
    with open(path + ".tmp", "w") as fp:
        fp.write("series,origin,step,pred\n")
        for k, s in enumerate(series):
            for h in steps:
                p = preds[k][h]
                for t in range(s["n_test"], s["n"]):
                    v = p[t]
                    fp.write("%s,%d,%d,%s\n" % (s["name"], t, h,
                                                "" if v != v else
                                                "%.17g" % v))
    os.replace(path + ".tmp", path)


def parse_common(argv, usage, names=("--steps", "--jobs")):
    """GRID OUT [--steps 1,12] and the integer options NAMES; returns
    (grid, out, steps, {name: value})."""
    steps, vals, rest = [1, 12], {}, []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(usage)
            sys.exit(0)
        if a in names and i + 1 < len(argv):
            v = argv[i + 1]
            i += 2
            try:
                if a == "--steps":
                    steps = [int(z) for z in v.split(",")]
                    if any(z < 1 for z in steps):
                        raise ValueError
                else:
                    vals[a] = int(v)
                    if vals[a] < 1:
                        raise ValueError
            except ValueError:
                print(usage, file=sys.stderr)
                sys.exit(2)
            continue
        if a.startswith("-"):
            print(usage, file=sys.stderr)
            sys.exit(2)
        rest.append(a)
        i += 1
    if len(rest) != 2:
        print(usage, file=sys.stderr)
        sys.exit(2)
    return rest[0], rest[1], steps, vals


# ------------------------------------------------------------ Holt-Winters

def _filled(x):
    import pandas as pd
    return pd.Series(x).ffill().bfill().to_numpy(dtype=float)


def _spec(y, day, **init):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    return ExponentialSmoothing(y, trend="add", damped_trend=True,
                                seasonal="add", seasonal_periods=day, **init)


def forecast_series(args):
    """Fits one series on its first n_test values and forecasts every test
    origin. Returns (name, {h: preds}, seconds, note)."""
    import warnings
    import numpy as np
    s, steps = args
    x, n, nt, day = s["x"], s["n"], s["n_test"], s["day"]
    H = max(steps)
    preds = {h: np.full(n, np.nan) for h in steps}
    t0 = time.perf_counter()
    xf = _filled(x)
    if np.isnan(xf).all() or nt < 2 * day + 2:
        return s["name"], preds, 0.0, "too short or empty: no forecast"
    note = ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = _spec(xf[:nt], day,
                        initialization_method="estimated").fit()
            p = fit.params
            run = _spec(xf, day, initialization_method="known",
                        initial_level=p["initial_level"],
                        initial_trend=p["initial_trend"],
                        initial_seasonal=p["initial_seasons"]).fit(
                smoothing_level=p["smoothing_level"],
                smoothing_trend=p["smoothing_trend"],
                smoothing_seasonal=p["smoothing_seasonal"],
                damping_trend=p["damping_trend"], optimized=False)
        except Exception as e:	# noqa: BLE001 - a peer that fails is noted
            return s["name"], preds, time.perf_counter() - t0, \
                "fit failed (%s): no forecast" % e
    L = np.asarray(run.level, dtype=float)
    B = np.asarray(run.trend, dtype=float)
    S = np.asarray(run.season, dtype=float)
    phi = float(p["damping_trend"])
    damp = np.cumsum(phi ** np.arange(1, H + 1))	# phi + ... + phi^h
    t = np.arange(nt, n)
    for h in steps:
        # season(t+h-day) for h <= day; (h-1)//day+1 periods back beyond
        back = ((h - 1) // day + 1) * day
        preds[h][t] = L[t] + damp[h - 1] * B[t] + S[t + h - back]
    # the formula is statsmodels' own: check it where both can be made
    if not check_formula(fit, L, B, S, phi, nt, day, H):
        note = "WARNING: forecast formula differs from statsmodels'"
    return s["name"], preds, time.perf_counter() - t0, note


def check_formula(fit, L, B, S, phi, nt, day, H):
    """The forecast from the last training origin, by our formula on the
    known-state run, against the fitted model's own forecast()."""
    import numpy as np
    t = nt - 1
    ours = [L[t] + sum(phi ** i for i in range(1, h + 1)) * B[t]
            + S[t + h - ((h - 1) // day + 1) * day] for h in range(1, H + 1)]
    theirs = np.asarray(fit.forecast(H), dtype=float)
    return np.allclose(ours, theirs, rtol=1e-6,
                       atol=1e-9 * (1 + np.abs(theirs).max()))


USAGE = ("usage: /usr/bin/python3 scripts/peer_holtwinters.py GRID OUT.csv "
         "[--steps 1,12] [--jobs N]")


def main(argv):
    prefix, out, steps, vals = parse_common(argv, USAGE)
    jobs = vals.get("--jobs", 1)
    try:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import statsmodels
        from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa
    except ImportError as e:
        print("peer_holtwinters: %s (hint: sudo scripts/deps-peers)" % e,
              file=sys.stderr)
        return 77
    t0 = time.perf_counter()
    series = load_grid(prefix)
    work = [(s, steps) for s in series]
    if jobs > 1:
        import multiprocessing
        with multiprocessing.Pool(jobs) as pool:
            res = pool.map(forecast_series, work, chunksize=1)
    else:
        res = [forecast_series(w) for w in work]
    preds = []
    fit_s = 0.0
    for s, (name, p, sec, note) in zip(series, res):
        preds.append(p)
        fit_s += sec
        if note:
            print("peer_holtwinters: %s: %s" % (name, note), file=sys.stderr)
    write_forecasts(out, series, preds, steps)
    report_mase(series, preds, steps, "hw")
    print("peer_holtwinters: %d series, statsmodels %s, %d job(s), "
          "fit+filter %.1f s (sum over series), wall %.1f s"
          % (len(series), statsmodels.__version__, jobs, fit_s,
             time.perf_counter() - t0), file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError) as e:
        print("peer_holtwinters: %s" % e, file=sys.stderr)
        sys.exit(3)
