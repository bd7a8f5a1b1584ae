"""Drawing graphs and every gradient step of a derivation (Graphviz).

``draw(root, view="forward" | "backward" | "both")`` returns a ``Drawing`` (``.source``,
``.save(path)``, Jupyter display); ``steps(root, out_dir)`` writes an HTML page stepping
through the backward pass (search box, folded modules that open) and one SVG frame per step;
``compare_figure`` draws composed and fused BatchNorm side by side.
"""

from .draw import Drawing, draw
from .figures import compare_figure, write_demo_figures
from .model import build_model, root_outputs
from .render import RenderError, system_dot
from .steps import steps

__all__ = ["Drawing", "RenderError", "build_model", "compare_figure", "draw", "root_outputs",
           "steps", "system_dot", "write_demo_figures"]
