#!/usr/bin/python3
"""peer_torch_lstm_speed.py - the PyTorch peer of build/tools/bench-lstm.

The same network and the same training step as the C engine, written the
way a competent ML engineer would: nn.LSTM (L layers, hidden H, input I,
sequence-first) + nn.Linear(H, K) on the last step's top hidden state,
MSE loss, backward, clip_grad_norm_(1.0), AdamW(lr 1e-3, weight decay
1e-4); random data of shape (T, B, I), float32, on the CPU.

    /usr/bin/python3 scripts/peer_torch_lstm_speed.py [-L 1] [-H 64]
        [-T 48] [-B 64] [-I 8] [-K 48] [-j THREADS] [-s SECONDS]
        [-r REPEATS]

Prints one line, "key value" pairs like bench-lstm's:

    torch L 1 H 64 T 48 B 64 I 8 K 48 threads 1 windows/s 2345.6

THREADS is torch.set_num_threads (default: torch's own choice); OpenBLAS's
threads are the environment's (OPENBLAS_NUM_THREADS), set by the caller.
Exits 77 when torch is missing (Debian: python3-torch), 2 on bad usage.
"""
import argparse
import sys
import time


def main(argv):
    ap = argparse.ArgumentParser(prog="peer_torch_lstm_speed.py")
    ap.add_argument("-L", type=int, default=1, help="layers")
    ap.add_argument("-H", type=int, default=64, help="hidden units")
    ap.add_argument("-T", type=int, default=48, help="lookback (steps)")
    ap.add_argument("-B", type=int, default=64, help="batch (windows)")
    ap.add_argument("-I", type=int, default=8, help="inputs per step")
    ap.add_argument("-K", type=int, default=48, help="outputs")
    ap.add_argument("-j", type=int, default=0,
                    help="torch threads (0: torch's default)")
    ap.add_argument("-s", type=float, default=1.0, help="seconds a repeat")
    ap.add_argument("-r", type=int, default=3, help="repeats (best of)")
    a = ap.parse_args(argv[1:])
    try:
        import torch
        from torch import nn
    except ImportError:
        print("peer_torch_lstm_speed: torch is missing "
              "(hint: sudo scripts/deps-peers)", file=sys.stderr)
        return 77
    if a.j > 0:
        torch.set_num_threads(a.j)
    torch.manual_seed(1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(a.I, a.H, a.L)
            self.head = nn.Linear(a.H, a.K)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[-1])

    net = Net()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    x = torch.rand(a.T, a.B, a.I) * 2 - 1
    target = torch.rand(a.B, a.K) * 2 - 1
    loss_fn = nn.MSELoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), target)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()

    best = 0.0
    for rep in range(-1, a.r):   # -1 warms up
        t0 = time.perf_counter()
        steps = 0
        while True:
            step()
            steps += 1
            t = time.perf_counter() - t0
            if t >= (a.s / 4 if rep < 0 else a.s):
                break
        if rep >= 0:
            best = max(best, steps / t)
    print("torch L %d H %d T %d B %d I %d K %d threads %d windows/s %.1f"
          % (a.L, a.H, a.T, a.B, a.I, a.K, torch.get_num_threads(),
             best * a.B))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
