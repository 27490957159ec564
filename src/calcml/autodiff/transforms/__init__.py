"""Function transforms, as in JAX: each takes a function and returns a new one.

    grad(f)(x)                 ∇f(x)                          (reverse mode)      reverse_mode.py
    value_and_grad(f)(x)       (f(x), ∇f(x))
    vjp(f, x)                  (f(x), u ↦ uᵀ J)
    jvp(f, (x,), (v,))         (f(x), J v)                    (forward mode)      forward_mode.py
    jacobian(f, mode=...)(x)   J, by rows (rev) or by columns pushed all at once (fwd)    jacobians.py
    hessian(f)(x)              ∇²f(x) = the forward-mode Jacobian of ∇f
    hvp(f, x, v)               ∇²f(x) v, forward-over-reverse
    stop_gradient(x)           x as a constant                                    arguments.py

Transforms compose: called inside another transform they return Tensors that stay on the outer
trace, so ``grad(grad(f))`` is the second derivative. At the top level they return plain arrays.
(``cm.vmap`` lives in ``calcml.autodiff.batching``.)
"""

from calcml.autodiff.transforms.arguments import stop_gradient
from calcml.autodiff.transforms.forward_mode import jvp
from calcml.autodiff.transforms.jacobians import hessian, hvp, jacobian
from calcml.autodiff.transforms.reverse_mode import grad, value_and_grad, vjp

__all__ = ["grad", "hessian", "hvp", "jacobian", "jvp", "stop_gradient", "value_and_grad", "vjp"]
