"""What the tenant's assistant says about itself: who it is and what it can do, built from the
agents switched on and the tenant's own words (its assistant's name and description)."""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_ai.core.i18n import text

# The agents a contact can ask things of, in the order their abilities are told.
_TOLD = ("finance", "crm", "sales", "knowledge")


@dataclass(frozen=True)
class Voice:
    """Who the assistant is for one tenant."""

    tenant: str
    enabled_agents: frozenset[str] | None = None
    name: str | None = None
    description: str | None = None

    @property
    def default(self) -> bool:
        """The platform's own personal assistant (every agent on, or all but a shop without a
        catalog, and no name of its own)."""
        everything = self.enabled_agents is None or set(_TOLD) - {"sales"} <= self.enabled_agents
        return everything and not self.name and not self.description


def first_name(full: str | None) -> str:
    """The first word of a contact's name ("Ana Souza" → "Ana"; none → "")."""
    return (full or "").split(" ")[0].strip()


def addressed(full: str | None) -> str:
    """The name as a reply's greeting placeholder takes it (", Ana", or nothing)."""
    first = first_name(full)
    return f", {first}" if first else ""


def who(language: str, voice: Voice) -> str:
    """ "o assistente de Loja" or "Bia, assistente de Loja"."""
    if voice.name:
        return text(language, "support.named", assistant=voice.name, tenant=voice.tenant)
    return text(language, "support.unnamed", tenant=voice.tenant)


def abilities(language: str, voice: Voice) -> str:
    """What the enabled agents can do, one bullet each."""
    told = [
        text(language, f"support.can.{agent}")
        for agent in _TOLD
        if voice.enabled_agents is None or agent in voice.enabled_agents
    ]
    return "\n".join(f"• {line}" for line in told or [text(language, "support.can.nothing")])


def _offer(language: str, voice: Voice) -> str:
    about = f" {voice.description.strip().rstrip('.')}." if voice.description else ""
    return about + "\n" + text(language, "support.offer", abilities=abilities(language, voice))


def help_text(language: str, voice: Voice) -> str:
    """The answer to "ajuda" / "o que vc sabe fazer?" for this tenant."""
    if voice.default:
        return text(language, "assistant.help", tenant=voice.tenant)
    intro = text(language, "support.intro", assistant=who(language, voice))
    return intro + _offer(language, voice)


def greeting(language: str, voice: Voice, name: str) -> str:
    """Hello, who the assistant is and what it can do (``name`` is ", Ana" or "")."""
    if voice.default:
        offer = text(language, "assistant.help", tenant=voice.tenant).split(". ", 1)[1]
        return text(language, "assistant.greet", name=name, tenant=voice.tenant) + " " + offer
    hello = text(language, "support.greet", name=name, assistant=who(language, voice))
    return hello + _offer(language, voice)


def bot_answer(language: str, voice: Voice) -> str:
    """An honest "yes, I'm a virtual assistant", and what it can do."""
    return text(language, "support.bot", assistant=who(language, voice)) + _offer(language, voice)
