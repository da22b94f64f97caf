"""One step function per family. Each takes the trainer and a batch and returns the scalars to
log (0-dim tensors; the engine averages them between log lines). Phases are numbered.

The trainer offers: ``tr.nets`` (ModuleDict), ``tr.cfg``, ``tr.loss``, ``tr.autocast()``,
``tr.noise(n)``, ``tr.fake_labels(n)``, ``tr.update(name, loss)`` (zero grads, backward, average
gradients across ranks, optimiser step) and ``tr.step`` (the number of steps done so far).
"""
from __future__ import annotations

from typing import Callable, Dict

import torch
import torch.nn.functional as F

from .. import augment, penalties
from ..config import augment_policy
from ..models.autoencoder import kl_normal, to_pixels

STEPS: Dict[str, Callable] = {}


def register_step(name: str):
    def deco(fn: Callable) -> Callable:
        STEPS[name] = fn
        return fn

    return deco


def pack(x: torch.Tensor, k: int) -> torch.Tensor:
    """PacGAN (Lin et al. 2018): k samples side by side along channels/features for D."""
    if k == 1:
        return x
    b = x.shape[0] - x.shape[0] % k
    x = x[:b]
    return x.reshape(b // k, k * x.shape[1], *x.shape[2:])


def d_stats(tr, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> dict:
    """Mean D(x) and D(G(z)): probabilities for BCE losses, raw critic values otherwise."""
    if tr.loss.probabilistic:
        real_logits, fake_logits = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    return {"d_real": real_logits.detach().float().mean(), "d_fake": fake_logits.detach().float().mean()}


def d_regularisers(tr, D, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None,
                   out: dict) -> torch.Tensor:
    """The gradient penalty and R1 terms of D's loss that the config asks for (0 when none);
    their values go to ``out`` for the log. Weight clipping follows the D update instead."""
    cfg, extra = tr.cfg, torch.zeros((), device=real.device)
    if cfg.gp_lambda > 0:
        gp = penalties.gradient_penalty(D, real, fake.float(), y, alpha=tr.uniform(real.shape[0]))
        extra = extra + cfg.gp_lambda * gp
        out["gp"] = gp.detach()
    if cfg.r1_gamma > 0 and tr.step % cfg.r1_every == 0:
        # lazy R1 (Karras et al. 2020, StyleGAN2): every r1_every steps, weighted r1_every times,
        # so the penalty's average pull stays the same while its double backward runs less often
        r1 = penalties.r1_penalty(D, real, y)
        extra = extra + 0.5 * cfg.r1_gamma * cfg.r1_every * r1
        out["r1"] = r1.detach()
    return extra


@register_step("gan")
def gan_step(tr, x: torch.Tensor, y: torch.Tensor | None) -> dict:
    cfg, G, D = tr.cfg, tr.nets["G"], tr.nets["D"]
    cond = tr.family.conditional
    y_real = y if cond else None
    y_fake = tr.fake_labels(x.shape[0]) if cond else None
    g_turn = (tr.step + 1) % cfg.n_critic == 0  # G is updated after every n_critic D updates
    simultaneous = cfg.update == "simultaneous" and g_turn
    policy = augment_policy(cfg.augment)
    aug = (lambda t: augment.augment(t, policy, tr.uniform)) if policy else (lambda t: t)  # D's view
    out = {}

    def update_g() -> None:
        """G's update, through the fake batch and a frozen D."""
        D.requires_grad_(False)
        with tr.autocast():
            g_loss = tr.loss.g(D(pack(aug(fake), cfg.pack), y_fake).float(), cfg.g_label)
        tr.update("G", g_loss)
        D.requires_grad_(True)
        tr.update_ema()
        out["g_loss"] = g_loss.detach()

    # 1. D's loss (the critic's): the real batch vs a fresh fake batch.
    with tr.autocast():
        with torch.set_grad_enabled(g_turn):  # G's graph is kept only when G is updated
            fake = G(tr.noise(x.shape[0]), y_fake)
        real_logits = D(pack(aug(x), cfg.pack), y_real)  # DiffAugment: D sees real and fake alike
        fake_logits = D(pack(aug(fake.detach()), cfg.pack), y_fake)
        d_loss = tr.loss.d(real_logits.float(), fake_logits.float(), cfg.real_label)
    out["d_loss"] = d_loss.detach()
    # Under "simultaneous" the penalties see a detached fake batch: G's update below changes G's
    # weights before D's backward runs.
    penalty_fake = fake.detach() if simultaneous else fake
    d_loss = d_loss + d_regularisers(tr, D, pack(x, cfg.pack), pack(penalty_fake, cfg.pack), y_real, out)

    # 2. "simultaneous" (the lecture's train_step, both gradients from one forward pass): G steps
    #    against D as it was before this step's D update. D's loss above does not depend on G's
    #    weights (its fake batch is detached), so updating G first is the same as updating both at once.
    if simultaneous:
        update_g()

    # 3. Update D.
    tr.update("D", d_loss)
    if cfg.clip > 0:
        penalties.clip_weights(D, cfg.clip)
    out.update(d_stats(tr, real_logits, fake_logits))

    # 4. "alternating" (the default): G steps against the D just updated.
    if g_turn and not simultaneous:
        update_g()
    return out


@register_step("acgan")
def acgan_step(tr, x: torch.Tensor, y: torch.Tensor) -> dict:
    """AC-GAN (Odena et al. 2017) as in the notebook 001: D = (real/fake logit, class logits).

    D minimises the adversarial loss (real target ``real_label``, 0.95 there) plus the class
    cross-entropy on REAL images only: the notebook's sample weights (2 on real, 0 on fake) keep D
    from learning classes from G's images. G minimises the adversarial loss plus the cross-entropy
    of D's class head against the labels G was asked for, on a fresh batch twice the size ("so that
    we have the generator optimize over an identical number of images as the discriminator").
    The seed recipe also takes the notebook's G target of 0.95 (``g_label``; the family's default
    keeps 1, one-sided smoothing as Salimans et al. 2016 advise) and its loss weights
    (``cls_weight: 2``: Keras averages both of D's losses over the 200 images of its concatenated
    batch, so the adversarial loss is half the sum of the real and fake terms while the class loss,
    weight 2 on the 100 real images and 0 on the fakes, is the mean over the real ones; twice the
    port's sum of the two, that is bce(real) + bce(fake) + 2 ce(real)). ``fake_bn: eval`` draws D's
    fakes as the notebook does, with G's batch norm in inference mode (``generator.predict``); the
    default draws them with batch statistics.
    """
    cfg, G, D = tr.cfg, tr.nets["G"], tr.nets["D"]
    B = x.shape[0]
    out = {}

    # 1. Update D on B real and B fake images. Two passes, not the notebook's one concatenated
    #    batch: with batch norm in D (Radford's networks), a mixed batch normalises real and fake
    #    together in D's update while G's update sees fakes alone, and G learns to exploit the gap
    #    (measured: noise images that D's G-pass scores as real). Without batch norm (the notebook's
    #    D) the two are the same computation.
    #    ``fake_bn: eval`` draws the fakes with G's batch norm on its moving averages, as the
    #    notebook's ``generator.predict`` does; G's own update below always uses batch statistics.
    y_fake = tr.fake_labels(B)
    with tr.autocast():
        with torch.no_grad():
            G.train(cfg.fake_bn == "train")
            fake = G(tr.noise(B), y_fake)
            G.train()
        real_adv, real_cls = D.both(x)  # (B,), (B, K)
        fake_adv = D.both(fake)[0]  # (B,)
        real_adv, fake_adv = real_adv.float(), fake_adv.float()
        d_adv = tr.loss.d(real_adv, fake_adv, cfg.real_label)
        d_cls = F.cross_entropy(real_cls.float(), y)  # real images only
    d_loss = d_adv + cfg.cls_weight * d_cls + d_regularisers(tr, D, x, fake, None, out)
    tr.update("D", d_loss)
    if cfg.clip > 0:
        penalties.clip_weights(D, cfg.clip)
    out.update(d_loss=d_adv.detach(), d_cls=d_cls.detach(),
               acc_real=(real_cls.argmax(1) == y).float().mean().detach())
    out.update(d_stats(tr, real_adv, fake_adv))

    # 2. Update G every n_critic steps: 2B fresh images of random classes, D frozen.
    if (tr.step + 1) % cfg.n_critic == 0:
        y_g = tr.fake_labels(2 * B)
        D.requires_grad_(False)
        with tr.autocast():
            adv_g, cls_g = D.both(G(tr.noise(2 * B), y_g))
            g_adv = tr.loss.g(adv_g.float(), cfg.g_label)
            g_cls = F.cross_entropy(cls_g.float(), y_g)
        tr.update("G", g_adv + g_cls)
        D.requires_grad_(True)
        tr.update_ema()
        out.update(g_loss=g_adv.detach(), g_cls=g_cls.detach(),
                   acc_fake=(cls_g.argmax(1) == y_g).float().mean().detach())
    return out


@register_step("ae")
def ae_step(tr, x: torch.Tensor, y: torch.Tensor | None) -> dict:
    """The talk's autoencoder: mean squared error between x and G(E(x)) on [0, 1] pixels."""
    E, G = tr.nets["E"], tr.nets["G"]
    with tr.autocast():
        x_hat = G(E(x))  # (B, C, H, W) in data space
    recon = F.mse_loss(to_pixels(x_hat.float()), to_pixels(x.float()))
    tr.update("AE", recon)
    tr.update_ema()
    return {"recon": recon.detach()}


@register_step("vae")
def vae_step(tr, x: torch.Tensor, y: torch.Tensor | None) -> dict:
    """VAE (Kingma & Welling 2014): minimise recon + beta_kl * KL, per image, averaged over the batch.

    recon = -log p(x|z) for Bernoulli pixels (BCE summed over pixels), with one reparameterised
    sample z = mu + sigma * eps; KL in closed form. ``elbo`` = -(recon + KL), whatever beta_kl."""
    E, G = tr.nets["E"], tr.nets["G"]
    with tr.autocast():
        mu, logvar = E(x)
        mu, logvar = mu.float(), logvar.float()
        eps = tr.noise(x.shape[0])  # (B, z_dim) ~ N(0, I): the VAE's z_dist is always normal
        logits = G.logits(mu + (0.5 * logvar).exp() * eps).float()  # (B, C, H, W)
    bce = F.binary_cross_entropy_with_logits(logits, to_pixels(x.float()), reduction="none")  # (B, C, H, W)
    recon = bce.flatten(1).sum(1).mean()
    kl = kl_normal(mu, logvar).mean()
    tr.update("AE", recon + tr.cfg.beta_kl * kl)
    tr.update_ema()
    return {"recon": recon.detach(), "kl": kl.detach(), "elbo": -(recon + kl).detach()}
