"""ComfyUI's `prompt` graph: which sampler made the saved image.

The graph maps node ids to {"class_type", "inputs"}; an input is a value or a link
[source node id, output index]. A workflow may save several images (a preview before a hires
pass, for instance); the file's own image is taken to be the one behind the most samplers, and
its sampler the one nearest to the save node.
"""

from collections import deque

SAVE_NODES = ("SaveImage", "PreviewImage", "Image Save", "SaveImageWebsocket")


def _links(node: dict):
    for value in (node.get("inputs") or {}).values():
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)):
            yield str(value[0])


def is_sampler(node: dict) -> bool:
    kind = str(node.get("class_type", ""))
    return "Sampler" in kind and ("steps" in (node.get("inputs") or {}) or "sigmas" in (node.get("inputs") or {}))


def upstream_samplers(graph: dict, start: str) -> list[str]:
    """Sampler node ids reachable upstream of `start`, nearest first (breadth-first)."""
    seen, queue, found = {start}, deque([start]), []
    while queue:
        node_id = queue.popleft()
        node = graph.get(node_id)
        if not isinstance(node, dict):
            continue
        if node_id != start and is_sampler(node):
            found.append(node_id)
        for source in _links(node):
            if source not in seen:
                seen.add(source)
                queue.append(source)
    return found


def final_sampler(graph: dict) -> str | None:
    """The id of the sampler that made the saved image, or None when the graph has none."""
    if not isinstance(graph, dict):
        return None
    saves = [k for k, v in graph.items() if isinstance(v, dict) and v.get("class_type") in SAVE_NODES]
    best, best_depth = None, -1
    for save in sorted(saves, key=_node_order):
        chain = upstream_samplers(graph, save)
        if chain and len(chain) >= best_depth:
            best, best_depth = chain[0], len(chain)
    if best is None:
        samplers = [k for k, v in graph.items() if isinstance(v, dict) and is_sampler(v)]
        best = max(samplers, key=_node_order) if samplers else None
    return best


def _node_order(node_id: str):
    return (0, int(node_id), "") if str(node_id).isdigit() else (1, 0, str(node_id))


def latent_size(graph: dict, sampler_id: str) -> tuple[int | None, int | None]:
    """The size a sampler worked at: the nearest node upstream of its latent input that sets one
    (EmptyLatentImage, LatentUpscale, ...). (None, None) for latents encoded from a loaded image."""
    node = graph.get(str(sampler_id)) if isinstance(graph, dict) else None
    link = (node or {}).get("inputs", {}).get("latent_image")
    if not (isinstance(link, list) and link):
        return None, None
    seen, queue = set(), deque([str(link[0])])
    while queue:
        node_id = queue.popleft()
        if node_id in seen:
            continue
        seen.add(node_id)
        current = graph.get(node_id)
        if not isinstance(current, dict) or is_sampler(current):
            continue  # a sampler keeps the size of its own input: look no further on this path
        inputs = current.get("inputs") or {}
        width, height = inputs.get("width"), inputs.get("height")
        if isinstance(width, int) and isinstance(height, int):
            return width, height
        queue.extend(_links(current))
    return None, None
