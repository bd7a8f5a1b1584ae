"""Drawing graphs and every gradient step of a derivation (Graphviz).

``draw(root, view="forward" | "backward" | "both")`` returns a ``Drawing`` (``.source``,
``.save(path)``, Jupyter display); ``steps(root, out_dir)`` writes one SVG frame per
backward step and an HTML page stepping through them; ``compare_figure`` draws composed
and fused BatchNorm side by side.
"""

from .draw import Drawing, draw
from .model import build_model, root_outputs
from .render import RenderError, render, system_dot

__all__ = ["Drawing", "RenderError", "build_model", "draw", "render", "root_outputs",
           "system_dot"]
