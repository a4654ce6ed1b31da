"""omnicity: the domain layer of the City of Brussels' administrative procedures platform."""
