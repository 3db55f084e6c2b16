"""The list cuts values by terminal cells, not characters: a CJK character takes two cells
(expected values worked out by hand from East Asian Width W = 2 cells)."""

from rich.cells import cell_len

from atlas.tui.widgets.results import fit


def test_wide_characters_are_cut_by_cells():
    # 8 wide characters are 16 cells: in 10, 4 of them (8 cells) and the ellipsis (1) fit.
    assert fit("漢字漢字漢字漢字", 10) == "漢字漢字…"
    # a(1) + 漢(2) = 3 cells; 字 would make 5 of the 3 left before the ellipsis.
    assert fit("a漢字", 4) == "a漢…"
    # Whole when it fits by cells: 2 wide characters in 4 cells.
    assert fit("漢字", 4) == "漢字"


def test_a_cut_value_never_passes_its_width():
    for text in ["漢字漢字漢字漢字", "a漢b字c", "ｆｕｌｌｗｉｄｔｈ", "plain ascii prompt", "混ざった mixed テキスト"]:
        for width in range(1, 20):
            cut = fit(text, width)
            assert cell_len(cut) <= width, (text, width, cut)
            assert cut == text or cut.endswith("…")
