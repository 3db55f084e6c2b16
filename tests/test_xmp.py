"""XMP packets: what atlas writes reads back, and hostile packets are refused, not expanded."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas.core.errors import BadInput
from atlas.core.files import infotext, xmp


def record(title, description, author, prompt="a cat") -> dict:
    licence = {"id": "CC0-1.0", "name": "CC0 1.0", "url": "https://creativecommons.org/publicdomain/zero/1.0/",
               "spdx": "CC0-1.0", "commons_template": "Cc-zero"}
    return {"atlas_record": 1,
            "render": {"title": title, "description": description, "author": author,
                       "created": "2026-01-01T00:00:00.000Z", "licence": licence},
            "lineage": [{"kind": "txt2img", "prompt": prompt, "model": None, "software": {"atlas": "0.1.0"}}]}


def expected(text: str) -> str:
    """What XML can carry: no control characters, line ends as newlines."""
    return xmp._clean(text)


text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40).filter(lambda t: expected(t))


@settings(max_examples=300, deadline=None)
@given(title=text, description=text, author=text)
def test_fields_round_trip(title, description, author):
    found = xmp.parse(xmp.build(record(title, description, author), provenance_json='{"a":"<&>"}'))
    assert found["dc:title"] == expected(title)
    assert found["atlas:Description"] == expected(description)
    assert found["dc:creator"] == [expected(author)]
    assert found["Iptc4xmpExt:DigitalSourceType"] == xmp.TRAINED_ALGORITHMIC_MEDIA
    assert found["xmpRights:WebStatement"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert found["atlas:Provenance"] == '{"a":"<&>"}'


def test_description_is_the_a1111_text_never_the_bare_prompt_or_a_caption():
    """Image browsers' readers take XMP dc:description as the generation parameters: it must be the
    A1111 text (prompt, negative, then the `Key: value` line), whatever caption the render has."""
    rec = record("Harbour", "my caption", None, prompt="a lighthouse, at dusk")
    rec["lineage"][0].update(negative_prompt="blurry", seed=18446744073709551615, steps=20, sampler="Euler a",
                             cfg=7.0, width=96, height=64)
    found = xmp.parse(xmp.build(rec))
    prompt, negative, params = infotext.parse(found["dc:description"])
    assert (prompt, negative) == ("a lighthouse, at dusk", "blurry")
    assert params["Seed"] == "18446744073709551615" and params["Steps"] == "20" and params["Size"] == "96x64"
    assert params["Sampler"] == "Euler a" and float(params["CFG scale"]) == 7.0
    assert found["atlas:Description"] == "my caption"


def test_title_falls_back_to_the_prompt_and_missing_fields_are_left_out():
    found = xmp.parse(xmp.build(record(None, None, None, prompt="a lighthouse")))
    assert found["dc:title"] == "a lighthouse" and "dc:creator" not in found


def test_reads_attribute_form_packets_from_other_tools():
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Photoshop"/>'
              '</rdf:RDF></x:xmpmeta>')
    assert xmp.parse(packet)["xmp:CreatorTool"] == "Photoshop"


@pytest.mark.parametrize("packet", [
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>',
    "<x:xmpmeta><unclosed>",
    "",
])
def test_hostile_or_broken_packets_are_bad_input(packet):
    with pytest.raises(BadInput, match="XMP packet"):
        xmp.parse(packet, "f.png")
