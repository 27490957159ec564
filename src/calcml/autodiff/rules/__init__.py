"""The table of primitives, by family. Importing this package registers every rule."""

from calcml.autodiff.rules import elementwise, reductions  # noqa: F401
