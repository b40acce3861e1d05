"""pricewatch.styles: which listings are a 2002R, and their style code.

Shapes from tests/fixtures/realdata and docs/retailers.md 4: Kith handles glue the brand to the code
("jb850000-116", "nk640744-602"; NB ones "nbm990gl6", "nbu992ki") and repeat it in body_html
("Style: NK640744-602") and tags; atmos puts the code in a body <li> and tags; Footpatrol ends the
body with " | U991KK2" and uses numeric handles ("728334"); SFCC ids ("M2002RDA-D-07",
"M2002RV1-42829"); NB Scene7 image names ("m2002rho_nb_02_i"); Joe's shop_sku "<STYLE>_<size>".
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricewatch.catalog import load_catalog
from pricewatch.styles import (
    KNOWN_COLORWAYS,
    StyleMatch,
    colorway_name,
    find_style_codes,
    identify_2002r,
    is_2002r_title,
    sfcc_style_code,
    url_code_text,
)

# --- find_style_codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("M2002RDA", ["M2002RDA"]),
        ("m2002rda", ["M2002RDA"]),
        ("new-balance-2002r-m2002rda", ["M2002RDA"]),  # SNS handle
        ("new-balance-2002rd-raincloud-grey-m2002rda", ["M2002RDA"]),  # SoleSavy: "2002rd" no code
        ("2002r-protection-pack-rain-cloud-m2002rda", ["M2002RDA"]),  # GOAT slug
        ("m2002rda-d", ["M2002RDA"]),
        ("M2002RXD-2E", ["M2002RXD"]),
        ("M2002RDA-100", ["M2002RDA"]),
        ("M2002RDA_10", ["M2002RDA"]),  # Joe's shop_sku shape
        ("M2002RDA_10.5", ["M2002RDA"]),
        ("/de/pd/2002r-protection-pack/M2002RDA-D-07.html", ["M2002RDA"]),
        ("/pd/2002r/U2002RCA-D-15.html", ["U2002RCA"]),
        ("newbalance.it/en/pd/2002r/U2002RB-D-11.html", ["U2002RB"]),
        ("nb.scene7.com/is/image/NB/m2002rho_nb_02_i", ["M2002RHO"]),
        ("new-balance-2002r-mule-m2002rmb", ["M2002RMB"]),
        ("nbm2002rda", ["M2002RDA"]),  # Kith-style brand prefix
        ("nbu2002rbl", ["U2002RBL"]),
        ("Style: M2002RDB", ["M2002RDB"]),  # Kith body_html
        ("<li>M2002RDC</li>", ["M2002RDC"]),  # atmos body_html
        ("'Elevated Essentials' pack ... | M2002RHN", ["M2002RHN"]),  # Footpatrol body end
        ("New Balance M2002RXD-D 防水休閒鞋", ["M2002RXD"]),
        ("ML2002R1", ["ML2002R1"]),
        ("ML2002RA", ["ML2002RA"]),
        ("ML2002RC", ["ML2002RC"]),
        ("U2002RBL", ["U2002RBL"]),
        ("M2002RXU", ["M2002RXU"]),
        ("M2002NA", ["M2002NA"]),  # the R-less Protection Pack mule
        ("new-balance-m2002na-mule", ["M2002NA"]),
        ("M2002RDN, M2002RDO, M2002RDQ", ["M2002RDN", "M2002RDO", "M2002RDQ"]),
        ("M2002RDA M2002RDA-D m2002rda", ["M2002RDA"]),  # deduplicated
        ("M2002RDB then M2002RDA then M2002RDB", ["M2002RDB", "M2002RDA"]),  # order kept
        ("GC2002RA", ["GC2002RA"]),
        ("PC2002RB", ["PC2002RB"]),
        ("IV2002RC", ["IV2002RC"]),
        ("WL2002RA", ["WL2002RA"]),
        ("MS2002RA", ["MS2002RA"]),
        ("W2002RA", ["W2002RA"]),
        ("(M2002RDA)", ["M2002RDA"]),
        ('"M2002RDA"', ["M2002RDA"]),
        ("M2002RDA/M2002RDB", ["M2002RDA", "M2002RDB"]),
        # never a 2002R code
        ("XM2002RDA1234", []),
        ("XM2002RDA", []),
        ("M2002RDA1234", []),
        ("M2002RDAB1", []),
        ("2002R", []),
        ("2002RX", []),  # a model name, not a style code
        ("2002rd", []),
        ("New Balance 2002R", []),
        ("M2002R", []),
        ("M2002BK", []),  # the 2010 original 2002: no R
        ("M2002", []),
        ("MR2002", []),
        ("M2002NAB", []),
        ("W2002NA", []),
        ("M2002RV1-42829", []),  # SFCC master id, not a colorway
        ("U2002RV1-50719", []),
        ("M990GL6", []),
        ("990v6", []),
        ("M1906RA", []),
        ("U9060GRY", []),
        ("U991KK2", []),
        ("BB550JP1_10", []),
        ("jb850000-116", []),
        ("nk640744-602", []),
        ("FQ8822-084", []),
        ("M20021RDA", []),
        ("", []),
    ],
)
def test_find_style_codes(text: str, codes: list[str]) -> None:
    assert find_style_codes(text) == codes


# --- is_2002r_title ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("New Balance 2002R", True),
        ("2002R", True),
        ("new balance 2002r", True),
        ("New Balance 2002 R", True),
        ("New Balance 2002-R", True),
        ("New Balance 2002R GTX", True),
        ("New Balance 2002RX", True),
        ("New Balance 2002R Mule", True),
        ("New Balance M2002RDA", True),
        ("New Balance 2002R - Rain Cloud", True),
        ("2002R Protection Pack 'Rain Cloud'", True),
        ("New Balance 2002", False),
        ("New Balance 20021", False),
        ("New Balance 2002 Rain Cloud", False),  # "R" starts a word, not the model
        ("New Balance 990v6", False),
        ("991v2 Made in UK", False),
        ("New Balance 12002R", False),
        ("", False),
    ],
)
def test_is_2002r_title(title: str, expected: bool) -> None:
    assert is_2002r_title(title) is expected


# --- identify_2002r ----------------------------------------------------------------------------

NB = "New Balance"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # Kith: brand-prefixed handle, internal skus and UPCs, code also in body/tags
        (
            {
                "title": "New Balance 2002R - Rain Cloud",
                "handle": "nbm2002rda",
                "tags": ["footwear", "nbm2002rda", "New Balance", "SIZE_10.5"],
                "body": "Suede upper\nStyle: NBM2002RDA\nColor: Rain Cloud",
                "skus": ["11014004", "196969083762"],
                "vendor": NB,
            },
            StyleMatch("M2002RDA", "2002R", None, "handle"),
        ),
        # SNS-style handle
        (
            {"title": "New Balance 2002R", "handle": "new-balance-2002r-m2002rda", "vendor": NB},
            StyleMatch("M2002RDA", "2002R", None, "handle"),
        ),
        # skus beat the handle
        (
            {
                "title": "New Balance 2002R",
                "handle": "new-balance-2002r-m2002rdb",
                "skus": ["", "M2002RDA-D-10"],
                "vendor": NB,
            },
            StyleMatch("M2002RDA", "2002R", "D", "sku"),
        ),
        # Joe's shop_sku "<STYLE>_<size>"
        (
            {"title": "2002R", "skus": ["M2002RHO_9.5", "M2002RHO_10"], "vendor": NB},
            StyleMatch("M2002RHO", "2002R", None, "sku"),
        ),
        # width from a handle suffix
        (
            {"title": "New Balance 2002R GORE-TEX", "handle": "m2002rxd-2e", "vendor": NB},
            StyleMatch("M2002RXD", "2002R GORE-TEX", "2E", "handle"),
        ),
        (
            {"title": "New Balance 2002RX", "handle": "m2002rxu", "vendor": NB},
            StyleMatch("M2002RXU", "2002R GORE-TEX", None, "handle"),
        ),
        # title carries the code (Shopify checkout title "New Balance M2002RMB")
        (
            {"title": "New Balance M2002RMB", "handle": "728334", "vendor": NB},
            StyleMatch("M2002RMB", "2002R Mule", None, "title"),
        ),
        (
            {"title": "New Balance M2002NA Protection Pack Mule", "vendor": NB},
            StyleMatch("M2002NA", "2002R Mule", None, "title"),
        ),
        # Footpatrol: numeric handle, code only at the end of the body
        (
            {
                "title": "2002R",
                "handle": "728334",
                "tags": ["728334"],
                "body": "Part of the 'Protection Pack', the 2002R arrives in grey. | M2002RDA",
                "skus": ["003673618", "003673619"],
                "vendor": NB,
            },
            StyleMatch("M2002RDA", "2002R", None, "body"),
        ),
        # atmos: code in tags and in a body <li>; tags come first
        (
            {
                "title": "2002R (Grey)",
                "handle": "2002r-grey",
                "tags": ["BRAND_NEW_BALANCE", "FOOTWEAR", "M2002RDD", "SIZE_10.5", "size-10-5"],
                "body": "<ul>\n<li>M2002RDD</li>\n<li>Sizing listed in US Men's</li></ul>",
                "skus": ["30233055"],
                "vendor": "NEW BALANCE",
            },
            StyleMatch("M2002RDD", "2002R", None, "tags"),
        ),
        # product_listings endpoint: tags as one comma-separated string
        (
            {"title": "New Balance 2002R - Sea Salt", "tags": "12519, footwear, m2002rdc, mens"},
            StyleMatch("M2002RDC", "2002R", None, "tags"),
        ),
        # empty vendor is allowed
        (
            {"title": "2002R Phantom", "handle": "m2002rho", "vendor": ""},
            StyleMatch("M2002RHO", "2002R", None, "handle"),
        ),
        (
            {"title": "Salehe Bembury x 2002R", "handle": "ml2002r1", "vendor": "New Balance"},
            StyleMatch("ML2002R1", "2002R", None, "handle"),
        ),
        (
            {"title": "2002R", "handle": "u2002rbl", "vendor": "New Balance x Someone"},
            StyleMatch("U2002RBL", "2002R", None, "handle"),
        ),
        (
            {"title": "Kids 2002R", "handle": "gc2002ra", "vendor": "NB"},
            StyleMatch("GC2002RA", "2002R Kids", None, "handle"),
        ),
        # --- not a (provable) 2002R -------------------------------------------------------------
        # a 990v6 whose description mentions a 2002R code
        (
            {
                "title": "New Balance 990v6 Made in USA - Grey",
                "handle": "nbm990gl6",
                "body": "Style: M990GL6. Pairs well with the M2002RDA.",
                "tags": ["M2002RDA"],
                "vendor": NB,
            },
            None,
        ),
        # Footpatrol's real 991v2 with a 2002R mention added to the body
        (
            {
                "title": "991v2 Made in UK",
                "handle": "728334",
                "body": "Made in England, like the M2002RDA. | U991KK2",
                "vendor": NB,
            },
            None,
        ),
        ({"title": "New Balance 1906R", "body": "see also M2002RDA", "vendor": NB}, None),
        ({"title": "New Balance 9060", "tags": ["M2002RDA"], "vendor": NB}, None),
        ({"title": "New Balance 550", "body": "M2002RDA", "vendor": NB}, None),
        ({"title": "New Balance 2002", "body": "M2002RDA", "vendor": NB}, None),
        # title says 2002R but names another model too, code only in the body
        ({"title": "New Balance 2002R vs 990", "body": "M2002RDA", "vendor": NB}, None),
        # title says nothing about the model: body codes are not trusted
        ({"title": "Rain Cloud", "body": "M2002RDA", "vendor": NB}, None),
        # 2002R in the title, but no code anywhere
        ({"title": "New Balance 2002R", "handle": "new-balance-2002r", "vendor": NB}, None),
        ({"title": "New Balance 2002R", "handle": "2002rd-raincloud", "vendor": NB}, None),
        ({"title": "2002R", "skus": ["M2002RV1-42829"], "vendor": NB}, None),  # master id
        # other brands, even with a code
        ({"title": "Air Jordan 12", "handle": "jb850000-116", "vendor": "Jordan"}, None),
        ({"title": "New Balance 2002R", "handle": "m2002rda", "vendor": "Nike"}, None),
        ({"title": "Kith 2002R Tee", "handle": "kh030000-m2002rda", "vendor": "Kith"}, None),
        ({"title": "Clarks Wallabee - Maple", "skus": ["889303475667"], "vendor": "Clarks"}, None),
        # original 2002 code shapes
        ({"title": "New Balance 2002", "handle": "m2002bk", "vendor": NB}, None),
    ],
)
def test_identify_2002r(kwargs: dict[str, object], expected: StyleMatch | None) -> None:
    assert identify_2002r(**kwargs) == expected  # type: ignore[arg-type]


def test_identify_accepts_tuple_and_list_tags() -> None:
    for tags in (("M2002RDA",), ["M2002RDA"]):
        match = identify_2002r(title="New Balance 2002R", tags=tags)
        assert match == StyleMatch("M2002RDA", "2002R", None, "tags")


# --- colorway_name -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "code", "expected"),
    [
        ("New Balance 2002R - Rain Cloud", "M2002RDA", "Rain Cloud"),
        (
            "New Balance M2002RDA 2002R Protection Pack 'Rain Cloud'",
            "M2002RDA",
            "Protection Pack Rain Cloud",
        ),
        ('2002R "Grey / Black"', "M2002RDA", "Grey / Black"),
        ("New Balance 2002R M2002RHO", "M2002RHO", "Core Pack Phantom"),  # the known name
        ("New Balance 2002R", "M2002RDA", "Protection Pack Rain Cloud"),
        ("M2002RXU", "M2002RXU", "GORE-TEX Olive/Black"),
        ("New Balance 2002R M2002RST", "M2002RST", None),  # no sourced name
        ("New Balance 2002R", "M2002RZZ", None),
        (
            "New Balance 2002R Protection Pack - Sea Salt - M2002RDC",
            "M2002RDC",
            "Protection Pack Sea Salt",
        ),
        ("New Balance Men's 2002R - Sea Salt", "M2002RDC", "Sea Salt"),
        ("New Balance Men’s 2002R GORE-TEX (Olive/Black)", "M2002RXU", "Olive/Black"),
        ("NB 2002RX - Phantom", "M2002RXD", "Phantom"),
        ("New Balance 2002R GTX | Magnet", "M2002RXW", "Magnet"),
        ("New Balance 2002R Mule 'Rain Cloud'", "M2002NA", "Rain Cloud"),
        ("New Balance 2002R (Grey)", "M2002RDD", "Grey"),
        ("New Balance 2002R: Dark Navy", "M2002RDF", "Dark Navy"),
        ("2002R Sneakers “Dark Camo”", "M2002RHN", "Dark Camo"),
        ("New Balance Unisex 2002R Triple Black Suede U2002RBL", "U2002RBL", "Triple Black Suede"),
        ("NEW BALANCE 2002R - ARID STONE/BLACK COFFEE", "M2002RCH", "ARID STONE/BLACK COFFEE"),
        ("new balance 2002r m2002rda-d", "M2002RDA", "Protection Pack Rain Cloud"),
        (
            "New Balance x Salehe Bembury 2002R 'Peace Be The Journey'",
            "ML2002R1",
            "Salehe Bembury Peace Be The Journey",
        ),
        ("Salehe Bembury x New Balance 2002R", "ML2002R1", "Salehe Bembury"),
        ("New Balance 2002R x", "M2002RDA", "Protection Pack Rain Cloud"),
        ("New Balance 2002R Xtra Grey", "M2002RSB", "Xtra Grey"),
        ("Salehe's 2002R", "ML2002R1", "Salehe's"),  # an apostrophe inside a word stays
        ("New Balance 2002R - Rain Cloud", "m2002rda", "Rain Cloud"),
    ],
)
def test_colorway_name(title: str, code: str, expected: str | None) -> None:
    assert colorway_name(title, code) == expected


def test_known_colorways_are_the_catalogs_sourced_names() -> None:
    catalog = load_catalog()
    assert {
        code: c.name for code, c in catalog.by_code.items() if c.name and c.confidence != "L"
    } == KNOWN_COLORWAYS
    assert KNOWN_COLORWAYS["M2002RDA"] == "Protection Pack Rain Cloud"
    assert "M2002RST" not in KNOWN_COLORWAYS  # an L-confidence name is never shown
    for code in KNOWN_COLORWAYS:
        assert find_style_codes(code) == [code]


# --- properties ---------------------------------------------------------------------------

prefixes = st.sampled_from(["M", "ML", "U", "W", "WL", "MS", "GC", "PC", "IV", "YC", "PV"])
suffixes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUWXYZ0123456789", min_size=1, max_size=3).filter(
    lambda s: not (s[0] == "V" and len(s) == 2 and s[1].isdigit())
)
codes = st.builds(lambda p, s: f"{p}2002R{s}", prefixes, suffixes)
separators = st.sampled_from([" ", "-", "/", "_", "|", ": ", "\n", "<li>", "(", '"'])
code_chars = st.sampled_from(list("M2002RDAXUNBLmrdau-_ /|0123456789"))


@given(st.one_of(st.text(max_size=40), st.text(alphabet=code_chars, max_size=30)))
def test_find_style_codes_never_raises(text: str) -> None:
    found = find_style_codes(text)
    assert len(found) == len(set(found))
    for code in found:
        assert code == code.upper()
        assert code.isascii()
        assert "2002R" in code or code.startswith("M2002N")


@settings(max_examples=50)
@given(codes, separators, separators)
def test_codes_are_found_in_context(code: str, before: str, after: str) -> None:
    text = f"new balance{before}{code.lower()}{after}size 10"
    assert find_style_codes(text) == [code]


@settings(max_examples=50)
@given(codes, st.sampled_from(["D", "2E", "4E", "B"]))
def test_width_suffix_is_split_off(code: str, width: str) -> None:
    assert find_style_codes(f"{code}-{width}") == [code]
    match = identify_2002r(title="New Balance 2002R", handle=f"{code.lower()}-{width.lower()}")
    assert match is not None
    assert (match.style_code, match.width, match.source) == (code, width, "handle")


@settings(max_examples=50)
@given(
    title=st.text(max_size=30),
    handle=st.text(max_size=20),
    tags=st.lists(st.text(max_size=10), max_size=3),
    body=st.text(max_size=40),
    skus=st.lists(st.text(max_size=12), max_size=3),
    vendor=st.text(max_size=12),
)
def test_identify_never_raises(
    title: str, handle: str, tags: Sequence[str], body: str, skus: Sequence[str], vendor: str
) -> None:
    match = identify_2002r(
        title=title, handle=handle, tags=tags, body=body, skus=skus, vendor=vendor
    )
    if match is not None:
        assert find_style_codes(match.style_code) == [match.style_code]


@settings(max_examples=50)
@given(st.text(max_size=40), codes)
def test_colorway_name_never_raises(title: str, code: str) -> None:
    name = colorway_name(title, code)
    assert name is None or (name.strip() == name and name != "")


# New Balance's own Commerce Cloud URLs as the research saw them (docs/retailers.md 2.2).
@pytest.mark.parametrize(
    ("url", "code"),
    [
        (
            "https://www.newbalance.fr/fr/pd/2002r/U2002RV1-50719.html"
            "?dwvar_U2002RV1-50719_style=U2002RB",
            "U2002RB",
        ),
        (
            "https://www.newbalance.fr/fr/pd/2002r/M2002RV1-47324.html"
            "?dwvar_M2002RV1-47324_style=M2002RPQ",
            "M2002RPQ",
        ),
        (
            "https://www.newbalance.com/pd/2002r/M2002RV1-42829.html#dwvar_M2002RV1-42829_size="
            "10.5&dwvar_M2002RV1-42829_style=U2002RB&dwvar_M2002RV1-42829_width=D"
            "&pid=M2002RV1-42829&quantity=1",
            "U2002RB",
        ),
        ("https://www.newbalance.com/pd/2002r/U2002RCA-D-15.html", "U2002RCA"),
        ("https://www.newbalance.de/de/pd/2002r-protection-pack/M2002RDA-D-07.html", "M2002RDA"),
        ("https://www.newbalance.com/pd/M2002RHO.html", "M2002RHO"),
        # a master page alone names no colorway
        ("https://www.newbalance.com/pd/2002r/M2002RV1-42829.html", None),
        ("https://www.newbalance.ie/en/pd/2002r/M2002RV1-42829-PMG-EMEA.html", None),
        ("https://www.joesnewbalanceoutlet.com/pd/2002r/M2002RV1-45663.html", None),
    ],
)
def test_sfcc_style_code(url: str, code: str | None) -> None:
    assert sfcc_style_code(url) == code


def test_url_code_text_keeps_the_path_and_the_chosen_colorway_only() -> None:
    # a "complete the look" parameter names another shoe, not this page's colorway
    url = "https://shop.example/p/2002r.html?ref=M2002RDA&dwvar_X-1_style=M2002RHO#top"
    assert url_code_text(url) == "https://shop.example/p/2002r.html M2002RHO"
    assert find_style_codes(url_code_text(url)) == ["M2002RHO"]
