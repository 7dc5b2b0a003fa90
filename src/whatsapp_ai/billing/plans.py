"""Plans as data: each plan's price and period, and the value it gives each feature."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.billing.errors import PlanExistsError, UnknownFeatureError, UnknownPlanError
from whatsapp_ai.billing.features import FEATURES, Kind
from whatsapp_ai.billing.models import Plan, PlanFeature

PERIODS = ("month", "year")
# A value of a feature as given: True/False for on/off, an amount or None (unlimited) for the
# quotas and limits.
type Value = bool | int | None


@dataclass(frozen=True)
class PlanView:
    """A plan with its features (``features`` maps each feature it has to its value)."""

    code: str
    name: str
    price_cents: int
    currency: str
    period: str
    allows_overage: bool
    features: dict[str, Value] = field(default_factory=dict)

    def has(self, feature: str) -> bool:
        """Whether the plan switches the feature on (for quotas and limits: gives any)."""
        if feature not in self.features:
            return False
        value = self.features[feature]
        return value is None or value is True or (type(value) is int and value > 0)

    def amount(self, feature: str) -> int | None:
        """A quota's or limit's amount (None: unlimited; 0 when the plan lacks it)."""
        if feature not in self.features:
            return 0
        value = self.features[feature]
        return None if value is None else int(value)

    def covers(self, feature: str, amount: int | None = None) -> bool:
        """Whether the plan has the feature, and at least ``amount`` of it when given."""
        if not self.has(feature):
            return False
        if amount is None or FEATURES[feature].kind is Kind.FLAG:
            return True
        given = self.amount(feature)
        return given is None or given >= amount


def _view(plan: Plan, rows: list[PlanFeature]) -> PlanView:
    features: dict[str, Value] = {}
    for row in rows:
        if row.feature not in FEATURES:
            continue  # a feature retired from the code; kept as data, never gated
        features[row.feature] = (
            row.enabled if FEATURES[row.feature].kind is Kind.FLAG else row.amount
        )
    return PlanView(
        plan.code,
        plan.name,
        plan.price_cents,
        plan.currency,
        plan.period,
        plan.allows_overage,
        features,
    )


async def list_plans(session: AsyncSession) -> list[PlanView]:
    """Every plan, cheapest first."""
    plans = list(await session.scalars(select(Plan).order_by(Plan.price_cents, Plan.code)))
    rows = list(await session.scalars(select(PlanFeature)))
    return [_view(plan, [r for r in rows if r.plan_code == plan.code]) for plan in plans]


async def get_plan(session: AsyncSession, *, code: str) -> PlanView:
    """One plan; UnknownPlanError when there is none with this code."""
    plan = await session.get(Plan, code)
    if plan is None:
        raise UnknownPlanError(f"no plan {code!r}", field="plan")
    rows = list(await session.scalars(select(PlanFeature).where(PlanFeature.plan_code == code)))
    return _view(plan, rows)


async def cheapest_with(
    session: AsyncSession, *, feature: str, amount: int | None = None
) -> str | None:
    """The code of the cheapest plan that covers ``feature`` (``amount`` of it), if any."""
    for plan in await list_plans(session):
        if plan.covers(feature, amount):
            return plan.code
    return None


def check_features(features: Mapping[str, Value]) -> None:
    """UnknownFeatureError for an unknown key or a value of the wrong kind."""
    for key, value in features.items():
        known = FEATURES.get(key)
        if known is None:
            raise UnknownFeatureError(
                f"unknown feature {key!r}; features: {sorted(FEATURES)}", field="features"
            )
        if known.kind is Kind.FLAG and not isinstance(value, bool):
            raise UnknownFeatureError(f"{key} is on/off: give true or false", field="features")
        if known.kind is not Kind.FLAG and (
            isinstance(value, bool)
            or not (value is None or (isinstance(value, int) and value >= 0))
        ):
            raise UnknownFeatureError(
                f"{key} is an amount: give a whole number >= 0, or null for unlimited",
                field="features",
            )


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise UnknownFeatureError(f"period must be one of {list(PERIODS)}", field="period")


async def create_plan(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    price_cents: int,
    currency: str,
    period: str,
    allows_overage: bool,
    features: Mapping[str, Value],
    now: datetime,
) -> PlanView:
    """Add a plan; PlanExistsError when the code is taken."""
    _check_period(period)
    check_features(features)
    if await session.get(Plan, code) is not None:
        raise PlanExistsError(f"a plan {code!r} exists already", field="code")
    session.add(
        Plan(
            code=code,
            name=name,
            price_cents=price_cents,
            currency=currency.lower(),
            period=period,
            allows_overage=allows_overage,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    await _put_features(session, code, features)
    return await get_plan(session, code=code)


async def update_plan(
    session: AsyncSession, *, code: str, changes: Mapping[str, object], now: datetime
) -> PlanView:
    """Change a plan's name, price, currency, period or overage, and set the features given
    (a feature set to null on/off means off; quotas and limits: null is unlimited)."""
    plan = await session.get(Plan, code)
    if plan is None:
        raise UnknownPlanError(f"no plan {code!r}", field="plan")
    if "period" in changes:
        _check_period(str(changes["period"]))
    features = changes.get("features")
    if isinstance(features, Mapping):
        check_features(features)
    for name in ("name", "price_cents", "currency", "period", "allows_overage"):
        if name in changes and changes[name] is not None:
            value = changes[name]
            setattr(plan, name, str(value).lower() if name == "currency" else value)
    plan.updated_at = now
    if isinstance(features, Mapping):
        await _put_features(session, code, features, replace=False)
    await session.flush()
    return await get_plan(session, code=code)


async def _put_features(
    session: AsyncSession, code: str, features: Mapping[str, Value], *, replace: bool = True
) -> None:
    if replace:
        await session.execute(delete(PlanFeature).where(PlanFeature.plan_code == code))
    for key, value in features.items():
        if not replace:
            await session.execute(
                delete(PlanFeature).where(PlanFeature.plan_code == code, PlanFeature.feature == key)
            )
        if FEATURES[key].kind is Kind.FLAG:
            if value:
                session.add(PlanFeature(plan_code=code, feature=key, enabled=True, amount=None))
            continue
        amount = None if value is None else int(value)
        session.add(PlanFeature(plan_code=code, feature=key, enabled=True, amount=amount))
    await session.flush()
