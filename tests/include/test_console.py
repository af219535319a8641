from planwh.console import format_table


def test_numbers_align_right_and_text_left() -> None:
    table = format_table(["province", "files"], [["Quảng Nam", 12], ["An Giang", 7]])
    lines = table.splitlines()
    assert lines[0] == "province   files"
    assert lines[2] == "Quảng Nam     12"
    assert lines[3] == "An Giang       7"
