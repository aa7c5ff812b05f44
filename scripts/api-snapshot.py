#!/usr/bin/env python3
"""Public-API snapshot of a crate from its rustdoc JSON: one sorted line per public item.

    api-snapshot.py target/doc/s3_proto.json > api/s3-proto.txt

Lists every public module item reachable from the crate root (re-exports followed), each
inherent method and each trait implemented on a public type (auto and blanket impls left out),
with function signatures rendered as Rust. Written so that a change to the public API shows up
as a diff of api/*.txt in review (scripts/api.sh regenerates them; CI fails when they differ).
"""
import json
import sys


def main(path):
    doc = json.load(open(path))
    index = doc["index"]
    lines = set()

    def ty(t):
        if t is None:
            return "()"
        (kind, v), = t.items()
        if kind == "resolved_path":
            return v["path"] + args(v.get("args"))
        if kind == "generic":
            return v
        if kind == "primitive":
            return v
        if kind == "borrowed_ref":
            lt = (v["lifetime"] + " ") if v.get("lifetime") else ""
            return "&" + lt + ("mut " if v["is_mutable"] else "") + ty(v["type"])
        if kind == "tuple":
            return "(" + ", ".join(ty(x) for x in v) + ")"
        if kind == "slice":
            return "[" + ty(v) + "]"
        if kind == "array":
            return "[" + ty(v["type"]) + "; " + v["len"] + "]"
        if kind == "impl_trait":
            return "impl " + " + ".join(bound(b) for b in v)
        if kind == "dyn_trait":
            return "dyn " + " + ".join(
                p["trait"]["path"] + args(p["trait"].get("args")) for p in v["traits"]
            )
        if kind == "raw_pointer":
            return ("*mut " if v["is_mutable"] else "*const ") + ty(v["type"])
        if kind == "qualified_path":
            return "<" + ty(v["self_type"]) + ">::" + v["name"]
        if kind == "function_pointer":
            sig = v["sig"]
            return "fn(" + ", ".join(ty(t) for _, t in sig["inputs"]) + ") -> " + ty(sig["output"])
        return kind

    def args(a):
        if not a:
            return ""
        if "angle_bracketed" in a:
            parts = []
            for x in a["angle_bracketed"]["args"]:
                if "type" in x:
                    parts.append(ty(x["type"]))
                elif "lifetime" in x:
                    parts.append(x["lifetime"])
                elif "const" in x:
                    parts.append(str(x["const"].get("expr", "_")))
            for c in a["angle_bracketed"].get("constraints", []):
                binding = c.get("binding", {})
                if "equality" in binding and "type" in binding["equality"]:
                    parts.append(c["name"] + " = " + ty(binding["equality"]["type"]))
                else:
                    parts.append(c["name"])
            return "<" + ", ".join(parts) + ">" if parts else ""
        if "parenthesized" in a:
            p = a["parenthesized"]
            return "(" + ", ".join(ty(x) for x in p["inputs"]) + ") -> " + ty(p.get("output"))
        return ""

    def bound(b):
        if "trait_bound" in b:
            t = b["trait_bound"]["trait"]
            m = "?" if b["trait_bound"].get("modifier") == "maybe" else ""
            return m + t["path"] + args(t.get("args"))
        if "outlives" in b:
            return b["outlives"]
        return "_"

    def generics(g):
        out = []
        for p in g.get("params", []):
            k = p["kind"]
            if "lifetime" in k:
                continue
            if "type" in k:
                if k["type"].get("is_synthetic"):
                    continue
                bs = k["type"].get("bounds", [])
                out.append(p["name"] + (": " + " + ".join(bound(b) for b in bs) if bs else ""))
            elif "const" in k:
                out.append("const " + p["name"] + ": " + ty(k["const"]["type"]))
        return "<" + ", ".join(out) + ">" if out else ""

    def function(name, f):
        sig = f["sig"]
        head = f["header"]
        inputs = []
        for n, t in sig["inputs"]:
            if n == "self":
                inputs.append(ty(t).replace("Self", "self") if t != {"generic": "Self"} else "self")
            else:
                inputs.append(n + ": " + ty(t))
        out = "" if sig["output"] is None else " -> " + ty(sig["output"])
        prefix = ("const " if head["is_const"] else "") + ("async " if head["is_async"] else "")
        return prefix + "fn " + name + generics(f["generics"]) + "(" + ", ".join(inputs) + ")" + out

    def describe(prefix, item):
        (kind, v), = item["inner"].items()
        name = prefix
        if kind == "function":
            return function(name, v)
        if kind in ("struct", "enum", "union", "trait", "type_alias", "constant", "static", "macro"):
            extra = ""
            if kind == "constant":
                extra = ": " + ty(v["type"])
            elif kind == "static":
                extra = ": " + ty(v["type"])
            elif kind == "type_alias":
                extra = " = " + ty(v["type"])
            elif kind in ("struct", "enum", "union", "trait"):
                extra = generics(v.get("generics", {}))
            return kind + " " + name + extra
        return kind + " " + name

    seen = set()

    def visit(item_id, prefix):
        key = (item_id, prefix)
        if key in seen:
            return
        seen.add(key)
        item = index.get(str(item_id))
        if item is None:
            return
        (kind, v), = item["inner"].items()
        if kind == "module":
            for child in v["items"]:
                c = index.get(str(child))
                if c is None or c.get("visibility") != "public":
                    continue
                (ck, cv), = c["inner"].items()
                if ck == "use":
                    if cv.get("id") is None:
                        continue
                    target = cv["id"]
                    if cv.get("is_glob"):
                        visit(target, prefix)
                    else:
                        visit_named(target, prefix + "::" + cv["name"])
                else:
                    visit_named(child, prefix + "::" + c["name"])
            return

    def visit_named(item_id, path):
        item = index.get(str(item_id))
        if item is None:
            lines.add("reexport " + path)
            return
        (kind, v), = item["inner"].items()
        if kind == "module":
            lines.add("mod " + path)
            visit(item_id, path)
            return
        lines.add(describe(path, item))
        if kind == "struct" and isinstance(v.get("kind"), dict) and "plain" in v["kind"]:
            for f in v["kind"]["plain"]["fields"]:
                fi = index.get(str(f))
                if fi and fi.get("visibility") == "public":
                    lines.add("field " + path + "." + fi["name"] + ": " + ty(fi["inner"]["struct_field"]))
        if kind == "enum":
            for var in v["variants"]:
                vi = index.get(str(var))
                if vi:
                    lines.add("variant " + path + "::" + vi["name"])
        if kind == "trait":
            for m in v["items"]:
                mi = index.get(str(m))
                if mi and "function" in mi["inner"]:
                    lines.add("trait-fn " + path + ": " + function(mi["name"], mi["inner"]["function"]))
        for imp_id in v.get("impls", []) if isinstance(v, dict) else []:
            imp = index.get(str(imp_id))
            if imp is None:
                continue
            i = imp["inner"]["impl"]
            if i.get("is_synthetic") or i.get("blanket_impl") is not None:
                continue
            if i.get("trait") is not None:
                lines.add("impl " + i["trait"]["path"] + args(i["trait"].get("args")) + " for " + path)
                continue
            for m in i["items"]:
                mi = index.get(str(m))
                if mi is None or mi.get("visibility") != "public":
                    continue
                if "function" in mi["inner"]:
                    lines.add("fn " + path + "::" + function(mi["name"], mi["inner"]["function"])[3:])
                elif "assoc_const" in mi["inner"]:
                    lines.add("const " + path + "::" + mi["name"])

    root = index[str(doc["root"])]
    visit(doc["root"], root["name"])
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main(sys.argv[1])
