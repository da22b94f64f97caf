"""``update``: alternating (D steps, then G against the new D) or simultaneous (the lecture's
train_step: G's gradient from the same D as D's own, before D's update)."""
import torch

import gankit

BASE = {"model": "dcgan", "data": "digits", "batch_size": 64, "limit": 256, "width": 16, "precision": "fp32",
        "progress": False, "epochs": 0, "steps": 1, "eval_every": -1, "report": False, "ema": 0}


def _after_one_step(tmp_path, update, **kw):
    run = gankit.train({**BASE, "update": update, "out": str(tmp_path / f"{update}{kw}"), **kw})
    return {k: v.clone() for k, v in run.nets.state_dict().items()}


def test_simultaneous_moves_g_against_the_d_before_its_update(tmp_path):
    alt, sim = _after_one_step(tmp_path, "alternating"), _after_one_step(tmp_path, "simultaneous")
    # D's step is the same in both orders: its loss comes from the same fake batch of the same G
    # (its weights; the batch-norm statistics of G's pass through D differ, as D differs then)
    d_keys = [k for k in alt if k.startswith("D.") and k.endswith(("weight", "bias"))]
    assert d_keys and all(torch.equal(alt[k], sim[k]) for k in d_keys)
    # G's is not: it saw D after D's step in one, before it in the other
    g_weights = [k for k in alt if k.startswith("G.") and k.endswith("weight")]
    assert any(not torch.equal(alt[k], sim[k]) for k in g_weights)


def test_with_d_frozen_both_orders_are_one_computation(tmp_path):
    # lr_d = 0: D before and after its step are the same network, so G's step must agree exactly
    alt = _after_one_step(tmp_path, "alternating", lr_d=0.0)
    sim = _after_one_step(tmp_path, "simultaneous", lr_d=0.0)
    assert alt.keys() == sim.keys() and all(torch.equal(alt[k], sim[k]) for k in alt)
    # and G did move
    start = _after_one_step(tmp_path, "alternating", lr_d=0.0, lr_g=0.0)  # nothing moves: the initial weights
    assert any(not torch.equal(alt[k], start[k]) for k in alt if k.startswith("G.") and k.endswith("weight"))
