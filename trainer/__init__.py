"""Statewise trainer: LoRA SFT of dense Qwen3 (TRL + PEFT), evaluation of the plan's criteria, export."""
