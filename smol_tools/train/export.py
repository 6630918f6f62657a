"""A PEFT LoRA adapter written as a GGUF LoRA file that llama.cpp applies to the base model.

llama.cpp reads, per adapted weight `blk.N.attn_q.weight`, two tensors: `...weight.lora_a`
(numpy shape (rank, n_in), PEFT's `lora_A`) and `...weight.lora_b` ((n_out, rank), PEFT's
`lora_B`), scaled by `adapter.lora.alpha / rank`, as PEFT scales them. The GGUF names come from
the `gguf` package's tensor name map. One twist: llama.cpp's Llama stores the query and key
projections with each head's rows interleaved for its rotary embedding (transformers' GGUF loader
undoes it when it reads a model), so the rows of `lora_b` of q_proj and k_proj are reordered the
same way here. Tensors are stored as F16 (an r=8 adapter of the 135M model is under 5 MB).

Needs numpy and `gguf`; the PEFT model comes in as plain tensors (no torch import here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ARCHITECTURE = "llama"  # SmolLM2 and SmolLM3-style Llama models
ROTARY = {"q_proj": "num_attention_heads", "k_proj": "num_key_value_heads"}


@dataclass(frozen=True)
class LoraPair:
    """One adapted linear layer: its transformers name (`model.layers.3.self_attn.q_proj`) and
    its A (rank, n_in) and B (n_out, rank) matrices."""

    module: str
    a: np.ndarray
    b: np.ndarray


def rotary_order(rows: np.ndarray, heads: int) -> np.ndarray:
    """The rows of a q/k projection (or of its LoRA B) in llama.cpp's order: within each head,
    the first half's rows and the second half's rows alternate."""
    n_out = rows.shape[0]
    half = n_out // heads // 2
    return rows.reshape(heads, 2, half, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def gguf_name(module: str, n_layers: int) -> str:
    """`model.layers.3.self_attn.q_proj` -> `blk.3.attn_q` (ValueError if gguf has no name)."""
    import gguf

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    name = names.get_name(module)
    if name is None:
        raise ValueError(f"no GGUF tensor name for {module}")
    return name


def write_lora_gguf(
    path: Path,
    pairs: Iterable[LoraPair],
    *,
    alpha: float,
    config: Mapping[str, Any],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write `pairs` as a GGUF LoRA adapter at `path`. `config` holds the base's
    num_hidden_layers, num_attention_heads and num_key_value_heads; `metadata` adds strings
    (`general.name`, ...)."""
    import gguf

    n_layers = int(config["num_hidden_layers"])
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), ARCHITECTURE)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, float(alpha))
    for key, value in (metadata or {}).items():
        writer.add_string(key, value)
    count = 0
    for pair in pairs:
        b = pair.b
        kind = pair.module.rsplit(".", 1)[-1]
        if kind in ROTARY:
            b = rotary_order(b, int(config[ROTARY[kind]]))
        name = gguf_name(pair.module, n_layers)
        writer.add_tensor(f"{name}.weight.lora_a", np.ascontiguousarray(pair.a, np.float16))
        writer.add_tensor(f"{name}.weight.lora_b", np.ascontiguousarray(b, np.float16))
        count += 1
    if not count:
        raise ValueError("the adapter has no LoRA layers to export")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def peft_pairs(model: Any, adapter: str = "default") -> list[LoraPair]:
    """The LoRA layers of a PEFT model, named as in the base transformers model."""
    pairs = []
    for name, module in model.named_modules():
        lora_a = getattr(module, "lora_A", None)
        if lora_a is None or adapter not in lora_a:
            continue
        base = name.removeprefix("base_model.model.")
        a = lora_a[adapter].weight.detach().float().cpu().numpy()
        b = module.lora_B[adapter].weight.detach().float().cpu().numpy()
        pairs.append(LoraPair(base, a, b))
    return pairs
