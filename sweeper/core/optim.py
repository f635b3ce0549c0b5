"""Adam and SGD steps and the cosine schedule, without torch.optim.Optimizer.

Why not `torch.optim.Adam`: building any torch.optim.Optimizer imports
torch._dynamo (its methods are wrapped to keep torch.compile out), which costs
about as much as importing torch itself, about a second per process. A sweep of
second-long jobs pays that in every process. The update here is torch's own
functional kernel (`torch.optim.adam.adam`, `torch.optim.sgd.sgd`) with the
same defaults, and the schedule repeats CosineAnnealingLR's recurrence, so a
run's numbers are the ones `torch.optim.Adam(..., fused=True)` (or SGD) and
CosineAnnealingLR give, to the bit (tests/test_optim.py); with gradient
clipping, up to float rounding (below).

Fused: one kernel updates every parameter, where the default CPU path runs about
ten small ops per parameter tensor; for these tiny models that is 118 -> 27 us
per step (measured on the LSTM of the memory task).

Gradient clipping by total norm happens inside that kernel too: the fused
kernels divide every gradient by a `grad_scale` tensor (meant for unscaling
mixed-precision gradients), and a scale of max(1, norm / max_norm) is exactly
`clip_grad_norm_`'s rescaling. That spares clip_grad_norm_'s own Python and
kernels, about 0.1 ms of a 0.85 ms training step on the memory task. The
results equal `clip_grad_norm_` + step up to float rounding (a division by the
scale where clip_grad_norm_ multiplies by its inverse).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from torch.optim.adam import adam
from torch.optim.sgd import sgd

OPTIMIZERS = ("adam", "sgd")


class Optimizer:
    """`name` (adam | sgd) over `params`; `lr` may be changed between steps.

    `grad_clip` > 0: each step first rescales the gradients so that their total
    (2-)norm is at most `grad_clip`, as `torch.nn.utils.clip_grad_norm_` would.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        name: str,
        lr: float,
        weight_decay: float,
        grad_clip: float = 0.0,
    ) -> None:
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
        self.params = [p for p in params if p.requires_grad]
        self.name = name
        self.lr = lr
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        if name == "adam":
            # The state torch.optim.Adam(fused=True) keeps per parameter: the step count is a
            # float32 tensor on the parameter's device (the fused kernel reads it there).
            self.exp_avgs = [
                torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
            ]
            self.exp_avg_sqs = [
                torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
            ]
            self.steps = [
                torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params
            ]

    def state_dict(self) -> dict[str, Any]:
        """Everything a later step depends on: the learning rate (a schedule changes it) and,
        for Adam, each parameter's moments and step count. Tensors and plain values only,
        so it loads with `torch.load(..., weights_only=True)`."""
        state: dict[str, Any] = {"name": self.name, "lr": self.lr}
        if self.name == "adam":
            state.update(exp_avgs=self.exp_avgs, exp_avg_sqs=self.exp_avg_sqs, steps=self.steps)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from `state_dict()` of an optimizer over parameters of the same shapes;
        raises ValueError if it belongs to another optimizer or other parameters."""
        if state.get("name") != self.name:
            raise ValueError(f"optimizer state is for {state.get('name')!r}, not {self.name!r}")
        if self.name == "adam":
            for key in ("exp_avgs", "exp_avg_sqs", "steps"):
                saved, own = state[key], getattr(self, key)
                if len(saved) != len(own) or any(a.shape != b.shape for a, b in zip(saved, own)):
                    raise ValueError(f"optimizer state {key} does not fit these parameters")
                for target, value in zip(own, saved):
                    target.copy_(value)
        self.lr = float(state["lr"])

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _clip_scale(self, grads: list[torch.Tensor]) -> torch.Tensor | None:
        """What to divide the gradients by: max(1, total norm / grad_clip), as a tensor
        (no host sync); None when not clipping. A non-finite norm gives a non-finite
        scale, and the step then spreads NaN as clip_grad_norm_ would."""
        if self.grad_clip <= 0 or not grads:
            return None
        norm = torch.nn.utils.get_total_norm(grads)  # what clip_grad_norm_ computes
        # clip_grad_norm_'s factor is grad_clip / (norm + 1e-6), capped at 1.
        return torch.clamp((norm + 1e-6) / self.grad_clip, min=1.0)

    @torch.no_grad()
    def step(self) -> None:
        chosen = [i for i, p in enumerate(self.params) if p.grad is not None]
        params = [self.params[i] for i in chosen]
        grads = [p.grad for p in params]
        scale = self._clip_scale(grads)
        if self.name == "sgd":
            sgd(
                params,
                grads,
                [None] * len(params),
                weight_decay=self.weight_decay,
                momentum=0.0,
                lr=self.lr,
                dampening=0.0,
                nesterov=False,
                maximize=False,
                fused=True,
                grad_scale=scale,
            )
            return
        adam(
            params,
            grads,
            [self.exp_avgs[i] for i in chosen],
            [self.exp_avg_sqs[i] for i in chosen],
            [],
            [self.steps[i] for i in chosen],
            amsgrad=False,
            beta1=0.9,
            beta2=0.999,
            lr=self.lr,
            weight_decay=self.weight_decay,
            eps=1e-8,
            maximize=False,
            fused=True,
            grad_scale=scale,
        )


class CosineSchedule:
    """The learning rate falls from its start to 0 over `total_steps` along a half cosine.

    Updated by CosineAnnealingLR's recurrence (not the closed form), so the rates
    match torch's scheduler exactly."""

    def __init__(self, optimizer: Optimizer, total_steps: int) -> None:
        self.optimizer = optimizer
        self.total_steps = total_steps
        self.done = 0

    def state_dict(self) -> dict[str, int]:
        return {"total_steps": self.total_steps, "done": self.done}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue after `state["done"]` steps; the rate itself lives in the optimizer's state."""
        if state["total_steps"] != self.total_steps:
            raise ValueError(
                f"schedule state is for {state['total_steps']} steps, not {self.total_steps}"
            )
        self.done = int(state["done"])

    def step(self) -> None:
        self.done += 1
        t, total = self.done, self.total_steps
        if t > total:  # past the end the rate stays at 0
            self.optimizer.lr = 0.0
            return
        self.optimizer.lr *= (1 + math.cos(math.pi * t / total)) / (
            1 + math.cos(math.pi * (t - 1) / total)
        )
