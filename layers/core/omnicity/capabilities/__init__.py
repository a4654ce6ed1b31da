"""What a procedure can do besides its form: each capability is one module, registered by name (``base.register``).

The modules listed in :data:`BUILT_IN` are imported by the catalogue before it loads, so their names are known.
"""

BUILT_IN = ("anonymous_reports", "booking", "card_order", "photos", "review", "routing")
