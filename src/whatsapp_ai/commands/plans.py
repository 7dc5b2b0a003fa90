"""`plans list|create|change|assign`: plans as data, managed by the platform's operator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing import plans as catalogue
from whatsapp_ai.billing import service as billing
from whatsapp_ai.billing.errors import BillingError
from whatsapp_ai.commands.common import container
from whatsapp_ai.core.db import enter_system
from whatsapp_ai.identity import service as identity


def _run[T](work: Callable[[AsyncSession, Any], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction as the platform's operator; exit 2 on a refusal."""
    built = container()

    async def main() -> T:
        enter_system()  # the command acts for the operator of the platform
        try:
            async with built.db.transaction() as session:
                return await work(session, built.clock.now())
        finally:
            await built.close()

    try:
        return asyncio.run(main())
    except BillingError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


def parse_features(pairs: list[str]) -> dict[str, catalogue.Value]:
    """``key=value`` pairs: on/off as true/false, amounts as whole numbers, "unlimited"."""
    features: dict[str, catalogue.Value] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            typer.echo(f"error: --feature takes key=value, not {pair!r}", err=True)
            raise typer.Exit(2)
        text = raw.strip().lower()
        value: catalogue.Value
        if text in ("true", "on", "yes"):
            value = True
        elif text in ("false", "off", "no"):
            value = False
        elif text in ("unlimited", "null", "none"):
            value = None
        elif text.isdigit():
            value = int(text)
        else:
            typer.echo(f"error: {key}: true, false, a whole number or unlimited", err=True)
            raise typer.Exit(2)
        features[key.strip()] = value
    return features


def _show(plan: billing.PlanView) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "price_cents": plan.price_cents,
        "currency": plan.currency,
        "period": plan.period,
        "allows_overage": plan.allows_overage,
        "features": plan.features,
    }


def list_plans(*, as_json: bool) -> None:
    """Every plan with its features, cheapest first."""

    async def work(session: AsyncSession, _now: Any) -> list[billing.PlanView]:
        return await billing.list_plans(session)

    found = _run(work)
    if as_json:
        typer.echo(json.dumps([_show(plan) for plan in found], indent=2))
        return
    for plan in found:
        price = f"{plan.price_cents / 100:.2f} {plan.currency.upper()}/{plan.period}"
        overage = ", overage allowed" if plan.allows_overage else ""
        typer.echo(f"{plan.code}  {plan.name}  {price}{overage}")
        for key, value in sorted(plan.features.items()):
            shown = "on" if value is True else "unlimited" if value is None else value
            typer.echo(f"    {key} = {shown}")


def create_plan(
    *,
    code: str,
    name: str,
    price_cents: int,
    currency: str,
    period: str,
    allows_overage: bool,
    features: list[str],
) -> None:
    """Add a plan."""
    given = parse_features(features)

    async def work(session: AsyncSession, now: Any) -> billing.PlanView:
        return await catalogue.create_plan(
            session,
            code=code,
            name=name,
            price_cents=price_cents,
            currency=currency,
            period=period,
            allows_overage=allows_overage,
            features=given,
            now=now,
        )

    typer.echo(f"plan {_run(work).code} created")


def change_plan(*, code: str, changes: dict[str, Any], features: list[str]) -> None:
    """Change a plan's price, period, overage or some of its features."""
    given = {name: value for name, value in changes.items() if value is not None}
    if features:
        given["features"] = parse_features(features)

    async def work(session: AsyncSession, now: Any) -> billing.PlanView:
        return await catalogue.update_plan(session, code=code, changes=given, now=now)

    typer.echo(json.dumps(_show(_run(work)), indent=2))


def assign(*, tenant: str, plan: str, status: str, reason: str) -> None:
    """Put a tenant (by slug) on a plan, audited as done from the command line."""

    async def work(session: AsyncSession, now: Any) -> str:
        found = await identity.get_tenant_by_slug(session, slug=tenant)
        if found is None:
            typer.echo(f"error: no tenant with slug {tenant!r}", err=True)
            raise typer.Exit(2)
        row = await billing.set_plan(
            session, tenant_id=found.id, plan=plan, actor="cli", reason=reason, status=status,
            now=now,
        )  # fmt: skip
        return f"tenant {tenant} is on {row.plan} ({row.status})"

    typer.echo(_run(work))
