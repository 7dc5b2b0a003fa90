"""Billing errors: a feature the tenant's plan lacks, a quota used up, plans that do not exist."""

from __future__ import annotations

from typing import Any

from whatsapp_ai.core.errors import ConflictError, DomainError, InvalidInputError, NotFoundError


class BillingError(DomainError):
    """A billing request the platform refuses."""


class PaymentRequiredError(BillingError):
    """The tenant's plan does not cover the request (402); ``plan`` is the cheapest plan that
    does, None when no plan does."""

    status = 402
    code = "payment_required"

    def __init__(
        self, message: str, *, feature: str, plan: str | None, tenant_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.feature = feature
        self.plan = plan
        # Whose plan refused (the operators of that tenant are told); never in the body.
        self.tenant_id = tenant_id

    @property
    def extra(self) -> dict[str, Any]:
        """What the error body adds to the code and message."""
        return {"feature": self.feature, "plan": self.plan}


class FeatureNotInPlanError(PaymentRequiredError):
    """An on/off feature the plan does not switch on, or a limit it sets lower."""

    code = "feature_not_in_plan"


class QuotaExceededError(PaymentRequiredError):
    """A quota of this billing period is used up (and the plan allows no overage)."""

    code = "quota_exceeded"


class UnknownPlanError(BillingError, NotFoundError):
    """No plan with this code."""


class UnknownFeatureError(BillingError, InvalidInputError):
    """A feature key the platform does not have, or a value of the wrong kind."""


class PlanExistsError(BillingError, ConflictError):
    """A plan with this code exists already."""
