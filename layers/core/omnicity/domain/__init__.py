"""The domain's vocabulary and rules: no AWS, no HTTP, no catalogue file."""
