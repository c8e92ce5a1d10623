#!/usr/bin/env python3
# torch_parity.py - writes tests/data/lstm_parity.txt, the PyTorch reference
# that tests/unit-lstm.c holds lib/lstm.c to.
#
# Run by hand from the top of the tree when the network's semantics change
# (Debian: apt-get install python3-torch; then /usr/bin/python3 this file).
# The tests only read the fixture; they never need torch.
#
# The network is nn.LSTM(I=3, H=5, num_layers=2) + nn.Linear(5, 2) on the
# last step's output, seeded, with a random input x (T=4, B=3, I=3). The
# loss is sum(y * c) for a fixed random c (B, K), so dLoss/dy = c. Weights
# and x are drawn in float32 and then the whole computation runs in float64,
# so the fixture is the exact answer for float32 parameters and the C code's
# error is its own rounding alone. After the gradients come two AdamW steps
# (gradient clipping active), each on fresh gradients of the same loss.
# The C test runs Adam on the gradients of this file (float-rounded), not
# on its own: a gradient that cancels to ~1e-7 has a float relative error
# near 1e-2, which Adam (|g| near eps after clipping) would pass on.
#
# Format, plain text: comment lines start with '#'; then blocks
#   NAME COUNT
#   COUNT numbers, %.9g, whitespace separated
# in this order: sizes (I H L K T B), the parameters in state_dict order
# (weight_ih_l0 weight_hh_l0 bias_ih_l0 bias_hh_l0 ... head.weight
# head.bias), x (T, B, I), c (B, K), y (B, K), loss, grad.<each parameter>,
# grad.x, adam (lr beta1 beta2 eps wd clip), norm1 (pre-clip gradient norm
# of step 1), grad2.<each parameter> (gradients at the parameters after
# step 1), norm2, adam.<each parameter> after step 2.

import os
import sys

import torch

I, H, L, K, T, B = 3, 5, 2, 2, 4, 3
LR, BETA1, BETA2, EPS, WD, CLIP = 0.01, 0.9, 0.999, 1e-8, 0.01, 0.5
SEED = 20240229


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(I, H, num_layers=L)
        self.head = torch.nn.Linear(H, K)

    def forward(self, x):
        out, _ = self.lstm(x)           # (T, B, H) top layer
        return self.head(out[-1])       # (B, K)


def names(net):
    return [n.replace("lstm.", "") for n, _ in net.named_parameters()]


def main():
    top = os.environ.get("SHD_TOP", ".")
    path = os.path.join(top, "tests", "data", "lstm_parity.txt")
    torch.manual_seed(SEED)
    net = Net()                          # float32 init, as PyTorch does
    x32 = torch.randn(T, B, I)
    c32 = torch.randn(B, K)
    net = net.double()
    x = x32.double().requires_grad_(True)
    c = c32.double()

    blocks = []

    def put(name, t):
        blocks.append((name, t.detach().reshape(-1).tolist()))

    put("sizes", torch.tensor([I, H, L, K, T, B], dtype=torch.float64))
    for n, p in zip(names(net), net.parameters()):
        put(n, p)
    put("x", x)
    put("c", c)
    y = net(x)
    loss = (y * c).sum()
    loss.backward()
    put("y", y)
    put("loss", loss.reshape(1))
    for n, p in zip(names(net), net.parameters()):
        put("grad." + n, p.grad)
    put("grad.x", x.grad)

    opt = torch.optim.AdamW(net.parameters(), lr=LR, betas=(BETA1, BETA2),
                            eps=EPS, weight_decay=WD)
    put("adam", torch.tensor([LR, BETA1, BETA2, EPS, WD, CLIP]))
    for step in (1, 2):
        if step == 2:
            opt.zero_grad()
            (net(x) * c).sum().backward()
            for n, p in zip(names(net), net.parameters()):
                put("grad2." + n, p.grad)
        norm = torch.nn.utils.clip_grad_norm_(net.parameters(), CLIP)
        put("norm%d" % step, norm.reshape(1))
        opt.step()
    for n, p in zip(names(net), net.parameters()):
        put("adam." + n, p)

    with open(path, "w") as f:
        f.write("# lstm_parity.txt - written by scripts/torch_parity.py "
                "(torch %s, seed %d); do not edit\n" % (torch.__version__,
                                                        SEED))
        for name, vals in blocks:
            f.write("%s %d\n" % (name, len(vals)))
            for i in range(0, len(vals), 6):
                f.write(" ".join("%.9g" % v for v in vals[i:i + 6]) + "\n")
    print("wrote %s" % path, file=sys.stderr)


if __name__ == "__main__":
    main()
