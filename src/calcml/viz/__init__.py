"""Pictures: matplotlib figures (PNG/SVG, deterministic) and graph drawings (SVG).

Every function returns the matplotlib ``Figure`` (``graph`` returns SVG text) and saves it when given
``path=``: ``derivative``, ``loss_surface``, ``learning_rates``, ``vector_field``, ``integral``,
``phase_portrait``, ``solution_curves``, ``training_curves``, ``grad_norms``, ``graph``.
"""

from calcml.viz.derivative import derivative
from calcml.viz.graph import graph
from calcml.viz.integral import integral, riemann_sum
from calcml.viz.loss_surface import learning_rates, loss_surface
from calcml.viz.notebook import register_svg_formatters
from calcml.viz.ode import phase_portrait, solution_curves
from calcml.viz.output import SvgImage, save, svg_text
from calcml.viz.training import grad_norms, training_curves
from calcml.viz.vector_field import vector_field

__all__ = [
    "SvgImage", "derivative", "grad_norms", "graph", "integral", "learning_rates", "loss_surface",
    "phase_portrait", "register_svg_formatters", "riemann_sum", "save", "solution_curves", "svg_text",
    "training_curves", "vector_field",
]

register_svg_formatters()
