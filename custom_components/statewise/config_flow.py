"""Config flow for Statewise.

Entry (one per model server): ``user`` (base URL, optional API key) ->
``model`` (picked from the server's ``/v1/models``). The server is tested
before the entry is created. ``reauth_confirm`` replaces the API key;
``reconfigure`` changes URL/key and then the model (``reconfigure_model``).

Each conversation agent is a config subentry (as in core's ``ollama``), with
options: the languages its model was trained for, fetch rounds, request timeout, sensitive-action policy and the
export the model was trained on (picked from the exports found under
``<config>/statewise/exports``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .client import AuthenticationError, StatewiseClient, StatewiseClientError, has_credentials, normalize_base_url, redact_url
from .const import (
    CONF_ACTION_TIMEOUT,
    CONF_API_KEY,
    CONF_BASE_URL,
    CONF_FETCH_ROUNDS,
    CONF_KEEP_EXPORTS,
    CONF_LANGUAGES,
    CONF_LORA_ADAPTER,
    CONF_MAX_LENGTH,
    CONF_MODEL,
    CONF_OUTPUT_GRAMMAR,
    CONF_REQUEST_TIMEOUT,
    CONF_SENSITIVE_ENTITIES,
    CONF_SENSITIVE_POLICY,
    CONF_TRAINED_EXPORT,
    CONF_TRAINED_TOKENS,
    DEFAULT_ACTION_TIMEOUT,
    DEFAULT_CONVERSATION_NAME,
    DEFAULT_FETCH_ROUNDS,
    DEFAULT_KEEP_EXPORTS,
    DEFAULT_MAX_LENGTH,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SENSITIVE_POLICY,
    DOMAIN,
    FALLBACK_LANGUAGE,
    GRAMMAR_OFF,
    LOGGER,
    MAX_ACTION_TIMEOUT,
    MAX_FETCH_ROUNDS,
    MAX_KEEP_EXPORTS,
    MAX_LENGTHS,
    MAX_LORA_ADAPTER,
    MAX_REQUEST_TIMEOUT,
    MIN_ACTION_TIMEOUT,
    MIN_FETCH_ROUNDS,
    MIN_KEEP_EXPORTS,
    MIN_REQUEST_TIMEOUT,
    OUTPUT_GRAMMARS,
    SENSITIVE_POLICIES,
    SETUP_TIMEOUT,
    SUBENTRY_CONVERSATION,
    TRAINED_EXPORT_NONE,
)
from .export import list_exports
from .models import agent_languages
from .ontology import exposed_entity_ids
from .protocol.language import available_languages, language_for
from .repairs import async_load_trained_ontology, estimate_tokens

RECOMMENDED_CONVERSATION_OPTIONS: dict[str, Any] = {
    CONF_FETCH_ROUNDS: DEFAULT_FETCH_ROUNDS,
    CONF_REQUEST_TIMEOUT: DEFAULT_REQUEST_TIMEOUT,
    CONF_SENSITIVE_POLICY: DEFAULT_SENSITIVE_POLICY,
    CONF_SENSITIVE_ENTITIES: [],
    CONF_TRAINED_EXPORT: TRAINED_EXPORT_NONE,
    CONF_MAX_LENGTH: DEFAULT_MAX_LENGTH,
    CONF_ACTION_TIMEOUT: DEFAULT_ACTION_TIMEOUT,
    CONF_OUTPUT_GRAMMAR: GRAMMAR_OFF,
}


def default_languages(hass: HomeAssistant, available: list[str]) -> list[str]:
    """A new agent's languages: Home Assistant's own language when the agent has words for it, else English."""
    return [language_for(hass.config.language, available) or FALLBACK_LANGUAGE]


SERVER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_BASE_URL): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
        vol.Optional(CONF_API_KEY): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
    }
)


def _model_schema(models: list[str], current: str | None) -> vol.Schema:
    default = current if current in models else models[0]
    return vol.Schema(
        {
            vol.Required(CONF_MODEL, default=default): SelectSelector(
                SelectSelectorConfig(options=models, mode=SelectSelectorMode.DROPDOWN)
            )
        }
    )


class StatewiseConfigFlow(ConfigFlow, domain=DOMAIN):
    """Config flow: the model server (URL, key); then the first agent's model. Each agent subentry holds its model.

    Version 2: the model moved from the entry to its conversation subentries (``async_migrate_entry``).
    """

    VERSION = 2
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Initialise."""
        self._server: dict[str, Any] = {}
        self._models: list[str] = []

    async def _async_test_server(self, user_input: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
        """List the server's models; errors as a form ``errors`` dict."""
        client = StatewiseClient(
            async_get_clientsession(self.hass),
            user_input[CONF_BASE_URL],
            user_input.get(CONF_API_KEY),
        )
        try:
            models = await client.async_list_models(timeout=SETUP_TIMEOUT)
        except AuthenticationError:
            return {"base": "invalid_auth"}, []
        except StatewiseClientError as err:
            LOGGER.debug("Model server %s failed the check: %s", client.redacted_url, err)
            return {"base": "cannot_connect"}, []
        except Exception:  # noqa: BLE001
            LOGGER.exception("Unexpected exception while checking the model server")
            return {"base": "unknown"}, []
        if not models:
            return {"base": "no_models"}, []
        return {}, models

    @staticmethod
    def _clean_server(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Validate and normalise the URL; drop an empty API key."""
        try:
            url = normalize_base_url(cv.url(user_input[CONF_BASE_URL]))
        except vol.Invalid:
            return {}, {CONF_BASE_URL: "invalid_url"}
        if has_credentials(url):  # a password in a URL ends up in titles, logs and errors: the key has its own field
            return {}, {CONF_BASE_URL: "url_credentials"}
        server: dict[str, Any] = {CONF_BASE_URL: url}
        if api_key := (user_input.get(CONF_API_KEY) or "").strip():
            server[CONF_API_KEY] = api_key
        return server, {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the server URL and optional API key, and test them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            server, errors = self._clean_server(user_input)
            if not errors:
                self._async_abort_entries_match({CONF_BASE_URL: server[CONF_BASE_URL]})
                errors, models = await self._async_test_server(server)
            if not errors:
                self._server, self._models = server, models
                return await self.async_step_model()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(SERVER_SCHEMA, user_input or {}),
            errors=errors,
        )

    async def async_step_model(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick the model from the server's list."""
        if user_input is not None and user_input[CONF_MODEL] in self._models:
            model = user_input[CONF_MODEL]
            languages = default_languages(self.hass, await self.hass.async_add_executor_job(available_languages))
            return self.async_create_entry(
                title=self._server[CONF_BASE_URL],
                data=dict(self._server),
                subentries=[
                    {
                        "subentry_type": SUBENTRY_CONVERSATION,
                        "data": {**RECOMMENDED_CONVERSATION_OPTIONS, CONF_MODEL: model, CONF_LANGUAGES: languages},
                        "title": DEFAULT_CONVERSATION_NAME,
                        "unique_id": None,
                    }
                ],
            )
        return self.async_show_form(
            step_id="model",
            data_schema=_model_schema(self._models, None),
            description_placeholders={"url": self._server[CONF_BASE_URL]},
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The server rejected the API key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for a new API key and test it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            server = {CONF_BASE_URL: entry.data[CONF_BASE_URL], CONF_API_KEY: (user_input.get(CONF_API_KEY) or "").strip()}
            errors, _models = await self._async_test_server(server)
            if not errors:
                return self.async_update_reload_and_abort(entry, data_updates={CONF_API_KEY: server[CONF_API_KEY]})
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Optional(CONF_API_KEY): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))}),
            description_placeholders={"url": redact_url(entry.data[CONF_BASE_URL])},
            errors=errors,
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the server URL or API key."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            server, errors = self._clean_server(user_input)
            if not errors and not user_input.get(CONF_API_KEY) and entry.data.get(CONF_API_KEY):
                # The key is never sent to the form: left empty means "keep it".
                server[CONF_API_KEY] = entry.data[CONF_API_KEY]
            if not errors and server[CONF_BASE_URL] != entry.data[CONF_BASE_URL]:
                self._async_abort_entries_match({CONF_BASE_URL: server[CONF_BASE_URL]})
            if not errors:
                errors, _models = await self._async_test_server(server)
            if not errors:  # the agents keep their models (each picks its own in its options)
                return self.async_update_reload_and_abort(entry, title=server[CONF_BASE_URL], data=server)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                SERVER_SCHEMA, {CONF_BASE_URL: (user_input or entry.data)[CONF_BASE_URL]}
            ),
            errors=errors,
        )

    @classmethod
    @callback
    def async_get_supported_subentry_types(cls, config_entry: ConfigEntry) -> dict[str, type[ConfigSubentryFlow]]:
        """Conversation agents are subentries."""
        return {SUBENTRY_CONVERSATION: ConversationFlowHandler}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """The entry's own options (how many exports to keep)."""
        return StatewiseOptionsFlow()


class StatewiseOptionsFlow(OptionsFlow):
    """Entry options: the number of exports the exporter keeps."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask how many exports to keep."""
        if user_input is not None:
            return self.async_create_entry(data={CONF_KEEP_EXPORTS: int(user_input[CONF_KEEP_EXPORTS])})
        current = self.config_entry.options.get(CONF_KEEP_EXPORTS, DEFAULT_KEEP_EXPORTS)
        schema = vol.Schema(
            {
                vol.Required(CONF_KEEP_EXPORTS, default=current): NumberSelector(
                    NumberSelectorConfig(min=MIN_KEEP_EXPORTS, max=MAX_KEEP_EXPORTS, step=1, mode=NumberSelectorMode.BOX)
                )
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)


class ConversationFlowHandler(ConfigSubentryFlow):
    """Add or reconfigure a conversation agent."""

    @property
    def _is_new(self) -> bool:
        return self.source == "user"

    async def _async_export_options(self) -> list[str]:
        return await self.hass.async_add_executor_job(list_exports, self.hass)

    async def _async_models(self) -> list[str]:
        """The server's models now (the list from setup when the server does not answer)."""
        entry = self._get_entry()
        runtime = getattr(entry, "runtime_data", None)
        client = StatewiseClient(async_get_clientsession(self.hass), entry.data[CONF_BASE_URL], entry.data.get(CONF_API_KEY))
        try:
            return await client.async_list_models(timeout=SETUP_TIMEOUT)
        except StatewiseClientError:
            return list(runtime.models) if runtime is not None else []

    def _exposed(self) -> list[str]:
        """Entities exposed to Assist: the ones an agent can act on, so the ones that can be made sensitive."""
        return exposed_entity_ids(self.hass)

    def _worth_reviewing(self, exposed: list[str]) -> list[str]:
        """Exposed entities that may open or unlock something unseen: covers without a device class, switches, scripts.

        A garage door or gate among them is not protected until the user lists it (scenes that set a
        lock or a door are protected by the agent itself).
        """
        out = []
        for eid in exposed:
            state = self.hass.states.get(eid)
            if eid.split(".", 1)[0] in ("switch", "script") or (eid.startswith("cover.") and (state is None or not state.attributes.get("device_class"))):
                out.append(eid)
        return out

    def _schema(self, options: Mapping[str, Any], exports: list[str], models: list[str], languages: list[str]) -> vol.Schema:
        schema: dict[Any, Any] = {}
        if self._is_new:
            schema[vol.Required(CONF_NAME, default=DEFAULT_CONVERSATION_NAME)] = str
        current = options.get(CONF_MODEL)
        choices = models if current in models or not current else [current, *models]  # a model no longer listed stays choosable
        schema[vol.Required(CONF_MODEL, default=current if current else choices[0])] = SelectSelector(
            SelectSelectorConfig(options=choices, mode=SelectSelectorMode.DROPDOWN, custom_value=True)
        )
        chosen = [lang for lang in agent_languages(options) if lang in languages]
        schema[vol.Required(CONF_LANGUAGES, default=chosen)] = SelectSelector(
            SelectSelectorConfig(options=languages, multiple=True, translation_key=CONF_LANGUAGES, mode=SelectSelectorMode.LIST)
        )
        schema.update(
            {
                vol.Required(CONF_FETCH_ROUNDS, default=options.get(CONF_FETCH_ROUNDS, DEFAULT_FETCH_ROUNDS)): NumberSelector(
                    NumberSelectorConfig(min=MIN_FETCH_ROUNDS, max=MAX_FETCH_ROUNDS, step=1, mode=NumberSelectorMode.BOX)
                ),
                vol.Required(
                    CONF_REQUEST_TIMEOUT, default=options.get(CONF_REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT)
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_REQUEST_TIMEOUT,
                        max=MAX_REQUEST_TIMEOUT,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(
                    CONF_ACTION_TIMEOUT, default=options.get(CONF_ACTION_TIMEOUT, DEFAULT_ACTION_TIMEOUT)
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_ACTION_TIMEOUT, max=MAX_ACTION_TIMEOUT, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                    )
                ),
                vol.Required(CONF_OUTPUT_GRAMMAR, default=options.get(CONF_OUTPUT_GRAMMAR, GRAMMAR_OFF)): SelectSelector(
                    SelectSelectorConfig(options=list(OUTPUT_GRAMMARS), translation_key=CONF_OUTPUT_GRAMMAR, mode=SelectSelectorMode.LIST)
                ),
                vol.Optional(CONF_LORA_ADAPTER, description={"suggested_value": options.get(CONF_LORA_ADAPTER)}): NumberSelector(
                    NumberSelectorConfig(min=0, max=MAX_LORA_ADAPTER, step=1, mode=NumberSelectorMode.BOX)
                ),
                vol.Required(
                    CONF_SENSITIVE_POLICY, default=options.get(CONF_SENSITIVE_POLICY, DEFAULT_SENSITIVE_POLICY)
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=list(SENSITIVE_POLICIES),
                        translation_key=CONF_SENSITIVE_POLICY,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Optional(CONF_SENSITIVE_ENTITIES, default=list(options.get(CONF_SENSITIVE_ENTITIES) or [])): EntitySelector(
                    EntitySelectorConfig(multiple=True, include_entities=self._exposed())
                ),
                vol.Required(CONF_MAX_LENGTH, default=str(options.get(CONF_MAX_LENGTH, DEFAULT_MAX_LENGTH))): SelectSelector(
                    SelectSelectorConfig(
                        options=[str(n) for n in MAX_LENGTHS], translation_key=CONF_MAX_LENGTH, mode=SelectSelectorMode.DROPDOWN
                    )
                ),
                vol.Optional(
                    CONF_TRAINED_EXPORT,
                    description={"suggested_value": options.get(CONF_TRAINED_EXPORT) or None},
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[SelectOptionDict(value=e, label=e) for e in reversed(exports)],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
            }
        )
        return vol.Schema(schema)

    async def async_step_set_options(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Agent options (new agent: also its name)."""
        options: dict[str, Any] = (
            dict(RECOMMENDED_CONVERSATION_OPTIONS) if self._is_new else dict(self._get_reconfigure_subentry().data)
        )
        errors: dict[str, str] = {}
        exports = await self._async_export_options()
        models = await self._async_models()
        languages = await self.hass.async_add_executor_job(available_languages)
        if self._is_new:
            options[CONF_LANGUAGES] = default_languages(self.hass, languages)
        if not models and not options.get(CONF_MODEL):
            return self.async_abort(reason="no_models")
        if user_input is not None:
            data = {
                CONF_MODEL: user_input[CONF_MODEL],
                CONF_FETCH_ROUNDS: int(user_input[CONF_FETCH_ROUNDS]),
                CONF_REQUEST_TIMEOUT: float(user_input[CONF_REQUEST_TIMEOUT]),
                CONF_ACTION_TIMEOUT: float(user_input.get(CONF_ACTION_TIMEOUT, DEFAULT_ACTION_TIMEOUT)),
                CONF_OUTPUT_GRAMMAR: user_input.get(CONF_OUTPUT_GRAMMAR, GRAMMAR_OFF),
                CONF_LORA_ADAPTER: int(user_input[CONF_LORA_ADAPTER]) if user_input.get(CONF_LORA_ADAPTER) is not None else None,
                CONF_SENSITIVE_POLICY: user_input[CONF_SENSITIVE_POLICY],
                CONF_SENSITIVE_ENTITIES: sorted(set(user_input.get(CONF_SENSITIVE_ENTITIES) or [])),
                CONF_TRAINED_EXPORT: user_input.get(CONF_TRAINED_EXPORT) or TRAINED_EXPORT_NONE,
                CONF_MAX_LENGTH: int(user_input.get(CONF_MAX_LENGTH, DEFAULT_MAX_LENGTH)),
                CONF_LANGUAGES: sorted(set(user_input.get(CONF_LANGUAGES) or [])),
            }
            if not data[CONF_LANGUAGES]:
                errors[CONF_LANGUAGES] = "no_languages"
            if data[CONF_TRAINED_EXPORT]:
                trained = (
                    await async_load_trained_ontology(self.hass, data[CONF_TRAINED_EXPORT])
                    if data[CONF_TRAINED_EXPORT] in exports
                    else None
                )
                if trained is None:
                    errors[CONF_TRAINED_EXPORT] = "invalid_export"
                else:
                    data[CONF_TRAINED_TOKENS] = estimate_tokens(trained)
            if not errors:
                if self._is_new:
                    return self.async_create_entry(title=user_input[CONF_NAME], data=data)
                return self.async_update_and_abort(self._get_entry(), self._get_reconfigure_subentry(), data=data)
            options.update(user_input)
        review = self._worth_reviewing(self._exposed())
        return self.async_show_form(
            step_id="set_options",
            data_schema=self._schema(options, exports, models, languages),
            errors=errors,
            description_placeholders={"review": ", ".join(review) if review else "-"},
        )

    async_step_user = async_step_set_options
    async_step_reconfigure = async_step_set_options
