"""Statewise protocol v0: the one module that defines what the model sees and says.

Pure Python (plus ``jsonschema``): imported by the Home Assistant integration
as ``custom_components.statewise.protocol`` and by the dataset builder and
trainer as ``statewise_protocol`` (same files, see ``pyproject.toml``).
Nothing else builds prompt text or parses model output.
"""

from .canonical import dumps, sha256_hex, slugify
from .errors import ErrorCode, ProtocolError
from .export_format import (
    Export,
    ExportError,
    Ontology,
    Snapshot,
    build_manifest,
    content_hash,
    export_files,
    load_export,
    load_ontology,
    load_state,
    parse_ontology,
    parse_snapshots,
)
from .ontology_json import DEFAULT_RANGES, entities_from_prompt, prompt_document, prompt_entity
from .parser import KIND_ACTION, KIND_FETCH, KIND_INVALID, KIND_TEXT, OUTPUT_CLASSES, Verdict, parse_output
from .prompt import (
    CHAT_TEMPLATE_KWARGS,
    ONTOLOGY_PREFIX,
    PLAN_MAX_LENGTH,
    STATE_PREFIX,
    load_home,
    parse_system_text,
    render_answer,
    render_messages,
    system_text,
)
from .state import STATE_ATTRIBUTES, entity_state, state_json, state_subset
from .tools import (
    FETCH_TOOL,
    SCHEMA_VERSION,
    ToolCall,
    ToolSpec,
    action_data,
    call_entity_ids,
    call_key,
    extra_tools,
    input_to_source,
    is_sensitive,
    load_tools,
    render_call,
    resolve_target,
    service_for,
    tools_for,
)
from .validate import CapabilityProblem, capability_problem, check_output, validate_calls

__all__ = [
    "CHAT_TEMPLATE_KWARGS",
    "DEFAULT_RANGES",
    "FETCH_TOOL",
    "KIND_ACTION",
    "KIND_FETCH",
    "KIND_INVALID",
    "KIND_TEXT",
    "ONTOLOGY_PREFIX",
    "OUTPUT_CLASSES",
    "PLAN_MAX_LENGTH",
    "SCHEMA_VERSION",
    "STATE_ATTRIBUTES",
    "STATE_PREFIX",
    "CapabilityProblem",
    "ErrorCode",
    "Export",
    "ExportError",
    "Ontology",
    "ProtocolError",
    "Snapshot",
    "ToolCall",
    "ToolSpec",
    "Verdict",
    "action_data",
    "build_manifest",
    "call_entity_ids",
    "call_key",
    "capability_problem",
    "check_output",
    "content_hash",
    "dumps",
    "entities_from_prompt",
    "entity_state",
    "export_files",
    "extra_tools",
    "input_to_source",
    "is_sensitive",
    "load_export",
    "load_home",
    "load_ontology",
    "load_state",
    "load_tools",
    "parse_ontology",
    "parse_output",
    "parse_snapshots",
    "parse_system_text",
    "prompt_document",
    "prompt_entity",
    "render_answer",
    "render_call",
    "render_messages",
    "resolve_target",
    "service_for",
    "sha256_hex",
    "slugify",
    "state_json",
    "state_subset",
    "system_text",
    "tools_for",
    "validate_calls",
]
