#!/usr/bin/python3
"""peer_torch_lstm.py GRID OUT.csv [--steps 1,12] [--threads N] - the
PyTorch LSTM peer of the forecast benchmark (scripts/bench-forecast).

GRID is the prefix of `eval-forecast --dump-grid GRID UTIL.shd` (see
peer_holtwinters.py). The model is what a competent ML engineer would write
for this data, at the size of shd-train's defaults:

  - one global network over every series of the data set (as shd-train
    makes one network per stream), each series standardized by the mean and
    standard deviation of its training part;
  - windows of lookback 48 steps; inputs per step: the standardized value
    and a flag that it is known (missing = 0), the value one day and one
    week before the step's forecast time with their flags, and sine/cosine
    of the time of day and of the day of week (the same window inputs as
    shd's network, without shd's relative-to-last-value trick);
  - nn.LSTM(hidden 32, 1 layer) and a linear head giving all H steps at
    once (direct multi-horizon), one network per horizon H = max(--steps);
  - Huber loss (delta 1, in standard deviations; the score is MASE, an L1
    measure, and the series are spiky) over the known targets, Adam (lr
    1e-3), batch 64, gradients clipped to norm 1, at most 20 epochs over at
    most --max-windows (default 100,000) training windows drawn once, as
    shd-train does, shuffled each epoch; early stopping with
    patience 3 on the validation MAE, the best weights kept;
  - split in time: training targets in the first 70% of each series,
    validation targets in the next 10% (so the model sees the first 80%
    only), test origins from 80% on, forecast with the data up to the
    origin (a rolling replay: the network is not refitted).

Threads: OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(--threads),
default 1. `--probe-threads` times training at 1 and 2 threads and names
the faster; scripts/bench-forecast runs it and passes that count (on this
machine's 2 shared cores 1 thread won: ~1,700 windows/s against ~560 at 2
while other work ran).

Writes OUT.csv (series,origin,step,pred for steps --steps) for
eval-forecast -p, and prints the MASE computed here by the same definition
(lines "mase STEP SERIES METHOD VALUE", "mean STEP METHOD VALUE").
Exits 77 with a message when python3-torch / numpy / pandas are missing,
2 on bad usage.
"""
import math
import os
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True	# no __pycache__ in scripts/

LOOKBACK, HIDDEN, LAYERS = 48, 32, 1
BATCH, LR, EPOCHS, PATIENCE = 64, 1e-3, 20, 3
MAX_WINDOWS, MAX_VAL = 100000, 50000
TRAIN_FRAC = 0.7	# training targets; validation up to n_test (0.8)
SEED = 1

USAGE = ("usage: /usr/bin/python3 scripts/peer_torch_lstm.py GRID OUT.csv "
         "[--steps 1,12] [--threads N] [--max-windows N]\n"
         "       /usr/bin/python3 scripts/peer_torch_lstm.py --probe-threads")


def features(series, H):
    """Per series: the (n, 10) input features by step and the standardized
    targets. Feature of step tau for a window ending at t (forecast for
    t+1..t+H): z[tau], known, z[tau+H-day], known, z[tau+H-week], known,
    sin/cos of time of day, sin/cos of day of week."""
    import numpy as np
    out = []
    for s in series:
        x, n, day = s["x"], s["n"], s["day"]
        week = 7 * day
        ntr = int(math.floor(TRAIN_FRAC * n))
        tr = x[:ntr]
        tr = tr[~np.isnan(tr)]
        mu = float(tr.mean()) if tr.size else 0.0
        sd = float(tr.std()) if tr.size else 1.0
        if not sd > 0:
            sd = max(abs(mu) * 1e-9, 1e-12)
        z = (x - mu) / sd
        known = ~np.isnan(z)
        zf = np.where(known, z, 0.0)
        F = np.zeros((n, 10), dtype=np.float32)
        F[:, 0] = zf
        F[:, 1] = known
        for col, lag in ((2, day - H), (4, week - H)):
            # the value one season before tau + H: index tau + H - season
            idx = np.arange(n) - lag
            ok = idx >= 0
            F[ok, col] = zf[idx[ok]]
            F[ok, col + 1] = known[idx[ok]]
        tms = s["t0"] + np.arange(n, dtype=np.int64) * s["step"]
        tod = (tms % 86400000) / 86400000.0
        dow = ((tms // 86400000 + 3) % 7) / 7.0	# 1970-01-01 was Thursday
        F[:, 6] = np.sin(2 * np.pi * tod)
        F[:, 7] = np.cos(2 * np.pi * tod)
        F[:, 8] = np.sin(2 * np.pi * dow)
        F[:, 9] = np.cos(2 * np.pi * dow)
        out.append(dict(F=F, z=z.astype(np.float32), mu=mu, sd=sd,
                        ntr=ntr))
    return out


def origins(series, feats, H, part):
    """(series index, origin t) pairs whose targets t+1..t+H fall in PART
    (train: < ntr; val: [ntr, n_test)) and that have at least one target
    known; for test: every origin t >= n_test with a full window."""
    import numpy as np
    res = []
    for k, (s, f) in enumerate(zip(series, feats)):
        lo = LOOKBACK - 1
        if part == "train":
            t = np.arange(lo, f["ntr"] - H)
        elif part == "val":
            t = np.arange(max(lo, f["ntr"] - 1), s["n_test"] - H)
        else:
            t = np.arange(max(lo, s["n_test"]), s["n"])
        if part != "test" and t.size:
            known = ~np.isnan(f["z"])
            # any known target among t+1..t+H
            c = np.concatenate([[0], np.cumsum(known)])
            t = t[(c[np.minimum(t + H + 1, s["n"])] - c[t + 1]) > 0]
        res.append(np.stack([np.full(t.size, k), t], axis=1))
    return np.concatenate(res) if res else np.zeros((0, 2), dtype=int)


def batch(feats, idx, H, with_y=True):
    import numpy as np
    T = LOOKBACK
    X = np.empty((len(idx), T, feats[0]["F"].shape[1]), dtype=np.float32)
    Y = np.full((len(idx), H), np.nan, dtype=np.float32)
    for j, (k, t) in enumerate(idx):
        f = feats[k]
        X[j] = f["F"][t - T + 1:t + 1]
        if with_y:
            y = f["z"][t + 1:t + 1 + H]
            Y[j, :y.size] = y
    return X, Y


def build(torch, n_in, H):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(n_in, HIDDEN, num_layers=LAYERS,
                                batch_first=True)
            self.head = nn.Linear(HIDDEN, H)

        def forward(self, x):
            h, _ = self.lstm(x)
            return self.head(h[:, -1])
    return Net()


def masked_loss(torch, out, y, huber=True):
    m = ~torch.isnan(y)
    e = out[m] - y[m]
    if huber:
        return torch.nn.functional.huber_loss(e, torch.zeros_like(e),
                                              delta=1.0)
    return e.abs().mean()


def train_and_forecast(torch, series, H, log):
    import numpy as np
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    feats = features(series, H)
    tr = origins(series, feats, H, "train")
    n_tr_all = len(tr)
    if len(tr) > MAX_WINDOWS:	# drawn once, as shd-train --max-windows
        tr = tr[np.sort(rng.choice(len(tr), MAX_WINDOWS, replace=False))]
    va = origins(series, feats, H, "val")
    if len(va) > MAX_VAL:
        va = va[np.linspace(0, len(va) - 1, MAX_VAL).astype(int)]
    Xv, Yv = batch(feats, va, H)
    Xv, Yv = torch.from_numpy(Xv), torch.from_numpy(Yv)
    net = build(torch, feats[0]["F"].shape[1], H)
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def val_mae():
        net.eval()
        with torch.no_grad():
            tot, cnt = 0.0, 0
            for i in range(0, len(Xv), 4096):
                o = net(Xv[i:i + 4096])
                y = Yv[i:i + 4096]
                m = ~torch.isnan(y)
                tot += float((o[m] - y[m]).abs().sum())
                cnt += int(m.sum())
        net.train()
        return tot / max(cnt, 1)

    best = val_mae()
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    bad, t0, seen, ep_run = 0, time.perf_counter(), 0, 0
    for ep in range(EPOCHS):
        pick = tr[rng.permutation(len(tr))]
        tot = 0.0
        for i in range(0, len(pick), BATCH):
            X, Y = batch(feats, pick[i:i + BATCH], H)
            X, Y = torch.from_numpy(X), torch.from_numpy(Y)
            opt.zero_grad()
            loss = masked_loss(torch, net(X), Y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            tot += float(loss) * len(X)
        seen += len(pick)
        ep_run = ep + 1
        v = val_mae()
        print("peer_torch_lstm: H=%d epoch %d loss %.4f val MAE %.4f%s"
              % (H, ep + 1, tot / len(pick), v, " *" if v < best else ""),
              file=log)
        if v < best:
            best, bad = v, 0
            best_state = {k: v2.clone() for k, v2 in net.state_dict().items()}
        else:
            bad += 1
            if bad >= PATIENCE:
                break
    train_s = time.perf_counter() - t0
    net.load_state_dict(best_state)
    net.eval()
    # the rolling replay over the test part
    te = origins(series, feats, H, "test")
    preds = [np.full((s["n"], H), np.nan) for s in series]
    t1 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(te), 4096):
            idx = te[i:i + 4096]
            X, _ = batch(feats, idx, H, with_y=False)
            o = net(torch.from_numpy(X)).numpy().astype(float)
            for j, (k, t) in enumerate(idx):
                f = feats[k]
                # no value at all in the window: no forecast
                if X[j, :, 1].any():
                    preds[k][t] = o[j] * f["sd"] + f["mu"]
    pred_s = time.perf_counter() - t1
    info = dict(train_windows=len(tr), train_all=n_tr_all, val_windows=len(va), epochs=ep_run,
                seen=seen, train_s=train_s, pred_s=pred_s, val=best)
    return preds, info


def probe(torch):
    """Training windows per second of this network (inputs 10, H 12, batch
    64) at 1 and 2 torch threads, 3 s each; prints "threads N RATE" lines
    and the faster count last ("best N")."""
    rates = {}
    for th in (1, 2):
        torch.set_num_threads(th)
        torch.manual_seed(SEED)
        net = build(torch, 10, 12)
        opt = torch.optim.Adam(net.parameters(), lr=LR)
        X, Y = torch.randn(BATCH, LOOKBACK, 10), torch.randn(BATCH, 12)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 3:
            opt.zero_grad()
            masked_loss(torch, net(X), Y).backward()
            opt.step()
            n += BATCH
        rates[th] = n / (time.perf_counter() - t0)
        print("threads %d %.0f" % (th, rates[th]))
    print("best %d" % max(rates, key=rates.get))
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--probe-threads":
        try:
            import torch
        except ImportError as e:
            print("peer_torch_lstm: %s (hint: sudo scripts/deps-peers)" % e,
                  file=sys.stderr)
            return 77
        return probe(torch)
    from peer_holtwinters import (load_grid, parse_common, report_mase,
                                  write_forecasts)
    global MAX_WINDOWS
    prefix, out, steps, vals = parse_common(
        argv, USAGE, ("--steps", "--threads", "--max-windows"))
    threads = vals.get("--threads", 1)
    MAX_WINDOWS = vals.get("--max-windows", MAX_WINDOWS)
    try:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import torch
    except ImportError as e:
        print("peer_torch_lstm: %s (hint: sudo scripts/deps-peers)" % e,
              file=sys.stderr)
        return 77
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    series = load_grid(prefix)
    # one network per horizon: H = max(steps), as shd-train --horizon
    H = max(steps)
    preds, info = train_and_forecast(torch, series, H, sys.stderr)
    by_step = [{h: p[:, h - 1] for h in steps} for p in preds]
    write_forecasts(out, series, by_step, steps)
    report_mase(series, by_step, steps, "torch")
    print("peer_torch_lstm: H=%d, %d series, torch %s, %d thread(s); "
          "%d training windows (of %d; %d seen in %d epochs), %d validation; "
          "train %.1f s (%.0f windows/s), test replay %.1f s, wall %.1f s"
          % (H, len(series), torch.__version__, threads,
             info["train_windows"], info["train_all"], info["seen"],
             info["epochs"],
             info["val_windows"], info["train_s"],
             info["seen"] / max(info["train_s"], 1e-9), info["pred_s"],
             time.perf_counter() - t0), file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError) as e:
        print("peer_torch_lstm: %s" % e, file=sys.stderr)
        sys.exit(3)
