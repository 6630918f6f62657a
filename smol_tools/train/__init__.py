"""The training pipeline: fine-tuning data, LoRA fine-tuning and per-tool evaluation.

Nothing imports `smol_tools.train` except the CLI's `finetune` and `eval` commands; heavy
dependencies (torch, transformers, trl, peft) are imported inside the functions that need them.
"""
