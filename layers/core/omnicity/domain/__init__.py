"""The domain's vocabulary and rules, and the city it serves (its calendar, its messages): no AWS, no HTTP."""
