"""The conversation platform: the trained model as an Assist agent.

The loop itself lives in :mod:`.protocol.agent` (no Home Assistant imports; the
trainer's evaluator runs the same loop against the simulator); this module
connects it to Home Assistant: the live ontology of exposed entities, state
reads, blocking actions with the user's context, the model server client, the
chat log (executed calls appear as external tool calls in Assist's debug view)
and translated replies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from importlib import import_module
from typing import Any, Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import ATTR_ENTITY_ID, ATTR_SUPPORTED_FEATURES, STATE_UNAVAILABLE
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.translation import async_get_translations

from .client import ServerDownError, ServerTimeoutError, StatewiseClient, StatewiseClientError, adapter_fields, grammar_fields
from .const import (
    CONF_ACTION_TIMEOUT,
    CONF_FETCH_ROUNDS,
    CONF_LORA_ADAPTER,
    CONF_MODEL,
    CONF_OUTPUT_GRAMMAR,
    CONF_REQUEST_TIMEOUT,
    CONF_SENSITIVE_ENTITIES,
    CONF_SENSITIVE_POLICY,
    DEFAULT_ACTION_TIMEOUT,
    DEFAULT_FETCH_ROUNDS,
    DEFAULT_MAX_TOKENS,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SENSITIVE_POLICY,
    DOMAIN,
    GRAMMAR_OFF,
    LOGGER,
    SUBENTRY_CONVERSATION,
)
from .entity import StatewiseBaseEntity
from .models import StatewiseConfigEntry, agent_languages
from .ontology import live_states
from .protocol import FETCH_TOOL, Ontology, load_tools
from .protocol.agent import (
    OUTCOME_CONFIRM,
    OUTCOME_ERROR,
    OUTCOME_PARTIAL,
    OUTCOME_REFUSED,
    OUTCOME_TEXT,
    PHRASE_CATEGORY,
    AskFn,
    ModelUnavailableError,
    PreparedAction,
    Reply,
    StatewiseAgent,
    TurnResult,
    english_phrases,
)
from .protocol.language import AgentWords, language_for, words_for
from .protocol.sensitive import PendingPlans, can_be_sensitive, is_affirmative, negated

# Refusal and error replies -> the intent response's error code.
_TARGET_REFUSALS = frozenset({"unknown_entity", "not_present", "ambiguous_target"})


@cache
def required_features(action: str) -> tuple[int, ...]:
    """The entity features of which Home Assistant needs one for ``action`` (from the tool registry's ``features``).

    ``"MediaPlayerEntityFeature.TURN_ON"`` is read from the action's domain
    (``homeassistant.components.media_player``); checked for the whole plan
    before anything runs, so an action the entity cannot do never leaves the
    earlier ones half done. Actions no tool lists need no feature.
    """
    domain = action.split(".", 1)[0]
    names = next((spec.features(action) for spec in load_tools().values() if spec.features(action)), ())
    module = import_module(f"homeassistant.components.{domain}") if names else None
    flags = []
    for name in names:
        enum_name, _, member = name.partition(".")
        flags.append(int(getattr(getattr(module, enum_name), member)))
    return tuple(flags)


# Shown as the chat log's system message: the real one is rendered per request
# by the protocol (ONTOLOGY [+ STATE]) and recorded in the conversation trace.
CHAT_LOG_PROMPT = "Statewise renders its own ONTOLOGY system message for every request; see the agent details in the trace."


async def async_setup_entry(
    hass: HomeAssistant,
    config_entry: StatewiseConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one conversation entity per conversation subentry."""
    for subentry in config_entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_CONVERSATION:
            continue
        async_add_entities(
            [StatewiseConversationEntity(config_entry, subentry)],
            config_subentry_id=subentry.subentry_id,
        )


class HassHome:
    """The agent's view of Home Assistant for one turn (reads and blocking actions)."""

    def __init__(self, hass: HomeAssistant, context: Context) -> None:
        """Bind to the user's context: actions run as the user."""
        self._hass = hass
        self._context = context

    def read_states(self, entity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """STATE entries through the protocol's ``entity_state``."""
        return live_states(self._hass, entity_ids)

    def source_list(self, entity_id: str) -> Sequence[str]:
        """The media player's live ``source_list``."""
        state = self._hass.states.get(entity_id)
        sources = state.attributes.get("source_list") if state else None
        return [s for s in sources if isinstance(s, str)] if isinstance(sources, list | tuple) else []

    def exists(self, entity_id: str) -> bool:
        """True when the entity has a usable state right now."""
        state = self._hass.states.get(entity_id)
        return state is not None and state.state != STATE_UNAVAILABLE

    def supports(self, action: PreparedAction) -> bool:
        """False when the entity's live supported features rule the action out (see :func:`required_features`)."""
        required = required_features(action.action)
        if not required:
            return True
        state = self._hass.states.get(action.entity_id)
        features = state.attributes.get(ATTR_SUPPORTED_FEATURES) if state else None
        if not isinstance(features, int) or isinstance(features, bool):
            features = 0
        return any(features & flag == flag for flag in required)

    async def async_execute(self, action: PreparedAction) -> None:
        """Run one action, blocking, with the user's context."""
        await self._hass.services.async_call(
            action.domain,
            action.service,
            dict(action.data),
            blocking=True,
            context=self._context,
            target={ATTR_ENTITY_ID: action.entity_id},
        )


def model_asker(client: StatewiseClient, *, model: str | None, timeout: float, max_tokens: int, grammar: str = GRAMMAR_OFF,
                adapter: int | None = None) -> AskFn:  # fmt: skip
    """An ``ask`` coroutine for the agent: client errors become spoken server errors."""
    extra = {**grammar_fields(grammar), **adapter_fields(adapter)}

    async def ask(messages: list[dict[str, str]]) -> str:
        try:
            result = await client.async_chat(messages, model=model, timeout=timeout, max_tokens=max_tokens, extra_fields=extra)
        except ServerDownError as err:
            raise ModelUnavailableError("server_unreachable", str(err)) from err
        except ServerTimeoutError as err:
            raise ModelUnavailableError("server_timeout", str(err)) from err
        except StatewiseClientError as err:
            raise ModelUnavailableError("server_error", str(err)) from err
        return result.content

    return ask


async def async_phrases(hass: HomeAssistant, language: str) -> dict[str, str]:
    """The agent's replies in ``language`` (Home Assistant fills in English for anything untranslated).

    A regional tag with no file of its own ("de-CH") speaks its language's file ("de").
    """
    prefix = f"component.{DOMAIN}.{PHRASE_CATEGORY}."
    try:
        translations = await async_get_translations(hass, language_for(language) or language, PHRASE_CATEGORY, {DOMAIN})
    except Exception:  # noqa: BLE001 - a missing translation must never cost the reply
        LOGGER.debug("No %s translations for %s", DOMAIN, language, exc_info=True)
        return english_phrases()
    return {key.removeprefix(prefix): text for key, text in translations.items() if key.startswith(prefix)}


def _chat_log_contents(agent_id: str, result: TurnResult, speech: str) -> list[conversation.AssistantContent]:
    """Fetches and executed actions as external tool calls, then the spoken reply."""
    contents = [
        conversation.AssistantContent(
            agent_id=agent_id,
            tool_calls=[llm.ToolInput(tool_name=FETCH_TOOL, tool_args={"entity_ids": list(ids)}, external=True)],
        )
        for ids in result.fetched
    ]
    tool_calls = [llm.ToolInput(tool_name=action.action, tool_args=action.service_data(), external=True) for action in result.executed]
    contents.append(conversation.AssistantContent(agent_id=agent_id, content=speech, tool_calls=tool_calls or None))
    return contents


class StatewiseConversationEntity(
    conversation.ConversationEntity,
    conversation.AbstractConversationAgent,
    StatewiseBaseEntity,
):
    """Statewise conversation agent."""

    _attr_supports_streaming = False
    _attr_supported_features = conversation.ConversationEntityFeature.CONTROL

    entry: StatewiseConfigEntry

    def __init__(self, entry: StatewiseConfigEntry, subentry: ConfigSubentry) -> None:
        """Set up the entity; plans asked back under the *confirm* policy wait here, by conversation id."""
        super().__init__(entry, subentry)
        self._pending = PendingPlans()

    async def async_added_to_hass(self) -> None:
        """When entity is added to Home Assistant."""
        await super().async_added_to_hass()
        conversation.async_set_agent(self.hass, self.entry, self)

    async def async_will_remove_from_hass(self) -> None:
        """When entity will be removed from Home Assistant."""
        conversation.async_unset_agent(self.hass, self.entry)
        await super().async_will_remove_from_hass()

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        """The languages the agent's model was trained for (the agent's option; English for agents from before it)."""
        return agent_languages(self.subentry.data)

    def _agent(self, context: Context, lang: AgentWords) -> StatewiseAgent:
        settings = self.settings
        ask = model_asker(
            self.entry.runtime_data.client,
            model=settings.get(CONF_MODEL),
            grammar=settings.get(CONF_OUTPUT_GRAMMAR, GRAMMAR_OFF),
            adapter=settings.get(CONF_LORA_ADAPTER),
            timeout=float(settings.get(CONF_REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT)),
            max_tokens=DEFAULT_MAX_TOKENS,
        )
        return StatewiseAgent(
            ask,
            HassHome(self.hass, context),
            fetch_rounds=int(settings.get(CONF_FETCH_ROUNDS, DEFAULT_FETCH_ROUNDS)),
            sensitive_policy=settings.get(CONF_SENSITIVE_POLICY, DEFAULT_SENSITIVE_POLICY),
            sensitive_entities=self._sensitive_entities(),
            action_timeout=float(settings.get(CONF_ACTION_TIMEOUT, DEFAULT_ACTION_TIMEOUT)),
            lang=lang,
        )

    def _sensitive_entities(self) -> set[str]:
        """The entities the user listed, plus exposed scenes that would unlock or open one (a scene runs as a whole)."""
        listed = set(self.settings.get(CONF_SENSITIVE_ENTITIES) or ())
        ontology = self._ontology()
        for eid in ontology.entities:
            state = self.hass.states.get(eid) if eid.startswith("scene.") else None
            members = state.attributes.get(ATTR_ENTITY_ID) if state is not None else None
            for member in members if isinstance(members, list | tuple) else ():
                member_state = self.hass.states.get(member) if isinstance(member, str) else None
                device_class = member_state.attributes.get("device_class") if member_state is not None else None
                if member in listed or can_be_sensitive(str(member).split(".", 1)[0], device_class):
                    listed.add(eid)
                    break
        return listed

    def _ontology(self) -> Ontology:
        """The live ontology: every entity exposed to Assist, as the model is prompted (cached until it changes)."""
        return self.entry.runtime_data.live.ontology

    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Run one turn and answer from the chat log."""
        try:
            await chat_log.async_provide_llm_data(user_input.as_llm_context(DOMAIN), None, CHAT_LOG_PROMPT, None)
        except conversation.ConverseError as err:
            return err.as_conversation_result()

        try:
            result = await self._async_turn(user_input, chat_log.conversation_id)
        except Exception:  # noqa: BLE001 - a conversation turn answers, it never raises
            LOGGER.exception("Statewise agent failed on %r", user_input.text)
            result = TurnResult(OUTCOME_ERROR, [Reply("unexpected_error")], reason="unexpected error")
        speech = result.speech(await async_phrases(self.hass, user_input.language))
        chat_log.async_trace(
            {
                "statewise": {
                    "outcome": result.outcome,
                    "reason": result.reason,
                    "requests": result.requests,
                    "outputs": result.outputs,
                    "verdicts": [verdict.as_dict() for verdict in result.verdicts],
                    "executed": [{"action": a.action, "data": a.service_data()} for a in result.executed],
                }
            }
        )
        for content in _chat_log_contents(self.entity_id, result, speech):
            chat_log.async_add_assistant_content_without_tools(content)
        conversation_result = conversation.async_get_result_from_chat_log(user_input, chat_log)
        if (code := error_code(result)) is not None:
            conversation_result.response.async_set_error(code, speech)
        if result.outcome == OUTCOME_CONFIRM:
            conversation_result.continue_conversation = True  # a voice satellite listens for the answer
        return conversation_result

    async def _async_turn(self, user_input: conversation.ConversationInput, conversation_id: str) -> TurnResult:
        """One turn: the answer to an asked-back plan, or a new command (which also cancels a waiting plan)."""
        lang = words_for(user_input.language)  # the words of the language the user speaks (none: allow asks back, no "yes")
        agent = self._agent(user_input.context, lang)
        user_id = user_input.context.user_id
        pending = self._pending.take(conversation_id, user_id)
        if pending is not None and is_affirmative(user_input.text, lang):
            LOGGER.info("Confirmed by the user: %s", "; ".join(c.to_line() for c in pending.calls))
            return await agent.async_run_confirmed(pending.calls, pending.command, self._ontology())
        if pending is not None:
            LOGGER.info("Asked-back plan cancelled by %r", user_input.text[:200])
            cancelled = TurnResult(OUTCOME_TEXT, [Reply("confirm_cancelled")], reason="asked-back plan cancelled")
            if negated(user_input.text, lang):  # "no", "don't", "cancel": nothing else was asked
                return cancelled
            result = await agent.async_run(user_input.text, self._ontology())  # another command: cancel, then handle it
            result.replies.insert(0, cancelled.replies[0])
        else:
            result = await agent.async_run(user_input.text, self._ontology())
        if result.outcome == OUTCOME_CONFIRM and result.pending is not None:
            self._pending.put(conversation_id, result.pending, user_input.text, user_id)
        return result


def error_code(result: TurnResult) -> intent.IntentResponseErrorCode | None:
    """The intent response error code for a turn that did not (fully) happen."""
    if result.outcome == OUTCOME_ERROR:
        return intent.IntentResponseErrorCode.UNKNOWN
    if result.outcome == OUTCOME_REFUSED:
        key = result.replies[-1].key if result.replies else None
        if key in _TARGET_REFUSALS:
            return intent.IntentResponseErrorCode.NO_VALID_TARGETS
        return intent.IntentResponseErrorCode.FAILED_TO_HANDLE
    if result.outcome == OUTCOME_PARTIAL:
        return intent.IntentResponseErrorCode.FAILED_TO_HANDLE
    return None
