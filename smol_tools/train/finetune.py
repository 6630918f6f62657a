"""`smol finetune TOOL`: a LoRA adapter for one tool, trained on its data, exported for llama.cpp.

The run is a named list of passes (`PASSES`), each one function with one job:

1. `read_examples`: the tool's train set, validated with line-numbered errors (before anything
   slow), as TRL prompt/completion rows (the loss falls on the completion, the assistant's
   answer, only).
2. `load_base`: the base model in transformers. A local GGUF (a path, or a catalog name such as
   the bundled `smollm2-135m`) is dequantized through transformers' GGUF loader and rebuilt as a
   plain model (a GGUF-loaded model is flagged quantized and refuses training); the result is
   cached under the cache dir by the GGUF's SHA-256, so the next run loads it in seconds. Any
   other name is a Hugging Face Hub model (online only).
3. `train_lora`: LoRA SFT with TRL + PEFT on every linear layer of the attention and the MLP
   (never the tied embeddings), on CUDA when there is one, else the CPU; checkpoints every
   `save_every` steps in a work dir named by what the run depends on, so running the same
   command again after an interruption resumes.
4. `export_adapter`: the LoRA weights as a GGUF adapter (`train.export`).
5. `write_card`: the adapter's JSON card: base model and its hash, data and its hash,
   hyper-parameters, training time and loss, and eval results when `eval_limit` > 0.
6. `register`: adapter + card copied to the output dir (by default the user's adapters dir,
   where every tool command finds the adapter registered for its tool).

torch, transformers, trl and peft are imported inside the passes only (`pip install
'.[train]'`): nothing here is on the path of `smol --help`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smol_tools.config import Settings
from smol_tools.engine.catalog import sha256_of as file_sha256
from smol_tools.errors import SmolError, UsageError
from smol_tools.train.data import set_path, validate_file

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
TRAIN_EXTRA = "pip install -e '.[train]' (torch, transformers, trl, peft, gguf)"
Report = Callable[[str], None]
SPENT_FILE = "smol_train_seconds.json"  # in each checkpoint: training time up to it


@dataclass(frozen=True)
class Hyper:
    """What shapes the adapter: written to the card and part of the work dir's name."""

    rank: int = 8
    alpha: float = 16.0
    learning_rate: float = 4e-4
    epochs: float = 1.0
    max_steps: int = 0  # 0: `epochs` over the examples
    batch_size: int = 8
    max_length: int = 512
    examples: int = 0  # 0: every training example
    seed: int = 10
    warmup_ratio: float = 0.05


@dataclass
class Plan:
    """One fine-tune: which tool, base, data, hyper-parameters and where the output goes."""

    tool: str
    base: str  # a GGUF path, a catalog model name, or a Hugging Face Hub id
    data: Path
    name: str
    output_dir: Path
    work_root: Path
    cache_dir: Path
    hyper: Hyper = field(default_factory=Hyper)
    eval_limit: int = 0
    save_every: int = 10
    threads: int = 0
    restart: bool = False


@dataclass
class Run:
    """What the passes hand on to each other."""

    plan: Plan
    report: Report
    progress: Callable[[int, int, dict[str, float]], None]
    base_name: str = ""
    base_sha256: str = ""
    base_gguf: Path | None = None
    model: Any = None
    tokenizer: Any = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    data_sha256: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    adapter_path: Path | None = None
    card: dict[str, Any] = field(default_factory=dict)
    registered: Path | None = None


def need_train_extra() -> None:
    """A one-line error, not an ImportError, when the fine-tune libraries are missing; their
    own progress bars off (ours shows the steps)."""
    try:
        import datasets
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers
        import trl  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"fine-tuning needs {exc.name}", hint=TRAIN_EXTRA) from None
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def local_gguf(settings: Settings, spec: str) -> Path | None:
    """The local GGUF file `spec` names (a path, or a catalog model that is present), or None
    for a Hub id."""
    from smol_tools.engine.catalog import resolve_model

    path = Path(spec).expanduser()
    if spec.endswith(".gguf") or path.is_file():
        if not path.is_file():
            raise UsageError(f"base model {spec}: no such file")
        return path.resolve()
    if "/" in spec:  # owner/name: the Hub
        return None
    try:
        return Path(resolve_model(settings.replace(model=spec)).path)
    except SmolError as exc:
        raise UsageError(f"base model {spec}: {exc.message}") from None


# --- pass 2: the base -------------------------------------------------------------------------


def plain_model_from_gguf(path: Path) -> tuple[Any, Any]:
    """(model, tokenizer) dequantized from a GGUF and rebuilt as an ordinary trainable model."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )
    config = loaded.config
    config.quantization_config = None
    delattr(config, "quantization_config")
    config.architectures = [type(loaded).__name__]
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.tie_weights()
    return model, tokenizer


def load_base(run: Run, settings: Settings) -> None:
    """Pass 2: the base model and tokenizer in transformers (see the module docstring)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = run.plan.base
    gguf_path = local_gguf(settings, spec)
    if gguf_path is None:
        run.report(f"base: {spec} from the Hugging Face Hub")
        try:
            run.tokenizer = AutoTokenizer.from_pretrained(spec)
            run.model = AutoModelForCausalLM.from_pretrained(spec)
        except OSError as exc:
            raise UsageError(
                f"cannot load {spec} from the Hub: {str(exc).splitlines()[0]}",
                hint="offline, pass a local GGUF: --base smollm2-135m or --base PATH.gguf",
            ) from None
        run.base_name = spec
        run.base_sha256 = getattr(run.model.config, "_commit_hash", "") or ""
        return
    run.base_gguf = gguf_path
    run.base_name = gguf_path.name
    run.base_sha256 = file_sha256(gguf_path)
    cached = run.plan.cache_dir / "finetune-base" / run.base_sha256[:16]
    if (cached / "config.json").is_file():
        run.report(f"base: {gguf_path.name} (dequantized copy in {cached})")
        run.tokenizer = AutoTokenizer.from_pretrained(str(cached))
        run.model = AutoModelForCausalLM.from_pretrained(str(cached))
        return
    run.report(f"base: dequantizing {gguf_path.name} (once; cached in {cached})")
    run.model, run.tokenizer = plain_model_from_gguf(gguf_path)
    partial = cached.with_name(cached.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    run.model.save_pretrained(str(partial))
    run.tokenizer.save_pretrained(str(partial))
    shutil.rmtree(cached, ignore_errors=True)
    partial.rename(cached)


# --- pass 1: the examples --------------------------------------------------------------------


def prompt_completion(item: dict[str, Any]) -> dict[str, Any]:
    """A chat item as TRL's conversational prompt/completion row (the last assistant turn is
    the completion)."""
    messages = item["messages"]
    return {"prompt": messages[:-1], "completion": messages[-1:]}


def read_examples(run: Run, settings: Settings) -> None:
    """Pass 1: the validated train set as prompt/completion rows (a seeded sample when
    `examples` limits them)."""
    from smol_tools.train.data import load_items

    path = run.plan.data
    problems = validate_file(path, run.plan.tool)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(f"{path}: {problems[0]}{more}")
    items = [i for i in load_items(path) if i["messages"][-1]["role"] == "assistant"]
    if not items:
        raise UsageError(f"{path}: no item ends with an assistant answer to learn")
    limit = run.plan.hyper.examples
    if limit and limit < len(items):
        items = random.Random(run.plan.hyper.seed).sample(items, limit)
    run.rows = [prompt_completion(i) for i in items]
    run.data_sha256 = file_sha256(path)
    run.report(f"data: {len(run.rows)} examples from {path}")


# --- pass 3 ----------------------------------------------------------------------------------


def work_dir(run: Run) -> Path:
    """Checkpoints of this exact run: same base, data and hyper-parameters resume it."""
    key = json.dumps(
        [run.base_sha256, run.data_sha256, asdict(run.plan.hyper), run.plan.tool], sort_keys=True
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return run.plan.work_root / f"{run.plan.name}-{digest}"


def progress_callback(run: Run) -> Any:
    """A transformers TrainerCallback that reports (step, total, {loss, eta_s})."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        loss = float("nan")
        first_step = 0

        def on_train_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self.first_step = state.global_step
            self.clock = time.monotonic()

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])

        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            done = state.global_step - self.first_step
            per_step = (time.monotonic() - self.clock) / max(done, 1)
            eta = per_step * (state.max_steps - state.global_step)
            run.progress(state.global_step, state.max_steps, {"loss": self.loss, "eta_s": eta})

        def on_save(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            # training time so far, carried over to the card of a resumed run
            spent = run.stats.get("earlier_seconds", 0.0) + time.monotonic() - self.clock
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                (folder / SPENT_FILE).write_text(json.dumps({"train_seconds": round(spent, 1)}))

    return Progress()


def earlier_seconds(checkpoint: str | None) -> float:
    """Training seconds spent before `checkpoint` (0 without one, or from an older run)."""
    try:
        return float(json.loads((Path(checkpoint or "") / SPENT_FILE).read_text())["train_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def planned_steps(run: Run) -> int:
    """Optimizer steps the run will take."""
    hyper = run.plan.hyper
    return hyper.max_steps or math.ceil(len(run.rows) / hyper.batch_size * hyper.epochs)


def train_lora(run: Run, settings: Settings) -> None:
    """Pass 3: LoRA SFT; resumes from the newest checkpoint of the same run."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import PrinterCallback
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    warnings.filterwarnings("ignore", category=FutureWarning)  # transformers' renames, not ours
    warnings.filterwarnings("ignore", message="Could not find a config file")  # a GGUF base

    hyper = run.plan.hyper
    cuda = torch.cuda.is_available()
    if not cuda:
        torch.set_num_threads(run.plan.threads or os.cpu_count() or 1)
    folder = work_dir(run)
    if run.plan.restart:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    last = get_last_checkpoint(str(folder))
    if last:
        run.report(f"resuming from {last}")
    config = SFTConfig(
        output_dir=str(folder),
        use_cpu=not cuda,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        per_device_train_batch_size=hyper.batch_size,
        num_train_epochs=hyper.epochs,
        max_steps=hyper.max_steps or -1,
        learning_rate=hyper.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, round(hyper.warmup_ratio * planned_steps(run))),
        max_length=hyper.max_length,
        gradient_checkpointing=False,  # costs a second forward pass; 135M fits without it
        completion_only_loss=True,
        save_strategy="steps",
        save_steps=run.plan.save_every,
        save_total_limit=2,
        logging_steps=1,
        report_to=[],
        disable_tqdm=True,
        seed=hyper.seed,
        data_seed=hyper.seed,
        dataloader_num_workers=0,
    )
    lora = LoraConfig(
        r=hyper.rank,
        lora_alpha=hyper.alpha,  # type: ignore[arg-type]  # PEFT takes a float
        lora_dropout=0.0,
        target_modules=list(TARGET_MODULES),
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=run.model,
        args=config,
        train_dataset=Dataset.from_list(run.rows),
        processing_class=run.tokenizer,
        peft_config=lora,
    )
    trainer.remove_callback(PrinterCallback)  # our progress bar shows the loss instead
    trainer.add_callback(progress_callback(run))
    run.stats["earlier_seconds"] = earlier_seconds(last)
    started = time.monotonic()
    trainer.train(resume_from_checkpoint=last)
    run.model = trainer.model
    dataset: Any = trainer.train_dataset
    tokens = sum(len(row["input_ids"]) for row in dataset)
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    run.stats = {
        "examples": len(run.rows),
        "steps": trainer.state.global_step,
        "epochs": round(float(trainer.state.epoch or 0), 3),
        "tokens_per_epoch": tokens,
        "train_seconds": round(run.stats["earlier_seconds"] + time.monotonic() - started, 1),
        "first_loss": round(losses[0], 4) if losses else None,
        "final_loss": round(sum(losses[-5:]) / len(losses[-5:]), 4) if losses else None,
        "train_loss": round(sum(losses) / len(losses), 4) if losses else None,
        "device": "cuda" if cuda else f"cpu ({torch.get_num_threads()} threads)",
        "resumed_from": Path(last).name if last else None,
        "seconds_before_resume": run.stats["earlier_seconds"],
    }


# --- passes 4 to 6 ---------------------------------------------------------------------------


def export_adapter(run: Run, settings: Settings) -> None:
    """Pass 4: the trained LoRA as a GGUF adapter in the work dir."""
    from smol_tools.train.export import peft_pairs, write_lora_gguf

    path = work_dir(run) / f"{run.plan.name}.gguf"
    run.adapter_path = write_lora_gguf(
        path,
        peft_pairs(run.model),
        alpha=run.plan.hyper.alpha,
        config=run.model.config.to_dict(),
        metadata={"general.name": run.plan.name, "smol_tools.tool": run.plan.tool},
    )
    run.report(f"exported {path.name}: {path.stat().st_size / 1e6:.2f} MB")


def write_card(run: Run, settings: Settings) -> None:
    """Pass 5: the card (and eval results of base and adapter on the first `eval_limit` eval
    items, on the engine the tools use)."""
    assert run.adapter_path is not None
    run.card = {
        "name": run.plan.name,
        "tool": run.plan.tool,
        "base_model": {"name": run.base_name, "spec": run.plan.base, "sha256": run.base_sha256},
        "data": {"path": str(run.plan.data), "sha256": run.data_sha256},
        "hyper_parameters": asdict(run.plan.hyper)
        | {"target_modules": list(TARGET_MODULES), "loss": "on the completion (answer) only"},
        "training": run.stats,
        "adapter": {
            "sha256": file_sha256(run.adapter_path),
            "bytes": run.adapter_path.stat().st_size,
        },
    }
    if run.plan.eval_limit > 0:
        run.card["eval"] = eval_against_base(run, settings)
    run.adapter_path.with_suffix(".json").write_text(
        json.dumps(run.card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def eval_against_base(run: Run, settings: Settings) -> dict[str, Any]:
    """Base and adapter on the same first `eval_limit` items of the tool's eval set."""
    from smol_tools.engine import create_engine
    from smol_tools.train.evaluate import evaluate, load_items

    if run.plan.tool == "agent":
        return {}
    items = load_items(set_path(run.plan.tool, "eval"), run.plan.tool)[: run.plan.eval_limit]
    engine = create_engine(settings.replace(temperature=0.0, server="off"))
    engine.load()
    base = evaluate(engine, run.plan.tool, items)
    tuned = evaluate(
        engine.with_adapter(str(run.adapter_path)), run.plan.tool, items, adapter=run.plan.name
    )
    changes = (
        f"{k} {base['metrics'][k]['value']} -> {v['value']}" for k, v in tuned["metrics"].items()
    )
    run.report("eval: " + ", ".join(changes))
    return {"items": len(items), "base": base["metrics"], "adapter": tuned["metrics"]}


def register(run: Run, settings: Settings) -> None:
    """Pass 6: adapter and card into the output dir, under the run's name."""
    assert run.adapter_path is not None
    out = run.plan.output_dir
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{run.plan.name}.gguf"
    shutil.copyfile(run.adapter_path, target)
    shutil.copyfile(run.adapter_path.with_suffix(".json"), target.with_suffix(".json"))
    run.registered = target


PASSES: tuple[Callable[[Run, Settings], None], ...] = (
    read_examples, load_base, train_lora, export_adapter, write_card, register,
)


def finetune(
    plan: Plan,
    settings: Settings,
    *,
    report: Report = lambda _: None,
    progress: Callable[[int, int, dict[str, float]], None] = lambda *_: None,
) -> Run:
    """Run every pass of `PASSES` on `plan`."""
    need_train_extra()
    if not plan.data.is_file():
        raise UsageError(f"{plan.data}: no such training set")
    run = Run(plan, report, progress)
    for step in PASSES:
        step(run, settings)
    return run
