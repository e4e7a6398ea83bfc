"""Every numeric card's answer, recomputed here from the numbers its front states.

A numeric card teaches a number the learner will be asked to derive in an interview; a slip in the
arithmetic would be drilled in. Each formula below is written from the card's own front, so a
changed card fails here until someone redoes the arithmetic. Cards whose answer is a looked-up
constant rather than a computation are listed in LOOKUPS with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from prepkit.deck.load import load_paths
from prepkit.deck.model import Kind

from .conftest import LIBRARY

GB = 1e9

FORMULAS: dict[str, Callable[[], float]] = {
    # C language
    # {char, double, char} pads to 24 bytes; {double, char, char} to 16.
    "c-struct-array-padding-numeric": lambda: (24 - 16) * 1_000_000,
    # AoS pulls every line (each holds a wanted field); SoA pulls only the packed floats.
    "c-aos-vs-soa-numeric": lambda: (
        math.ceil(1_000_000 * 32 / 64) * 64 / (math.ceil(1_000_000 * 4 / 64) * 64)
    ),
    # computer architecture
    "ca-tpu-peak-ops": lambda: 256 * 256 * 2 * 700e6 / 1e12,
    "ca-weight-bandwidth-batch1": lambda: 65_536 * 700e6 * 1 / 1e12,
    "ca-systolic-underfill": lambda: 64 / 256 * 100,
    "ca-data-movement-fraction": lambda: 10 / (3.7 + 0.9 + 10) * 100,
    "ca-memory-wall-gap": lambda: (3.0 / 1.6) ** (10 / 2),
    "ca-amdahl-offload": lambda: 1 / (0.10 + 0.90 / 50 + 0.05),
    "ca-nmp-traffic": lambda: 80 * 64 / 64,
    "ca-hbm3-bandwidth": lambda: 1024 * 6.4e9 / 8 / GB,
    # distributed training
    "dt-ring-allreduce-bytes": lambda: 2 * (8 - 1) / 8 * 2,
    "dt-zero3-model-state-memory": lambda: 16 * 7.5e9 / 64 / GB,
    "dt-pipeline-bubble": lambda: (8 - 1) / 32,
    "dt-zero1-model-state-memory": lambda: 20e9 * (4 + 12 / 32) / GB,
    # bandwidth-optimal all-gather: each GPU receives (N - 1)/N of the gathered unit
    "dt-fsdp-allgather-time": lambda: (64 - 1) / 64 * 1.6 * GB / (50 * GB) * 1000,
    "dt-nccl-bus-bandwidth": lambda: 100 * 2 * (16 - 1) / 16,
    "dt-ring-latency-term": lambda: 2 * (1024 - 1) * 5e-6 * 1000,
    "dt-pipeline-bubble-step-fraction": lambda: (4 - 1) / (16 + 4 - 1),
    # tokens x top-2 x h x 2 bytes, of which 7/8 go to experts on other GPUs
    "dt-moe-alltoall-bytes": lambda: 8192 * 2 * 5120 * 2 * (8 - 1) / 8 / 1e6,
    "dt-tp-allreduce-bytes": lambda: 2 * (2 * (8 - 1) / 8 * 4096 * 1 * 8192 * 2) / 1e6,
    "dt-checkpoint-write-time": lambda: 405e9 * 12 / 2e12,
    # efficient inference
    "ei-int4-weight-memory": lambda: (70e9 * 4 / 8 + 70e9 / 128 * 2) / GB,
    "ei-two-four-storage": lambda: 4096 * 4096 / 2 * (2 + 2 / 8) / 1e6,
    "ei-kv-cache-mha-size": lambda: 2 * 32 * 32 * 128 * 2 * 8 * 4096 / 2**30,
    "ei-kv-cache-gqa-capacity": lambda: (40 * 2**30) // (2 * 80 * 8 * 128 * 2 * 4096),
    "ei-paged-vs-reserved": lambda: 2048 / (math.ceil(300 / 16) * 16),
    "ei-speculative-expected-tokens": lambda: (1 - 0.8 ** (4 + 1)) / (1 - 0.8),
    # energy and sustainability
    "en-kwh-from-gpu-power": lambda: 8 * 700 * 72 / 1000,
    "en-facility-energy-pue": lambda: 1000 * 1.2 - 1000,
    "en-emissions-from-energy": lambda: 500 * 1000 * 400 / 1e6,
    "en-end-to-end-training-carbon": lambda: 1024 * 400 * 720 / 1000 * 1.1 * 350 / 1e6,
    "en-gpt3-implied-intensity": lambda: 552e6 / (1287 * 1000),
    "en-bloom-dynamic-emissions": lambda: 1_082_990 * 400 / 1000 * 57 / 1e6,
    "en-sci-embodied-share": lambda: 2000 * 30 / (4 * 365) * 2 / 8,
    # power ~ V^2 f, time ~ 1/f, so energy ~ V^2
    "en-dvfs-energy-ratio": lambda: 0.8**2 * 0.8 * (1 / 0.8),
    "en-power-cap-energy": lambda: 1 - 300 * 1.10 / 400,
    "en-tokens-per-joule": lambda: 20_000 / (8 * 700),
    "en-region-shift-savings": lambda: 100 * 1000 * (450 - 30) / 1e6,
    # GPU architecture
    # 96 x 32 = 3072 registers per warp; a block of 8 warps needs 24,576; 2 blocks fit
    "gpu-occupancy-registers": lambda: (65_536 // (96 * 32 * 8)) * 8 / 64 * 100,
    "gpu-occupancy-shared-memory": lambda: (228 // (100 + 1)) * (128 // 32) / 64 * 100,
    "gpu-full-occupancy-register-budget": lambda: 65_536 / 2048,
    "gpu-partial-warp-lanes": lambda: 100 / (math.ceil(100 / 32) * 32) * 100,
    "gpu-a100-peak-derivation": lambda: 1024 * 2 * 108 * 1410e6 / 1e12,
    "gpu-resident-threads-h100": lambda: 132 * 64 * 32,
    "gpu-littles-law-bytes-in-flight": lambda: 3.35e12 * 600e-9 / 132 / 1000,
    # kernels and compilers
    "kc-epilogue-fusion-cost": lambda: (
        (2 * 8192 * 16384 * 2 / 3.35e12) / (2 * 8192 * 4096 * 16384 / 989e12) * 100
    ),
    "kc-softmax-fusion-ratio": lambda: ((5 + 3) * 4096 + 2 + 2) / (2 * 4096),
    "kc-online-softmax-bound": lambda: (3 + 1) / (2 + 1),
    "kc-gemm-tile-intensity": lambda: 2 * 128 * 128 * 32 / ((128 * 32 + 32 * 128) * 2),
    "kc-pipeline-stages-smem": lambda: 3 * (128 * 64 + 64 * 128) * 2 / 1024,
    "kc-grouped-ordering": lambda: 3 * 9 + 9 * 3,
    "kc-cuda-graph-launch-bound": lambda: max(500 * 4e-6, 1.2e-3) / max(10e-6, 1.2e-3),
    # memory efficiency
    "me-adam-bytes-per-param": lambda: 2 + 2 + 4 + 4 + 4,
    "me-largest-model-pure-dp": lambda: 80e9 / 16 / 1e9,
    "me-zero2-memory": lambda: (2 * 7.5e9 + 14 * 7.5e9 / 64) / GB,
    "me-activation-memory-per-layer": lambda: 2048 * 1 * 4096 * (34 + 5 * 32 * 2048 / 4096) / GB,
    "me-sqrt-n-checkpointing": lambda: 64 / 8 + 8,
    "me-activation-tensor-parallel-only": lambda: (
        2048 * 1 * 12288 * (10 + 24 / 8 + 5 * 96 * 2048 / (12288 * 8)) / GB
    ),
    # p microbatches x L/p layers = L layers' worth of activations
    "me-first-stage-activation": lambda: 8 * (96 / 8) * 34 * 2048 * 1 * 12288 / 8 / GB,
    "me-8bit-adam-savings": lambda: 7e9 * 2 * (4 - 1) / GB,
    "me-adafactor-second-moment": lambda: 4096 + 16_384,
    "me-lora-trainable-params": lambda: 4096 * 16 + 16 * 4096,
    "me-offload-pcie-traffic": lambda: (7e9 * 2 + 7e9 * 2) / GB,
    "me-adam-step-peak": lambda: 1.2 + 1.2 + 2 * 1.2 + 1.2,
    # ML for systems
    # 257 candidate positions: floor(log2(257)) + 1 comparisons in the worst case
    "mls-last-mile-comparisons": lambda: math.floor(math.log2(2 * 128 + 1)) + 1,
    "mls-topk-slowdown": lambda: (10.8 - 10.0) / 10.0 * 100,
    "mls-random-search-odds": lambda: (1 - 0.95**60) * 100,
    "mls-exhaustive-cost": lambda: 6**3 * 4 * 3 * 2 / 3600,
    "mls-hugepage-pinning": lambda: (1 - (1 - 0.0001) ** 32_768) * 100,
    # ML fundamentals
    "mlf-momentum-terminal-step": lambda: 0.01 * 2.0 / (1 - 0.9),
    "mlf-linear-scaling-rule": lambda: 0.1 * 8192 / 256,
    "mlf-transformer-lr-schedule": lambda: 512**-0.5 * min(4000**-0.5, 4000 * 4000**-1.5),
    "mlf-cosine-schedule": lambda: 3e-5 + 0.5 * (3e-4 - 3e-5) * (1 + math.cos(math.pi / 4)),
    "mlf-he-init-std": lambda: math.sqrt(2 / 4096),
    "mlf-label-smoothing-target": lambda: (1 - 0.1) * 1 + 0.1 / 5,
    "mlf-initial-loss-check": lambda: math.log(1000),
    "mlf-sigmoid-vanishing": lambda: 0.25**10,
    "mlf-grad-norm-clipping": lambda: 3.0 * 1.0 / math.hypot(3.0, 4.0),
    # NN architectures
    # 24 n d^2 = 4 n^2 d  =>  n = 6 d
    "nna-attention-flops-crossover": lambda: 24 * 4096**2 / (4 * 4096),
    "nna-gpt3-param-count": lambda: 12 * 96 * 12_288**2 / 1e9,
    "nna-llama2-7b-param-count": lambda: (
        (32 * (4 * 4096**2 + 3 * 4096 * 11_008) + 2 * 32_000 * 4096) / 1e9
    ),
    "nna-sliding-window-span": lambda: 32 * 4096,
    # per layer: Q and O are d x d, K and V are d x (8 x 128); 2 of 8 SwiGLU experts active
    "nna-moe-active-params": lambda: (
        (32 * (2 * 4096**2 + 2 * 4096 * 8 * 128 + 2 * 3 * 4096 * 14_336) + 2 * 32_000 * 4096) / 1e9
    ),
    "nna-conv-flops": lambda: 2 * 3 * 3 * 256 * 256 * 56 * 56 / 1e9,
    "nna-depthwise-separable": lambda: 1 / (1 / 256 + 1 / 3**2),
    # performance modelling
    "pm-h100-ridge-point": lambda: 989e12 / 3.35e12,
    "pm-square-matmul-intensity": lambda: 2 * 4096**3 / (3 * 4096**2 * 2),
    "pm-amdahl-speedup": lambda: 1 / ((1 - 0.95) + 0.95 / 16),
    "pm-littles-law-serving": lambda: 40 * 2.5,
    "pm-training-time-estimate": lambda: 6 * 7e9 * 1e12 / (1024 * 989e12 * 0.4) / 3600,
    "pm-decode-step-bound": lambda: 7e9 * 2 / 3.35e12 * 1000,
    "pm-gustafson-scaled-speedup": lambda: 64 - 0.05 * (64 - 1),
    "pm-tail-at-scale-fanout": lambda: (1 - 0.99**100) * 100,
    "pm-mlperf-tail-sample-size": lambda: 2.5758**2 * 0.9 * (1 - 0.9) / 0.005**2,
    "pm-mm1-utilisation-latency": lambda: 1 / (100 - 90) * 1000,
    "pm-mfu-from-throughput": lambda: 6 * 7e9 * 8000 / 989e12 * 100,
    # largest B with 10 + 0.5 B <= 30 ms is 40
    "pm-batching-latency-throughput": lambda: 40 / ((10 + 0.5 * 40) / 1000),
    "pm-prefill-time-estimate": lambda: 2 * 7e9 * 2048 / (989e12 * 0.5) * 1000,
    "pm-amdahl-kernel-speedup": lambda: 1 / ((1 - 0.3) + 0.3 / 2),
    "pm-parallel-efficiency": lambda: (1000 / 150) / (64 / 8) * 100,
    "pm-roofline-attainable": lambda: min(989, 50 * 3.35),
    # PyTorch core
    # y[i, j, k] = x[j, k, i]; x's strides are (30, 6, 1)
    "ptc-permute-offset": lambda: 2 * 30 + 3 * 6 + 4 * 1,
    # t() and view() are views; only contiguous() copies the transposed tensor
    "ptc-contiguous-copy-bytes": lambda: 8192 * 8192 * 4 / 2**20,
    # PyTorch performance
    # 300 MiB lies in [256, 512) MiB, cut into steps of 64 MiB
    "ptp-roundup-power2": lambda: 256 + math.ceil((300 - 256) / (256 / 4)) * (256 / 4),
    "ptp-prefetch-memory": lambda: 8 * 2 * 256 * 3 * 224 * 224 * 4 / GB,
    # recsys at scale
    "rs-dot-interaction-width": lambda: math.comb(27, 2) + 128,
    "rs-table-size-arith": lambda: 500e6 * 128 * 4 / GB,
    "rs-rowwise-adagrad-state": lambda: 500e6 * 4 / GB,
    "rs-int8-table-size": lambda: 1e9 * (256 * 1 + 8) / GB,
    "rs-hash-occupancy": lambda: (1 - (1 - 1 / 1e6) ** 1e6) * 100,
    "rs-qr-trick-rows": lambda: math.ceil(10_000_000 / 4000) + 4000,
    "rs-lookup-bandwidth": lambda: 512 * 100 * 20 * 64 * 2 / 2e12 * 1e6,
    # research practice
    "rp-mcnemar-statistic": lambda: (30 - 15) ** 2 / (30 + 15),
    "rp-family-wise-error": lambda: 1 - (1 - 0.05) ** 20,
    "rp-runs-needed": lambda: math.ceil((5 * 1.96 / (0.01 * 100)) ** 2),
    # scaling laws
    "sl-six-nd-chinchilla": lambda: 6 * 70e9 * 1.4e12,
    "sl-chinchilla-tokens-for-model": lambda: 20 * 13,
    # C = 6 N (20 N) = 120 N^2
    "sl-optimal-size-for-budget": lambda: math.sqrt(1e24 / 120) / 1e9,
    "sl-pf-days": lambda: 5.88e23 / (1e15 * 86_400),
    "sl-gpt3-tokens-per-param": lambda: 300 / 175,
    "sl-inference-breakeven": lambda: 6 * 7e9 * 2e12 / (2 * 7e9) / 1e12,
    "sl-effective-data": lambda: 100 + 100 * 15 * (1 - math.exp(-(4 - 1) / 15)),
    # systems fundamentals
    "sys-cache-sets": lambda: 48 * 1024 / (12 * 64),
    "sys-amat-two-level": lambda: 4 + 0.10 * (12 + 0.20 * 200),
    "sys-tlb-reach": lambda: 2048 * 2 * 2**20 / 2**30,
    # n / (alpha + n / B) = B / 2  =>  n = alpha B
    "sys-alpha-beta-half-bandwidth": lambda: 5e-6 * 50e9 / 1e3,
    "sys-fetch-bound-input": lambda: min(3200, 250e6 / 110e3),
    "sys-llama3-interruption-rate": lambda: 54 * 24 / 419,
    "sys-young-checkpoint-interval": lambda: math.sqrt(2 * 120 * 3 * 3600) / 60,
}

# Numeric cards whose answer is a documented constant, not arithmetic on the front's numbers.
LOOKUPS: dict[str, str] = {}

NUMERIC = {card.id: card for card in load_paths([LIBRARY]).cards if card.kind is Kind.NUMERIC}


def test_every_numeric_card_is_checked_or_declared_a_lookup() -> None:
    unchecked = sorted(set(NUMERIC) - set(FORMULAS) - set(LOOKUPS))
    assert unchecked == [], "add a formula for these cards (or declare them lookups)"
    stale = sorted((set(FORMULAS) | set(LOOKUPS)) - set(NUMERIC))
    assert stale == [], "these ids are no longer numeric cards in the library"


@pytest.mark.parametrize("card_id", sorted(set(FORMULAS) & set(NUMERIC)))
def test_numeric_answer_follows_from_its_formula(card_id: str) -> None:
    card = NUMERIC[card_id]
    assert card.answer is not None
    expected = FORMULAS[card_id]()
    tolerance = card.tolerance or 0.0
    assert math.isclose(card.answer, expected, abs_tol=tolerance + 1e-9 * abs(expected)), (
        f"{card_id}: card says {card.answer}, formula gives {expected}"
    )
