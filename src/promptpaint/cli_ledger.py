"""Moved to ``promptpaint.cli.ledger`` and ``promptpaint.cli.cost``; kept for one release."""

from .cli.cost import by as cost_by  # noqa: F401
from .cli.ledger import budget_cmd, ledger_cmd  # noqa: F401
