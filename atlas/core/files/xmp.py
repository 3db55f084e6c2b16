"""XMP packets: the fields photo tools, exiftool and Commons read, written from a provenance record.

Written: IPTC DigitalSourceType trainedAlgorithmicMedia, dc:title/description/creator/rights,
xmpRights:UsageTerms and WebStatement (the output licence URL), cc:license, xmp:CreatorTool and
CreateDate, and in atlas's own namespace the model, its hash, its licence and the render's own
description. Exports to JPEG/WebP also carry the whole provenance record as JSON in
`atlas:Provenance` (PNG has its own chunk).

`dc:description` is the A1111 parameters text, the same as the PNG `parameters` chunk and the
EXIF UserComment: image browsers' readers take it as the generation parameters, so a bare prompt
(or a user's caption) there would hide the A1111 text from them. The user's description is
`atlas:Description`.

Reading takes any XMP packet (files atlas never made too), through defusedxml: no entity expansion.
"""

import re
import xml.etree.ElementTree as ET

from atlas.core.errors import BadInput

PNG_KEYWORD = "XML:com.adobe.xmp"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "cc": "http://creativecommons.org/ns#",
    "atlas": "https://atlas.invalid/ns/xmp/1.0/",
    "xmpNote": "http://ns.adobe.com/xmp/note/",
}
PREFIX = {uri: prefix for prefix, uri in NS.items()}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
PACKET_HEAD = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
PACKET_TAIL = '\n<?xpacket end="w"?>'


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _clean(text) -> str:
    """What XML can carry: no control characters; line ends as newlines (XML parsers turn CR into LF)."""
    return XML_INVALID.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def _add(parent: ET.Element, name: str, value, container: str | None = None) -> None:
    """Add property `name`: a plain value, or an rdf:Alt (language alternatives) / rdf:Seq list."""
    if value is None or value == "" or value == []:
        return
    prop = ET.SubElement(parent, _q(name))
    if container is None:
        prop.text = _clean(value)
        return
    holder = ET.SubElement(prop, _q(f"rdf:{container}"))
    for item in (value if isinstance(value, list) else [value]):
        li = ET.SubElement(holder, _q("rdf:li"))
        if container == "Alt":
            li.set("{http://www.w3.org/XML/1998/namespace}lang", "x-default")
        li.text = _clean(item)


def _last_model(record: dict) -> dict | None:
    for step in reversed(record["lineage"]):
        if step.get("model"):
            return step["model"]
    return None


def fields(record: dict) -> dict:
    """The XMP fields of a record, as (prefix:name) -> value; what `build` writes."""
    render = record["render"]
    first = record["lineage"][0]
    licence = render.get("licence")
    model = _last_model(record)
    version = (record["lineage"][-1].get("software") or {}).get("atlas")
    from atlas.core.files.embed import parameters_text  # embed writes this packet: imported here, not above

    return {
        "Iptc4xmpExt:DigitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "dc:title": render.get("title") or first["prompt"][:200] or None,
        "dc:description": parameters_text(record),
        "dc:creator": [render["author"]] if render.get("author") else [],
        "dc:rights": (f"{render['author'] + ', ' if render.get('author') else ''}"
                      f"licensed under {licence['name']}" if licence else None),
        "xmpRights:UsageTerms": (f"This work is licensed under {licence['name']}: {licence['url']}"
                                 if licence else None),
        "xmpRights:WebStatement": licence["url"] if licence else None,
        "cc:license": licence["url"] if licence else None,
        "xmp:CreatorTool": f"atlas {version}" if version else "atlas",
        "xmp:CreateDate": render.get("created"),
        "atlas:Model": model["name"] if model else None,
        "atlas:ModelHash": model["short_hash"] if model else None,
        "atlas:ModelSHA256": model["sha256"] if model else None,
        "atlas:ModelLicense": model["licence"]["name"] if model else None,
        "atlas:ModelLicenseURL": model["licence"]["url"] if model else None,
        "atlas:ModelLicenseSPDX": model["licence"]["spdx"] if model else None,
        "atlas:Description": render.get("description") or None,
    }


CONTAINERS = {"dc:title": "Alt", "dc:description": "Alt", "atlas:Description": "Alt", "dc:rights": "Alt",
              "xmpRights:UsageTerms": "Alt",
              "dc:creator": "Seq"}


def build(record: dict | None, provenance_json: str | None = None, extended_guid: str | None = None) -> str:
    """An XMP packet for `record`; `provenance_json` (ASCII JSON) is added for formats without a chunk of their own.
    `extended_guid` names the extended packet that completes this one (JPEG, see `jpeg_xmp`); with
    no record the packet holds that note alone."""
    root = ET.Element(_q("x:xmpmeta"))
    rdf = ET.SubElement(root, _q("rdf:RDF"))
    desc = ET.SubElement(rdf, _q("rdf:Description"), {_q("rdf:about"): ""})
    for name, value in (fields(record) if record is not None else {}).items():
        _add(desc, name, value, CONTAINERS.get(name))
    if provenance_json is not None:
        _add(desc, "atlas:Provenance", provenance_json)
    if extended_guid is not None:
        _add(desc, "xmpNote:HasExtendedXMP", extended_guid)
    return PACKET_HEAD + ET.tostring(root, encoding="unicode") + PACKET_TAIL


def _name(tag: str) -> str:
    uri, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    prefix = PREFIX.get(uri)
    return f"{prefix}:{local}" if prefix else tag


def _value(prop: ET.Element):
    for kind in ("Alt", "Seq", "Bag"):
        holder = prop.find(_q(f"rdf:{kind}"))
        if holder is not None:
            items = [li.text or "" for li in holder.findall(_q("rdf:li"))]
            if kind == "Alt":
                return items[0] if items else ""
            return items
    resource = prop.get(_q("rdf:resource"))
    return resource if resource is not None else (prop.text or "").strip()


def parse(packet: str | bytes, what: str = "file") -> dict:
    """prefix:name -> value of every property in an XMP packet (language alternatives: the first)."""
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    if isinstance(packet, bytes):
        packet = packet.decode("utf-8", errors="replace")
    # The xpacket wrapper is a processing instruction; a BOM or padding around it is allowed.
    body = packet.strip().lstrip("\ufeff")
    try:
        root = SafeET.fromstring(body)
    except (ET.ParseError, DefusedXmlException) as exc:
        raise BadInput(f"{what}: the XMP packet is not valid XML: {exc}") from None
    found: dict = {}
    for desc in root.iter(_q("rdf:Description")):
        for attr, value in desc.attrib.items():
            if _name(attr) not in ("rdf:about",):
                found[_name(attr)] = value
        for prop in desc:
            found[_name(prop.tag)] = _value(prop)
    return found
