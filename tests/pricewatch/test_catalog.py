"""The colorway catalog (pricewatch/catalog.toml) and looking colorways up by name."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from pricewatch.catalog import FAMILIES, CatalogError, load_catalog, parse_catalog
from pricewatch.lookup import AmbiguousColorway, NoStyleCode, UnknownColorway, resolve
from pricewatch.styles import KNOWN_COLORWAYS, find_style_codes, identify_2002r


def test_the_packaged_catalog_loads_and_every_code_is_a_2002r_code() -> None:
    catalog = load_catalog()
    assert len(catalog.colorways) >= 25
    for colorway in catalog.colorways:
        assert colorway.source and colorway.family in FAMILIES
        if colorway.style_code:
            assert find_style_codes(colorway.style_code) == [colorway.style_code]
    # what the research names, including the collabs it knows no code for
    keys = {c.key for c in catalog.colorways}
    assert {"M2002RDA", "M2002NA", "ML2002R1", "M2002RXU"} <= keys
    assert {"jjjjound-gore-tex", "beams-mule", "sneakersnstuff-homegoods-mule"} <= keys
    assert {"shoe-palace-volcanic-rock-blue-red", "shoe-palace-volcanic-rock-brown"} <= keys
    assert catalog.retail_prices()["M2002NA"] == (Decimal("165.00"), "USD")
    assert list(catalog.families())[:3] == ["Inline", "Core", "Protection Pack"]
    assert Counter(c.family for c in catalog.colorways)["Mule"] == 4  # the mule family shown


def test_every_catalog_code_is_one_the_spiders_recognise_and_only_h_m_names_are_shown() -> None:
    for colorway in load_catalog().colorways:
        if colorway.style_code is None:
            continue
        code = colorway.style_code
        for found in (
            identify_2002r(title=f"New Balance 2002R {code}"),
            identify_2002r(title="New Balance 2002R", skus=[f"{code}-D-10"]),
        ):
            assert found is not None and found.style_code == code
        shown = KNOWN_COLORWAYS.get(colorway.style_code)
        assert shown == (colorway.name if colorway.confidence in "HM" else None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("M2002RDA", "M2002RDA"),
        ("m2002rda", "M2002RDA"),
        ("rain cloud", "M2002RDA"),
        ("Rain-Cloud", "M2002RDA"),
        ("RAINCLOUD", "M2002RDA"),
        ("salehe", "ML2002R1"),
        ("peace be the journey", "ML2002R1"),
        ("gore tex olive", "M2002RXU"),
        ("core pack phantom", "M2002RHO"),
        ("M2002RZZ", "M2002RZZ"),  # a well-formed code nobody lists yet: a release to wait for
    ],
)
def test_names_and_aliases_resolve_to_their_code(text: str, code: str) -> None:
    assert resolve(text) == code


def test_a_name_several_colorways_share_asks_which() -> None:
    with pytest.raises(AmbiguousColorway) as raised:
        resolve("phantom")
    assert {c.style_code for c in raised.value.matches} == {"M2002RDB", "M2002RHO"}
    assert str(raised.value) == (
        "“phantom” could be 2 colorways: did you mean Protection Pack Phantom (M2002RDB) "
        "or Core Pack Phantom (M2002RHO)?"
    )
    with pytest.raises(AmbiguousColorway) as raised:  # the one the shops list comes first
        resolve("phantom", {"M2002RHO"})
    assert "did you mean Core Pack Phantom (M2002RHO) or Protection Pack Phantom" in str(
        raised.value
    )
    with pytest.raises(AmbiguousColorway) as raised:
        resolve("mule")
    assert len(raised.value.matches) == 4


def test_a_collab_without_a_code_is_found_but_cannot_be_watched() -> None:
    with pytest.raises(NoStyleCode) as raised:
        resolve("jjjjound")
    assert str(raised.value).startswith("JJJJound GORE-TEX has no known style code yet")
    for text, key in [
        ("homegoods", "sneakersnstuff-homegoods-mule"),
        ("beams", "beams-mule"),
        ("bape", "bape"),
    ]:
        with pytest.raises(NoStyleCode) as unwatchable:
            resolve(text)
        assert unwatchable.value.colorway.key == key
    with pytest.raises(AmbiguousColorway) as pair:  # the Shoe Palace two-pack
        resolve("volcanic rock")
    assert [c.collab for c in pair.value.matches] == ["Shoe Palace", "Shoe Palace"]


def test_unknown_text_suggests_close_names_and_codes() -> None:
    with pytest.raises(UnknownColorway) as raised:
        resolve("rain clod")
    assert raised.value.suggestions[0] == "Protection Pack Rain Cloud (M2002RDA)"
    with pytest.raises(UnknownColorway) as raised:
        resolve("M2002XDA", {"M2002RDA"})
    assert str(raised.value) == "I don't track M2002XDA yet. Did you mean M2002RDA?"
    with pytest.raises(UnknownColorway):
        resolve("x" * 500)


GOOD = {"code": '"M2002RAA"', "family": '"Inline"', "source": '"x"', "confidence": '"H"'}


def entry(**fields: str | None) -> str:
    """One [[colorway]] table: the good fields, changed (None: left out)."""
    merged = {**GOOD, **fields}
    return "[[colorway]]\n" + "".join(f"{k} = {v}\n" for k, v in merged.items() if v)


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        (entry(code='"M990GL6"'), "not a 2002R"),
        (entry(family='"Boots"'), "family"),
        (entry(source=None), "source"),
        (entry(confidence='"X"'), "confidence"),
        (entry(code=None, key='"x"'), "needs a name"),
        (entry(retail='"150"'), "currency"),
        (entry(price="1"), "unknown field"),
        (entry() + entry(), "listed twice"),
        ("[[colorway]\n", "catalog.toml"),
    ],
)
def test_a_broken_entry_is_a_clear_error_naming_it(toml: str, error: str) -> None:
    with pytest.raises(CatalogError, match=error):
        parse_catalog(toml)
    assert parse_catalog(entry()).by_code["M2002RAA"].family == "Inline"
