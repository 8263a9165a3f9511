"""CRM and customer success: leads, opportunities, the sales-to-service handoff,
adoption and success plans."""
