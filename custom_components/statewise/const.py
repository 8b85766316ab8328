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
from .protocol.sensitive import (
    POLICIES,
    POLICY_ALLOW as _POLICY_ALLOW,
    POLICY_BLOCK as _POLICY_BLOCK,
    POLICY_CONFIRM as _POLICY_CONFIRM,
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
# llama-server started with several --lora adapters: the index of this agent's (sent per request as "lora", scale 1; the others 0).
CONF_LORA_ADAPTER: Final = "lora_adapter"
MAX_LORA_ADAPTER: Final = 255
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

# Sensitive-action policy (unlock, open a garage door...): protocol/sensitive.py says what each does.
#   block: never executed, the agent says so; confirm: asked back, run after "yes"; allow: on the user's own words
POLICY_BLOCK: Final = _POLICY_BLOCK
POLICY_CONFIRM: Final = _POLICY_CONFIRM
POLICY_ALLOW: Final = _POLICY_ALLOW
SENSITIVE_POLICIES: Final = POLICIES
DEFAULT_SENSITIVE_POLICY: Final = POLICY_BLOCK
# Entities the user makes sensitive on top of the tool registry's rules (a gate relay switch, an alarm script).
CONF_SENSITIVE_ENTITIES: Final = "sensitive_entities"
# The languages the agent's model was trained for (its dataset card says them): Home Assistant offers the agent to
# Assist pipelines in these languages (supported_languages). Agents set up before the option keep LEGACY_LANGUAGES.
CONF_LANGUAGES: Final = "languages"
LEGACY_LANGUAGES: Final = ("en",)
FALLBACK_LANGUAGE: Final = "en"

# Server checks during setup and in the config flow.
SETUP_TIMEOUT: Final = 10.0  # seconds

# Exports live under <config>/statewise/exports/<timestamp>/.
EXPORTS_DIR: Final = "statewise/exports"
# The exporter keeps the newest N exports (entry option) and deletes older ones, except those an agent was trained on.
CONF_KEEP_EXPORTS: Final = "keep_exports"
DEFAULT_KEEP_EXPORTS: Final = 10
MIN_KEEP_EXPORTS: Final = 1
MAX_KEEP_EXPORTS: Final = 100
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
