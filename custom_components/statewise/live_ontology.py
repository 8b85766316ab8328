"""The live ontology, cached: rebuilt only when something it is made of changes.

Building the ontology walks every exposed entity through four registries; at 500
entities that is milliseconds per command. :class:`LiveOntology` keeps the last
:class:`~.protocol.Ontology` (its ONTOLOGY JSON is rendered once per ontology) and
marks it stale on every change that can alter it:

- the entity, device, area or floor registry was updated (names, aliases, areas,
  floors, device classes, capabilities, disabled entities);
- Assist exposure settings changed;
- a state was added or removed, or changed in a way that changes its entity's
  ontology entry (availability, ``friendly_name``, ``source_list``, supported
  features...): attribute-only changes are checked by rebuilding that one entity
  and comparing, so no list of "relevant" attributes can fall out of date.

Nothing stale is ever returned: every event handler runs in the event loop
before the next command can read :attr:`LiveOntology.ontology`. Listeners (the
Repairs check) are told of every invalidation.
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components.conversation import DOMAIN as CONVERSATION_DOMAIN
from homeassistant.components.homeassistant.exposed_entities import async_listen_entity_updates
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import area_registry as ar, device_registry as dr, entity_registry as er, floor_registry as fr

from .ontology import build_ontology, exposed_entity_ids, ontology_entity
from .protocol import Ontology

REGISTRY_EVENTS = (
    er.EVENT_ENTITY_REGISTRY_UPDATED,
    dr.EVENT_DEVICE_REGISTRY_UPDATED,
    ar.EVENT_AREA_REGISTRY_UPDATED,
    fr.EVENT_FLOOR_REGISTRY_UPDATED,
)


class LiveOntology:
    """The exposed entities as the model is prompted, cached until they change."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self._ontology: Ontology | None = None
        self._exposed: frozenset[str] = frozenset()
        self._listeners: list[Callable[[], None]] = []
        self.builds = 0  # how many times the ontology was built (diagnostics, tests)

    @property
    def ontology(self) -> Ontology:
        """The current live ontology (built now if anything changed since the last build)."""
        if self._ontology is None:
            ids = exposed_entity_ids(self.hass)
            self._ontology = build_ontology(self.hass, ids)
            self._exposed = frozenset(ids)
            self.builds += 1
        return self._ontology

    @callback
    def async_invalidate(self, _event: Event | None = None) -> None:
        """Forget the cached ontology and tell the listeners."""
        self._ontology = None
        for listener in list(self._listeners):
            listener()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` on every invalidation; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _changes_entity(self, event: Event[EventStateChangedData]) -> bool:
        """Whether a state change can change the ontology (cheap checks first)."""
        if self._ontology is None:
            return False  # already stale
        old, new = event.data["old_state"], event.data["new_state"]
        entity_id = event.data["entity_id"]
        if old is None or new is None:  # added or removed: it may be exposed (new entities often are by default)
            return True
        if entity_id not in self._exposed:
            return False
        if old.attributes is new.attributes or old.attributes == new.attributes:
            return (old.state == STATE_UNAVAILABLE) != (new.state == STATE_UNAVAILABLE)
        entry = Ontology.from_entities([ontology_entity(self.hass, entity_id)]).entities[entity_id]
        return entry != self._ontology.entities.get(entity_id)

    @callback
    def _on_state_changed(self, event: Event[EventStateChangedData]) -> None:
        if self._changes_entity(event):
            self.async_invalidate()

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Listen for every change that can alter the ontology; returns the function that stops listening."""
        unsubs = [self.hass.bus.async_listen(event_type, self.async_invalidate) for event_type in REGISTRY_EVENTS]
        unsubs.append(async_listen_entity_updates(self.hass, CONVERSATION_DOMAIN, self.async_invalidate))
        unsubs.append(self.hass.bus.async_listen(EVENT_STATE_CHANGED, self._on_state_changed))

        @callback
        def stop() -> None:
            for unsub in unsubs:
                unsub()
            self._ontology = None

        return stop
