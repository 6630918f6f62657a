"""`smol finetune`: the bundled 135M model dequantized from its GGUF, a few LoRA steps on CPU,
the adapter exported to GGUF and applied by llama.cpp; the export checked against PEFT's own
forward pass; an interrupted run resumed; bad inputs as one-line errors.

The dequantized base is made once per module (about 50 s) and shared through its cache dir.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import MODEL_PATH, needs_model

from smol_tools.config import load_settings

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("trl")
pytest.importorskip("gguf")

from smol_tools.train import export  # noqa: E402
from smol_tools.train.finetune import (  # noqa: E402
    SPENT_FILE,
    Hyper,
    Plan,
    Run,
    finetune,
    load_base,
)

pytestmark = [needs_model, pytest.mark.model]

PROMPT = "<|im_start|>user\nWhat should I bring to the meeting on Friday?<|im_end|>\n"
PROMPT += "<|im_start|>assistant\n"
TINY = Hyper(rank=4, alpha=8.0, learning_rate=3e-3, max_steps=3, batch_size=2, max_length=256,
             examples=6)  # fmt: skip


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def plan(tmp: Path, cache: Path, **kw) -> Plan:
    fields = dict(
        tool="summarize",
        base=str(MODEL_PATH),
        data=Path("assets/data/summarize/train.jsonl").resolve(),
        name="tiny",
        output_dir=tmp / "adapters",
        work_root=tmp / "work",
        cache_dir=cache,
        hyper=TINY,
        save_every=1,
    )
    fields.update(kw)
    return Plan(**fields)


@pytest.fixture(scope="module")
def base(tmp_path_factory, cache):
    """(model, tokenizer) of the bundled GGUF in transformers, via the finetune pass."""
    run = Run(plan(tmp_path_factory.mktemp("base"), cache), lambda _: None, lambda *_: None)
    load_base(run, load_settings(env={"SMOL_TOOLS_HOME": str(cache)}))
    return run.model, run.tokenizer


def llama_logits(model_path: Path, adapter: Path | None, text: str) -> np.ndarray:
    import llama_cpp

    kw = {"lora_path": str(adapter)} if adapter else {}
    llm = llama_cpp.Llama(str(model_path), logits_all=True, n_ctx=256, verbose=False, **kw)
    tokens = llm.tokenize(text.encode(), add_bos=False, special=True)
    llm.eval(tokens)
    return np.array(llm.scores[: len(tokens)])


def float_base(tmp: Path) -> Path:
    """The engine's float copy of the bundled model (far less rounding than Q4_1 activations)."""
    from smol_tools.engine.gguf import read_gguf
    from smol_tools.engine.llama import fast_weights_path

    settings = load_settings(env={"SMOL_TOOLS_HOME": str(tmp)}).replace(weights="f16")
    return fast_weights_path(settings, MODEL_PATH, read_gguf(MODEL_PATH))


def agreement(peft_delta: np.ndarray, llama_delta: np.ndarray) -> float:
    return float(np.corrcoef(peft_delta.ravel(), llama_delta.ravel())[0, 1])


def test_the_exported_adapter_moves_llama_cpp_logits_as_peft_moves_its_own(
    base, tmp_path, monkeypatch
):
    """Random LoRA weights on every target layer: the change an adapter makes to the logits in
    llama.cpp tracks the change PEFT makes (query/key rows reordered for llama.cpp's rotary
    layout); the same export without the reordering does not, so the check can fail."""
    from peft import LoraConfig, get_peft_model

    model, tokenizer = base
    torch.manual_seed(0)
    peft_model = get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj",
                          "o_proj", "gate_proj", "up_proj", "down_proj"])  # fmt: skip
    )
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.02)
    pairs = export.peft_pairs(peft_model)
    assert len(pairs) == 7 * model.config.num_hidden_layers
    ids = tokenizer(PROMPT)["input_ids"]
    peft_model.eval()

    def peft_logits() -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            tuned = peft_model(torch.tensor([ids])).logits[0].numpy()
            with peft_model.disable_adapter():
                plain = peft_model(torch.tensor([ids])).logits[0].numpy()
        return tuned, plain

    tuned, plain = peft_logits()
    weights = float_base(tmp_path)
    config = model.config.to_dict()
    good = export.write_lora_gguf(tmp_path / "good.gguf", pairs, alpha=8, config=config)
    llama_plain = llama_logits(weights, None, PROMPT)
    llama_tuned = llama_logits(weights, good, PROMPT)
    assert llama_tuned.shape == tuned.shape
    assert agreement(tuned - plain, llama_tuned - llama_plain) > 0.85
    # the adapter's own error is no larger than the base's float-vs-llama.cpp rounding
    assert np.abs(tuned - llama_tuned).mean() < 1.5 * np.abs(plain - llama_plain).mean()
    assert (tuned.argmax(-1) == llama_tuned.argmax(-1)).mean() >= 0.8

    # query and key alone, the layers whose rows llama.cpp orders for its rotary embedding:
    # right with the reordering, and nowhere near without it
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name and not ("q_proj" in name or "k_proj" in name):
                param.zero_()
    tuned, plain = peft_logits()
    rotary = [p for p in pairs if p.module.endswith(("q_proj", "k_proj"))]
    qk = export.write_lora_gguf(tmp_path / "qk.gguf", rotary, alpha=8, config=config)
    right = agreement(tuned - plain, llama_logits(weights, qk, PROMPT) - llama_plain)
    monkeypatch.setattr(export, "ROTARY", {})
    bad = export.write_lora_gguf(tmp_path / "bad.gguf", rotary, alpha=8, config=config)
    wrong = agreement(tuned - plain, llama_logits(weights, bad, PROMPT) - llama_plain)
    peft_model.unload()  # the shared base model without LoRA layers again
    assert right > 0.6 and wrong < 0.3, (right, wrong)


def test_rotary_order_interleaves_each_heads_halves():
    rows = np.arange(8).reshape(8, 1)  # 2 heads of 4 rows: halves (0,1 | 2,3) and (4,5 | 6,7)
    assert export.rotary_order(rows, 2).ravel().tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def test_a_tiny_run_trains_exports_registers_and_changes_the_output(
    base, cache, tmp_path, real_engine
):
    settings = load_settings(env={"SMOL_TOOLS_HOME": str(cache)})
    steps: list[tuple[int, int]] = []
    run = finetune(plan(tmp_path, cache), settings, progress=lambda s, t, _: steps.append((s, t)))
    assert steps[-1] == (3, 3)
    registered = tmp_path / "adapters" / "tiny.gguf"
    assert run.registered == registered and registered.is_file()
    card = json.loads(registered.with_suffix(".json").read_text())
    assert card["tool"] == "summarize"
    assert card["base_model"]["sha256"] == run.base_sha256 and len(run.base_sha256) == 64
    assert card["data"]["sha256"] and card["hyper_parameters"]["rank"] == 4
    assert card["training"]["steps"] == 3 and card["training"]["examples"] == 6
    assert registered.stat().st_size < 5_000_000

    messages = [{"role": "user", "content": "What should I bring to the meeting on Friday?"}]

    def answer(adapter: str | None) -> str:
        reply = real_engine.chat(messages, max_tokens=24, temperature=0, adapter=adapter)
        return reply.text()

    assert answer(str(registered)) != answer(None)


def test_an_interrupted_run_resumes_from_its_last_checkpoint(base, cache, tmp_path):
    settings = load_settings(env={"SMOL_TOOLS_HOME": str(cache)})

    def stop_after_two(step: int, total: int, info: dict) -> None:
        if step == 2:  # before step 2's checkpoint is written: step 1's is the last
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(plan(tmp_path, cache), settings, progress=stop_after_two)
    said: list[str] = []
    steps: list[int] = []
    run = finetune(
        plan(tmp_path, cache), settings, report=said.append,
        progress=lambda s, t, _: steps.append(s),
    )  # fmt: skip
    assert any("resuming from" in line and "checkpoint-1" in line for line in said)
    assert steps == [2, 3] and run.stats["resumed_from"] == "checkpoint-1"
    assert run.stats["train_seconds"] > run.stats["seconds_before_resume"] > 0
    assert list((tmp_path / "work").glob(f"*/checkpoint-3/{SPENT_FILE}"))


def test_a_hub_style_model_folder_trains_through_the_non_gguf_path(base, cache, tmp_path):
    """A base that is no GGUF goes through transformers' from_pretrained, as a Hub id does: here a
    tiny random Llama saved as a local folder (the Hub itself is offline here)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    _, tokenizer = base
    folder = tmp_path / "tiny-llama"
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    settings = load_settings(env={"SMOL_TOOLS_HOME": str(cache)})
    run = finetune(plan(tmp_path, cache, base=str(folder)), settings)
    assert run.base_gguf is None and run.base_name == str(folder)
    assert run.stats["steps"] == 3 and run.registered and run.registered.stat().st_size > 0
