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
    prompt_entity,
)
from .parser import KIND_ACTIONS, KIND_FETCH, KIND_INVALID, KIND_TEXT, Verdict, parse_output
from .prompt import CHAT_TEMPLATE_KWARGS, ONTOLOGY_PREFIX, STATE_PREFIX, parse_system_text, render_answer, render_messages, system_text
from .state import STATE_ATTRIBUTES, entity_state, state_json, state_subset
from .tools import (
    FETCH_TOOL,
    SCHEMA_VERSION,
    ToolCall,
    ToolSpec,
    action_data,
    call_entity_ids,
    input_to_source,
    is_sensitive,
    load_tools,
    render_call,
    resolve_plex_target,
    service_for,
)
from .validate import check_output, validate_calls

__all__ = [
    "CHAT_TEMPLATE_KWARGS",
    "FETCH_TOOL",
    "KIND_ACTIONS",
    "KIND_FETCH",
    "KIND_INVALID",
    "KIND_TEXT",
    "ONTOLOGY_PREFIX",
    "SCHEMA_VERSION",
    "STATE_ATTRIBUTES",
    "STATE_PREFIX",
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
    "check_output",
    "content_hash",
    "dumps",
    "entity_state",
    "export_files",
    "input_to_source",
    "is_sensitive",
    "load_export",
    "load_ontology",
    "load_state",
    "load_tools",
    "parse_ontology",
    "parse_output",
    "parse_snapshots",
    "parse_system_text",
    "prompt_entity",
    "render_answer",
    "render_call",
    "render_messages",
    "resolve_plex_target",
    "service_for",
    "sha256_hex",
    "slugify",
    "state_json",
    "state_subset",
    "system_text",
    "validate_calls",
]
