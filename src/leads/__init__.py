"""Leads and the sales funnel: lead scores and grades, defeat analysis, order classes, sources."""
