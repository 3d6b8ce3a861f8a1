"""QuickBooks Online: OAuth through intuit-oauth, the Accounting API on requests, the webhook signature."""
