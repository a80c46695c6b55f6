"""
pyodbc client of the cross-driver conformance suite (test/conformance/conformance.test.ts).

Runs statements through pyodbc over the FreeTDS ODBC driver -- the stack of integrators' scripts and of
many Windows tools -- and prints what the driver saw, for the Node test to compare with tedious and tsql.

stdin:  {"connection": {"driver", "host", "port", "user", "password", "database"},
         "entries": [{"id", "sql" (qmark placeholders), "params": [{"sqlType", "value"}]}]}
stdout: {"results": [{"id", "sets": [{"columns": [...], "rows": [[...]]}], "counts": [...], "error": n|null}]}

Values are reported raw (ISO dates, decimal text, hex bytes); the Node side canonicalises all three drivers alike.
"""
import datetime
import decimal
import json
import re
import struct
import sys

import pyodbc


def param_value(p):
    t = (p.get("sqlType") or "").lower()
    v = p.get("value")
    if v is None:
        return None
    if t in ("int", "bigint", "smallint", "tinyint"):
        return int(v)
    if t.startswith("decimal") or t.startswith("numeric") or t in ("money", "smallmoney"):
        return decimal.Decimal(v)
    if t in ("float", "real"):
        return float(v)
    if t == "bit":
        return v in ("1", "true", True)
    if t == "date":
        return datetime.date.fromisoformat(v[:10])
    if t.startswith("datetime") or t == "smalldatetime":
        return datetime.datetime.fromisoformat(v.replace(" ", "T")[:26])
    if t.startswith("varbinary") or t.startswith("binary") or t == "image":
        return bytes.fromhex(v[2:] if v.startswith("\\x") else v)
    return str(v)


def raw(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, float):
        return repr(v)
    return str(v)


def datetimeoffset(value):
    # SQL_SS_TIMESTAMPOFFSET_STRUCT: year, month, day, hour, minute, second, fraction (ns), tz hour, tz minute
    y, mo, d, h, mi, s, ns, tzh, tzm = struct.unpack("<6hI2h", value)
    tz = datetime.timezone(datetime.timedelta(hours=tzh, minutes=tzm))
    return datetime.datetime(y, mo, d, h, mi, s, ns // 1000, tz).isoformat(sep=" ")


def error_number(e):
    text = " ".join(str(a) for a in e.args)
    m = re.findall(r"\((\d+)\) \(SQL", text)
    return (int(m[-1]) if m else -1), text


def main():
    job = json.load(sys.stdin)
    c = job["connection"]
    conn_str = (
        f"DRIVER={{{c['driver']}}};SERVER={c['host']};PORT={c['port']};UID={c['user']};PWD={{{c['password']}}};"
        f"DATABASE={c['database']};TDS_Version=7.4;ClientCharset=UTF-8"
    )
    conn = pyodbc.connect(conn_str, autocommit=True, timeout=10)
    conn.add_output_converter(-155, datetimeoffset)
    out = []
    for entry in job["entries"]:
        res = {"id": entry["id"], "sets": [], "counts": [], "error": None}
        cur = conn.cursor()
        try:
            if entry.get("typeInfo"):
                cur.getTypeInfo(entry["typeInfo"])
            else:
                cur.execute(entry["sql"], *[param_value(p) for p in entry.get("params", [])])
            while True:
                if cur.description:
                    cols = [
                        {"name": d[0], "pyType": d[1].__name__, "size": d[3], "precision": d[4], "scale": d[5]}
                        for d in cur.description
                    ]
                    rows = [[raw(v) for v in r] for r in cur.fetchall()]
                    res["sets"].append({"columns": cols, "rows": rows})
                elif cur.rowcount is not None and cur.rowcount >= 0:
                    res["counts"].append(cur.rowcount)
                if not cur.nextset():
                    break
        except pyodbc.Error as e:
            res["error"], res["message"] = error_number(e)
        finally:
            cur.close()
        out.append(res)
    conn.close()
    json.dump({"results": out}, sys.stdout)


if __name__ == "__main__":
    main()
