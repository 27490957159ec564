"""Pictures: matplotlib figures (PNG/SVG, deterministic) and graph drawings (SVG), in one house style.

Every function returns the matplotlib ``Figure`` (``graph`` returns SVG text) and saves it when given
``path=``: ``derivative``, ``loss_surface``, ``learning_rates``, ``vector_field``, ``integral``,
``phase_portrait``, ``solution_curves``, ``training_curves``, ``grad_norms``, ``losses``, ``classifier``,
``confusion_matrix``, the case studies' ``backprop_three_ways``, ``cnn_filters``, ``convolution_as_integral`` and
``rnn_gradients``, a parameter ``sweep``, curvature's ``sharpness``, ``spectrum`` and ``convergence``,
sensitivity's ``attributions``, and ``graph``. ``theme`` is the house style they share
(``optimizer_style``: one look per optimizer in every panel); ``math_text`` turns a formula into a mathematical title.
"""

from calcml.viz.attribution import attributions
from calcml.viz.backprop_three_ways import backprop_three_ways
from calcml.viz.classification import classifier, confusion_matrix
from calcml.viz.cnn_filters import cnn_filters
from calcml.viz.convolution_as_integral import convolution_as_integral
from calcml.viz.curvature import convergence, sharpness, spectrum
from calcml.viz.derivative import derivative
from calcml.viz.graph import graph
from calcml.viz.integral import integral, riemann_sum
from calcml.viz.loss_surface import learning_rates, loss_surface
from calcml.viz.losses import losses
from calcml.viz.math_text import math_text
from calcml.viz.notebook import register_svg_formatters
from calcml.viz.ode import phase_portrait, solution_curves
from calcml.viz.output import SvgImage, save, svg_text
from calcml.viz.rnn_gradients import rnn_gradients
from calcml.viz.sweep import sweep
from calcml.viz.theme import optimizer_style, theme, themed
from calcml.viz.training import grad_norms, training_curves
from calcml.viz.vector_field import vector_field

__all__ = [
    "SvgImage", "backprop_three_ways", "classifier", "cnn_filters", "confusion_matrix", "convolution_as_integral",
    "derivative", "grad_norms", "graph", "integral", "learning_rates", "loss_surface", "losses", "math_text",
    "optimizer_style", "phase_portrait", "register_svg_formatters", "riemann_sum", "rnn_gradients", "save",
    "solution_curves", "svg_text", "sweep", "theme", "themed", "training_curves", "vector_field",
    "attributions", "convergence", "sharpness", "spectrum",
]

register_svg_formatters()
