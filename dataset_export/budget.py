"""Token budget with the real Qwen3 vocabulary.

Every row is measured as the chat template renders it (``tokens.render_chat``).
The long, constant ontology prefix is encoded once: the text is split right
after the last ``{"names`` of the ontology (the end of a run of letters, a
pre-tokenizer boundary that no BPE merge crosses), so ``prefix + suffix`` counts are exact (a test checks this
against :func:`dataset_export.tokens.count_message_tokens`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from statewise_protocol import Ontology, dumps, prompt_entity, render_messages

from .tokens import count_tokens, qwen3_tokenizer, render_chat

HEADROOM = 64  # tokens a short command plus answer needs besides the ontology (chat markup included)
AUTO = "auto"  # --max-length auto (see statewise_protocol.AUTO_MAX_LENGTHS)


class BudgetError(ValueError):
    """The ontology alone does not fit the token budget."""


class TokenCounter:
    """Counts rendered-chat tokens of rows for one ontology."""

    def __init__(self, ontology: Ontology) -> None:
        self.ontology = ontology
        probe = render_chat(render_messages(ontology, "x", None, "y"))
        start = probe.index(ontology.prompt_json)
        cut = start + ontology.prompt_json.rindex('{"names') + len('{"names') if ontology.entities else start
        self.prefix = probe[:cut]
        self.prefix_tokens = count_tokens(self.prefix)
        self.ontology_tokens = count_tokens(ontology.prompt_json)
        self._backend = qwen3_tokenizer().backend_tokenizer

    def count(self, messages: Sequence[Mapping[str, str]]) -> int:
        """Tokens of the rendered chat for ``messages``."""
        text = render_chat(messages)
        if not text.startswith(self.prefix):
            return count_tokens(text)
        return self.prefix_tokens + len(self._backend.encode(text[len(self.prefix) :], add_special_tokens=False).ids)

    def check_fits(self, max_length: int, *, auto: bool = False) -> None:
        """Raise :class:`BudgetError` with guidance when the ontology leaves no room (``auto``: not even the largest automatic budget)."""
        if self.ontology_tokens + HEADROOM <= max_length:
            return
        per_entity = sorted(((count_tokens(dumps({eid: prompt_entity(e)}, sort_keys=False)), eid) for eid, e in self.ontology.entities.items()),
                            reverse=True)  # fmt: skip
        by_domain: dict[str, int] = {}
        for n, eid in per_entity:
            by_domain[eid.split(".", 1)[0]] = by_domain.get(eid.split(".", 1)[0], 0) + n
        top = ", ".join(f"{eid} ({n})" for n, eid in per_entity[:8])
        domains = ", ".join(f"{d} {n}" for d, n in sorted(by_domain.items(), key=lambda kv: -kv[1]))
        raise BudgetError(
            f"the ontology alone is {self.ontology_tokens} tokens ({len(per_entity)} entities); with at least {HEADROOM} tokens for a command "
            f"and answer it cannot fit {'the largest automatic budget, ' if auto else '--max-length '}{max_length}. Largest entities: {top}. "
            f"Tokens by domain: {domains}. Expose fewer entities in Home Assistant (or drop aliases)"
            + ("." if auto else f", or raise --max-length to at least {self.ontology_tokens + HEADROOM * 2} and train with the same sequence length.")
        )
