"""What a procedure can do besides its form: each capability is one module."""
