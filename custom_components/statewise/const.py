"""Constants for the Statewise integration."""

from __future__ import annotations

import logging
from typing import Final

from .protocol import AUTO_MAX_LENGTHS, CHARS_PER_TOKEN as CHARS_PER_TOKEN, PLAN_MAX_LENGTH
from .protocol.agent import (  # the loop's bounds, re-exported for the config flow
    DEFAULT_FETCH_ROUNDS as DEFAULT_FETCH_ROUNDS,
    MAX_FETCH_ROUNDS as MAX_FETCH_ROUNDS,
    MIN_FETCH_ROUNDS as MIN_FETCH_ROUNDS,
)

DOMAIN: Final = "statewise"
LOGGER = logging.getLogger(__package__)

DEFAULT_NAME: Final = "Statewise"
DEFAULT_CONVERSATION_NAME: Final = "Statewise agent"

# Config entry data (the model server).
CONF_BASE_URL: Final = "base_url"
CONF_API_KEY: Final = "api_key"  # same key as homeassistant.const.CONF_API_KEY
CONF_MODEL: Final = "model"

# Conversation subentry options.
SUBENTRY_CONVERSATION: Final = "conversation"
CONF_FETCH_ROUNDS: Final = "fetch_rounds"
CONF_REQUEST_TIMEOUT: Final = "request_timeout"
CONF_ACTION_TIMEOUT: Final = "action_timeout"
# Grammar-constrained output (protocol/grammar.py): "off", "gbnf" (llama.cpp's `grammar` request field)
# or "vllm" (vLLM's `structured_outputs.grammar`); client.grammar_fields says how each is sent.
CONF_OUTPUT_GRAMMAR: Final = "output_grammar"
GRAMMAR_OFF: Final = "off"
GRAMMAR_GBNF: Final = "gbnf"
GRAMMAR_VLLM: Final = "vllm"
OUTPUT_GRAMMARS: Final = (GRAMMAR_OFF, GRAMMAR_GBNF, GRAMMAR_VLLM)
CONF_SENSITIVE_POLICY: Final = "sensitive_policy"
CONF_TRAINED_EXPORT: Final = "trained_export"
# Token estimate of the trained ontology (stored when the trained export is picked).
CONF_TRAINED_TOKENS: Final = "trained_tokens"
# The sequence length the model was trained with (its dataset card and statewise_manifest.json say it).
CONF_MAX_LENGTH: Final = "max_length"
MAX_LENGTHS: Final = AUTO_MAX_LENGTHS
DEFAULT_MAX_LENGTH: Final = PLAN_MAX_LENGTH

DEFAULT_REQUEST_TIMEOUT: Final = 30.0  # seconds, one chat completion
MIN_REQUEST_TIMEOUT: Final = 1.0
MAX_REQUEST_TIMEOUT: Final = 300.0
DEFAULT_ACTION_TIMEOUT: Final = 5.0  # seconds one device may take to carry out an action
MIN_ACTION_TIMEOUT: Final = 1.0
MAX_ACTION_TIMEOUT: Final = 60.0
DEFAULT_MAX_TOKENS: Final = 256  # bounded completion length for tool-call lines
TRAINED_EXPORT_NONE: Final = ""  # no trained export selected

# Sensitive-action policy (unlock, open a garage door...).
POLICY_BLOCK: Final = "block"  # never executed; the agent says so
POLICY_ALLOW: Final = "allow"  # executed like any other action
SENSITIVE_POLICIES: Final = (POLICY_BLOCK, POLICY_ALLOW)
DEFAULT_SENSITIVE_POLICY: Final = POLICY_BLOCK

# Server checks during setup and in the config flow.
SETUP_TIMEOUT: Final = 10.0  # seconds

# Exports live under <config>/statewise/exports/<timestamp>/.
EXPORTS_DIR: Final = "statewise/exports"
DEFAULT_HISTORY_HOURS: Final = 24
DEFAULT_HISTORY_SAMPLES: Final = 4
MAX_HISTORY_SAMPLES: Final = 48

# Inside Home Assistant the tokenizer is not available: ontology size is estimated
# from characters (CHARS_PER_TOKEN, a measured lower bound, from the protocol).

SERVICE_EXPORT_TRAINING_SEED: Final = "export_training_seed"
ATTR_HISTORY_HOURS: Final = "history_hours"
ATTR_HISTORY_SAMPLES: Final = "history_samples"

ISSUE_ONTOLOGY_CHANGED: Final = "ontology_changed"
ISSUE_TOKEN_BUDGET: Final = "token_budget"
