"""A procedure's form: server-side validation and its JSON Schema."""
