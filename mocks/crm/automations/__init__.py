"""CRM automations: rules (YAML) that turn a CRM change into work in the other mocks.

Importing this opens nothing; ``CrmService`` loads ``SHIPPED_RULES`` when it is built.
"""

from pathlib import Path

from mocks.crm.automations.engine import AutomationEngine
from mocks.crm.automations.models import RuleSet, RulesFileError, load_rules_file

__all__ = ["SHIPPED_RULES", "AutomationEngine", "RuleSet", "RulesFileError", "load_rules_file"]

SHIPPED_RULES = Path(__file__).with_name("rules.yaml")
