"""Helpers for the rendering tests: SVG parsing and the seed's staged numpy derivation."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

SVG_NS = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|-?inf")



def _system_renderer() -> bool:
    """Whether drawings are rendered by the system Graphviz (found, and not switched off by
    ``MINIGRAD_RENDERER=wasm``): tests of HTML-label details (fonts, bold names, colours)
    need it; the WebAssembly renderer draws plain labels."""
    from minigrad.viz import render

    try:
        return render.uses_system_dot()
    except (RuntimeError, ValueError):
        return False


needs_dot = pytest.mark.skipif(not _system_renderer(),
                               reason="system Graphviz not found or MINIGRAD_RENDERER=wasm")


def svg_nodes(svg: str) -> list[dict]:
    """Every drawn node: its DOT id, all its texts, and the texts in the value font."""
    root = ET.fromstring(svg.encode())
    nodes = []
    for group in root.iter(f"{SVG_NS}g"):
        if group.get("class") != "node":
            continue
        texts, values = [], []
        for text in group.iter(f"{SVG_NS}text"):
            content = "".join(text.itertext()).replace("\xa0", " ")
            texts.append(content)
            if "Courier" in (text.get("font-family") or ""):
                values.append(content)
        nodes.append({"id": group.findtext(f"{SVG_NS}title"), "group_id": group.get("id"),
                      "texts": texts, "values": values, "title": texts[0] if texts else ""})
    return nodes


def node_named(nodes: list[dict], name: str) -> list[dict]:
    """The nodes whose bold title (first text) is exactly ``name``."""
    return [n for n in nodes if n["title"].strip() == name]


def shown_numbers(node: dict) -> np.ndarray:
    """The numbers printed in a node's value lines, in order."""
    found = [float(v) for line in node["values"] for v in NUMBER.findall(line)]
    return np.array(found)


def shown_step(node: dict) -> int | None:
    """The seed step number printed on a gradient node (``step 7``), if any."""
    for text in node["texts"]:
        match = re.fullmatch(r"\s*step (\d+)", text)
        if match:
            return int(match[1])
    return None


def seed_staged(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                dout: np.ndarray) -> dict[str, np.ndarray]:
    """The seed's forward steps 1-6 and backward steps 9-0 in numpy, every intermediate kept
    (written out here again, independently of minigrad)."""
    n, d = x.shape
    v: dict[str, np.ndarray] = {}
    v["mu"] = 1.0 / n * np.sum(x, axis=0)
    v["xmu"] = x - v["mu"]
    v["sq"] = v["xmu"] ** 2
    v["var"] = 1.0 / n * np.sum(v["sq"], axis=0)
    v["sqrtvar"] = np.sqrt(v["var"] + eps)
    v["ivar"] = 1.0 / v["sqrtvar"]
    v["xhat"] = v["xmu"] * v["ivar"]
    v["gammax"] = gamma * v["xhat"]
    v["out"] = v["gammax"] + beta
    v["dout"] = dout
    v["dbeta"] = np.sum(dout, axis=0)
    v["dgamma"] = np.sum(dout * v["xhat"], axis=0)
    v["dxhat"] = dout * gamma
    v["divar"] = np.sum(v["dxhat"] * v["xmu"], axis=0)
    v["dxmu1"] = v["dxhat"] * v["ivar"]
    v["dsqrtvar"] = -1.0 / (v["sqrtvar"] ** 2) * v["divar"]
    v["dvar"] = 0.5 * 1.0 / np.sqrt(v["var"] + eps) * v["dsqrtvar"]
    v["dsq"] = 1.0 / n * np.ones((n, d)) * v["dvar"]
    v["dxmu2"] = 2 * v["xmu"] * v["dsq"]
    v["dx1"] = v["dxmu1"] + v["dxmu2"]
    v["dmu"] = -1 * np.sum(v["dxmu1"] + v["dxmu2"], axis=0)
    v["dx2"] = 1.0 / n * np.ones((n, d)) * v["dmu"]
    v["dx"] = v["dx1"] + v["dx2"]
    return v


SEED_STEPS = {"dbeta": 9, "dgamma": 8, "dxhat": 8, "divar": 7, "dxmu1": 7, "dsqrtvar": 6,
              "dvar": 5, "dsq": 4, "dxmu2": 3, "dmu": 2, "dx2": 1, "dx": 0}
