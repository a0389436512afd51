"""`codemind export DIR --parquet OUT`: the notebook DataFrame (samples + program features)
as one Parquet file that DuckDB, pandas or polars read directly:

    duckdb -c "SELECT model_label, construct, avg(correct::INT) FROM (
                 SELECT *, unnest(constructs) AS construct FROM 'out.parquet') GROUP BY ALL"
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from codemind.errors import UserError


def export_parquet(paths: str | Path | Sequence[str | Path], out: Path) -> dict:
    """Write the samples of the runs under ``paths`` with their features to ``out``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from codemind.store.load import load

    df = load(paths)
    if "constructs" in df.columns:  # numpy arrays / None -> plain lists, a Parquet list<string>
        df["constructs"] = [list(v) if v is not None and not isinstance(v, float) else None for v in df["constructs"]]
    out = Path(out)
    if out.exists() and out.is_dir():
        raise UserError(f"{out} is a directory; give a file name for --parquet")
    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(out)
    return {"out": str(out), "rows": table.num_rows, "columns": table.num_columns,
            "runs": int(df["run"].nunique()) if len(df) else 0}
