"""Billing: price sheets, invoices and budgets, from the quantities that nuage.core.metering records."""
