"""The memory layout of the convolutional families' networks: the engine's step with the networks
channels-last (NHWC, what the engine picks for convolutional image networks) against the same
networks in contiguous NCHW. Both trainers live in one process and alternate blocks of 20 steps
(after 10 warm-up steps each), so a change in the machine's speed hits both; median ms/step of 6
blocks, MNIST, each family's defaults.

    .venv/bin/python bench/channels_last.py                 # dcgan cgan acgan wgan wgan-gp vae
    .venv/bin/python bench/channels_last.py dcgan
"""
import statistics
import sys
import tempfile
import time

import torch

from gankit import config as C
from gankit.training.engine import Trainer

fams = sys.argv[1:] or ["dcgan", "cgan", "acgan", "wgan", "wgan-gp", "vae"]
out = tempfile.mkdtemp(prefix="gankit-layout-")
for fam in fams:
    trs = {}
    for v in ("nchw", "nhwc"):
        cfg = C.resolve({"model": fam, "data": "mnist"}, {"epochs": 0, "steps": 10**6, "progress": False,
                        "report": False, "eval_every": -1, "out": out})
        tr = Trainer(cfg)
        if v == "nchw":
            tr.nets.to(memory_format=torch.contiguous_format)
        trs[v] = tr
    res = {v: [] for v in trs}
    def run(tr, n):
        B = tr.global_batch
        for i in range(n):
            x, y = tr.data.x[i * B % 50000:][:B], tr.data.y[i * B % 50000:][:B]
            tr.step_fn(tr, x, y)
            tr.step += 1
    for tr in trs.values():
        run(tr, 10)
    for r in range(6):
        for v, tr in trs.items():
            t = time.perf_counter()
            run(tr, 20)
            res[v].append((time.perf_counter() - t) / 20 * 1000)
    a, b = statistics.median(res["nchw"]), statistics.median(res["nhwc"])
    print(f"{fam:8s} {trs['nhwc'].precision} NCHW {a:6.1f} ms/step  channels-last {b:6.1f} ms/step  {a / b:.2f}x", flush=True)
