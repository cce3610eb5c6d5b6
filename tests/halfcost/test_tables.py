import pandas as pd
import pytest

from halfcost.errors import BadInputError
from halfcost.tables import read_table, table_suffix, write_table


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_keeps_rows_and_columns(tmp_path, suffix):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]})
    path = write_table(frame, tmp_path / "sub" / f"t{suffix}")
    back = read_table(path)
    assert list(back.columns) == ["a", "b"]
    assert back["a"].tolist() == [1, 2, 3]
    assert back["b"].isna().tolist() == [False, True, False]
    assert not list(path.parent.glob(".*.tmp"))


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(BadInputError, match="no such file"):
        read_table(tmp_path / "nope.csv")


def test_empty_file_is_bad_input(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(BadInputError, match="empty"):
        read_table(tmp_path / "e.csv")


def test_header_only_is_bad_unless_allowed(tmp_path):
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(BadInputError, match="no rows"):
        read_table(tmp_path / "h.csv")
    assert read_table(tmp_path / "h.csv", allow_empty=True).columns.tolist() == ["a", "b"]


def test_unsupported_suffix(tmp_path):
    with pytest.raises(BadInputError, match=r"\.csv or \.parquet"):
        table_suffix(tmp_path / "x.xlsx")


def test_broken_parquet_is_one_clear_error(tmp_path):
    (tmp_path / "b.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(BadInputError, match="cannot read it as parquet"):
        read_table(tmp_path / "b.parquet")


def test_folder_is_not_a_table(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(BadInputError, match="folder"):
        read_table(tmp_path / "d.csv")
