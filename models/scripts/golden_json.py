"""Writes golden-value files compactly (shared by the scripts that write models/**/golden.json)."""

import json


def compact_json(value, indent=0) -> str:
    """JSON with one key per line but every list of scalars (or of scalar pairs) on one line: small, diffable."""
    pad = " " * indent
    if isinstance(value, dict):
        items = [f'{pad} {json.dumps(k)}: {compact_json(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return "[\n" + ",\n".join(pad + " " + compact_json(v, indent + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)
